//! Response conventions every route shares: headers, error shape, 404/405, OPTIONS, HEAD,
//! path normalisation, body and content-type handling.

use serde_json::json;

use crate::helpers::{TestApp, assert_error_cors, assert_error_shape};

#[tokio::test]
async fn server_version_get_is_public_with_bencher_headers() {
    let app = TestApp::new();
    let res = app.get("/v0/server/version").send().await.expect(200);
    assert_eq!(res.text, r#"{"version":"0.6.12"}"#);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        res.header("access-control-allow-headers").as_deref(),
        Some("Content-Type")
    );
    assert_eq!(
        res.header("access-control-allow-methods").as_deref(),
        Some("GET")
    );
    assert_eq!(res.header("x-total-count").as_deref(), Some("1"));
    let id = res.header("x-request-id").unwrap();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    for absent in ["www-authenticate", "cache-control", "etag", "vary"] {
        assert!(res.header(absent).is_none(), "{absent}");
    }
}

#[tokio::test]
async fn server_config_console_get_has_trailing_slash() {
    let app = TestApp::new();
    let res = app
        .get("/v0/server/config/console")
        .send()
        .await
        .expect(200);
    assert_eq!(res.text, r#"{"url":"http://localhost:3000/"}"#);
}

#[tokio::test]
async fn unknown_route_is_a_framework_404() {
    let app = TestApp::new();
    let res = app.get("/v0/users/alice/keyz").send().await.expect(404);
    assert_eq!(res.message(), "Not Found");
    assert_error_shape(&res);
    assert_error_cors(&res, false);
}

#[tokio::test]
async fn unregistered_method_is_405_with_allow_lines() {
    let app = TestApp::new();
    let res = app
        .req("PUT", "/v0/users/alice/keys")
        .send()
        .await
        .expect(405);
    assert_eq!(res.message(), "Method Not Allowed");
    let allow: Vec<_> = res
        .headers
        .get_all("allow")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(allow, ["GET", "OPTIONS", "POST"]);
    assert_error_shape(&res);
    assert_error_cors(&res, false);

    let key = "/v0/projects/p/keys/00000000-0000-0000-0000-000000000000";
    let res = app.post(key).send().await.expect(405);
    let allow: Vec<_> = res
        .headers
        .get_all("allow")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(allow, ["DELETE", "GET", "OPTIONS", "PATCH"]);
}

#[tokio::test]
async fn head_is_405_without_a_body() {
    let app = TestApp::new();
    let res = app
        .req("HEAD", "/v0/server/version")
        .send()
        .await
        .expect(405);
    assert!(res.text.is_empty());
    assert!(res.header("allow").is_some());
    assert!(res.header("x-request-id").is_some());
}

#[tokio::test]
async fn options_preflight_on_credential_paths() {
    let app = TestApp::new();
    let cases = [
        ("/v0/projects/no-such-project/keys", "GET, POST"),
        ("/v0/users/nobody/keys", "GET, POST"),
        ("/v0/users/nobody/tokens", "GET, POST"),
        (
            "/v0/projects/p/keys/00000000-0000-0000-0000-000000000000",
            "GET, PATCH, DELETE",
        ),
        (
            "/v0/users/u/keys/00000000-0000-0000-0000-000000000000",
            "GET, PATCH, DELETE",
        ),
        (
            "/v0/users/u/tokens/00000000-0000-0000-0000-000000000000",
            "GET, PATCH, DELETE",
        ),
    ];
    for (path, methods) in cases {
        let res = app
            .req("OPTIONS", path)
            .header("origin", "https://example.com")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .expect(200);
        assert_eq!(res.text, "null", "{path}");
        assert_eq!(
            res.header("access-control-allow-methods").as_deref(),
            Some(methods)
        );
        assert_eq!(
            res.header("access-control-allow-headers").as_deref(),
            Some("Content-Type, Authorization")
        );
        assert_eq!(res.header("x-total-count").as_deref(), Some("1"));
        assert_eq!(
            res.header("content-type").as_deref(),
            Some("application/json")
        );
        assert!(res.header("access-control-max-age").is_none());
        assert!(res.header("access-control-allow-credentials").is_none());
    }
}

#[tokio::test]
async fn options_preflight_still_checks_path_and_query() {
    let app = TestApp::new();
    let res = app
        .req("OPTIONS", "/v0/users/Not_A_Slug/keys")
        .send()
        .await
        .expect(400);
    assert!(res.message().starts_with("bad parameter in URL path:"));
    let res = app
        .req("OPTIONS", "/v0/users/u/keys?per_page=256")
        .send()
        .await
        .expect(400);
    assert!(res.message().starts_with("unable to parse query string:"));
    let res = app
        .req("OPTIONS", "/v0/users/u/keys/zz")
        .send()
        .await
        .expect(400);
    assert_eq!(
        res.message(),
        "bad parameter in URL path: UUID parsing failed: invalid character: found `z` at 0"
    );
}

#[tokio::test]
async fn paths_ignore_empty_segments_and_refuse_dot_segments() {
    let app = TestApp::new();
    app.get("/v0/server/version/").send().await.expect(200);
    app.get("//v0//server/version").send().await.expect(200);
    let res = app
        .get("/v0/users/alice/keys/../keys")
        .send()
        .await
        .expect(400);
    assert_eq!(res.message(), "invalid path encoding");
    assert_error_cors(&res, false);
}

#[tokio::test]
async fn bad_path_parameters_are_framework_400s() {
    let app = TestApp::new();
    let res = app
        .get("/v0/users/Not_A_Slug/keys")
        .auth("x.y.z")
        .send()
        .await;
    // The Authorization syntax is checked before the path: a bad JWT shape wins.
    assert_eq!(res.status, 400);
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    let res = app
        .get("/v0/users/Not_A_Slug/keys")
        .auth(&admin.jwt)
        .send()
        .await
        .expect(400);
    assert_eq!(
        res.message(),
        r#"bad parameter in URL path: invalid value: string "Not_A_Slug", expected a valid UUID or slug."#
    );
    assert_error_shape(&res);
    assert_error_cors(&res, false);
    let res = app
        .get("/v0/users/alice-admin/keys/not-a-uuid")
        .auth(&admin.jwt)
        .send()
        .await
        .expect(400);
    assert_eq!(
        res.message(),
        "bad parameter in URL path: UUID parsing failed: invalid character: found `n` at 0"
    );
    let res = app
        .get("/v0/users/alice-admin/keys/123")
        .auth(&admin.jwt)
        .send()
        .await
        .expect(400);
    assert_eq!(
        res.message(),
        "bad parameter in URL path: UUID parsing failed: invalid length: found 3"
    );
}

#[tokio::test]
async fn body_content_types_follow_dropshot() {
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    let path = format!("/v0/users/{}/keys", admin.slug);
    let send = |ct: Option<&'static str>| {
        let mut req = app.post(&path).auth(&admin.jwt).raw(r#"{"name":"k"}"#);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        req.send()
    };
    send(None).await.expect(201);
    send(Some("application/json; charset=utf-8"))
        .await
        .expect(201);
    send(Some("APPLICATION/JSON")).await.expect(201);
    send(Some("application/vnd.api+json")).await.expect(201);
    let res = send(Some("text/plain")).await.expect(400);
    assert_eq!(res.message(), "unsupported content-type: text/plain");
    assert_error_cors(&res, false);
    let res = send(Some("application/x-www-form-urlencoded"))
        .await
        .expect(400);
    assert_eq!(
        res.message(),
        r#"expected content type "application/json", got "application/x-www-form-urlencoded""#
    );
}

#[tokio::test]
async fn body_parse_errors_name_the_field() {
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    let path = format!("/v0/users/{}/keys", admin.slug);
    let cases = [
        (
            "",
            "unable to parse JSON body: EOF while parsing a value at line 1 column 0",
        ),
        (
            "{}",
            "unable to parse JSON body: missing field `name` at line 1 column 2",
        ),
        (
            r#"{"name":"#,
            "unable to parse JSON body: name: EOF while parsing a value at line 1 column 8",
        ),
        (
            r#"{"name":"a","name":"b"}"#,
            "unable to parse JSON body: duplicate field `name` at line 1 column 18",
        ),
        (
            "null",
            "unable to parse JSON body: invalid type: null, expected struct JsonNewUserKey at line 1 column 4",
        ),
        (
            "[]",
            "unable to parse JSON body: invalid length 0, expected struct JsonNewUserKey with 2 elements at line 1 column 2",
        ),
        (
            r#"{"name":5}"#,
            "unable to parse JSON body: name: invalid type: integer `5`, expected a string at line 1 column 9",
        ),
        (
            r#"{"name":"a","ttl":true}"#,
            "unable to parse JSON body: ttl: invalid type: boolean `true`, expected u32 at line 1 column 22",
        ),
        (
            r#"{"name":""}"#,
            "unable to parse JSON body: name: Failed to validate resource name string:  at line 1 column 11",
        ),
    ];
    for (body, message) in cases {
        let res = app
            .post(&path)
            .auth(&admin.jwt)
            .header("content-type", "application/json")
            .raw(body)
            .send()
            .await
            .expect(400);
        assert_eq!(res.message(), message, "body {body:?}");
        assert_error_cors(&res, false);
    }
}

#[tokio::test]
async fn body_over_the_limit_is_refused() {
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    let big = format!(r#"{{"name":"k","pad":"{}"}}"#, "x".repeat(4_194_304));
    let res = app
        .post(&format!("/v0/users/{}/keys", admin.slug))
        .auth(&admin.jwt)
        .raw(&big)
        .send()
        .await
        .expect(400);
    assert_eq!(
        res.message(),
        "request body exceeded maximum size of 4194304 bytes"
    );
}

#[tokio::test]
async fn body_limit_is_configurable() {
    let app = TestApp::with(keyward::config::Overrides {
        body_limit: Some(64),
        ..Default::default()
    });
    let res = app
        .post("/v0/auth/login")
        .json(&json!({"email": "a@example.com", "pad": "x".repeat(100)}))
        .send()
        .await
        .expect(400);
    assert_eq!(
        res.message(),
        "request body exceeded maximum size of 64 bytes"
    );
}

#[tokio::test]
async fn unknown_query_parameters_are_ignored() {
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    app.get(&format!("/v0/users/{}/keys?foo=bar", admin.slug))
        .auth(&admin.jwt)
        .send()
        .await
        .expect(200);
}

#[tokio::test]
async fn user_patch_takes_an_object_only() {
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    let path = format!("/v0/users/{}", admin.slug);
    let res = app
        .patch(&path)
        .auth(&admin.jwt)
        .json(&json!([null, null]))
        .send()
        .await
        .expect(400);
    assert!(
        res.message().starts_with(
            "unable to parse JSON body: invalid type: sequence, expected struct JsonUpdateUser"
        ),
        "{}",
        res.message()
    );
    app.patch(&path)
        .auth(&admin.jwt)
        .json(&json!({"unknown": 1}))
        .send()
        .await
        .expect(200);
}

#[tokio::test]
async fn request_id_sent_by_the_client_is_replaced_by_the_server_s_own() {
    let app = TestApp::new();
    for (path, status) in [("/v0/server/version", 200), ("/v0/nowhere", 404)] {
        let res = app
            .get(path)
            .header("x-request-id", "forged")
            .send()
            .await
            .expect(status);
        let id = res.header("x-request-id").unwrap();
        assert_ne!(id, "forged");
        assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
        if status == 404 {
            assert_error_shape(&res);
            assert!(!res.text.contains("forged"), "{}", res.text);
        }
    }
}
