//! Projects: create and list them in an organization, view one, ask what one allows.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{Json, Path, Query};
use super::organizations::{DeleteQuery, OrgParams};
use super::pagination::{ListQuery, Paged};
use crate::auth::access::{find_organization, organization_for, project_for};
use crate::auth::rbac::{self, Permission, ProjectStanding};
use crate::auth::{Actor, BearerToken, Principal};
use crate::db;
use crate::db::projects::{UpdateProject, Viewer};
use crate::db::rows::QueryProject;
use crate::domain::accounts::{
    JsonAllowed, JsonNewProject, JsonProject, JsonProjects, JsonUpdateProject, Visibility,
};
use crate::domain::ids::{ResourceId, uuid_from_db};
use crate::domain::names::{ResourceName, Slug};
use crate::domain::time::Timestamp;
use crate::error::{ApiError, Resource};
use crate::organizations;
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
    state
        .read_as(bearer, move |c, caller, _| {
            let org = find_organization(c, &path.organization)?;
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
    let project = state
        .write_as(bearer, move |c, caller, now| {
            let org = organization_for(c, &caller, &path.organization, Permission::Create)?;
            let project =
                organizations::create_project(c, &org, caller.user.id, &body, now.timestamp())?;
            let claimed = db::organizations::claimed_at(c, org.id)?;
            Ok(to_json(project, &org.uuid, claimed))
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
    state
        .read_as_actor(actor, move |c, principal, _| {
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

/// List projects
///
/// Lists the live projects the caller may see, across organizations, sorted by name:
/// public ones for everybody; also private ones of organizations the caller leads or that
/// they maintain; all of them for server admins. A project key sees the public projects
/// and its own. `X-Total-Count` holds the total.
#[utoipa::path(get, path = "/v0/projects", tag = "projects", params(ListQuery),
    security((), ("bearer" = [])),
    responses((status = 200, description = "A page of projects", body = JsonProjects)))]
pub async fn projects_get(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ListQuery>,
) -> Result<Paged<JsonProject>, ApiError> {
    state
        .read_as_actor(actor, move |c, principal, _| {
            let viewer = match principal {
                Principal::Anonymous => Viewer::Anonymous,
                Principal::ProjectKey(key) => Viewer::Project(key.owner_id),
                Principal::User(u) if u.is_admin() => Viewer::Admin,
                Principal::User(u) => Viewer::User(u.user.id),
            };
            let (rows, total) =
                db::projects::list_visible(c, viewer, &query.filter(), query.page())?;
            Ok(Paged(with_claims(c, rows)?, total))
        })
        .await
}

/// Projects (each with its organization's UUID) as JSON, with their organizations'
/// claim times read at once.
fn with_claims(
    c: &mut crate::db::Conn,
    rows: Vec<(QueryProject, String)>,
) -> Result<Vec<JsonProject>, ApiError> {
    let org_ids: Vec<i32> = rows.iter().map(|(p, _)| p.organization_id).collect();
    let claimed = db::organizations::claimed(c, &org_ids)?;
    let json = rows.into_iter().map(|(p, org_uuid)| {
        let at = claimed.get(&p.organization_id).copied();
        to_json(p, &org_uuid, at)
    });
    Ok(json.collect())
}

/// Update a project
///
/// Changes a project's name, slug, URL (`null` removes it) or visibility. Leaders of its
/// organization, its maintainers and server admins. An empty object changes only
/// `modified`; a name taken in the organization or a taken slug is a 409.
#[utoipa::path(patch, path = "/v0/projects/{project}", tag = "projects", params(ProjectParams),
    request_body = JsonUpdateProject, security(("bearer" = [])),
    responses((status = 200, description = "The project as stored", body = JsonProject)))]
pub async fn project_patch(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<ProjectParams>,
    Json(body): Json<JsonUpdateProject>,
) -> Result<axum::Json<JsonProject>, ApiError> {
    state
        .write_as(bearer, move |c, user, now| {
            let caller = Principal::User(user);
            let found = project_for(c, &caller, &path.project, Permission::Edit)?;
            let project = apply_update(c, &found.project, body.clone(), now.timestamp())?;
            let claimed = db::organizations::claimed_at(c, project.organization_id)?;
            Ok(axum::Json(to_json(
                project,
                &found.organization_uuid,
                claimed,
            )))
        })
        .await
}

fn apply_update(
    c: &mut crate::db::Conn,
    project: &QueryProject,
    body: JsonUpdateProject,
    now: i64,
) -> Result<QueryProject, ApiError> {
    let conflict = |column: &str| ApiError::Conflict {
        resource: Resource::Project,
        id: format!("ProjectUuid({})", project.uuid),
        reason: format!("UNIQUE constraint failed: {column}"),
    };
    if let Some(name) = &body.name {
        if db::projects::name_taken(c, project.organization_id, name.as_str(), project.id)? {
            return Err(conflict("project.organization_id, project.name"));
        }
    }
    if let Some(slug) = &body.slug {
        if slug.as_str() != project.slug && db::projects::slug_taken(c, slug.as_str())? {
            return Err(conflict("project.slug"));
        }
    }
    let changes = UpdateProject {
        name: body.name.map(ResourceName::into_string),
        slug: body.slug.map(Slug::into_string),
        url: body.url.map(|u| u.map(|u| u.as_str().to_owned())),
        visibility: body.visibility.map(Visibility::to_db),
        modified: now,
    };
    Ok(db::projects::update(c, project.id, &changes)?)
}

/// Delete a project
///
/// Marks a project deleted: it answers as missing from then on, by slug or UUID, and every
/// key of it stops authenticating on the next request. With `hard=true` (server admins
/// only) the project and its keys are removed for good. Leaders of its organization, its
/// maintainers and server admins.
#[utoipa::path(delete, path = "/v0/projects/{project}", tag = "projects",
    params(ProjectParams, DeleteQuery), security(("bearer" = [])),
    responses((status = 204, description = "Deleted")))]
pub async fn project_delete(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<ProjectParams>,
    Query(query): Query<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    state
        .write_as(bearer, move |c, user, now| {
            let admin = user.is_admin();
            let found = project_for(c, &Principal::User(user), &path.project, Permission::Delete)?;
            if query.hard(admin)? {
                db::projects::hard_delete(c, found.project.id)?;
            } else {
                db::projects::soft_delete(c, found.project.id, now.timestamp())?;
            }
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Check a project permission
///
/// Whether the caller holds a permission on a project. A project that does not exist
/// answers `false`, as one the caller may not see.
#[utoipa::path(get, path = "/v0/projects/{project}/allowed/{permission}", tag = "projects",
    params(ProjAllowedParams), security(("bearer" = [])),
    responses((status = 200, description = "Whether it is allowed", body = JsonAllowed)))]
pub async fn proj_allowed_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<ProjAllowedParams>,
) -> Result<axum::Json<JsonAllowed>, ApiError> {
    state
        .read_as(bearer, move |c, caller, _| {
            // A missing project and one the caller may not see get the same answer, so
            // the question cannot be used to find out which private projects exist.
            let found = db::projects::find_with_roles(c, &path.project, Some(caller.user.id))?;
            let allowed = found.is_some_and(|found| {
                rbac::project_allows(
                    ProjectStanding {
                        admin: caller.is_admin(),
                        org_role: found.org_role.as_deref(),
                        project_role: found.project_role.as_deref(),
                        visibility: Visibility::from_db(found.project.visibility),
                    },
                    path.permission,
                )
            });
            Ok(axum::Json(JsonAllowed { allowed }))
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
