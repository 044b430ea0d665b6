//! `/v0/users/{user}/tokens[/{token}]`: legacy JWT user tokens (deprecated). Existing ones
//! can be listed, viewed, renamed and revoked by the user or a server admin; creating one
//! is always refused.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::extract::{Json, Path, Query};
use super::pagination::{ListQuery, Paged};
use crate::auth::BearerToken;
use crate::auth::access::user_for;
use crate::db;
use crate::db::rows::QueryToken;
use crate::domain::credentials::{JsonNewToken, JsonToken, JsonTokens, JsonUpdateToken};
use crate::domain::ids::{ResourceId, uuid_from_db};
use crate::domain::time::Timestamp;
use crate::error::{ApiError, Forbidden, Resource};
use crate::state::AppState;

/// Path of a user's token collection.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserTokensParams {
    /// The slug or UUID of a user.
    pub user: ResourceId,
}

/// Path of one token.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserTokenParams {
    /// The slug or UUID of a user.
    pub user: ResourceId,
    /// The UUID of a token.
    pub token: Uuid,
}

/// List tokens
///
/// Lists a user's legacy API tokens, sorted by name then expiration. Only the user or a
/// server admin, and not with a user API key (the answer carries the tokens' JWTs).
/// `X-Total-Count` holds the number of tokens matching the filters. Deprecated: use user
/// API keys.
#[utoipa::path(get, path = "/v0/users/{user}/tokens", tags = ["users", "tokens"],
    params(UserTokensParams, ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of tokens", body = JsonTokens)))]
pub async fn user_tokens_get(
    State(state): State<AppState>,
    Path(path): Path<UserTokensParams>,
    Query(query): Query<ListQuery>,
    BearerToken(bearer): BearerToken,
) -> Result<Paged<JsonToken>, ApiError> {
    state
        .read_as(bearer, move |c, caller, _| {
            refuse_user_keys(&caller)?;
            let user = user_for(c, &caller, &path.user)?;
            let (rows, total) = db::tokens::list(c, user.id, &query.filter(), query.page())?;
            Ok(Paged(
                rows.into_iter().map(|r| to_json(r, &user.uuid)).collect(),
                total,
            ))
        })
        .await
}

/// Create a token
///
/// Always refused with 403: legacy tokens can no longer be created. The body and the
/// credential are still checked first. Create a user API key instead.
#[utoipa::path(post, path = "/v0/users/{user}/tokens", tags = ["users", "tokens"],
    params(UserTokensParams), request_body = JsonNewToken, security(("bearer" = [])),
    responses((status = 201, description = "Never returned", body = JsonToken)))]
pub async fn user_token_post(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(_): Path<UserTokensParams>,
    Json(_): Json<JsonNewToken>,
) -> Result<(StatusCode, axum::Json<JsonToken>), ApiError> {
    state
        .read_as(bearer, move |_, _, _| {
            Err(Forbidden::TokensDeprecated.into())
        })
        .await
}

/// View a token
///
/// Shows one of a user's legacy tokens, revoked or not. Only the user or a server admin,
/// and not with a user API key (the answer carries the token's JWT).
#[utoipa::path(get, path = "/v0/users/{user}/tokens/{token}", tags = ["users", "tokens"],
    params(UserTokenParams), security(("bearer" = [])),
    responses((status = 200, description = "The token", body = JsonToken)))]
pub async fn user_token_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<UserTokenParams>,
) -> Result<axum::Json<JsonToken>, ApiError> {
    state
        .read_as(bearer, move |c, caller, _| {
            refuse_user_keys(&caller)?;
            let user = user_for(c, &caller, &path.user)?;
            let row = find_token(c, &user.uuid, user.id, path.token)?;
            Ok(axum::Json(to_json(row, &user.uuid)))
        })
        .await
}

/// Update a token
///
/// Renames a legacy token (revoked ones too). A body with no change is a 409. Only the
/// user or a server admin, and not with a user API key (the answer carries the JWT).
#[utoipa::path(patch, path = "/v0/users/{user}/tokens/{token}", tags = ["users", "tokens"],
    params(UserTokenParams), request_body = JsonUpdateToken, security(("bearer" = [])),
    responses((status = 200, description = "The renamed token", body = JsonToken)))]
pub async fn user_token_patch(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<UserTokenParams>,
    Json(body): Json<JsonUpdateToken>,
) -> Result<axum::Json<JsonToken>, ApiError> {
    state
        .write_as(bearer, move |c, caller, _| {
            refuse_user_keys(&caller)?;
            let user = user_for(c, &caller, &path.user)?;
            let row = find_token(c, &user.uuid, user.id, path.token)?;
            let Some(name) = body.name else {
                return Err(ApiError::empty_update(
                    Resource::Token,
                    describe(&user.uuid, path.token),
                ));
            };
            db::tokens::rename(c, row.id, name.as_str())?;
            let row = QueryToken {
                name: name.into_string(),
                ..row
            };
            Ok(axum::Json(to_json(row, &user.uuid)))
        })
        .await
}

/// Revoke a token
///
/// Revokes a legacy token for good: the JWT is refused from the next request on. A token
/// that is already revoked gives 409. Only the user or a server admin.
#[utoipa::path(delete, path = "/v0/users/{user}/tokens/{token}", tags = ["users", "tokens"],
    params(UserTokenParams), security(("bearer" = [])),
    responses((status = 204, description = "Revoked")))]
pub async fn user_token_delete(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<UserTokenParams>,
) -> Result<StatusCode, ApiError> {
    state
        .write_as(bearer, move |c, caller, now| {
            let user = user_for(c, &caller, &path.user)?;
            let row = find_token(c, &user.uuid, user.id, path.token)?;
            if db::tokens::revoke(c, row.id, now.timestamp())? == 0 {
                return Err(ApiError::AlreadyRevoked("Token"));
            }
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Preflight for a user's token collection.
pub async fn user_tokens_options(
    Path(_): Path<UserTokensParams>,
    Query(_): Query<ListQuery>,
) -> axum::response::Response {
    super::conventions::preflight()
}

/// Preflight for one token.
pub async fn user_token_options(Path(_): Path<UserTokenParams>) -> axum::response::Response {
    super::conventions::preflight()
}

/// A token's JSON carries its JWT: a user key may not read it, or a stolen user key would
/// hand out the user's legacy tokens. (It may still revoke them.)
fn refuse_user_keys(caller: &crate::auth::AuthUser) -> Result<(), ApiError> {
    match caller.user_key_id() {
        Some(_) => Err(Forbidden::UserKeyCannotReadTokens.into()),
        None => Ok(()),
    }
}

fn describe(user_uuid: &str, token: Uuid) -> String {
    format!("(UserUuid({user_uuid}), {:?})", token.to_string())
}

fn find_token(
    c: &mut diesel::SqliteConnection,
    user_uuid: &str,
    user_id: i32,
    token: Uuid,
) -> Result<QueryToken, ApiError> {
    db::tokens::find(c, user_id, &token.to_string())?
        .ok_or_else(|| ApiError::not_found(Resource::Token, describe(user_uuid, token)))
}

fn to_json(row: QueryToken, user_uuid: &str) -> JsonToken {
    let QueryToken {
        id: _,
        uuid,
        user_id: _,
        name,
        jwt,
        creation,
        expiration,
        revoked,
    } = row;
    JsonToken {
        uuid: uuid_from_db(&uuid),
        user: uuid_from_db(user_uuid),
        name,
        token: jwt,
        creation: Timestamp::from_secs(creation),
        expiration: Timestamp::from_secs(expiration),
        revoked: revoked.map(Timestamp::from_secs),
    }
}
