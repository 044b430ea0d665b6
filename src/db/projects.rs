//! The `project` and `project_role` tables.

use super::{Backend, Conn};
use diesel::prelude::*;

use super::rows::{InsertProject, InsertProjectRole, QueryProject};
use super::schema::{organization, organization_role, project, project_role};
use super::{Filter, Listed, Page, each_backend, lower};
use crate::domain::ids::ResourceId;

/// A project with the caller's roles on it: the role in the owning organization and the
/// role on the project itself.
#[derive(Clone, Debug)]
pub struct ProjectWithRoles {
    pub project: QueryProject,
    pub organization_uuid: String,
    pub org_role: Option<String>,
    pub project_role: Option<String>,
}

/// A project, its organization's UUID, the caller's organization role and project role.
type ProjectRow = (QueryProject, String, Option<String>, Option<String>);

/// Finds a live project by UUID or slug, with its organization's UUID and `user_id`'s roles
/// on it, in one statement (one per kind of id, so SQLite keeps both prepared), served by
/// the project's unique index and the two role indexes.
pub fn find_with_roles(
    conn: &mut Conn,
    id: &ResourceId,
    user_id: Option<i32>,
) -> QueryResult<Option<ProjectWithRoles>> {
    each_backend!(conn, |conn| {
        // -1 is never a row id: an anonymous caller simply matches no role.
        let uid = user_id.unwrap_or(-1);
        let joined = project::table
            .inner_join(organization::table)
            .left_join(
                organization_role::table.on(organization_role::organization_id
                    .eq(project::organization_id)
                    .and(organization_role::user_id.eq(uid))),
            )
            .left_join(
                project_role::table.on(project_role::project_id
                    .eq(project::id)
                    .and(project_role::user_id.eq(uid))),
            )
            .filter(project::deleted.is_null())
            .select((
                QueryProject::as_select(),
                organization::uuid,
                organization_role::role.nullable(),
                project_role::role.nullable(),
            ));
        let found: Option<ProjectRow> = match id {
            ResourceId::Uuid(u) => joined
                .filter(project::uuid.eq(u.to_string()))
                .first(conn)
                .optional()?,
            ResourceId::Slug(s) => joined
                .filter(project::slug.eq(s.as_str()))
                .first(conn)
                .optional()?,
        };
        Ok(found.map(
            |(project, organization_uuid, org_role, project_role)| ProjectWithRoles {
                project,
                organization_uuid,
                org_role,
                project_role,
            },
        ))
    })
}

/// Finds a project by internal id (deleted or not).
pub fn find_by_id(conn: &mut Conn, id: i32) -> QueryResult<QueryProject> {
    each_backend!(conn, |conn| {
        project::table
            .find(id)
            .select(QueryProject::as_select())
            .first(conn)
    })
}

/// Whether a project slug is taken (slugs are unique across all organizations).
pub fn slug_taken(conn: &mut Conn, slug: &str) -> QueryResult<bool> {
    each_backend!(conn, |conn| {
        diesel::select(diesel::dsl::exists(
            project::table.filter(project::slug.eq(slug)),
        ))
        .get_result(conn)
    })
}

/// Inserts a project and returns the stored row.
pub fn insert(conn: &mut Conn, row: &InsertProject) -> QueryResult<QueryProject> {
    each_backend!(conn, |conn| {
        diesel::insert_into(project::table)
            .values(row)
            .returning(QueryProject::as_returning())
            .get_result(conn)
    })
}

/// Gives a user a role on a project.
pub fn set_role(conn: &mut Conn, row: &InsertProjectRole) -> QueryResult<()> {
    each_backend!(conn, |conn| {
        diesel::insert_into(project_role::table)
            .values(row)
            .on_conflict((project_role::user_id, project_role::project_id))
            .do_update()
            .set((
                project_role::role.eq(&row.role),
                project_role::modified.eq(row.modified),
            ))
            .execute(conn)
            .map(drop)
    })
}

/// One page of an organization's live projects ordered by name; `public_only` hides the
/// private ones from callers without a role in the organization.
pub fn list(
    conn: &mut Conn,
    org_id: i32,
    public_only: bool,
    filter: &Filter,
    page: Page,
) -> QueryResult<Listed<QueryProject>> {
    each_backend!(conn, |conn| {
        let like = filter.like();
        let filtered = || {
            let mut q = project::table
                .filter(project::organization_id.eq(org_id))
                .filter(project::deleted.is_null())
                .into_boxed();
            if public_only {
                q = q.filter(project::visibility.eq(0));
            }
            if let Some(name) = &filter.name {
                q = q.filter(project::name.eq(name.clone()));
            }
            if let Some(like) = &like {
                q = q.filter(
                    lower(project::name)
                        .like(lower(like.clone()))
                        .or(lower(project::slug).like(lower(like.clone())))
                        .or(lower(project::uuid).like(lower(like.clone()))),
                );
            }
            q
        };
        crate::db::one_snapshot_on(conn, |c| {
            let total = filtered().count().get_result(c)?;
            let q = filtered().select(QueryProject::as_select());
            let q = if page.desc {
                q.order((project::name.desc(), project::id.desc()))
            } else {
                q.order((project::name.asc(), project::id.asc()))
            };
            let rows = q.limit(page.limit).offset(page.offset).load(c)?;
            Ok((rows, total))
        })
    })
}

