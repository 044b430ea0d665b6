//! `/v0/organizations[/{organization}]` and its members.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::Client;
use super::extract::{Json, Path, Query};
use super::pagination::{ListQuery, Paged};
use crate::auth::BearerToken;
use crate::auth::access::{find_user, organization_for};
use crate::auth::rbac::{self, LEADER, Permission};
use crate::credentials::jwt::{Audience, OrgClaim};
use crate::db;
use crate::db::organizations::Member;
use crate::db::rows::QueryOrganization;
use crate::domain::accounts::{
    JsonAllowed, JsonAuthAck, JsonMember, JsonMembers, JsonNewMember, JsonNewOrganization,
    JsonOrganization, JsonOrganizations, JsonUpdateMember, JsonUpdateOrganization,
    OrganizationRole,
};
use crate::domain::ids::{ResourceId, uuid_from_db};
use crate::domain::time::Timestamp;
use crate::error::{ApiError, Forbidden, Resource};
use crate::mail;
use crate::organizations;
use crate::state::AppState;

/// Path of one organization.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OrgParams {
    /// The slug or UUID of an organization.
    pub organization: ResourceId,
}

/// Path of one member of an organization.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OrgMemberParams {
    /// The slug or UUID of an organization.
    pub organization: ResourceId,
    /// The slug or UUID of a user.
    pub user: ResourceId,
}

/// List organizations
///
/// Lists the organizations the caller belongs to (all of them for a server admin), sorted
/// by name. `X-Total-Count` holds the total.
#[utoipa::path(get, path = "/v0/organizations", tag = "organizations", params(ListQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of organizations", body = JsonOrganizations)))]
pub async fn organizations_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Query(query): Query<ListQuery>,
) -> Result<Paged<JsonOrganization>, ApiError> {
    state
        .read_as(bearer, move |c, caller, _| {
            let member = (!caller.is_admin()).then_some(caller.user.id);
            let (rows, total) = db::organizations::list(c, member, &query.filter(), query.page())?;
            let ids: Vec<i32> = rows.iter().map(|o| o.id).collect();
            let claimed = db::organizations::claimed(c, &ids)?;
            Ok(Paged(
                rows.into_iter()
                    .map(|o| {
                        let at = claimed.get(&o.id).copied();
                        to_json(o, at)
                    })
                    .collect(),
                total,
            ))
        })
        .await
}

/// Create an organization
///
/// Creates an organization with the caller as its leader.
#[utoipa::path(post, path = "/v0/organizations", tag = "organizations",
    request_body = JsonNewOrganization, security(("bearer" = [])),
    responses((status = 201, description = "The organization", body = JsonOrganization)))]
pub async fn organization_post(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Json(body): Json<JsonNewOrganization>,
) -> Result<(StatusCode, axum::Json<JsonOrganization>), ApiError> {
    let org = state
        .write_as(bearer, move |c, caller, now| {
            let org = organizations::create(c, &body, caller.user.id, now.timestamp())?;
            let claimed = Some(org.created);
            Ok(to_json(org, claimed))
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(org)))
}

/// View an organization
///
/// Shows an organization to its members and to server admins.
#[utoipa::path(get, path = "/v0/organizations/{organization}", tag = "organizations",
    params(OrgParams), security(("bearer" = [])),
    responses((status = 200, description = "The organization", body = JsonOrganization)))]
pub async fn organization_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<OrgParams>,
) -> Result<axum::Json<JsonOrganization>, ApiError> {
    state
        .read_as(bearer, move |c, caller, _| {
            let org = organization_for(c, &caller, &path.organization, Permission::View)?;
            let claimed = db::organizations::claimed_at(c, org.id)?;
            Ok(axum::Json(to_json(org, claimed)))
        })
        .await
}

/// Query of a delete.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Delete for good instead of marking deleted (server admins only).
    pub hard: Option<bool>,
}

impl DeleteQuery {
    /// Whether to delete for good; only a server admin may ask for it.
    pub fn hard(&self, admin: bool) -> Result<bool, ApiError> {
        match self.hard {
            Some(true) if !admin => Err(Forbidden::HardDeleteAdminOnly.into()),
            Some(true) => Ok(true),
            _ => Ok(false),
        }
    }
}

/// Path of a permission question about an organization.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OrgAllowedParams {
    /// The slug or UUID of an organization.
    pub organization: ResourceId,
    /// The permission to check.
    pub permission: Permission,
}

