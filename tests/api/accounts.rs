//! Signup, login, confirm, and the user endpoints.

use serde_json::json;

use crate::helpers::{TestApp, assert_error_cors};

#[tokio::test]
async fn auth_signup_post_first_user_is_admin_with_a_personal_org() {
    let app = TestApp::new();
    let res = app
        .post("/v0/auth/signup")
        .json(&json!({"name": "Alice Admin", "email": "Alice@Example.com", "i_agree": true, "plan": "free"}))
        .send()
        .await
        .expect(202);
    assert_eq!(res.text, r#"{"email":"alice@example.com"}"#);
    assert_eq!(
        res.header("access-control-allow-headers").as_deref(),
        Some("Content-Type")
    );
    let sent = app.outbox.lock().unwrap().last().cloned().unwrap();
    assert_eq!(sent.subject, "Confirm Bencher Signup");
    assert!(sent.body.starts_with("Ahoy Alice Admin,\n"));
    assert!(
        sent.body
            .contains("Confirm Email: http://localhost:3000/auth/confirm?token=")
    );
    let token = app.confirmation_token("alice@example.com");
    let res = app
        .post("/v0/auth/confirm")
        .json(&json!({ "token": token }))
        .send()
        .await
        .expect(200);
    let body = res.json();
    assert_eq!(body["user"]["admin"], true);
    assert_eq!(body["user"]["slug"], "alice-admin");
    assert_eq!(body["creation"], "2026-11-22T04:26:55Z");
    assert_eq!(body["expiration"], "2026-12-22T04:26:55Z");
    let fields: Vec<&str> = body["user"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "uuid", "name", "slug", "email", "admin", "locked", "created"
        ]
    );
    let jwt = body["token"].as_str().unwrap();
    let res = app
        .get("/v0/organizations")
        .auth(jwt)
        .send()
        .await
        .expect(200);
    let orgs = res.json();
    assert_eq!(
        orgs[0]["uuid"], body["user"]["uuid"],
        "the personal org shares the user's UUID"
    );
    assert_eq!(orgs[0]["name"], "Alice Admin");
    // The second user is not an admin, and the admins hear about them.
    let bob = app.signup("Bob", "bob@example.com").await;
    let res = app
        .get(&format!("/v0/users/{}", bob.slug))
        .auth(&bob.jwt)
        .send()
        .await
        .expect(200);
    assert_eq!(res.json()["admin"], false);
    let sent = app.outbox.lock().unwrap();
    assert!(
        sent.iter()
            .any(|m| m.to_email == "alice@example.com" && m.subject.contains("New Bencher User"))
    );
}

#[tokio::test]
async fn auth_signup_post_refusals() {
    let app = TestApp::new();
    let res = app
        .post("/v0/auth/signup")
        .json(&json!({"name": "Alice", "email": "a@example.com", "i_agree": false}))
        .send()
        .await
        .expect(403);
    assert!(
        res.message()
            .starts_with("You must agree to the Bencher Terms of Use")
    );
    assert_error_cors(&res, true);
    app.signup("Alice", "a@example.com").await;
    let res = app
        .post("/v0/auth/signup")
        .json(&json!({"name": "Other", "email": "A@example.com", "i_agree": true}))
        .send()
        .await
        .expect(409);
    assert!(res.message().starts_with("User ("));
    assert!(
        res.message()
            .ends_with("has conflict: UNIQUE constraint failed: user.email")
    );
    let res = app
        .post("/v0/auth/signup")
        .json(&json!({"name": "Other", "email": "o@example.com", "slug": "alice", "i_agree": true}))
        .send()
        .await
        .expect(409);
    assert!(
        res.message()
            .ends_with("UNIQUE constraint failed: user.slug")
    );
    // Same name, new email: the slug gets a suffix.
    let second = app.signup("Alice", "a2@example.com").await;
    assert!(second.slug.starts_with("alice-") && second.slug != "alice");
    for (body, start) in [
        (
            json!({"name": "Bad_Name!", "email": "x@example.com", "i_agree": true}),
            "unable to parse JSON body: name:",
        ),
        (
            json!({"name": "X", "email": "not-an-email", "i_agree": true}),
            "unable to parse JSON body: email:",
        ),
        (
            json!({"name": "X", "email": "x@example.com", "slug": "Bad Slug", "i_agree": true}),
            "unable to parse JSON body: slug:",
        ),
    ] {
        let res = app
            .post("/v0/auth/signup")
            .json(&body)
            .send()
            .await
            .expect(400);
        assert!(res.message().starts_with(start), "{}", res.message());
    }
}

