//! `/v0/projects/{project}/keys[/{key}]`: project API keys. Every operation needs the
//! `manage` permission on the project; every 404 here carries the bearer hint.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::extract::{Json, Path, Query};
use super::pagination::{ListQuery, Paged};
use crate::auth::BearerToken;
use crate::auth::access::{InProject, ProjectAt};
use crate::auth::rbac::Permission;
use crate::credentials::{self, Scope, create_project_key};
use crate::domain::credentials::{
    JsonNewProjectKey, JsonProjectKey, JsonProjectKeyCreated, JsonProjectKeys,
    JsonUpdateProjectKey, ttl_or_default,
};
use crate::domain::ids::ResourceId;
use crate::error::{ApiError, KeyAction};
use crate::state::AppState;

/// Path of the project-key collection.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProjKeysParams {
    /// The slug or UUID of a project.
    pub project: ResourceId,
}

/// Path of one project key.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProjKeyParams {
    /// The slug or UUID of a project.
    pub project: ResourceId,
    /// The UUID of a project key.
    pub key: Uuid,
}

/// Where each operation here acts: the path's project, with `manage` permission on it.
fn manage(project: ResourceId, key: Option<Uuid>) -> ProjectAt {
    ProjectAt {
        project,
        permission: Permission::Manage,
        key,
    }
}

/// List project keys
///
/// Lists a project's API keys, sorted by name then creation. Requires `manage` permission
/// on the project. Revoked keys are listed only with `revoked=true`. `X-Total-Count` holds
/// the number of keys matching the filters.
#[utoipa::path(get, path = "/v0/projects/{project}/keys", tags = ["projects", "keys"],
    params(ProjKeysParams, ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of keys", body = JsonProjectKeys)))]
pub async fn proj_keys_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<ProjKeysParams>,
    Query(query): Query<ListQuery>,
) -> Result<Paged<JsonProjectKey>, ApiError> {
    let marks = state.db.page_marks();
    state
        .read_in_project(bearer, manage(path.project, None), move |c, at, _| {
            let scope = Scope::project_keys(&at.found.project);
            let (keys, total) =
                credentials::list(c, &marks, &scope, &query.filter(), query.page())?;
            Ok(Paged(keys.into_iter().map(Into::into).collect(), total))
        })
        .await
        .map_err(ApiError::with_token_hint)
}

/// Create a project key
///
/// Creates an API key for a project. The plaintext key (`bencher_run_…`) is in this
/// response only; the server keeps just its SHA-256. `ttl` is in seconds (default
/// 4,294,967,295). Requires `manage` permission on the project.
#[utoipa::path(post, path = "/v0/projects/{project}/keys", tags = ["projects", "keys"],
    params(ProjKeysParams), request_body = JsonNewProjectKey, security(("bearer" = [])),
    responses((status = 201, description = "The new key, with its plaintext", body = JsonProjectKeyCreated)))]
pub async fn proj_key_post(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<ProjKeysParams>,
    Json(body): Json<JsonNewProjectKey>,
) -> Result<(StatusCode, axum::Json<JsonProjectKeyCreated>), ApiError> {
    let limit = state.settings.key_limits.per_project;
    let created = state
        .write_in_project(bearer, manage(path.project, None), move |c, at, now| {
            let (caller, found) = (at.caller, at.found);
            let ttl = ttl_or_default(body.ttl).ok_or(ApiError::TtlZero)?;
            credentials::ensure_room(c, &Scope::project_keys(&found.project), limit)?;
            let (creator, name) = (
                caller.user().map(|u| u.user.id),
                body.name.clone().into_string(),
            );
            Ok(create_project_key(
                c,
                &found.project,
                creator,
                name,
                ttl,
                now,
            )?)
        })
        .await
        .map_err(ApiError::with_token_hint)?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// View a project key
///
/// Shows one of a project's API keys, revoked or not (never its secret). Requires `manage`
/// permission on the project.
#[utoipa::path(get, path = "/v0/projects/{project}/keys/{key}", tags = ["projects", "keys"],
    params(ProjKeyParams), security(("bearer" = [])),
    responses((status = 200, description = "The key", body = JsonProjectKey)))]
pub async fn proj_key_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<ProjKeyParams>,
) -> Result<axum::Json<JsonProjectKey>, ApiError> {
    let viewed = state
        .view_in_project(bearer, manage(path.project, Some(path.key)))
        .await
        .and_then(|at: InProject| {
            let scope = Scope::project_keys(&at.found.project);
            credentials::view_found(&scope, at.key.clone(), path.key, KeyAction::View)
        });
    viewed
        .map(|key| axum::Json(key.into()))
        .map_err(ApiError::with_token_hint)
}

/// Update a project key
///
/// Renames a project API key (revoked keys too). A body with no change is a 409.
/// Requires `manage` permission on the project.
#[utoipa::path(patch, path = "/v0/projects/{project}/keys/{key}", tags = ["projects", "keys"],
    params(ProjKeyParams), request_body = JsonUpdateProjectKey, security(("bearer" = [])),
    responses((status = 200, description = "The renamed key", body = JsonProjectKey)))]
pub async fn proj_key_patch(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<ProjKeyParams>,
    Json(body): Json<JsonUpdateProjectKey>,
) -> Result<axum::Json<JsonProjectKey>, ApiError> {
    state
        .write_in_project(bearer, manage(path.project, None), move |c, at, _| {
            let scope = Scope::project_keys(&at.found.project);
            let key = credentials::rename(c, &scope, path.key, body.name.clone())?;
            Ok(axum::Json(key.into()))
        })
        .await
        .map_err(ApiError::with_token_hint)
}

/// Revoke a project key
///
/// Revokes a project API key for good: it stops working on the next request. A key that
/// is already revoked gives 409. Requires `manage` permission on the project.
#[utoipa::path(delete, path = "/v0/projects/{project}/keys/{key}", tags = ["projects", "keys"],
    params(ProjKeyParams), security(("bearer" = [])),
    responses((status = 204, description = "Revoked")))]
pub async fn proj_key_delete(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<ProjKeyParams>,
) -> Result<StatusCode, ApiError> {
    state
        .write_in_project(bearer, manage(path.project, None), move |c, at, now| {
            credentials::revoke(c, &Scope::project_keys(&at.found.project), path.key, now)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
        .map_err(ApiError::with_token_hint)
}

/// Preflight for the project-key collection: checks the path and query, no credential.
pub async fn proj_keys_options(
    Path(_): Path<ProjKeysParams>,
    Query(_): Query<ListQuery>,
) -> axum::response::Response {
    super::conventions::preflight()
}

/// Preflight for one project key: checks the path, no credential.
pub async fn proj_key_options(Path(_): Path<ProjKeyParams>) -> axum::response::Response {
    super::conventions::preflight()
}
