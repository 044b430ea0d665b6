//! `/v0/users/{user}/tokens[/{token}]`: legacy JWT tokens.

use serde_json::json;

use crate::helpers::{TestApp, assert_error_cors, assert_success_headers};

fn tokens(user: &str) -> String {
    format!("/v0/users/{user}/tokens")
}

#[tokio::test]
async fn user_tokens_get_lists_by_name_then_expiration() {
    let app = TestApp::new();
    let alice = app.signup("Alice Admin", "alice@example.com").await;
    let (late, _) = app.legacy_token(&alice, "Same", 2000);
    let (early, _) = app.legacy_token(&alice, "Same", 1000);
    let (_, jwt) = app.legacy_token(&alice, "Another Token", 1000);
    let res = app
        .get(&tokens(&alice.slug))
        .auth(&alice.jwt)
        .send()
        .await
        .expect(200);
    assert_success_headers(&res, "GET", "3");
    let body = res.json();
    assert_eq!(body[0]["name"], "Another Token");
    assert_eq!(body[0]["token"], jwt.as_str(), "the JWT itself is shown");
    assert_eq!(body[1]["uuid"], early.as_str());
    assert_eq!(body[2]["uuid"], late.as_str());
    let fields: Vec<&str> = body[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        ["uuid", "user", "name", "token", "creation", "expiration"]
    );
    assert_eq!(body[0]["creation"], "2026-11-22T04:26:55Z");
    assert_eq!(body[0]["expiration"], "2026-11-22T04:43:35Z");
    let res = app
        .get(&format!(
            "{}?direction=desc&per_page=1",
            tokens(&alice.slug)
        ))
        .auth(&alice.jwt)
        .send()
        .await;
    assert_eq!(res.json()[0]["uuid"], late.as_str());
    assert_eq!(res.header("x-total-count").as_deref(), Some("3"));
    let res = app
        .get(&format!("{}?search=another", tokens(&alice.slug)))
        .auth(&alice.jwt)
        .send()
        .await;
    assert_eq!(res.header("x-total-count").as_deref(), Some("1"));
}

#[tokio::test]
async fn user_token_post_is_always_403_after_body_and_credential() {
    let app = TestApp::new();
    let alice = app.signup("Alice Admin", "alice@example.com").await;
    let (_, key) = app
        .user_key(&alice.jwt, &alice.slug, &json!({"name": "k"}))
        .await;
    let message = "User API tokens are deprecated and can no longer be created. Create a user API key instead: https://bencher.dev/docs/explanation/bencher-run/#--key-key";
    for (path, cred) in [
        (tokens(&alice.slug), alice.jwt.as_str()),
        (tokens(&alice.slug), key.as_str()),
        (tokens("no-such-user"), alice.jwt.as_str()),
    ] {
        let res = app
            .post(&path)
            .auth(cred)
            .json(&json!({"name": "t"}))
            .send()
            .await
            .expect(403);
        assert_eq!(res.message(), message);
        assert_error_cors(&res, true);
    }
    // The body is parsed first, then the credential.
    let res = app
        .post(&tokens(&alice.slug))
        .auth(&alice.jwt)
        .json(&json!({}))
        .send()
        .await
        .expect(400);
    assert!(res.message().starts_with("unable to parse JSON body"));
    let fake = format!("bencher_user_{}", "Z".repeat(30));
    app.post(&tokens(&alice.slug))
        .auth(&fake)
        .json(&json!({"name": "t"}))
        .send()
        .await
        .expect(401);
    assert_eq!(
        app.get(&tokens(&alice.slug))
            .auth(&alice.jwt)
            .send()
            .await
            .text,
        "[]"
    );
}

#[tokio::test]
async fn user_token_view_rename_revoke() {
    let app = TestApp::new();
    let alice = app.signup("Alice Admin", "alice@example.com").await;
    let (uuid, jwt) = app.legacy_token(&alice, "cli", 100_000);
    let path = format!("{}/{uuid}", tokens(&alice.slug));
    // The legacy token authenticates...
    app.get(&format!("/v0/users/{}", alice.slug))
        .auth(&jwt)
        .send()
        .await
        .expect(200);
    let res = app.get(&path).auth(&alice.jwt).send().await.expect(200);
    assert_eq!(res.json()["token"], jwt.as_str());
    let res = app
        .patch(&path)
        .auth(&jwt)
        .json(&json!({"name": "renamed"}))
        .send()
        .await
        .expect(200);
    assert_eq!(res.json()["name"], "renamed");
    let res = app
        .patch(&path)
        .auth(&alice.jwt)
        .json(&json!({}))
        .send()
        .await
        .expect(409);
    assert!(res.message().starts_with("Token ("));
    assert!(
        res.message()
            .ends_with("has conflict: There are no changes to save. This query cannot be built")
    );
    assert!(!res.message().contains(&jwt));
    app.delete(&path).auth(&alice.jwt).send().await.expect(204);
    // ...until it is revoked.
    let res = app
        .get(&format!("/v0/users/{}", alice.slug))
        .auth(&jwt)
        .send()
        .await
        .expect(401);
    assert_eq!(
        res.message(),
        "This API token has been revoked and is no longer valid"
    );
    let res = app.delete(&path).auth(&alice.jwt).send().await.expect(409);
    assert_eq!(res.message(), "Token has already been revoked");
    let res = app.get(&path).auth(&alice.jwt).send().await.expect(200);
    assert!(res.json()["revoked"].is_string());
    let nil = format!(
        "{}/00000000-0000-0000-0000-000000000000",
        tokens(&alice.slug)
    );
    let res = app.get(&nil).auth(&alice.jwt).send().await.expect(404);
    assert_eq!(
        res.message(),
        format!(
            "Token ((UserUuid({}), \"00000000-0000-0000-0000-000000000000\")) not found: Record not found\nToken may be private and require authentication or it may not exist.",
            alice.uuid
        )
    );
}

