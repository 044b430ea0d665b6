//! `/v0/users/{user}/keys[/{key}]`: user API keys. The user themself or a server admin;
//! a caller authenticated *by a user key* may not create keys and may only see, rename
//! and revoke the key it authenticated with.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::extract::{Json, Path, Query};
use super::pagination::{ListQuery, Paged};
use crate::auth::BearerToken;
use crate::auth::access::user_for;
use crate::credentials::{self, Scope, create_user_key};
use crate::domain::credentials::{
    JsonNewUserKey, JsonUpdateUserKey, JsonUserKey, JsonUserKeyCreated, JsonUserKeys,
    ttl_or_default,
};
use crate::domain::ids::ResourceId;
use crate::error::{ApiError, Forbidden, KeyAction};
use crate::state::AppState;

/// Path of a user's key collection.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserKeysParams {
    /// The slug or UUID of a user.
    pub user: ResourceId,
}

/// Path of one user key.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserKeyParams {
    /// The slug or UUID of a user.
    pub user: ResourceId,
    /// The UUID of a user key.
    pub key: Uuid,
}

/// List user keys
///
/// Lists a user's API keys, sorted by name then creation. Only the user or a server admin.
/// A caller authenticated by a user key sees only that key. `X-Total-Count` holds the
/// number of keys matching the filters.
#[utoipa::path(get, path = "/v0/users/{user}/keys", tags = ["users", "keys"],
    params(UserKeysParams, ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of keys", body = JsonUserKeys)))]
pub async fn user_keys_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<UserKeysParams>,
    Query(query): Query<ListQuery>,
) -> Result<Paged<JsonUserKey>, ApiError> {
    let marks = state.db.page_marks();
    state
        .read_as(bearer, move |c, caller, _| {
            let user = user_for(c, &caller, &path.user)?;
            let scope = Scope::user_keys(&user, caller.user_key_id());
            let (keys, total) =
                credentials::list(c, &marks, &scope, &query.filter(), query.page())?;
            Ok(Paged(keys.into_iter().map(Into::into).collect(), total))
        })
        .await
}

/// Create a user key
///
/// Creates an API key for a user. The plaintext key (`bencher_user_…`) is in this response
/// only; the server keeps just its SHA-256. Needs a JWT (a user key cannot create keys),
/// from the user or a server admin. `ttl` is in seconds (default 4,294,967,295).
#[utoipa::path(post, path = "/v0/users/{user}/keys", tags = ["users", "keys"],
    params(UserKeysParams), request_body = JsonNewUserKey, security(("bearer" = [])),
    responses((status = 201, description = "The new key, with its plaintext", body = JsonUserKeyCreated)))]
pub async fn user_key_post(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<UserKeysParams>,
    Json(body): Json<JsonNewUserKey>,
) -> Result<(StatusCode, axum::Json<JsonUserKeyCreated>), ApiError> {
    let limit = state.settings.key_limits.per_user;
    let created = state
        .write_as(bearer, move |c, caller, now| {
            if caller.user_key_id().is_some() {
                return Err(ApiError::from(Forbidden::UserKeyCannotCreate));
            }
            let user = user_for(c, &caller, &path.user)?;
            let ttl = ttl_or_default(body.ttl).ok_or(ApiError::TtlZero)?;
            credentials::ensure_room(c, &Scope::user_keys(&user, None), limit)?;
            Ok(create_user_key(
                c,
                &user,
                body.name.clone().into_string(),
                ttl,
                now,
            )?)
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// View a user key
///
/// Shows one of a user's API keys, revoked or not (never its secret). Only the user or a
/// server admin; a user-key caller may view only itself.
#[utoipa::path(get, path = "/v0/users/{user}/keys/{key}", tags = ["users", "keys"],
    params(UserKeyParams), security(("bearer" = [])),
    responses((status = 200, description = "The key", body = JsonUserKey)))]
pub async fn user_key_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<UserKeyParams>,
) -> Result<axum::Json<JsonUserKey>, ApiError> {
    state
        .read_as(bearer, move |c, caller, _| {
            let user = user_for(c, &caller, &path.user)?;
            let scope = Scope::user_keys(&user, caller.user_key_id());
            let key = credentials::view(c, &scope, path.key, KeyAction::View)?;
            Ok(axum::Json(key.into()))
        })
        .await
}

/// Update a user key
///
/// Renames a user API key (revoked keys too). A body with no change is a 409. Only the
/// user or a server admin; a user-key caller may rename only itself.
#[utoipa::path(patch, path = "/v0/users/{user}/keys/{key}", tags = ["users", "keys"],
    params(UserKeyParams), request_body = JsonUpdateUserKey, security(("bearer" = [])),
    responses((status = 200, description = "The renamed key", body = JsonUserKey)))]
pub async fn user_key_patch(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<UserKeyParams>,
    Json(body): Json<JsonUpdateUserKey>,
) -> Result<axum::Json<JsonUserKey>, ApiError> {
    state
        .write_as(bearer, move |c, caller, _| {
            let user = user_for(c, &caller, &path.user)?;
            let scope = Scope::user_keys(&user, caller.user_key_id());
            let key = credentials::rename(c, &scope, path.key, body.name.clone())?;
            Ok(axum::Json(key.into()))
        })
        .await
}

/// Revoke a user key
///
/// Revokes a user API key for good: it stops working on the next request. A key that is
/// already revoked gives 409. Only the user or a server admin; a user-key caller may
/// revoke only itself.
#[utoipa::path(delete, path = "/v0/users/{user}/keys/{key}", tags = ["users", "keys"],
    params(UserKeyParams), security(("bearer" = [])),
    responses((status = 204, description = "Revoked")))]
pub async fn user_key_delete(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<UserKeyParams>,
) -> Result<StatusCode, ApiError> {
    state
        .write_as(bearer, move |c, caller, now| {
            let user = user_for(c, &caller, &path.user)?;
            let scope = Scope::user_keys(&user, caller.user_key_id());
            credentials::revoke(c, &scope, path.key, now)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Preflight for a user's key collection.
pub async fn user_keys_options(
    Path(_): Path<UserKeysParams>,
    Query(_): Query<ListQuery>,
) -> axum::response::Response {
    super::conventions::preflight()
}

/// Preflight for one user key.
pub async fn user_key_options(Path(_): Path<UserKeyParams>) -> axum::response::Response {
    super::conventions::preflight()
}
