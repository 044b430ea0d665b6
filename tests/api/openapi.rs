//! `openapi.json` is generated from the code; this test fails when the committed copy is
//! stale. Update it with: `UPDATE_OPENAPI=1 cargo test --test api openapi`.

use std::path::Path;

#[test]
fn openapi_json_is_up_to_date() {
    let generated =
        serde_json::to_string_pretty(&keyward::api::openapi::document()).unwrap() + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test --test api openapi` and commit it"
    );
}

#[test]
fn openapi_uses_bencher_operation_ids() {
    let spec = keyward::api::openapi::document();
    let op = |path: &str, method: &str| spec["paths"][path][method].clone();
    let cases = [
        ("/v0/projects/{project}/keys", "get", "proj_keys_get"),
        ("/v0/projects/{project}/keys", "post", "proj_key_post"),
        ("/v0/projects/{project}/keys/{key}", "get", "proj_key_get"),
        (
            "/v0/projects/{project}/keys/{key}",
            "patch",
            "proj_key_patch",
        ),
        (
            "/v0/projects/{project}/keys/{key}",
            "delete",
            "proj_key_delete",
        ),
        ("/v0/users/{user}/keys", "get", "user_keys_get"),
        ("/v0/users/{user}/keys", "post", "user_key_post"),
        ("/v0/users/{user}/keys/{key}", "get", "user_key_get"),
        ("/v0/users/{user}/keys/{key}", "patch", "user_key_patch"),
        ("/v0/users/{user}/keys/{key}", "delete", "user_key_delete"),
        ("/v0/users/{user}/tokens", "get", "user_tokens_get"),
        ("/v0/users/{user}/tokens", "post", "user_token_post"),
        ("/v0/users/{user}/tokens/{token}", "get", "user_token_get"),
        (
            "/v0/users/{user}/tokens/{token}",
            "patch",
            "user_token_patch",
        ),
        (
            "/v0/users/{user}/tokens/{token}",
            "delete",
            "user_token_delete",
        ),
    ];
    for (path, method, id) in cases {
        let op = op(path, method);
        assert_eq!(op["operationId"], id, "{method} {path}");
        assert_eq!(
            op["deprecated"].as_bool().unwrap_or(false),
            path.contains("/tokens"),
            "{id}"
        );
        assert!(
            op["responses"]["4XX"].is_object(),
            "{id} documents its errors"
        );
    }
}

#[test]
fn openapi_uses_bencher_schema_names() {
    let spec = keyward::api::openapi::document();
    let schema_of = |path: &str, method: &str, status: &str| {
        spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("#/components/schemas/")
            .to_owned()
    };
    assert_eq!(
        schema_of("/v0/projects/{project}/keys", "get", "200"),
        "JsonProjectKeys"
    );
    assert_eq!(
        schema_of("/v0/projects/{project}/keys", "post", "201"),
        "JsonProjectKeyCreated"
    );
    assert_eq!(
        schema_of("/v0/users/{user}/keys", "get", "200"),
        "JsonUserKeys"
    );
    assert_eq!(
        schema_of("/v0/users/{user}/keys/{key}", "patch", "200"),
        "JsonUserKey"
    );
    assert_eq!(
        schema_of("/v0/users/{user}/tokens", "get", "200"),
        "JsonTokens"
    );
    let param = |path: &str, name: &str| {
        spec["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["schema"]
            .clone()
    };
    assert_eq!(
        param("/v0/projects/{project}/keys", "sort")["$ref"],
        "#/components/schemas/ProjKeysSort"
    );
    assert_eq!(
        param("/v0/users/{user}/keys", "sort")["$ref"],
        "#/components/schemas/UserKeysSort"
    );
    assert_eq!(
        param("/v0/users/{user}/tokens", "sort")["$ref"],
        "#/components/schemas/UserTokensSort"
    );
    assert_eq!(
        param("/v0/users/{user}/keys/{key}", "key")["$ref"],
        "#/components/schemas/UserKeyUuid"
    );
    assert_eq!(
        param("/v0/projects/{project}/keys", "per_page")["format"],
        "uint8"
    );
    assert_eq!(
        param("/v0/projects/{project}/keys", "page")["format"],
        "uint32"
    );
    let error = &spec["components"]["schemas"]["Error"];
    assert_eq!(
        error["required"],
        serde_json::json!(["request_id", "message"])
    );
    let ok = &spec["paths"]["/v0/projects/{project}/keys"]["get"]["responses"]["200"]["headers"];
    for header in [
        "X-Total-Count",
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Methods",
    ] {
        assert!(ok[header].is_object(), "{header}");
    }
}

#[tokio::test]
async fn server_spec_get_serves_the_committed_document() {
    let app = crate::helpers::TestApp::new();
    let res = app.get("/v0/server/spec").send().await.expect(200);
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(res.json(), committed);
}