/// Changes to a project row; `None` leaves a column as it is.
#[derive(AsChangeset, Default)]
#[diesel(table_name = project)]
pub struct UpdateProject {
    pub name: Option<String>,
    pub slug: Option<String>,
    /// `Some(None)` removes the URL.
    pub url: Option<Option<String>>,
    pub visibility: Option<i32>,
    pub modified: i64,
}

/// Applies `changes` and returns the row as stored.
pub fn update(conn: &mut Conn, id: i32, changes: &UpdateProject) -> QueryResult<QueryProject> {
    each_backend!(conn, |conn| {
        diesel::update(project::table.find(id))
            .set(changes)
            .returning(QueryProject::as_returning())
            .get_result(conn)
    })
}

/// Whether another project of the organization has this name.
pub fn name_taken(conn: &mut Conn, org_id: i32, name: &str, except: i32) -> QueryResult<bool> {
    each_backend!(conn, |conn| {
        diesel::select(diesel::dsl::exists(
            project::table
                .filter(project::organization_id.eq(org_id))
                .filter(project::name.eq(name))
                .filter(project::id.ne(except)),
        ))
        .get_result(conn)
    })
}

/// Soft-deletes a project: it answers as missing from now on and its keys stop
/// authenticating on the next request. Its slug stays taken.
pub fn soft_delete(conn: &mut Conn, id: i32, now: i64) -> QueryResult<()> {
    each_backend!(conn, |conn| {
        diesel::update(project::table.find(id))
            .set(project::deleted.eq(now))
            .execute(conn)
            .map(drop)
    })
}

/// Deletes a project row for good, with its roles and keys.
pub fn hard_delete(conn: &mut Conn, id: i32) -> QueryResult<()> {
    each_backend!(conn, |conn| {
        diesel::delete(project::table.find(id))
            .execute(conn)
            .map(drop)
    })
}

/// Who is listing projects, for [`list_visible`].
#[derive(Clone, Copy, Debug)]
pub enum Viewer {
    /// A server admin: every live project.
    Admin,
    /// A user: public projects, and those of organizations they lead or that they maintain.
    User(i32),
    /// A project key: public projects and its own.
    Project(i32),
    /// No credential: public projects.
    Anonymous,
}

/// Projects joined to their organizations, as a boxed query.
type Visible = diesel::helper_types::IntoBoxed<
    'static,
    diesel::helper_types::InnerJoin<project::table, organization::table>,
    Backend,
>;

/// The live projects of live organizations that `viewer` may see, matching `filter`.
fn visible(viewer: Viewer, filter: &Filter) -> Visible {
    let like = filter.like();
    let mut q = project::table
        .inner_join(organization::table)
        .filter(project::deleted.is_null())
        .filter(organization::deleted.is_null())
        .into_boxed();
    match viewer {
        Viewer::Admin => {}
        Viewer::User(uid) => {
            q = q.filter(
                project::visibility
                    .eq(0)
                    .or(project::organization_id.eq_any(
                        organization_role::table
                            .filter(organization_role::user_id.eq(uid))
                            .select(organization_role::organization_id),
                    ))
                    .or(project::id.eq_any(
                        project_role::table
                            .filter(project_role::user_id.eq(uid))
                            .select(project_role::project_id),
                    )),
            );
        }
        Viewer::Project(pid) => {
            q = q.filter(project::visibility.eq(0).or(project::id.eq(pid)));
        }
        Viewer::Anonymous => q = q.filter(project::visibility.eq(0)),
    }
    if let Some(name) = &filter.name {
        q = q.filter(project::name.eq(name.clone()));
    }
    if let Some(like) = &like {
        q = q.filter(
            lower(project::name)
                .like(lower(like.clone()))
                .or(lower(project::slug).like(lower(like.clone())))
                .or(lower(project::uuid).like(lower(like.clone()))),
        );
    }
    q
}

/// One page of the live projects `viewer` may see, across organizations, ordered by name,
/// each with its organization's UUID; and their total.
pub fn list_visible(
    conn: &mut Conn,
    viewer: Viewer,
    filter: &Filter,
    page: Page,
) -> QueryResult<Listed<(QueryProject, String)>> {
    let filtered = || visible(viewer, filter);
    crate::db::one_snapshot(conn, |c| {
        let total = filtered().count().get_result(c)?;
        let q = filtered().select((QueryProject::as_select(), organization::uuid));
        let q = if page.desc {
            q.order((project::name.desc(), project::id.desc()))
        } else {
            q.order((project::name.asc(), project::id.asc()))
        };
        let rows = q.limit(page.limit).offset(page.offset).load(c)?;
        Ok((rows, total))
    })
}
