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
use crate::auth::access::user_for;
use crate::auth::{AuthUser, BearerToken};
use crate::credentials::create_user_key;
use crate::db;
use crate::db::rows::QueryUserKey;
use crate::domain::credentials::{
    JsonNewUserKey, JsonUpdateUserKey, JsonUserKey, JsonUserKeyCreated, JsonUserKeys,
    ttl_or_default,
};
use crate::domain::ids::{ResourceId, uuid_from_db};
use crate::domain::time::Timestamp;
use crate::error::{ApiError, Forbidden, KeyAction, Resource};
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
    state
        .read_as(bearer, move |c, caller, _| {
            let user = user_for(c, &caller, &path.user)?;
            let (rows, total) = db::user_keys::list(
                c,
                user.id,
                caller.user_key_id(),
                &query.filter(),
                query.page(),
            )?;
            let keys = rows.into_iter().map(|r| to_json(r, &user.uuid)).collect();
            Ok(Paged(keys, total))
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
    let created = state
        .write_as(bearer, move |c, caller, now| {
            if caller.user_key_id().is_some() {
                return Err(ApiError::from(Forbidden::UserKeyCannotCreate));
            }
            let user = user_for(c, &caller, &path.user)?;
            let ttl = ttl_or_default(body.ttl).ok_or(ApiError::TtlZero)?;
            Ok(create_user_key(
                c,
                &user,
                body.name.into_string(),
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
            let row = find_own_key(c, &caller, &user.uuid, user.id, path.key, KeyAction::View)?;
            Ok(axum::Json(to_json(row, &user.uuid)))
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
            let row = find_own_key(c, &caller, &user.uuid, user.id, path.key, KeyAction::Update)?;
            let Some(name) = body.name else {
                return Err(ApiError::empty_update(
                    Resource::UserKey,
                    describe(&user.uuid, path.key),
                ));
            };
            db::user_keys::rename(c, row.id, name.as_str())?;
            let row = QueryUserKey {
                name: name.into_string(),
                ..row
            };
            Ok(axum::Json(to_json(row, &user.uuid)))
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
            let row = find_own_key(c, &caller, &user.uuid, user.id, path.key, KeyAction::Revoke)?;
            if db::user_keys::revoke(c, row.id, now.timestamp())? == 0 {
                return Err(ApiError::AlreadyRevoked("User key"));
            }
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

fn describe(user_uuid: &str, key: Uuid) -> String {
    format!("(UserUuid({user_uuid}), UserKeyUuid({key}))")
}

/// Finds the key (404 first), then applies the user-key self rule (403).
fn find_own_key(
    c: &mut diesel::SqliteConnection,
    caller: &AuthUser,
    user_uuid: &str,
    user_id: i32,
    key: Uuid,
    action: KeyAction,
) -> Result<QueryUserKey, ApiError> {
    let row = db::user_keys::find(c, user_id, &key.to_string())?
        .ok_or_else(|| ApiError::not_found(Resource::UserKey, describe(user_uuid, key)))?;
    match caller.user_key_id() {
        Some(id) if id != row.id => Err(Forbidden::UserKeyOnlyItself(action).into()),
        _ => Ok(row),
    }
}

fn to_json(row: QueryUserKey, user_uuid: &str) -> JsonUserKey {
    let QueryUserKey {
        id: _,
        uuid,
        user_id: _,
        name,
        key_hash: _,
        creation,
        expiration,
        revoked,
    } = row;
    JsonUserKey {
        uuid: uuid_from_db(&uuid),
        user: uuid_from_db(user_uuid),
        name,
        creation: Timestamp::from_secs(creation),
        expiration: Timestamp::from_secs(expiration),
        revoked: revoked.map(Timestamp::from_secs),
    }
}
