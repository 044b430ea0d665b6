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
