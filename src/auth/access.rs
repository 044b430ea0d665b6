//! Resolving a path resource and checking the caller's permission on it, in Bencher's order:
//! find it (404), then check the permission (403, or 404 for a private project).

use crate::db::Conn;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rbac::{self, Permission, ProjectStanding};
use super::{AuthUser, Bearer, Principal, user_key_caller, user_key_lookup_failed};
use crate::credentials::jwt::JwtKeys;
use crate::credentials::secret::KeyHash;
use crate::credentials::user_key_verified;
use crate::db;
use crate::db::credentials::{CredentialRow, Table};
use crate::db::projects::ProjectWithRoles;
use crate::db::rows::{QueryOrganization, QueryUser};
use crate::domain::accounts::Visibility;
use crate::domain::ids::{ResourceId, uuid_from_db};
use crate::error::{ApiError, Forbidden, Resource};

/// The user named in the path, if the caller is that user or a server admin.
pub fn user_for(
    conn: &mut Conn,
    caller: &AuthUser,
    id: &ResourceId,
) -> Result<QueryUser, ApiError> {
    let user = find_user(conn, id)?;
    if caller.is_admin() || caller.user.id == user.id {
        Ok(user)
    } else {
        Err(Forbidden::NotSameUser {
            caller: caller.uuid(),
            target: uuid_from_db(&user.uuid),
        }
        .into())
    }
}

/// The user named in the path, with no permission check.
pub fn find_user(conn: &mut Conn, id: &ResourceId) -> Result<QueryUser, ApiError> {
    db::users::find(conn, id)?
        .ok_or_else(|| ApiError::not_found(Resource::User, id.describe("User")))
}

/// The project named in the path, if the caller holds `permission` on it.
pub fn project_for(
    conn: &mut Conn,
    principal: &Principal,
    id: &ResourceId,
    permission: Permission,
) -> Result<ProjectWithRoles, ApiError> {
    let user_id = principal.user().map(|u| u.user.id);
    let found = db::projects::find_with_roles(conn, id, user_id)?;
    project_allowed(principal, found, id, permission)
}

/// [`project_for`] of a lookup already made: `found` is the live project `id` names, with
/// the principal's roles on it.
fn project_allowed(
    principal: &Principal,
    found: Option<ProjectWithRoles>,
    id: &ResourceId,
    permission: Permission,
) -> Result<ProjectWithRoles, ApiError> {
    let found =
        found.ok_or_else(|| ApiError::not_found(Resource::Project, id.describe("Project")))?;
    let visibility = Visibility::from_db(found.project.visibility);
    let allowed = match principal {
        Principal::ProjectKey(key) => {
            // A project key acts on its own project's data; it never manages the project.
            key.owner_id == found.project.id
                && !matches!(permission, Permission::Manage)
                && !matches!(
                    permission,
                    Permission::ViewRole
                        | Permission::CreateRole
                        | Permission::EditRole
                        | Permission::DeleteRole
                )
        }
        Principal::Anonymous | Principal::User(_) => rbac::project_allows(
            ProjectStanding {
                admin: principal.user().is_some_and(AuthUser::is_admin),
                org_role: found.org_role.as_deref(),
                project_role: found.project_role.as_deref(),
                visibility,
            },
            permission,
        ),
    };
    if allowed {
        Ok(found)
    } else if visibility == Visibility::Public {
        Err(Forbidden::ProjectDenied {
            id: id.describe("Project"),
            permission: permission.as_str(),
        }
        .into())
    } else {
        Err(ApiError::NotFound {
            resource: Resource::Project,
            id: id.describe("Project"),
            reason: permission.as_str(),
            hint: false,
        })
    }
}

/// A user's request on a project's keys, authenticated and allowed: see [`in_project`].
pub struct InProject {
    pub caller: Principal,
    pub found: ProjectWithRoles,
    /// The project key the path names (revoked or not), when one was asked for and exists.
    pub key: Option<CredentialRow>,
}

/// Where a request on a project's keys acts: the path's project, the permission it needs
/// there, and the path's key if it names one.
#[derive(Clone, Debug)]
pub struct ProjectAt {
    pub project: ResourceId,
    pub permission: Permission,
    pub key: Option<Uuid>,
}

