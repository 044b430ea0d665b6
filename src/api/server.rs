//! `/v0/server/*`: what a client checks before anything else.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::accounts::{JsonApiVersion, JsonConsole};
use crate::state::AppState;

/// The Bencher API level Keyward speaks. The `bencher` CLI compares it with its own
/// version before every command.
pub const API_VERSION: &str = "0.6.12";

/// View the API version
///
/// The Bencher API version this server is compatible with. No authentication.
#[utoipa::path(get, path = "/v0/server/version", tag = "server",
    responses((status = 200, description = "The API version", body = JsonApiVersion)))]
pub async fn server_version_get() -> axum::Json<JsonApiVersion> {
    axum::Json(JsonApiVersion {
        version: API_VERSION.to_owned(),
    })
}

/// View the console URL
///
/// Where this server's web console lives. No authentication.
#[utoipa::path(get, path = "/v0/server/config/console", tag = "server",
    responses((status = 200, description = "The console URL", body = JsonConsole)))]
pub async fn server_config_console_get(State(state): State<AppState>) -> axum::Json<JsonConsole> {
    axum::Json(JsonConsole {
        url: state.settings.console_url.with_root_slash(),
    })
}

/// The OpenAPI document of this server.
#[derive(Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct JsonOpenApiSpec(pub serde_json::Value);

/// View the OpenAPI spec
///
/// The OpenAPI document of this server, generated from its code. No authentication.
#[utoipa::path(get, path = "/v0/server/spec", tag = "server",
    responses((status = 200, description = "The OpenAPI document", body = JsonOpenApiSpec)))]
pub async fn server_spec_get() -> axum::Json<JsonOpenApiSpec> {
    axum::Json(JsonOpenApiSpec(super::openapi::document()))
}
