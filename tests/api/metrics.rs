//! `GET /metrics`: off unless configured; counts what happened; shows no secret.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn metrics_are_off_by_default() {
    let app = TestApp::new();
    let res = app.get("/metrics").send().await.expect(404);
    assert_eq!(res.message(), "Not Found");
}

#[tokio::test]
async fn metrics_count_requests_and_auth_outcomes_without_secrets() {
    let app = TestApp::with(keyward::config::Overrides {
        metrics: true,
        ..Default::default()
    });
    let alice = app.signup("Alice", "alice@example.com").await;
    let (_, key) = app
        .user_key(&alice.jwt, &alice.slug, &json!({"name": "k"}))
        .await;
    for _ in 0..3 {
        app.get("/v0/users/alice/keys")
            .auth(&key)
            .send()
            .await
            .expect(200);
    }
    let fake = format!("bencher_user_{}", "Q".repeat(30));
    app.get("/v0/users/alice/keys")
        .auth(&fake)
        .send()
        .await
        .expect(401);
    app.get("/v0/users/Bad_Slug/keys")
        .auth(&fake)
        .send()
        .await
        .expect(400);
    let res = app.get("/metrics").send().await.expect(200);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text;
    assert!(
        text.contains(r#"keyward_http_requests_total{route="/v0/users/{user}/keys",method="GET",status="200"} 3"#),
        "{text}"
    );
    assert!(text.contains(
        r#"keyward_http_requests_total{route="/v0/users/{user}/keys",method="GET",status="401"} 1"#
    ));
    assert!(
        text.contains(r#"keyward_auth_outcomes_total{kind="user_key",outcome="accepted"} 3"#),
        "{text}"
    );
    assert!(text.contains(r#"keyward_auth_outcomes_total{kind="user_key",outcome="rejected"} 1"#));
    assert!(
        text.contains(r#"keyward_auth_outcomes_total{kind="user_key",outcome="not_checked"} 1"#)
    );
    assert!(text.contains(r#"keyward_http_request_duration_seconds_count{route="/v0/users/{user}/keys",method="GET"} 5"#));
    // Every reader thread is counted, idle or busy (all have started by now).
    let gauge = |name: &str| -> usize {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    assert_eq!(
        gauge("keyward_db_readers{state=\"idle\"}") + gauge("keyward_db_readers{state=\"busy\"}"),
        match app.state.db {
            // The pool's connections (the test harness sizes it at 4).
            keyward::db::Db::Postgres(_) => 4,
            keyward::db::Db::Sqlite(_) => keyward::db::reader_count(),
        }
    );
    gauge("keyward_db_read_queue");
    for secret in [
        key.as_str(),
        fake.as_str(),
        alice.jwt.as_str(),
        "alice@example.com",
        "Bad_Slug",
    ] {
        assert!(!text.contains(secret), "the metrics show {secret}");
    }
}

/// The probes answer without credentials, to GET and HEAD; readiness has asked the
/// database (on either backend).
#[tokio::test]
async fn probes_answer_get_and_head() {
    let app = TestApp::new();
    for path in ["/healthz", "/readyz"] {
        let res = app.get(path).send().await.expect(200);
        assert_eq!(res.json(), json!({"status": "ok"}), "{path}");
        let res = app.req("HEAD", path).send().await.expect(200);
        assert_eq!(res.text, "", "{path}: HEAD has no body");
    }
    app.post("/readyz").send().await.expect(405);
}
