//! Authentication on the credential endpoints: header syntax, JWT verification, user keys.

use serde_json::json;

use crate::helpers::{HINT, TestApp, assert_error_cors, assert_error_shape};

#[tokio::test]
async fn missing_or_odd_authorization_is_400_with_the_hint() {
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    let path = format!("/v0/users/{}/keys", admin.slug);
    let res = app.get(&path).send().await.expect(400);
    assert_eq!(
        res.message(),
        format!("Request is missing \"Authorization\" header. {HINT}")
    );
    assert_error_shape(&res);
    assert_error_cors(&res, true);
    for value in ["Basic abc", "Bearer", "Bearer    ", "Token x"] {
        let res = app
            .get(&path)
            .header("authorization", value)
            .send()
            .await
            .expect(400);
        assert_eq!(
            res.message(),
            format!("Request is missing \"Authorization\" Bearer. {HINT}"),
            "{value:?}"
        );
    }
    let res = app
        .get(&path)
        .header("authorization", "Bearer caf\u{e9}")
        .send()
        .await;
    // Non-visible-ASCII bytes cannot be read as a string.
    assert_eq!(res.status, 400);
    assert!(
        res.message()
            .starts_with("Request has an invalid \"Authorization\" header:")
    );
}

#[tokio::test]
async fn bearer_scheme_is_case_insensitive_and_value_trimmed() {
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    let path = format!("/v0/users/{}/keys", admin.slug);
    app.get(&path)
        .header("authorization", &format!("bearer  {}", admin.jwt))
        .send()
        .await
        .expect(200);
}

#[tokio::test]
async fn malformed_credentials_are_400_and_never_echoed() {
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    let path = format!("/v0/users/{}/keys", admin.slug);
    let res = app
        .get(&path)
        .auth("bencher_user_AAAAAAAAAAAA")
        .send()
        .await
        .expect(400);
    assert!(
        res.message()
            .starts_with("Malformed user API key: Failed to validate user key: ")
    );
    assert!(!res.text.contains("AAAAAAAAAAAA"));
    let project_key = format!("bencher_run_{}", "A".repeat(30));
    for value in ["garbage", project_key.as_str(), "a.b.", "x.y.z.w"] {
        let res = app.get(&path).auth(value).send().await.expect(400);
        assert!(
            res.message()
                .starts_with("Malformed JSON Web Token: Failed to validate JWT (JSON Web Token): "),
            "{value}"
        );
        assert!(!res.text.contains(value), "the credential is not echoed");
    }
}

fn claims(aud: &str, sub: &str, iat: i64, exp: i64, iss: &str) -> serde_json::Value {
    json!({"aud": aud, "exp": exp, "iat": iat, "iss": iss, "sub": sub, "org": null, "state": null, "oci": null})
}

#[tokio::test]
async fn jwt_failures_are_400_with_the_library_reason() {
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    let path = format!("/v0/users/{}/keys", admin.slug);
    let now = app.now();
    let iss = "http://localhost:3000/";
    let cases = [
        (
            TestApp::jwt_with(
                &claims("client", &admin.email, now, now + 100, iss),
                "wrong",
            ),
            "Failed to decode JSON Web Token: InvalidSignature".to_owned(),
        ),
        (
            TestApp::jwt_with(
                &claims("client", &admin.email, now - 200, now - 61, iss),
                "test-secret-0123456789abcdef0123456789",
            ),
            "Failed to decode JSON Web Token: ExpiredSignature".to_owned(),
        ),
        (
            TestApp::jwt_with(
                &claims("client", &admin.email, now - 200, now - 30, iss),
                "test-secret-0123456789abcdef0123456789",
            ),
            format!(
                "Expired JSON Web Token ({} < {now}): ExpiredSignature",
                now - 30
            ),
        ),
        (
            TestApp::jwt_with(
                &claims("auth", &admin.email, now, now + 100, iss),
                "test-secret-0123456789abcdef0123456789",
            ),
            "Failed to decode JSON Web Token: InvalidAudience".to_owned(),
        ),
        (
            TestApp::jwt_with(
                &claims(
                    "client",
                    &admin.email,
                    now,
                    now + 100,
                    "http://localhost:3000",
                ),
                "test-secret-0123456789abcdef0123456789",
            ),
            "Failed to decode JSON Web Token: InvalidIssuer".to_owned(),
        ),
    ];
    for (jwt, reason) in cases {
        let res = app.get(&path).auth(&jwt).send().await.expect(400);
        assert_eq!(
            res.message(),
            format!("Failed to validate JSON Web Token: {reason}")
        );
        assert!(!res.text.contains(&jwt));
        assert_error_cors(&res, true);
    }
    let missing_exp = TestApp::jwt_with(
        &json!({"aud": "client", "iat": now, "iss": iss, "sub": admin.email}),
        "test-secret-0123456789abcdef0123456789",
    );
    let res = app.get(&path).auth(&missing_exp).send().await.expect(400);
    assert!(
        res.message().contains("JSON error: missing field `exp`"),
        "{}",
        res.message()
    );
    let hs384 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS384),
        &claims("client", &admin.email, now, now + 100, iss),
        &jsonwebtoken::EncodingKey::from_secret(b"test-secret-0123456789abcdef0123456789"),
    )
    .unwrap();
    let res = app.get(&path).auth(&hs384).send().await.expect(400);
    assert_eq!(
        res.message(),
        "Failed to validate JSON Web Token: Failed to decode JSON Web Token: InvalidAlgorithm"
    );
}

