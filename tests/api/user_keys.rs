//! `/v0/users/{user}/keys[/{key}]`, and user keys as credentials.

use serde_json::json;

use crate::helpers::{TestApp, assert_error_cors, assert_success_headers};

fn keys(user: &str) -> String {
    format!("/v0/users/{user}/keys")
}

#[tokio::test]
async fn user_key_post_returns_the_key_once() {
    let app = TestApp::new();
    let alice = app.signup("Alice Admin", "alice@example.com").await;
    let res = app
        .post(&keys(&alice.slug))
        .auth(&alice.jwt)
        .json(&json!({"name": "primary-key"}))
        .send()
        .await
        .expect(201);
    assert_success_headers(&res, "POST", "1");
    let body = res.json();
    let fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        ["uuid", "user", "name", "key", "creation", "expiration"]
    );
    let key = body["key"].as_str().unwrap();
    assert!(key.starts_with("bencher_user_") && key.len() == 43);
    assert_eq!(body["user"], alice.uuid.as_str());
    assert_eq!(body["creation"], "2026-11-22T04:26:55.500Z");
    let uuid = body["uuid"].as_str().unwrap();
    let res = app
        .get(&format!("{}/{uuid}", keys(&alice.slug)))
        .auth(&alice.jwt)
        .send()
        .await
        .expect(200);
    assert_eq!(
        res.text,
        format!(
            r#"{{"uuid":"{uuid}","user":"{}","name":"primary-key","creation":"2026-11-22T04:26:55Z","expiration":"2162-12-29T10:55:10Z"}}"#,
            alice.uuid
        )
    );
    // The key works as its user.
    app.get(&format!("/v0/users/{}", alice.slug))
        .auth(key)
        .send()
        .await
        .expect(200);
}

#[tokio::test]
async fn user_key_post_ttl_and_name_edges() {
    let app = TestApp::new();
    let alice = app.signup("Alice Admin", "alice@example.com").await;
    let post = |body: serde_json::Value| {
        app.post(&keys(&alice.slug))
            .auth(&alice.jwt)
            .json(&body)
            .send()
    };
    let res = post(json!({"name": "k", "ttl": 0})).await.expect(400);
    assert_eq!(res.message(), "TTL must be greater than zero");
    post(json!({"name": "k", "ttl": 4_294_967_295_u32}))
        .await
        .expect(201);
    post(json!({"name": "a".repeat(64)})).await.expect(201);
    post(json!({"name": "a".repeat(65)})).await.expect(400);
    post(json!({"name": "é".repeat(33)})).await.expect(400);
}

#[tokio::test]
async fn user_key_rules_for_user_key_callers() {
    let app = TestApp::new();
    let alice = app.signup("Alice Admin", "alice@example.com").await;
    let (own, key) = app
        .user_key(&alice.jwt, &alice.slug, &json!({"name": "primary-key"}))
        .await;
    let (sibling, _) = app
        .user_key(&alice.jwt, &alice.slug, &json!({"name": "sibling_key"}))
        .await;
    // Cannot create keys.
    let res = app
        .post(&keys(&alice.slug))
        .auth(&key)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .expect(403);
    assert_eq!(
        res.message(),
        "A user API key cannot be used to create another user API key. Authenticate with a JWT (user session token) instead."
    );
    assert_error_cors(&res, true);
    // Lists only itself.
    let res = app
        .get(&keys(&alice.slug))
        .auth(&key)
        .send()
        .await
        .expect(200);
    assert_eq!(res.header("x-total-count").as_deref(), Some("1"));
    assert_eq!(res.json()[0]["uuid"], own.as_str());
    let res = app
        .get(&format!("{}?revoked=true", keys(&alice.slug)))
        .auth(&key)
        .send()
        .await;
    assert_eq!(res.header("x-total-count").as_deref(), Some("0"));
    // May not view, rename or revoke a sibling, but a missing key is a 404 first.
    let sib = format!("{}/{sibling}", keys(&alice.slug));
    let res = app.get(&sib).auth(&key).send().await.expect(403);
    assert_eq!(
        res.message(),
        "A user API key can only view itself. Authenticate with a JWT (user session token) to view other keys."
    );
    let res = app
        .patch(&sib)
        .auth(&key)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .expect(403);
    assert_eq!(
        res.message(),
        "A user API key can only update itself. Authenticate with a JWT (user session token) to update other keys."
    );
    let res = app.delete(&sib).auth(&key).send().await.expect(403);
    assert_eq!(
        res.message(),
        "A user API key can only revoke itself. Authenticate with a JWT (user session token) to revoke other keys."
    );
    let nil = format!("{}/00000000-0000-0000-0000-000000000000", keys(&alice.slug));
    let res = app.get(&nil).auth(&key).send().await.expect(404);
    assert_eq!(
        res.message(),
        format!(
            "User Key ((UserUuid({}), UserKeyUuid(00000000-0000-0000-0000-000000000000))) not found: Record not found\nUser Key may be private and require authentication or it may not exist.",
            alice.uuid
        )
    );
    // May view, rename and revoke itself; revocation applies to the very next request.
    let me = format!("{}/{own}", keys(&alice.slug));
    app.get(&me).auth(&key).send().await.expect(200);
    app.patch(&me)
        .auth(&key)
        .json(&json!({"name": "renamed"}))
        .send()
        .await
        .expect(200);
    app.delete(&me).auth(&key).send().await.expect(204);
    let res = app.get(&me).auth(&key).send().await.expect(401);
    assert_eq!(res.message(), "Invalid user key");
    let res = app.delete(&me).auth(&alice.jwt).send().await.expect(409);
    assert_eq!(res.message(), "User key has already been revoked");
}

