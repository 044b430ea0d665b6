//! Roles and permissions: server admin, organization leader, project maintainer.
//! Pure rules, no I/O.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::accounts::Visibility;

/// A permission on a project or an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ProjectPermission)]
pub enum Permission {
    View,
    Create,
    Edit,
    Delete,
    Manage,
    ViewRole,
    CreateRole,
    EditRole,
    DeleteRole,
}

impl Permission {
    /// The name Bencher's messages use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Create => "create",
            Self::Edit => "edit",
            Self::Delete => "delete",
            Self::Manage => "manage",
            Self::ViewRole => "view_role",
            Self::CreateRole => "create_role",
            Self::EditRole => "edit_role",
            Self::DeleteRole => "delete_role",
        }
    }
}

/// The stored organization role that grants everything in an organization and its projects.
pub const LEADER: &str = "leader";
/// The stored project role that grants everything on a project.
pub const MAINTAINER: &str = "maintainer";

/// A user's standing towards one project.
#[derive(Clone, Copy, Debug)]
pub struct ProjectStanding<'a> {
    pub admin: bool,
    pub org_role: Option<&'a str>,
    pub project_role: Option<&'a str>,
    pub visibility: Visibility,
}

/// Whether a user may do `permission` on a project: admins, leaders of the owning
/// organization and maintainers may do anything; anyone may view a public project.
pub fn project_allows(s: ProjectStanding<'_>, permission: Permission) -> bool {
    s.admin
        || s.org_role == Some(LEADER)
        || s.project_role == Some(MAINTAINER)
        || (permission == Permission::View && s.visibility == Visibility::Public)
}

/// Whether a user may do `permission` on an organization: admins and leaders may do all.
pub fn org_allows(admin: bool, org_role: Option<&str>, _permission: Permission) -> bool {
    admin || org_role == Some(LEADER)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(
        admin: bool,
        org: Option<&'static str>,
        proj: Option<&'static str>,
        v: Visibility,
    ) -> ProjectStanding<'static> {
        ProjectStanding {
            admin,
            org_role: org,
            project_role: proj,
            visibility: v,
        }
    }

    #[test]
    fn manage_needs_admin_leader_or_maintainer() {
        use Visibility::{Private, Public};
        let cases = [
            (standing(true, None, None, Private), true),
            (standing(false, Some(LEADER), None, Private), true),
            (standing(false, None, Some(MAINTAINER), Private), true),
            (standing(false, None, None, Public), false),
            (standing(false, None, None, Private), false),
            (
                standing(false, Some("member"), Some("viewer"), Public),
                false,
            ),
        ];
        for (s, expected) in cases {
            assert_eq!(project_allows(s, Permission::Manage), expected, "{s:?}");
        }
    }

    #[test]
    fn view_is_open_on_public_projects_only() {
        let public = standing(false, None, None, Visibility::Public);
        let private = standing(false, None, None, Visibility::Private);
        assert!(project_allows(public, Permission::View));
        assert!(!project_allows(private, Permission::View));
        assert!(!project_allows(public, Permission::Edit));
    }

    #[test]
    fn organizations_are_for_leaders_and_admins() {
        assert!(org_allows(true, None, Permission::Create));
        assert!(org_allows(false, Some(LEADER), Permission::Manage));
        assert!(!org_allows(false, None, Permission::View));
    }
}
