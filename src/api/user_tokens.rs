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
use crate::auth::access::user_for;
use crate::auth::{AuthUser, BearerToken};
use crate::credentials::{self, Scope};
use crate::domain::credentials::{JsonNewToken, JsonToken, JsonTokens, JsonUpdateToken};
use crate::domain::ids::ResourceId;
use crate::error::{ApiError, Forbidden, KeyAction};
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
    let marks = state.db.page_marks();
    state
        .read_as(bearer, move |c, caller, _| {
            refuse_user_keys(&caller)?;
            let user = user_for(c, &caller, &path.user)?;
            let (tokens, total) = credentials::list(
                c,
                &marks,
                &Scope::tokens(&user),
                &query.filter(),
                query.page(),
            )?;
            Ok(Paged(tokens.into_iter().map(Into::into).collect(), total))
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
            let token = credentials::view(c, &Scope::tokens(&user), path.token, KeyAction::View)?;
            Ok(axum::Json(token.into()))
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
            let token =
                credentials::rename(c, &Scope::tokens(&user), path.token, body.name.clone())?;
            Ok(axum::Json(token.into()))
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
            credentials::revoke(c, &Scope::tokens(&user), path.token, now)?;
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
fn refuse_user_keys(caller: &AuthUser) -> Result<(), ApiError> {
    match caller.user_key_id() {
        Some(_) => Err(Forbidden::UserKeyCannotReadTokens.into()),
        None => Ok(()),
    }
}
