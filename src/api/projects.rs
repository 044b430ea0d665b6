//! Projects: create and list them in an organization, view one, ask what one allows.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::free_slug;
use super::extract::{Json, Path, Query};
use super::organizations::OrgParams;
use super::pagination::{ListQuery, Paged};
use crate::auth::access::{organization_for, project_for};
use crate::auth::rbac::{self, MAINTAINER, Permission, ProjectStanding};
use crate::auth::{Actor, BearerToken, authenticate, authenticate_actor};
use crate::db;
use crate::db::rows::{InsertProject, InsertProjectRole, QueryProject};
use crate::domain::accounts::{JsonAllowed, JsonNewProject, JsonProject, JsonProjects, Visibility};
use crate::domain::ids::{ResourceId, uuid_from_db};
use crate::domain::names::slug_from_name;
use crate::domain::time::Timestamp;
use crate::error::{ApiError, Resource};
use crate::state::AppState;

/// Path of one project.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProjectParams {
    /// The slug or UUID of a project.
    pub project: ResourceId,
}

/// Path of a permission question about a project.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProjAllowedParams {
    /// The slug or UUID of a project.
    pub project: ResourceId,
    /// The permission to check.
    pub permission: Permission,
}

/// List an organization's projects
///
/// Lists an organization's projects, sorted by name: all of them for its members and
/// server admins, the public ones for everybody else. `X-Total-Count` holds the total.
#[utoipa::path(get, path = "/v0/organizations/{organization}/projects", tag = "projects",
    params(OrgParams, ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of projects", body = JsonProjects)))]
pub async fn org_projects_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<OrgParams>,
    Query(query): Query<ListQuery>,
) -> Result<Paged<JsonProject>, ApiError> {
    let now = state.clock.now();
    let jwt = state.jwt.clone();
    state
        .db
        .run(move |c| {
            let caller = authenticate(c, &jwt, &bearer, now)?;
            let org = db::organizations::find(c, &path.organization)?.ok_or_else(|| {
                ApiError::not_found(
                    Resource::Organization,
                    path.organization.describe("Organization"),
                )
            })?;
            let role = db::organizations::role_of(c, caller.user.id, org.id)?;
            let member = rbac::org_allows(caller.is_admin(), role.as_deref(), Permission::View);
            let (rows, total) =
                db::projects::list(c, org.id, !member, &query.filter(), query.page())?;
            let claimed = db::organizations::claimed_at(c, org.id)?;
            let json = rows
                .into_iter()
                .map(|p| to_json(p, &org.uuid, claimed))
                .collect();
            Ok(Paged(json, total))
        })
        .await
}

/// Create a project
///
/// Creates a project in an organization, with the caller as its maintainer. Leaders of
/// the organization and server admins.
#[utoipa::path(post, path = "/v0/organizations/{organization}/projects", tag = "projects",
    params(OrgParams), request_body = JsonNewProject, security(("bearer" = [])),
    responses((status = 201, description = "The project", body = JsonProject)))]