/// Update an organization
///
/// Renames an organization or changes its slug. Leaders and server admins. An empty
/// object changes only `modified`; a taken slug is a 409. Bencher Plus licenses are not
/// managed here: `license` may only be `null`.
#[utoipa::path(patch, path = "/v0/organizations/{organization}", tag = "organizations",
    params(OrgParams), request_body = JsonUpdateOrganization, security(("bearer" = [])),
    responses((status = 200, description = "The organization as stored", body = JsonOrganization)))]
pub async fn organization_patch(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<OrgParams>,
    Json(body): Json<JsonUpdateOrganization>,
) -> Result<axum::Json<JsonOrganization>, ApiError> {
    state
        .write_as(bearer, move |c, caller, now| {
            let org = organization_for(c, &caller, &path.organization, Permission::Edit)?;
            let org = organizations::update(c, &org, body.clone(), now.timestamp())?;
            let claimed = db::organizations::claimed_at(c, org.id)?;
            Ok(axum::Json(to_json(org, claimed)))
        })
        .await
}

/// Delete an organization
///
/// Marks an organization and its projects deleted: they answer as missing from then on,
/// and the projects' keys stop authenticating on the next request. With `hard=true`
/// (server admins only) the organization, its projects and their keys are removed for
/// good. Leaders and server admins.
#[utoipa::path(delete, path = "/v0/organizations/{organization}", tag = "organizations",
    params(OrgParams, DeleteQuery), security(("bearer" = [])),
    responses((status = 204, description = "Deleted")))]
pub async fn organization_delete(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<OrgParams>,
    Query(query): Query<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    state
        .write_as(bearer, move |c, caller, now| {
            let org = organization_for(c, &caller, &path.organization, Permission::Delete)?;
            if query.hard(caller.is_admin())? {
                db::organizations::hard_delete(c, org.id)?;
            } else {
                db::organizations::soft_delete(c, org.id, now.timestamp())?;
            }
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Check an organization permission
///
/// Whether the caller holds a permission on an organization. An organization that does
/// not exist answers `false`, as one the caller may not see.
#[utoipa::path(get, path = "/v0/organizations/{organization}/allowed/{permission}",
    tags = ["organizations", "allowed"], params(OrgAllowedParams), security(("bearer" = [])),
    responses((status = 200, description = "Whether it is allowed", body = JsonAllowed)))]
pub async fn org_allowed_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<OrgAllowedParams>,
) -> Result<axum::Json<JsonAllowed>, ApiError> {
    state
        .read_as(bearer, move |c, caller, _| {
            let allowed = match db::organizations::find(c, &path.organization)? {
                Some(org) => {
                    let role = db::organizations::role_of(c, caller.user.id, org.id)?;
                    rbac::org_allows(caller.is_admin(), role.as_deref(), path.permission)
                }
                None => false,
            };
            Ok(axum::Json(JsonAllowed { allowed }))
        })
        .await
}

/// List members
///
/// Lists an organization's members, sorted by name. Members and server admins.
/// `X-Total-Count` holds the total.
#[utoipa::path(get, path = "/v0/organizations/{organization}/members", tag = "organizations",
    params(OrgParams, ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of members", body = JsonMembers)))]
pub async fn org_members_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<OrgParams>,
    Query(query): Query<ListQuery>,
) -> Result<Paged<JsonMember>, ApiError> {
    state
        .read_as(bearer, move |c, caller, _| {
            let org = organization_for(c, &caller, &path.organization, Permission::View)?;
            let (rows, total) =
                db::organizations::members(c, org.id, &query.filter(), query.page())?;
            Ok(Paged(rows.into_iter().map(member_json).collect(), total))
        })
        .await
}

/// Invite a member
///
/// Emails an invitation to join the organization (to the log when no SMTP server is
/// configured). Leaders and server admins.
#[utoipa::path(post, path = "/v0/organizations/{organization}/members", tag = "organizations",
    params(OrgParams), request_body = JsonNewMember, security(("bearer" = [])),
    responses((status = 202, description = "Invitation sent", body = JsonAuthAck)))]
pub async fn org_member_post(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    client: Client,
    Path(path): Path<OrgParams>,
    Json(body): Json<JsonNewMember>,
) -> Result<(StatusCode, axum::Json<JsonAuthAck>), ApiError> {
    let now = state.clock.now();
    state.limits.spend_email(client.0, now)?;
    let (caller, org) = state
        .read_as(bearer, move |c, caller, _| {
            let org = organization_for(c, &caller, &path.organization, Permission::CreateRole)?;
            Ok((caller, org))
        })
        .await?;
    send_invitation(&state, &body, &caller.user.name, &org, now)?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(JsonAuthAck { email: body.email }),
    ))
}