#[tokio::test]
async fn auth_login_post_and_confirm() {
    let app = TestApp::new();
    let alice = app.signup("Alice", "alice@example.com").await;
    let res = app
        .post("/v0/auth/login")
        .json(&json!({"email": "alice@example.com"}))
        .send()
        .await
        .expect(202);
    assert_eq!(res.json()["email"], "alice@example.com");
    let sent = app.outbox.lock().unwrap().last().cloned().unwrap();
    assert_eq!(sent.subject, "Confirm Bencher Login");
    let token = app.confirmation_token("alice@example.com");
    app.post("/v0/auth/confirm")
        .json(&json!({ "token": token }))
        .send()
        .await
        .expect(200);
    let res = app
        .post("/v0/auth/login")
        .json(&json!({"email": "nobody@example.com"}))
        .send()
        .await
        .expect(404);
    assert_eq!(
        res.message(),
        "User (Email(\"nobody@example.com\")) not found: Record not found\nUser may be private and require authentication or it may not exist."
    );
    // A session token is not a confirmation token.
    let res = app
        .post("/v0/auth/confirm")
        .json(&json!({"token": alice.jwt}))
        .send()
        .await
        .expect(401);
    assert_eq!(
        res.message(),
        "Failed to decode JSON Web Token: InvalidAudience"
    );
    let res = app
        .post("/v0/auth/confirm")
        .json(&json!({"token": "garbage"}))
        .send()
        .await
        .expect(400);
    assert_eq!(
        res.message(),
        "unable to parse JSON body: token: Failed to validate JWT (JSON Web Token): garbage at line 1 column 19"
    );
    // Confirmation tokens last 30 minutes.
    app.post("/v0/auth/login")
        .json(&json!({"email": "alice@example.com"}))
        .send()
        .await
        .expect(202);
    let token = app.confirmation_token("alice@example.com");
    app.advance(1_800 + 61);
    let res = app
        .post("/v0/auth/confirm")
        .json(&json!({ "token": token }))
        .send()
        .await
        .expect(401);
    assert!(res.message().contains("ExpiredSignature"));
}

#[tokio::test]
async fn locked_users_cannot_log_in() {
    let app = TestApp::new();
    let admin = app.signup("Alice", "alice@example.com").await;
    let carol = app.signup("Carol", "carol@example.com").await;
    app.patch(&format!("/v0/users/{}", carol.slug))
        .auth(&admin.jwt)
        .json(&json!({"locked": true}))
        .send()
        .await
        .expect(200);
    let res = app
        .post("/v0/auth/login")
        .json(&json!({"email": "carol@example.com"}))
        .send()
        .await
        .expect(403);
    assert!(res.message().starts_with("Your account has been locked."));
}

#[tokio::test]
async fn users_get_is_for_admins() {
    let app = TestApp::new();
    let admin = app.signup("Alice", "alice@example.com").await;
    let bob = app.signup("Bob", "bob@example.com").await;
    let res = app
        .get("/v0/users")
        .auth(&admin.jwt)
        .send()
        .await
        .expect(200);
    assert_eq!(res.header("x-total-count").as_deref(), Some("2"));
    app.get("/v0/users").auth(&bob.jwt).send().await.expect(403);
    app.get("/v0/users").send().await.expect(400);
    let res = app.get("/v0/users?search=bo").auth(&admin.jwt).send().await;
    assert_eq!(res.json()[0]["slug"], "bob");
}

#[tokio::test]
async fn user_get_and_patch_are_self_or_admin() {
    let app = TestApp::new();
    let admin = app.signup("Alice", "alice@example.com").await;
    let bob = app.signup("Bob", "bob@example.com").await;
    app.get(&format!("/v0/users/{}", admin.slug))
        .auth(&bob.jwt)
        .send()
        .await
        .expect(403);
    app.get(&format!("/v0/users/{}", bob.slug))
        .auth(&admin.jwt)
        .send()
        .await
        .expect(200);
    app.get("/v0/users/nobody")
        .auth(&admin.jwt)
        .send()
        .await
        .expect(404);
    // Only admins change admin/locked.
    let res = app
        .patch(&format!("/v0/users/{}", bob.slug))
        .auth(&bob.jwt)
        .json(&json!({"admin": true}))
        .send()
        .await
        .expect(403);
    assert!(res.message().contains("admin"));
    let res = app
        .patch(&format!("/v0/users/{}", bob.slug))
        .auth(&admin.jwt)
        .json(&json!({"admin": true}))
        .send()
        .await
        .expect(200);
    assert_eq!(res.json()["admin"], true);
    let res = app
        .patch(&format!("/v0/users/{}", bob.slug))
        .auth(&bob.jwt)
        .json(&json!({"slug": "bobby", "name": "Bobby"}))
        .send()
        .await
        .expect(200);
    assert_eq!(res.json()["slug"], "bobby");
    let res = app
        .patch("/v0/users/bobby")
        .auth(&bob.jwt)
        .json(&json!({"slug": admin.slug}))
        .send()
        .await
        .expect(409);
    assert!(
        res.message()
            .ends_with("UNIQUE constraint failed: user.slug")
    );
    let res = app
        .patch("/v0/users/bobby")
        .auth(&bob.jwt)
        .json(&json!({"email": "alice@example.com"}))
        .send()
        .await
        .expect(409);
    assert!(
        res.message()
            .ends_with("UNIQUE constraint failed: user.email")
    );
}

