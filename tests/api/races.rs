//! Concurrency: racing revokes, many concurrent creates, a rename racing a revoke.

use serde_json::json;

use crate::helpers::TestApp;

async fn send(
    app: axum::Router,
    method: &str,
    path: String,
    token: String,
    body: Option<serde_json::Value>,
) -> u16 {
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"));
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            axum::body::Body::from(serde_json::to_vec(&b).unwrap())
        }
        None => axum::body::Body::empty(),
    };
    app.oneshot(req.body(body).unwrap())
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_revokes_of_one_key_succeed_exactly_once() {
    let app = TestApp::new();
    let alice = app.signup("Alice", "alice@example.com").await;
    let org = app.org(&alice, "Org").await;
    let (project, _) = app.project(&alice, &org, "Project").await;
    for round in 0..5 {
        let (uuid, _) = app
            .project_key(&alice.jwt, &project, &json!({"name": format!("k{round}")}))
            .await;
        let path = format!("/v0/projects/{project}/keys/{uuid}");
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                tokio::spawn(send(
                    app.app.clone(),
                    "DELETE",
                    path.clone(),
                    alice.jwt.clone(),
                    None,
                ))
            })
            .collect();
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        statuses.sort_unstable();
        assert_eq!(
            statuses.iter().filter(|s| **s == 204).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 409).count(),
            15,
            "{statuses:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_all_succeed() {
    let app = TestApp::new();
    let alice = app.signup("Alice", "alice@example.com").await;
    let org = app.org(&alice, "Org").await;
    let (project, _) = app.project(&alice, &org, "Project").await;
    let (_, user_key) = app
        .user_key(&alice.jwt, &alice.slug, &json!({"name": "cli"}))
        .await;
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (path, body) = if i % 2 == 0 {
                (
                    format!("/v0/projects/{project}/keys"),
                    json!({"name": format!("p{i}")}),
                )
            } else {
                (
                    format!("/v0/users/{}/keys", alice.slug),
                    json!({"name": format!("u{i}")}),
                )
            };
            tokio::spawn(send(
                app.app.clone(),
                "POST",
                path,
                alice.jwt.clone(),
                Some(body),
            ))
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let res = app
        .get(&format!("/v0/projects/{project}/keys"))
        .auth(&user_key)
        .send()
        .await
        .expect(200);
    assert_eq!(res.header("x-total-count").as_deref(), Some("100"));
    let res = app
        .get(&format!("/v0/users/{}/keys", alice.slug))
        .auth(&alice.jwt)
        .send()
        .await;
    assert_eq!(res.header("x-total-count").as_deref(), Some("101"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rename_racing_revoke_leaves_a_consistent_row() {
    let app = TestApp::new();
    let alice = app.signup("Alice", "alice@example.com").await;
    for round in 0..10 {
        let (uuid, key) = app
            .user_key(&alice.jwt, &alice.slug, &json!({"name": "before"}))
            .await;
        let path = format!("/v0/users/{}/keys/{uuid}", alice.slug);
        let rename = tokio::spawn(send(
            app.app.clone(),
            "PATCH",
            path.clone(),
            alice.jwt.clone(),
            Some(json!({"name": format!("after{round}")})),
        ));
        let revoke = tokio::spawn(send(
            app.app.clone(),
            "DELETE",
            path.clone(),
            alice.jwt.clone(),
            None,
        ));
        assert_eq!(rename.await.unwrap(), 200);
        assert_eq!(revoke.await.unwrap(), 204);
        let row = app
            .get(&path)
            .auth(&alice.jwt)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(row["name"], format!("after{round}"));
        assert!(row["revoked"].is_string());
        app.get("/v0/organizations")
            .auth(&key)
            .send()
            .await
            .expect(401);
    }
}

/// As [`send`], without a credential, returning the JSON body too.
async fn send_anonymous(
    app: axum::Router,
    path: &'static str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

/// Organizations created at the same moment with one name each get their own slug (on
/// PostgreSQL the losers of the unique slug run again and pick a free one, never a 409 or a
/// 500); projects created at once with one name in one organization are one 201 and 409s.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_name_get_distinct_slugs() {
    let app = TestApp::new();
    let alice = app.signup("Alice", "alice@example.com").await;
    let racing = |path: String| {
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                tokio::spawn(send(
                    app.app.clone(),
                    "POST",
                    path.clone(),
                    alice.jwt.clone(),
                    Some(json!({"name": "Same"})),
                ))
            })
            .collect();
        async move {
            let mut statuses = Vec::new();
            for t in tasks {
                statuses.push(t.await.unwrap());
            }
            statuses.sort_unstable();
            statuses
        }
    };
    assert_eq!(racing("/v0/organizations".to_owned()).await, [201; 12]);
    let res = app
        .get("/v0/organizations?per_page=255")
        .auth(&alice.jwt)
        .send()
        .await
        .expect(200);
    let mut slugs: Vec<_> = res
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["name"] == "Same")
        .map(|o| o["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(slugs.len(), 12, "{slugs:?}");
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs.len(), 12, "{slugs:?}");

    let org = &slugs[0];
    let statuses = racing(format!("/v0/organizations/{org}/projects")).await;
    let mut expected = vec![409; 11];
    expected.insert(0, 201);
    assert_eq!(statuses, expected);
}

/// Signups racing on a fresh server: exactly one becomes the server admin; the same email
/// signed up twice at once is one 202 and one 409 in Bencher's words, never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_signups_make_one_admin_and_one_account_per_email() {
    let app = TestApp::new();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let email = format!("u{}@example.com", i / 2);
            tokio::spawn(send_anonymous(
                app.app.clone(),
                "/v0/auth/signup",
                json!({"name": format!("User {i}"), "email": email, "i_agree": true}),
            ))
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    for pair in outcomes.chunks(2) {
        let mut statuses: Vec<_> = pair.iter().map(|(s, _)| *s).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [202, 409], "{pair:?}");
        let conflict = &pair.iter().find(|(s, _)| *s == 409).unwrap().1;
        assert!(
            conflict["message"]
                .as_str()
                .is_some_and(|m| m.ends_with("has conflict: UNIQUE constraint failed: user.email")),
            "{conflict}"
        );
    }
    let mut admins = 0;
    for i in 0..8 {
        let body = app.confirm(&format!("u{i}@example.com")).await;
        if body["user"]["admin"] == true {
            admins += 1;
        }
    }
    assert_eq!(admins, 1);
}