/// View a member
///
/// Shows one member of an organization. Members and server admins.
#[utoipa::path(get, path = "/v0/organizations/{organization}/members/{user}", tag = "organizations",
    params(OrgMemberParams), security(("bearer" = [])),
    responses((status = 200, description = "The member", body = JsonMember)))]
pub async fn org_member_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<OrgMemberParams>,
) -> Result<axum::Json<JsonMember>, ApiError> {
    state
        .read_as(bearer, move |c, caller, _| {
            let org = organization_for(c, &caller, &path.organization, Permission::ViewRole)?;
            Ok(axum::Json(member_json(find_member(c, &org, &path.user)?)))
        })
        .await
}

/// Update a member
///
/// Changes a member's role. Leaders and server admins.
#[utoipa::path(patch, path = "/v0/organizations/{organization}/members/{user}", tag = "organizations",
    params(OrgMemberParams), request_body = JsonUpdateMember, security(("bearer" = [])),
    responses((status = 200, description = "The member", body = JsonMember)))]
pub async fn org_member_patch(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<OrgMemberParams>,
    Json(body): Json<JsonUpdateMember>,
) -> Result<axum::Json<JsonMember>, ApiError> {
    state
        .write_as(bearer, move |c, caller, now| {
            let org = organization_for(c, &caller, &path.organization, Permission::EditRole)?;
            let (user, _, created, _) = find_member(c, &org, &path.user)?;
            let Some(role) = body.role else {
                return Err(ApiError::empty_update(
                    Resource::Member,
                    member_id(&org, &user.uuid),
                ));
            };
            organizations::set_role(c, &org, user.id, role, created, now.timestamp())?;
            Ok(axum::Json(member_json(find_member(c, &org, &path.user)?)))
        })
        .await
}

/// Remove a member
///
/// Removes a member from an organization. Leaders and server admins.
#[utoipa::path(delete, path = "/v0/organizations/{organization}/members/{user}", tag = "organizations",
    params(OrgMemberParams), security(("bearer" = [])),
    responses((status = 204, description = "Removed")))]
pub async fn org_member_delete(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<OrgMemberParams>,
) -> Result<StatusCode, ApiError> {
    state
        .write_as(bearer, move |c, caller, _| {
            let org = organization_for(c, &caller, &path.organization, Permission::DeleteRole)?;
            let (user, ..) = find_member(c, &org, &path.user)?;
            db::organizations::remove_member(c, org.id, user.id)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Mints an invitation to `org` for the body's address and mails it.
fn send_invitation(
    state: &AppState,
    body: &JsonNewMember,
    inviter: &str,
    org: &QueryOrganization,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let claim = OrgClaim {
        uuid: uuid_from_db(&org.uuid),
        role: body.role,
    };
    let email = body.email.as_str();
    let ttl = state.settings.invite_ttl;
    let (token, _) = state
        .jwt
        .mint(Audience::Invite, email, ttl, now, Some(claim))?;
    let name = body.name.as_ref().map_or(email, |n| n.as_str());
    let console = state.settings.console_url.trimmed();
    let letter = mail::invitation(name, email, console, &token, inviter, &org.name);
    state.mailer.send(&letter);
    Ok(())
}

fn member_id(org: &QueryOrganization, user_uuid: &str) -> String {
    format!("(OrganizationUuid({}), UserUuid({user_uuid}))", org.uuid)
}

fn find_member(
    c: &mut crate::db::Conn,
    org: &QueryOrganization,
    user: &ResourceId,
) -> Result<Member, ApiError> {
    let found = find_user(c, user)?;
    db::organizations::member(c, org.id, found.id)?
        .ok_or_else(|| ApiError::not_found(Resource::Member, member_id(org, &found.uuid)))
}

fn member_json((user, role, created, modified): Member) -> JsonMember {
    JsonMember {
        uuid: uuid_from_db(&user.uuid),
        name: user.name,
        slug: user.slug,
        email: user.email,
        // `leader` is the only organization role this API level stores.
        role: {
            debug_assert_eq!(role, LEADER);
            OrganizationRole::Leader
        },
        created: Timestamp::from_secs(created),
        modified: Timestamp::from_secs(modified),
    }
}

/// An organization row as JSON; `claimed` is when it was claimed, if it was.
pub fn to_json(row: QueryOrganization, claimed: Option<i64>) -> JsonOrganization {
    let QueryOrganization {
        id: _,
        uuid,
        name,
        slug,
        license: _,
        created,
        modified,
        deleted: _,
    } = row;
    JsonOrganization {
        uuid: uuid_from_db(&uuid),
        name,
        slug,
        license: None,
        created: Timestamp::from_secs(created),
        modified: Timestamp::from_secs(modified),
        claimed: claimed.map(Timestamp::from_secs),
    }
}