#[tokio::test]
async fn admin_commands_create_users_keys_and_import_tokens() {
    let app = TestApp::new();
    let mut out = Vec::new();
    keyward::admin::create_user(&app.state, "ops@example.com", "Ops", None, true, &mut out)
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let jwt = text
        .lines()
        .find_map(|l| l.strip_prefix("session token (JWT, valid 30 days): "))
        .unwrap();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("user API key (shown once, never again): "))
        .unwrap();
    let res = app.get("/v0/users/ops").auth(jwt).send().await.expect(200);
    assert_eq!(res.json()["admin"], true);
    app.get("/v0/users/ops").auth(key).send().await.expect(200);

    let mut out = Vec::new();
    keyward::admin::create_user_key(&app.state, "ops", "recovery", Some(60), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let key = text.rsplit(' ').next().unwrap().trim();
    app.get("/v0/users/ops").auth(key).send().await.expect(200);
    assert!(
        keyward::admin::create_user_key(&app.state, "nobody", "x", None, &mut Vec::new()).is_err()
    );
    assert!(
        keyward::admin::create_user_key(&app.state, "ops", "x", Some(0), &mut Vec::new()).is_err()
    );

    let (legacy, _) = app
        .state
        .jwt
        .mint(
            keyward::credentials::jwt::Audience::ApiKey,
            "ops@example.com",
            10_000,
            app.state.clock.now(),
            None,
        )
        .unwrap();
    keyward::admin::import_token(&app.state, "ops", "carried over", &legacy, &mut Vec::new())
        .unwrap();
    let res = app
        .get("/v0/users/ops/tokens")
        .auth(jwt)
        .send()
        .await
        .expect(200);
    assert_eq!(res.json()[0]["name"], "carried over");
    // A token signed elsewhere, or a session token, is refused.
    let foreign = TestApp::jwt_with(
        &json!({"aud": "api_key", "exp": app.now() + 100, "iat": app.now(), "iss": "http://localhost:3000/", "sub": "ops@example.com"}),
        "other",
    );
    assert!(
        keyward::admin::import_token(&app.state, "ops", "x", &foreign, &mut Vec::new()).is_err()
    );
    assert!(keyward::admin::import_token(&app.state, "ops", "x", jwt, &mut Vec::new()).is_err());
}

#[tokio::test]
async fn admin_lock_list_and_backup() {
    let app = TestApp::new();
    let _admin = app.signup("Alice", "alice@example.com").await;
    let bob = app.signup("Bob", "bob@example.com").await;
    let (uuid, key) = app
        .user_key(&bob.jwt, &bob.slug, &json!({"name": "laptop"}))
        .await;
    let (revoked, _) = app
        .user_key(&bob.jwt, &bob.slug, &json!({"name": "old"}))
        .await;
    app.delete(&format!("/v0/users/bob/keys/{revoked}"))
        .auth(&bob.jwt)
        .send()
        .await
        .expect(204);

    let mut out = Vec::new();
    keyward::admin::list_user_keys(&app.state, "bob", &mut out).unwrap();
    let listing = String::from_utf8(out).unwrap();
    assert!(listing.contains(&uuid) && listing.contains("laptop"));
    assert!(listing.contains(&revoked) && listing.contains("old"));
    assert!(!listing.contains(&key), "never the secret");

    let mut out = Vec::new();
    keyward::admin::lock_user(&app.state, "bob", true, &mut out).unwrap();
    assert!(String::from_utf8(out).unwrap().contains("is locked"));
    app.get("/v0/users/bob").auth(&key).send().await.expect(401);
    app.get("/v0/users/bob")
        .auth(&bob.jwt)
        .send()
        .await
        .expect(403);
    keyward::admin::lock_user(&app.state, "bob", false, &mut Vec::new()).unwrap();
    app.get("/v0/users/bob").auth(&key).send().await.expect(200);

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.db");
    if matches!(app.state.db, keyward::db::Db::Postgres(_)) {
        // PostgreSQL is backed up with its own tools: the command says which, and writes nothing.
        let refused = keyward::admin::backup(&app.state, &copy, &mut Vec::new()).unwrap_err();
        assert!(refused.to_string().contains("pg_dump"), "{refused}");
        assert!(!copy.exists());
        return;
    }
    keyward::admin::backup(&app.state, &copy, &mut Vec::new()).unwrap();
    assert!(
        keyward::admin::backup(&app.state, &copy, &mut Vec::new()).is_err(),
        "no overwrite"
    );
    // The copy is a working Keyward database with the same keys.
    let restored = keyward::config::Config::resolve(
        keyward::config::Overrides {
            db: Some(copy),
            secret_key: Some(keyward::config::Secret::new(
                "test-secret-0123456789abcdef0123456789".into(),
            )),
            ..Default::default()
        },
        None,
        None,
    )
    .unwrap();
    let state = keyward::server::open_state(&restored, app.state.clock.clone()).unwrap();
    let res = tower::ServiceExt::oneshot(
        keyward::app(state),
        axum::http::Request::get("/v0/users/bob/keys")
            .header("authorization", format!("Bearer {key}"))
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
}