pub async fn org_project_post(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<OrgParams>,
    Json(body): Json<JsonNewProject>,
) -> Result<(StatusCode, axum::Json<JsonProject>), ApiError> {
    let now = state.clock.now();
    let jwt = state.jwt.clone();
    let project = state
        .db
        .write(move |c| {
            let caller = authenticate(c, &jwt, &bearer, now)?;
            let org = organization_for(c, &caller, &path.organization, Permission::Create)?;
            let now = now.timestamp();
            crate::db::atomically(c, |c| {
                let conflict = |column: &str| ApiError::Conflict {
                    resource: Resource::Project,
                    id: format!("Name({:?})", body.name.as_str()),
                    reason: format!("UNIQUE constraint failed: {column}"),
                };
                let slug = match &body.slug {
                    Some(s) if db::projects::slug_taken(c, s.as_str())? => {
                        return Err(conflict("project.slug"));
                    }
                    Some(s) => s.clone(),
                    None => free_slug(&slug_from_name(body.name.as_str()), |s| {
                        db::projects::slug_taken(c, s)
                    })?,
                };
                let inserted = db::projects::insert(
                    c,
                    &InsertProject {
                        uuid: uuid::Uuid::now_v7().to_string(),
                        organization_id: org.id,
                        name: body.name.as_str().to_owned(),
                        slug: slug.into_string(),
                        url: body.url.as_ref().map(|u| u.as_str().to_owned()),
                        visibility: body.visibility.unwrap_or_default().to_db(),
                        created: now,
                        modified: now,
                    },
                );
                let project = match inserted {
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    )) => return Err(conflict("project.organization_id, project.name")),
                    other => other?,
                };
                db::projects::set_role(
                    c,
                    &InsertProjectRole {
                        user_id: caller.user.id,
                        project_id: project.id,
                        role: MAINTAINER.to_owned(),
                        created: now,
                        modified: now,
                    },
                )?;
                let claimed = db::organizations::claimed_at(c, org.id)?;
                Ok(to_json(project, &org.uuid, claimed))
            })
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(project)))
}

/// View a project
///
/// Shows a project. Public projects need no credential; private ones need a role. A
/// project key may view its own project only.
#[utoipa::path(get, path = "/v0/projects/{project}", tag = "projects", params(ProjectParams),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The project", body = JsonProject)))]
pub async fn project_get(
    State(state): State<AppState>,
    actor: Actor,
    Path(path): Path<ProjectParams>,
) -> Result<axum::Json<JsonProject>, ApiError> {
    let now = state.clock.now();
    let jwt = state.jwt.clone();
    state
        .db
        .run(move |c| {
            let principal = authenticate_actor(c, &jwt, &actor, now)?;
            let found = project_for(c, &principal, &path.project, Permission::View)?;
            let claimed = db::organizations::claimed_at(c, found.project.organization_id)?;
            Ok(axum::Json(to_json(
                found.project,
                &found.organization_uuid,
                claimed,
            )))
        })
        .await
}

/// Check a project permission
///
/// Whether the caller holds a permission on a project.
#[utoipa::path(get, path = "/v0/projects/{project}/allowed/{permission}", tag = "projects",
    params(ProjAllowedParams), security(("bearer" = [])),
    responses((status = 200, description = "Whether it is allowed", body = JsonAllowed)))]
pub async fn proj_allowed_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<ProjAllowedParams>,
) -> Result<axum::Json<JsonAllowed>, ApiError> {
    let now = state.clock.now();
    let jwt = state.jwt.clone();
    state
        .db
        .run(move |c| {
            let caller = authenticate(c, &jwt, &bearer, now)?;
            let found = db::projects::find_with_roles(c, &path.project, Some(caller.user.id))?
                .ok_or_else(|| {
                    ApiError::not_found(Resource::Project, path.project.describe("Project"))
                })?;
            let standing = ProjectStanding {
                admin: caller.is_admin(),
                org_role: found.org_role.as_deref(),
                project_role: found.project_role.as_deref(),
                visibility: Visibility::from_db(found.project.visibility),
            };
            Ok(axum::Json(JsonAllowed {
                allowed: rbac::project_allows(standing, path.permission),
            }))
        })
        .await
}

/// A project row as JSON.
pub fn to_json(row: QueryProject, org_uuid: &str, claimed: Option<i64>) -> JsonProject {
    let QueryProject {
        id: _,
        uuid,
        organization_id: _,
        name,
        slug,
        url,
        visibility,
        created,
        modified,
        deleted: _,
    } = row;
    JsonProject {
        uuid: uuid_from_db(&uuid),
        organization: uuid_from_db(org_uuid),
        name,
        slug,
        url,
        visibility: Visibility::from_db(visibility),
        created: Timestamp::from_secs(created),
        modified: Timestamp::from_secs(modified),
        claimed: claimed.map(Timestamp::from_secs),
    }
}