#[tokio::test]
async fn user_keys_are_self_or_admin() {
    let app = TestApp::new();
    let alice = app.signup("Alice Admin", "alice@example.com").await;
    let bob = app.signup("Bob", "bob@example.com").await;
    let (bob_key_uuid, bob_key) = app
        .user_key(&bob.jwt, &bob.slug, &json!({"name": "bob-key"}))
        .await;
    // Bob may not touch Alice's keys.
    let res = app
        .get(&keys(&alice.slug))
        .auth(&bob.jwt)
        .send()
        .await
        .expect(403);
    assert_eq!(
        res.message(),
        format!(
            "User is not admin and the authenticated user ({}) does not match the requested user ({})",
            bob.uuid, alice.uuid
        )
    );
    app.post(&keys(&alice.slug))
        .auth(&bob.jwt)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .expect(403);
    // An unknown user is a 404 before any permission check.
    let res = app
        .get(&keys("nobody"))
        .auth(&bob.jwt)
        .send()
        .await
        .expect(404);
    assert_eq!(
        res.message(),
        "User (Slug(UserSlug(Slug(\"nobody\")))) not found: Record not found\nUser may be private and require authentication or it may not exist."
    );
    let res = app
        .get(&keys("00000000-0000-0000-0000-000000000000"))
        .auth(&bob.jwt)
        .send()
        .await
        .expect(404);
    assert!(
        res.message()
            .starts_with("User (Uuid(UserUuid(00000000-0000-0000-0000-000000000000))) not found")
    );
    // The admin may list Bob's keys and create one owned by Bob.
    let res = app
        .get(&keys(&bob.slug))
        .auth(&alice.jwt)
        .send()
        .await
        .expect(200);
    assert_eq!(res.json()[0]["uuid"], bob_key_uuid.as_str());
    let res = app
        .post(&keys(&bob.slug))
        .auth(&alice.jwt)
        .json(&json!({"name": "by-admin"}))
        .send()
        .await
        .expect(201);
    assert_eq!(res.json()["user"], bob.uuid.as_str());
    // The admin's own user key lists nothing of Bob's and may not view his keys.
    let (_, admin_key) = app
        .user_key(&alice.jwt, &alice.slug, &json!({"name": "admin-key"}))
        .await;
    let res = app
        .get(&keys(&bob.slug))
        .auth(&admin_key)
        .send()
        .await
        .expect(200);
    assert_eq!(res.text, "[]");
    assert_eq!(res.header("x-total-count").as_deref(), Some("0"));
    app.get(&format!("{}/{bob_key_uuid}", keys(&bob.slug)))
        .auth(&admin_key)
        .send()
        .await
        .expect(403);
    // Path users may be named by UUID, in upper case too.
    app.get(&keys(&bob.uuid.to_uppercase()))
        .auth(&bob_key)
        .send()
        .await
        .expect(200);
}

#[tokio::test]
async fn user_key_failures_are_all_the_same_401() {
    let app = TestApp::new();
    let alice = app.signup("Alice Admin", "alice@example.com").await;
    let (_, short) = app
        .user_key(&alice.jwt, &alice.slug, &json!({"name": "short", "ttl": 5}))
        .await;
    let (revoked_uuid, revoked) = app
        .user_key(&alice.jwt, &alice.slug, &json!({"name": "revoked"}))
        .await;
    app.delete(&format!("{}/{revoked_uuid}", keys(&alice.slug)))
        .auth(&alice.jwt)
        .send()
        .await
        .expect(204);
    let orgs = "/v0/organizations";
    app.advance(4);
    app.get(orgs).auth(&short).send().await.expect(200);
    app.advance(1);
    for key in [short, revoked, format!("bencher_user_{}", "q".repeat(30))] {
        let res = app.get(orgs).auth(&key).send().await.expect(401);
        assert_eq!(res.message(), "Invalid user key");
    }
}

#[tokio::test]
async fn user_key_authenticates_everywhere_a_jwt_does() {
    let app = TestApp::new();
    let alice = app.signup("Alice Admin", "alice@example.com").await;
    let (_, key) = app
        .user_key(&alice.jwt, &alice.slug, &json!({"name": "k"}))
        .await;
    let res = app
        .post("/v0/organizations")
        .auth(&key)
        .json(&json!({"name": "Via Key"}))
        .send()
        .await
        .expect(201);
    let org = res.json()["slug"].as_str().unwrap().to_owned();
    let res = app
        .post(&format!("/v0/organizations/{org}/projects"))
        .auth(&key)
        .json(&json!({"name": "Keyed"}))
        .send()
        .await
        .expect(201);
    let project = res.json()["slug"].as_str().unwrap().to_owned();
    let (pk_uuid, pk) = app
        .project_key(&key, &project, &json!({"name": "ci"}))
        .await;
    app.get(&format!("/v0/projects/{project}"))
        .auth(&pk)
        .send()
        .await
        .expect(200);
    app.delete(&format!("/v0/projects/{project}/keys/{pk_uuid}"))
        .auth(&key)
        .send()
        .await
        .expect(204);
    app.get(&format!("/v0/projects/{project}"))
        .auth(&pk)
        .send()
        .await
        .expect(401);
    // Except where the answer would hand it the user's legacy JWTs.
    let res = app
        .get(&format!("/v0/users/{}/tokens", alice.slug))
        .auth(&key)
        .send()
        .await
        .expect(403);
    assert!(
        res.message()
            .starts_with("A user API key cannot read API tokens")
    );
}