#[tokio::test]
async fn alg_none_is_refused() {
    use base64::Engine as _;
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    let now = app.now();
    let head = b64(&json!({"typ": "JWT", "alg": "none"}));
    let body = b64(&claims(
        "client",
        &admin.email,
        now,
        now + 100,
        "http://localhost:3000/",
    ));
    let path = format!("/v0/users/{}/keys", admin.slug);
    let res = app
        .get(&path)
        .auth(&format!("{head}.{body}.c2ln"))
        .send()
        .await
        .expect(400);
    assert!(
        res.message().contains("unknown variant `none`"),
        "{}",
        res.message()
    );
    let res = app
        .get(&path)
        .auth(&format!("{head}.{body}."))
        .send()
        .await
        .expect(400);
    assert!(res.message().starts_with("Malformed JSON Web Token"));
}

#[tokio::test]
async fn jwt_for_unknown_email_is_404_and_subject_case_is_ignored() {
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    let now = app.now();
    let iss = "http://localhost:3000/";
    let ghost = TestApp::jwt_with(
        &claims("client", "ghost@example.com", now, now + 100, iss),
        "test-secret-0123456789abcdef0123456789",
    );
    let path = format!("/v0/users/{}/keys", admin.slug);
    let res = app.get(&path).auth(&ghost).send().await.expect(404);
    assert_eq!(
        res.message(),
        "User (Email(\"ghost@example.com\")) not found: Record not found\nUser may be private and require authentication or it may not exist."
    );
    let upper = TestApp::jwt_with(
        &claims("client", "ALICE@example.com", now, now + 100, iss),
        "test-secret-0123456789abcdef0123456789",
    );
    app.get(&path).auth(&upper).send().await.expect(200);
}

#[tokio::test]
async fn locked_user_jwt_is_403_and_key_is_401() {
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    let carol = app.signup("Carol", "carol@example.com").await;
    let (_, carol_key) = app
        .user_key(&carol.jwt, &carol.slug, &json!({"name": "k"}))
        .await;
    app.patch(&format!("/v0/users/{}", carol.slug))
        .auth(&admin.jwt)
        .json(&json!({"locked": true}))
        .send()
        .await
        .expect(200);
    let path = format!("/v0/users/{}/keys", carol.slug);
    let res = app.get(&path).auth(&carol.jwt).send().await.expect(403);
    assert!(
        res.message()
            .starts_with("Your account has been locked. Please contact support: ")
    );
    assert!(!res.message().contains("carol@example.com"));
    let res = app.get(&path).auth(&carol_key).send().await.expect(401);
    assert_eq!(res.message(), "Invalid user key");
    assert_error_cors(&res, true);
}

#[tokio::test]
async fn unknown_user_key_is_401() {
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    let fake = format!("bencher_user_{}", "Z".repeat(30));
    let res = app
        .get(&format!("/v0/users/{}/keys", admin.slug))
        .auth(&fake)
        .send()
        .await
        .expect(401);
    assert_eq!(res.message(), "Invalid user key");
    assert!(res.header("www-authenticate").is_none());
    assert_error_shape(&res);
}

#[tokio::test]
async fn evaluation_order_header_then_path_then_body_then_credential() {
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    // No header + bad slug + bad body → the missing-header 400.
    let res = app
        .post("/v0/users/Bad_Slug/keys")
        .raw("{")
        .send()
        .await
        .expect(400);
    assert!(
        res.message()
            .starts_with("Request is missing \"Authorization\" header.")
    );
    // Unknown user key + bad body → the body 400.
    let fake = format!("bencher_user_{}", "Z".repeat(30));
    let res = app
        .post(&format!("/v0/users/{}/keys", admin.slug))
        .auth(&fake)
        .raw("{")
        .send()
        .await
        .expect(400);
    assert!(res.message().starts_with("unable to parse JSON body"));
    // Tokens list reads path and query before the header.
    let res = app
        .get("/v0/users/Bad_Slug/tokens")
        .send()
        .await
        .expect(400);
    assert!(res.message().starts_with("bad parameter in URL path"));
    let res = app
        .get("/v0/users/alice/tokens?per_page=999")
        .send()
        .await
        .expect(400);
    assert!(res.message().starts_with("unable to parse query string"));
}