#[tokio::test]
async fn api_key_jwt_without_a_row_is_accepted_and_expiry_is_400() {
    let app = TestApp::new();
    let alice = app.signup("Alice Admin", "alice@example.com").await;
    let (jwt, _) = app
        .state
        .jwt
        .mint(
            keyward::credentials::jwt::Audience::ApiKey,
            &alice.email,
            100,
            app.state.clock.now(),
            None,
        )
        .unwrap();
    app.get(&tokens(&alice.slug))
        .auth(&jwt)
        .send()
        .await
        .expect(200);
    app.advance(200);
    let res = app
        .get(&tokens(&alice.slug))
        .auth(&jwt)
        .send()
        .await
        .expect(400);
    assert!(res.message().ends_with("ExpiredSignature"));
}

#[tokio::test]
async fn email_change_revokes_every_token_but_no_user_key() {
    let app = TestApp::new();
    let alice = app.signup("Alice Admin", "alice@example.com").await;
    let (_, first) = app.legacy_token(&alice, "one", 100_000);
    let (_, second) = app.legacy_token(&alice, "two", 200_000);
    let (_, key) = app
        .user_key(&alice.jwt, &alice.slug, &json!({"name": "k"}))
        .await;
    // Renaming alone revokes nothing.
    app.patch(&format!("/v0/users/{}", alice.slug))
        .auth(&key)
        .json(&json!({"name": "Alice A"}))
        .send()
        .await
        .expect(200);
    app.get(&tokens(&alice.slug))
        .auth(&first)
        .send()
        .await
        .expect(200);
    // Only a session may change the login email (a key could otherwise make itself one).
    app.patch(&format!("/v0/users/{}", alice.slug))
        .auth(&key)
        .json(&json!({"email": "alice@new.example.com"}))
        .send()
        .await
        .expect(403);
    let res = app
        .patch(&format!("/v0/users/{}", alice.slug))
        .auth(&alice.jwt)
        .json(&json!({"email": "alice@new.example.com"}))
        .send()
        .await
        .expect(200);
    assert_eq!(res.json()["email"], "alice@new.example.com");
    // Sessions name the user by email: a new one is needed for the new address, and the
    // user key (which may not read tokens) is not one.
    let alice_session = app.session("alice@new.example.com").await;
    let res = app
        .get(&format!("{}?revoked=true", tokens(&alice.slug)))
        .auth(&alice_session)
        .send()
        .await;
    assert_eq!(res.header("x-total-count").as_deref(), Some("2"));
    app.get(&tokens(&alice.slug))
        .auth(&alice_session)
        .send()
        .await
        .expect(200);
    // The user key was not revoked.
    app.get(&format!("/v0/users/{}", alice.slug))
        .auth(&key)
        .send()
        .await
        .expect(200);
    for jwt in [first, second] {
        // The old email no longer names a user.
        app.get(&tokens(&alice.slug))
            .auth(&jwt)
            .send()
            .await
            .expect(404);
    }
}

#[tokio::test]
async fn tokens_are_self_or_admin() {
    let app = TestApp::new();
    let alice = app.signup("Alice Admin", "alice@example.com").await;
    let bob = app.signup("Bob", "bob@example.com").await;
    let (uuid, _) = app.legacy_token(&bob, "bob-token", 1000);
    app.get(&tokens(&alice.slug))
        .auth(&bob.jwt)
        .send()
        .await
        .expect(403);
    app.get(&format!("{}/{uuid}", tokens(&bob.slug)))
        .auth(&alice.jwt)
        .send()
        .await
        .expect(200);
    app.delete(&format!("{}/{uuid}", tokens(&bob.slug)))
        .auth(&alice.jwt)
        .send()
        .await
        .expect(204);
}