impl ProjectAt {
    /// [`in_project`] for this place.
    pub fn enter(
        &self,
        conn: &mut Conn,
        jwt: &JwtKeys,
        bearer: &Bearer,
        now: DateTime<Utc>,
    ) -> Result<InProject, ApiError> {
        in_project(
            conn,
            jwt,
            bearer,
            now,
            &self.project,
            self.permission,
            self.key,
        )
    }
}

/// Authenticates `bearer`, then finds the project `id` names if the caller holds
/// `permission` on it, then (when `key` is given) reads that project key: the steps and
/// answers of [`authenticate`](super::authenticate), [`project_for`] and a key lookup, in
/// that order. With a user key the three reads are one statement (on PostgreSQL one round
/// trip instead of three); with a JWT they are made one after the other.
pub fn in_project(
    conn: &mut Conn,
    jwt: &JwtKeys,
    bearer: &Bearer,
    now: DateTime<Utc>,
    id: &ResourceId,
    permission: Permission,
    key: Option<Uuid>,
) -> Result<InProject, ApiError> {
    let key = key.map(|k| k.to_string());
    if let Bearer::UserKey(plain) = bearer {
        let hash = plain.hash();
        let read = db::credentials::user_key_in_project(conn, hash.as_str(), id, key.as_deref());
        return user_key_decides(read, &hash, now, id, permission);
    }
    let caller = Principal::User(super::authenticate(conn, jwt, bearer, now)?);
    let found = project_for(conn, &caller, id, permission)?;
    let key = match key {
        Some(k) => db::credentials::find(conn, Table::ProjectKey, found.project.id, &k)?,
        None => None,
    };
    Ok(InProject { caller, found, key })
}

/// [`in_project`] without a connection: on PostgreSQL a user key's one statement goes over
/// the shared asynchronous connections and nothing waits on a blocking thread; otherwise
/// (SQLite, or a JWT) [`in_project`] runs as usual.
pub async fn in_project_shared(
    db: &db::Db,
    jwt: &Arc<JwtKeys>,
    bearer: Bearer,
    now: DateTime<Utc>,
    at: ProjectAt,
) -> Result<InProject, ApiError> {
    if let (Some(shared), Bearer::UserKey(plain)) = (db.shared(), &bearer) {
        let hash = plain.hash();
        let read = db::credentials::user_key_in_project_shared(
            shared,
            hash.as_str().to_owned(),
            at.project.clone(),
            at.key.map(|k| k.to_string()),
        )
        .await;
        if let Some(read) = read {
            return user_key_decides(read, &hash, now, &at.project, at.permission);
        }
    }
    let jwt = jwt.clone();
    db.run(move |c| at.enter(c, &jwt, &bearer, now)).await
}

/// The answer to a request made with the user key whose hash is `hash`, from what
/// [`db::credentials::user_key_in_project`] read: who (401 unless a live key of an
/// unlocked user), then the project (404 or 403 unless `permission`), in that order.
fn user_key_decides(
    read: diesel::QueryResult<Option<db::credentials::UserKeyInProject>>,
    hash: &KeyHash,
    now: DateTime<Utc>,
    id: &ResourceId,
    permission: Permission,
) -> Result<InProject, ApiError> {
    let (user_key, project, project_key) = match read.map_err(user_key_lookup_failed)? {
        Some(r) => (Some(r.key), r.project, r.project_key),
        None => (None, None, None),
    };
    let caller = Principal::User(user_key_caller(user_key_verified(user_key, hash, now))?);
    let found = project_allowed(&caller, project, id, permission)?;
    Ok(InProject {
        caller,
        found,
        key: project_key,
    })
}

/// The organization named in the path, if the caller holds `permission` on it.
pub fn organization_for(
    conn: &mut Conn,
    caller: &AuthUser,
    id: &ResourceId,
    permission: Permission,
) -> Result<QueryOrganization, ApiError> {
    let org = find_organization(conn, id)?;
    let role = db::organizations::role_of(conn, caller.user.id, org.id)?;
    if rbac::org_allows(caller.is_admin(), role.as_deref(), permission) {
        Ok(org)
    } else {
        Err(Forbidden::Organization {
            permission: permission.as_str(),
            user: caller.uuid(),
            organization: uuid_from_db(&org.uuid),
        }
        .into())
    }
}

/// The organization named in the path, with no permission check.
pub fn find_organization(conn: &mut Conn, id: &ResourceId) -> Result<QueryOrganization, ApiError> {
    db::organizations::find(conn, id)?
        .ok_or_else(|| ApiError::not_found(Resource::Organization, id.describe("Organization")))
}
