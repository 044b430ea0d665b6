//! Every endpoint, table-driven: no credential, an unknown resource, and invalid input each
//! get Bencher's status and message shape.

use serde_json::{Value, json};

use crate::helpers::{HINT, TestApp, assert_error_shape};

const NIL: &str = "00000000-0000-0000-0000-000000000000";

/// (method, path, body) of every endpoint that needs a credential, on resources that exist
/// once `seeded` has run.
fn authenticated(
    org: &str,
    project: &str,
    user: &str,
) -> Vec<(&'static str, String, Option<Value>)> {
    vec![
        ("GET", "/v0/users".into(), None),
        ("GET", format!("/v0/users/{user}"), None),
        (
            "PATCH",
            format!("/v0/users/{user}"),
            Some(json!({"name": "X"})),
        ),
        ("GET", format!("/v0/users/{user}/keys"), None),
        (
            "POST",
            format!("/v0/users/{user}/keys"),
            Some(json!({"name": "k"})),
        ),
        ("GET", format!("/v0/users/{user}/keys/{NIL}"), None),
        (
            "PATCH",
            format!("/v0/users/{user}/keys/{NIL}"),
            Some(json!({"name": "k"})),
        ),
        ("DELETE", format!("/v0/users/{user}/keys/{NIL}"), None),
        ("GET", format!("/v0/users/{user}/tokens"), None),
        (
            "POST",
            format!("/v0/users/{user}/tokens"),
            Some(json!({"name": "t"})),
        ),
        ("GET", format!("/v0/users/{user}/tokens/{NIL}"), None),
        (
            "PATCH",
            format!("/v0/users/{user}/tokens/{NIL}"),
            Some(json!({"name": "t"})),
        ),
        ("DELETE", format!("/v0/users/{user}/tokens/{NIL}"), None),
        ("GET", "/v0/organizations".into(), None),
        (
            "POST",
            "/v0/organizations".into(),
            Some(json!({"name": "O"})),
        ),
        ("GET", format!("/v0/organizations/{org}"), None),
        ("GET", format!("/v0/organizations/{org}/members"), None),
        (
            "POST",
            format!("/v0/organizations/{org}/members"),
            Some(json!({"email": "x@example.com", "role": "leader"})),
        ),
        (
            "GET",
            format!("/v0/organizations/{org}/members/{user}"),
            None,
        ),
        (
            "PATCH",
            format!("/v0/organizations/{org}/members/{user}"),
            Some(json!({"role": "leader"})),
        ),
        (
            "DELETE",
            format!("/v0/organizations/{org}/members/{user}"),
            None,
        ),
        ("GET", format!("/v0/organizations/{org}/projects"), None),
        (
            "POST",
            format!("/v0/organizations/{org}/projects"),
            Some(json!({"name": "P"})),
        ),
        ("GET", format!("/v0/projects/{project}/allowed/view"), None),
        ("GET", format!("/v0/projects/{project}/keys"), None),
        (
            "POST",
            format!("/v0/projects/{project}/keys"),
            Some(json!({"name": "k"})),
        ),
        ("GET", format!("/v0/projects/{project}/keys/{NIL}"), None),
        (
            "PATCH",
            format!("/v0/projects/{project}/keys/{NIL}"),
            Some(json!({"name": "k"})),
        ),
        ("DELETE", format!("/v0/projects/{project}/keys/{NIL}"), None),
        (
            "POST",
            "/v0/auth/accept".into(),
            Some(json!({"invite": "a.b.c"})),
        ),
    ]
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> crate::helpers::Res {
    let mut req = app.req(method, path);
    if let Some(token) = token {
        req = req.auth(token);
    }
    if let Some(body) = body {
        req = req.json(body);
    }
    req.send().await
}

#[tokio::test]
async fn every_authenticated_endpoint_requires_a_credential() {
    let app = TestApp::new();
    let alice = app.signup("Alice", "alice@example.com").await;
    let org = app.org(&alice, "Org").await;
    let (project, _) = app.project(&alice, &org, "Project").await;
    for (method, path, body) in authenticated(&org, &project, &alice.slug) {
        let res = send(&app, method, &path, body.as_ref(), None).await;
        assert_eq!(res.status, 400, "{method} {path}: {}", res.text);
        assert_eq!(
            res.message(),
            format!("Request is missing \"Authorization\" header. {HINT}"),
            "{method} {path}"
        );
        assert_error_shape(&res);
    }
}

#[tokio::test]
async fn every_endpoint_reports_an_unknown_parent_as_404() {
    let app = TestApp::new();
    let alice = app.signup("Alice", "alice@example.com").await;
    for (method, path, body) in authenticated("no-org", "no-project", "no-user") {
        // A permission question about a missing resource is answered `false`, as one
        // about a resource the caller may not see (tested in hardening.rs).
        if !(path.contains("no-"))
            || path.ends_with("/tokens") && method == "POST"
            || path.contains("/allowed/")
        {
            continue;
        }
        let res = send(&app, method, &path, body.as_ref(), Some(&alice.jwt)).await;
        assert_eq!(res.status, 404, "{method} {path}: {}", res.text);
        let message = res.message();
        let resource = if path.starts_with("/v0/users") {
            "User (Slug(UserSlug(Slug(\"no-user\"))))"
        } else if path.starts_with("/v0/organizations") {
            "Organization (Slug(OrganizationSlug(Slug(\"no-org\"))))"
        } else {
            "Project (Slug(ProjectSlug(Slug(\"no-project\"))))"
        };
        assert!(
            message.starts_with(&format!("{resource} not found: Record not found\n")),
            "{method} {path}: {message}"
        );
        assert_eq!(
            message.ends_with(HINT),
            path.contains("/keys") && path.starts_with("/v0/projects"),
            "{path}"
        );
        assert_error_shape(&res);
    }
    // The child resources: unknown keys, tokens and members.
    for path in [
        format!("/v0/users/{}/keys/{NIL}", alice.slug),
        format!("/v0/users/{}/tokens/{NIL}", alice.slug),
    ] {
        send(&app, "GET", &path, None, Some(&alice.jwt))
            .await
            .expect(404);
    }
    let org = app.org(&alice, "Org").await;
    let bob = app.signup("Bob", "bob@example.com").await;
    send(
        &app,
        "GET",
        &format!("/v0/organizations/{org}/members/{}", bob.slug),
        None,
        Some(&alice.jwt),
    )
    .await
    .expect(404);
}

#[tokio::test]
async fn every_endpoint_rejects_a_malformed_path_or_body() {
    let app = TestApp::new();
    let alice = app.signup("Alice", "alice@example.com").await;
    let org = app.org(&alice, "Org").await;
    let (project, _) = app.project(&alice, &org, "Project").await;
    for (method, path, body) in authenticated("Bad_Org", "Bad_Project", "Bad_User") {
        if !path.contains("Bad_") {
            continue;
        }
        let res = send(&app, method, &path, body.as_ref(), Some(&alice.jwt)).await;
        assert_eq!(res.status, 400, "{method} {path}: {}", res.text);
        assert!(
            res.message()
                .starts_with("bad parameter in URL path: invalid value: string \"Bad_"),
            "{path}"
        );
    }
    for (method, path, body) in authenticated(&org, &project, &alice.slug) {
        if body.is_none() {
            continue;
        }
        let res = send(
            &app,
            method,
            &path,
            Some(&json!([1, 2, 3])),
            Some(&alice.jwt),
        )
        .await;
        assert_eq!(res.status, 400, "{method} {path}: {}", res.text);
        assert!(
            res.message().starts_with("unable to parse JSON body: "),
            "{method} {path}"
        );
    }
    for (method, path, body) in [
        (
            "POST",
            "/v0/auth/signup",
            json!({"name": "A", "email": "nope", "i_agree": true}),
        ),
        ("POST", "/v0/auth/login", json!({"email": "nope"})),
        ("POST", "/v0/auth/confirm", json!({"token": 5})),
    ] {
        let res = send(&app, method, path, Some(&body), None)
            .await
            .expect(400);
        assert!(res.message().starts_with("unable to parse JSON body: "));
    }
}
