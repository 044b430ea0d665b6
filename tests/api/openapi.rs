//! `openapi.json` is generated from the code; this test fails when the committed copy is
//! stale. Update it with: `UPDATE_OPENAPI=1 cargo test --test api openapi`.

use std::path::Path;

#[test]
fn openapi_json_is_up_to_date() {
    let spec = keyward::openapi::spec();
    let generated = serde_json::to_string_pretty(&spec).unwrap() + "\n";
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
    let spec = serde_json::to_value(keyward::openapi::spec()).unwrap();
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
