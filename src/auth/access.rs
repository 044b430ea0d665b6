//! Resolving a path resource and checking the caller's permission on it, in Bencher's order:
//! find it (404), then check the permission (403, or 404 for a private project).

use crate::db::Conn;

use super::rbac::{self, Permission, ProjectStanding};
use super::{AuthUser, Principal};
use crate::db;
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
    let found = db::projects::find_with_roles(conn, id, user_id)?
        .ok_or_else(|| ApiError::not_found(Resource::Project, id.describe("Project")))?;
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
