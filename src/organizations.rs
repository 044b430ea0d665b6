//! Organizations and their projects: creating them (a slug chosen as Bencher chooses it,
//! the creator given the leading role) and changing them. Used by the organization and
//! project endpoints; a unique value taken since it was checked is the same 409 either way.

use crate::accounts::{choose_slug, create_organization};
use crate::db;
use crate::db::Conn;
use crate::db::organizations::UpdateOrganization;
use crate::db::rows::{
    InsertOrganizationRole, InsertProject, InsertProjectRole, QueryOrganization, QueryProject,
};
use crate::domain::accounts::{
    JsonNewOrganization, JsonNewProject, JsonUpdateOrganization, OrganizationRole,
};
use crate::domain::names::{ResourceName, Slug};
use crate::error::{ApiError, Resource};

/// The role a project's creator gets (Bencher's `maintainer`).
const MAINTAINER: &str = "maintainer";

/// Creates an organization led by the user row `leader`.
pub fn create(
    c: &mut Conn,
    new: &JsonNewOrganization,
    leader: i32,
    now: i64,
) -> Result<QueryOrganization, ApiError> {
    db::atomically(c, |c| {
        let slug = choose_slug(
            new.slug.as_ref(),
            new.name.as_str(),
            now,
            |s| db::organizations::slug_taken(c, s),
            || ApiError::Conflict {
                resource: Resource::Organization,
                id: format!("Slug({:?})", new.slug.as_ref().map_or("", Slug::as_str)),
                reason: "UNIQUE constraint failed: organization.slug".to_owned(),
            },
        )?;
        let uuid = uuid::Uuid::now_v7().to_string();
        create_organization(c, uuid, new.name.as_str(), slug, leader, now)
    })
}

/// Applies `changes` to an organization: a Bencher Plus license cannot be set, and a slug
/// another organization holds is a 409.
pub fn update(
    c: &mut Conn,
    org: &QueryOrganization,
    changes: JsonUpdateOrganization,
    now: i64,
) -> Result<QueryOrganization, ApiError> {
    if matches!(changes.license, Some(Some(_))) {
        return Err(ApiError::Unsupported(
            "Keyward does not manage Bencher Plus licenses: `license` may only be null.",
        ));
    }
    if let Some(slug) = &changes.slug {
        if slug.as_str() != org.slug && db::organizations::slug_taken(c, slug.as_str())? {
            return Err(ApiError::Conflict {
                resource: Resource::Organization,
                id: format!("OrganizationUuid({})", org.uuid),
                reason: "UNIQUE constraint failed: organization.slug".to_owned(),
            });
        }
    }
    let row = UpdateOrganization {
        name: changes.name.map(ResourceName::into_string),
        slug: changes.slug.map(Slug::into_string),
        license: changes.license.map(|_| None),
        modified: now,
    };
    Ok(db::organizations::update(c, org.id, &row)?)
}

/// Creates a project in `org`, maintained by the user row `creator`. A name the
/// organization already has is a 409, as a taken slug is.
pub fn create_project(
    c: &mut Conn,
    org: &QueryOrganization,
    creator: i32,
    new: &JsonNewProject,
    now: i64,
) -> Result<QueryProject, ApiError> {
    let conflict = |column: &str| ApiError::Conflict {
        resource: Resource::Project,
        id: format!("Name({:?})", new.name.as_str()),
        reason: format!("UNIQUE constraint failed: {column}"),
    };
    db::atomically(c, |c| {
        let slug = choose_slug(
            new.slug.as_ref(),
            new.name.as_str(),
            now,
            |s| db::projects::slug_taken(c, s),
            || conflict("project.slug"),
        )?;
        let row = InsertProject {
            uuid: uuid::Uuid::now_v7().to_string(),
            organization_id: org.id,
            name: new.name.as_str().to_owned(),
            slug: slug.into_string(),
            url: new.url.as_ref().map(|u| u.as_str().to_owned()),
            visibility: new.visibility.unwrap_or_default().to_db(),
            created: now,
            modified: now,
        };
        // Checked after the slug, as the constraints fire in Bencher. A project of this name
        // committed since (by another server) breaks the constraint instead, and the write
        // runs again and answers here (see `Db::write`).
        if db::projects::name_taken(c, org.id, &row.name, 0)? {
            return Err(conflict("project.organization_id, project.name"));
        }
        let project = db::projects::insert(c, &row)?;
        let role = InsertProjectRole {
            user_id: creator,
            project_id: project.id,
            role: MAINTAINER.to_owned(),
            created: now,
            modified: now,
        };
        db::projects::set_role(c, &role)?;
        Ok(project)
    })
}

/// Gives the user row `user_id` `role` in `org`, keeping when they first joined.
pub fn set_role(
    c: &mut Conn,
    org: &QueryOrganization,
    user_id: i32,
    role: OrganizationRole,
    joined: i64,
    now: i64,
) -> Result<(), ApiError> {
    let row = InsertOrganizationRole {
        user_id,
        organization_id: org.id,
        role: role.as_str().to_owned(),
        created: joined,
        modified: now,
    };
    Ok(db::organizations::set_role(c, &row)?)
}
