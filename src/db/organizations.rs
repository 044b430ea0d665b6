//! The `organization` and `organization_role` tables.

use std::collections::HashMap;

use super::Conn;
use diesel::prelude::*;

use super::rows::{InsertOrganization, InsertOrganizationRole, QueryOrganization, QueryUser};
use super::schema::{organization, organization_role, project, project_role, user};
use super::{Filter, Listed, Page, each_backend, lower};
use crate::domain::ids::ResourceId;

/// Finds a live (not deleted) organization by UUID or slug.
pub fn find(conn: &mut Conn, id: &ResourceId) -> QueryResult<Option<QueryOrganization>> {
    each_backend!(conn, |conn| {
        let live = organization::table
            .filter(organization::deleted.is_null())
            .select(QueryOrganization::as_select());
        match id {
            ResourceId::Uuid(u) => live
                .filter(organization::uuid.eq(u.to_string()))
                .first(conn)
                .optional(),
            ResourceId::Slug(s) => live
                .filter(organization::slug.eq(s.as_str()))
                .first(conn)
                .optional(),
        }
    })
}

/// Finds an organization by internal id.
pub fn find_by_id(conn: &mut Conn, id: i32) -> QueryResult<QueryOrganization> {
    each_backend!(conn, |conn| {
        organization::table
            .find(id)
            .select(QueryOrganization::as_select())
            .first(conn)
    })
}

/// Whether a slug is taken (deleted organizations keep theirs).
pub fn slug_taken(conn: &mut Conn, slug: &str) -> QueryResult<bool> {
    each_backend!(conn, |conn| {
        diesel::select(diesel::dsl::exists(
            organization::table.filter(organization::slug.eq(slug)),
        ))
        .get_result(conn)
    })
}

/// Whether a UUID is taken.
pub fn uuid_taken(conn: &mut Conn, uuid: &str) -> QueryResult<bool> {
    each_backend!(conn, |conn| {
        diesel::select(diesel::dsl::exists(
            organization::table.filter(organization::uuid.eq(uuid)),
        ))
        .get_result(conn)
    })
}

/// Inserts an organization and returns the stored row.
pub fn insert(conn: &mut Conn, row: &InsertOrganization) -> QueryResult<QueryOrganization> {
    each_backend!(conn, |conn| {
        diesel::insert_into(organization::table)
            .values(row)
            .returning(QueryOrganization::as_returning())
            .get_result(conn)
    })
}

/// Gives `user_id` a role in an organization (replacing any role it had).
pub fn set_role(conn: &mut Conn, row: &InsertOrganizationRole) -> QueryResult<()> {
    each_backend!(conn, |conn| {
        diesel::insert_into(organization_role::table)
            .values(row)
            .on_conflict((
                organization_role::user_id,
                organization_role::organization_id,
            ))
            .do_update()
            .set((
                organization_role::role.eq(&row.role),
                organization_role::modified.eq(row.modified),
            ))
            .execute(conn)
            .map(drop)
    })
}

/// The role a user holds in an organization, if any.
pub fn role_of(conn: &mut Conn, user_id: i32, org_id: i32) -> QueryResult<Option<String>> {
    each_backend!(conn, |conn| {
        organization_role::table
            .filter(organization_role::user_id.eq(user_id))
            .filter(organization_role::organization_id.eq(org_id))
            .select(organization_role::role)
            .first(conn)
            .optional()
    })
}

/// When one organization was claimed: the earliest `created` among its roles. (A fixed
/// statement, unlike [`claimed`]'s `IN (…)`, so SQLite keeps it prepared.)
pub fn claimed_at(conn: &mut Conn, org_id: i32) -> QueryResult<Option<i64>> {
    each_backend!(conn, |conn| {
        organization_role::table
            .filter(organization_role::organization_id.eq(org_id))
            .select(diesel::dsl::min(organization_role::created))
            .first(conn)
    })
}

/// When each organization was claimed: the earliest `created` among its roles.
pub fn claimed(conn: &mut Conn, org_ids: &[i32]) -> QueryResult<HashMap<i32, i64>> {
    each_backend!(conn, |conn| {
        let rows: Vec<(i32, Option<i64>)> = organization_role::table
            .filter(organization_role::organization_id.eq_any(org_ids))
            .group_by(organization_role::organization_id)
            .select((
                organization_role::organization_id,
                diesel::dsl::min(organization_role::created),
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, min)| min.map(|m| (id, m)))
            .collect())
    })
}

/// One page of organizations ordered by name: all of them for `None` (an admin), else only
/// those where the user holds a role.
pub fn list(
    conn: &mut Conn,
    member: Option<i32>,
    filter: &Filter,
    page: Page,
) -> QueryResult<Listed<QueryOrganization>> {
    each_backend!(conn, |conn| {
        let like = filter.like();
        let filtered = || {
            let mut q = organization::table
                .filter(organization::deleted.is_null())
                .into_boxed();
            if let Some(uid) = member {
                q = q.filter(
                    organization::id.eq_any(
                        organization_role::table
                            .filter(organization_role::user_id.eq(uid))
                            .select(organization_role::organization_id),
                    ),
                );
            }
            if let Some(name) = &filter.name {
                q = q.filter(organization::name.eq(name.clone()));
            }
            if let Some(like) = &like {
                q = q.filter(
                    lower(organization::name)
                        .like(lower(like.clone()))
                        .or(lower(organization::slug).like(lower(like.clone())))
                        .or(lower(organization::uuid).like(lower(like.clone()))),
                );
            }
            q
        };
        crate::db::one_snapshot_on(conn, |c| {
            let total = filtered().count().get_result(c)?;
            let q = filtered().select(QueryOrganization::as_select());
            let q = if page.desc {
                q.order((organization::name.desc(), organization::id.desc()))
            } else {
                q.order((organization::name.asc(), organization::id.asc()))
            };
            let rows = q.limit(page.limit).offset(page.offset).load(c)?;
            Ok((rows, total))
        })
    })
}

/// A member: the user row, their role and when the role was given and changed.
pub type Member = (QueryUser, String, i64, i64);

fn member_select() -> (
    diesel::dsl::AsSelect<QueryUser, crate::db::Backend>,
    organization_role::role,
    organization_role::created,
    organization_role::modified,
) {
    (
        QueryUser::as_select(),
        organization_role::role,
        organization_role::created,
        organization_role::modified,
    )
}

/// One page of an organization's members ordered by name, and their total.
pub fn members(
    conn: &mut Conn,
    org_id: i32,
    filter: &Filter,
    page: Page,
) -> QueryResult<Listed<Member>> {
    let like = filter.like();
    let filtered = || {
        let mut q = organization_role::table
            .inner_join(user::table)
            .filter(organization_role::organization_id.eq(org_id))
            .into_boxed();
        if let Some(name) = &filter.name {
            q = q.filter(user::name.eq(name.clone()));
        }
        if let Some(like) = &like {
            q = q.filter(
                lower(user::name)
                    .like(lower(like.clone()))
                    .or(lower(user::slug).like(lower(like.clone())))
                    .or(lower(user::uuid).like(lower(like.clone()))),
            );
        }
        q
    };
    crate::db::one_snapshot(conn, |c| {
        let total = filtered().count().get_result(c)?;
        let q = filtered().select(member_select());
        let q = if page.desc {
            q.order((user::name.desc(), user::id.desc()))
        } else {
            q.order((user::name.asc(), user::id.asc()))
        };
        let rows = q.limit(page.limit).offset(page.offset).load(c)?;
        Ok((rows, total))
    })
}

/// One member of an organization.
pub fn member(conn: &mut Conn, org_id: i32, user_id: i32) -> QueryResult<Option<Member>> {
    organization_role::table
        .inner_join(user::table)
        .filter(organization_role::organization_id.eq(org_id))
        .filter(organization_role::user_id.eq(user_id))
        .select(member_select())
        .first(conn)
        .optional()
}

/// Removes a member and, in the same transaction, every role they hold on the
/// organization's projects (a project role outlives no membership); returns how many
/// organization roles were removed (0 or 1).
pub fn remove_member(conn: &mut Conn, org_id: i32, user_id: i32) -> QueryResult<usize> {
    each_backend!(conn, |conn| {
        conn.transaction(|c| {
            diesel::delete(
                project_role::table
                    .filter(project_role::user_id.eq(user_id))
                    .filter(
                        project_role::project_id.eq_any(
                            project::table
                                .filter(project::organization_id.eq(org_id))
                                .select(project::id),
                        ),
                    ),
            )
            .execute(c)?;
            diesel::delete(
                organization_role::table
                    .filter(organization_role::organization_id.eq(org_id))
                    .filter(organization_role::user_id.eq(user_id)),
            )
            .execute(c)
        })
    })
}

/// Marks an invitation (by its token's hash) as redeemed by `user_id`; `false` if it had
/// been redeemed before. One conditional insert, so of two concurrent redemptions exactly
/// one succeeds.
pub fn redeem_invitation(
    conn: &mut Conn,
    token_hash: &str,
    user_id: i32,
    now: i64,
) -> QueryResult<bool> {
    each_backend!(conn, |conn| {
        use super::schema::keyward_invitation_used as used;
        diesel::insert_into(used::table)
            .values((
                used::token_hash.eq(token_hash),
                used::user_id.eq(user_id),
                used::used.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .map(|n| n == 1)
    })
}

/// Changes to an organization row; `None` leaves a column as it is.
#[derive(AsChangeset, Default)]
#[diesel(table_name = organization)]
pub struct UpdateOrganization {
    pub name: Option<String>,
    pub slug: Option<String>,
    /// `Some(None)` clears the license.
    pub license: Option<Option<String>>,
    pub modified: i64,
}

/// Applies `changes` and returns the row as stored.
pub fn update(
    conn: &mut Conn,
    id: i32,
    changes: &UpdateOrganization,
) -> QueryResult<QueryOrganization> {
    each_backend!(conn, |conn| {
        diesel::update(organization::table.find(id))
            .set(changes)
            .returning(QueryOrganization::as_returning())
            .get_result(conn)
    })
}

/// Soft-deletes an organization and, in the same transaction, its live projects: from now
/// on they answer as missing, and their keys stop authenticating. Slugs stay taken.
pub fn soft_delete(conn: &mut Conn, id: i32, now: i64) -> QueryResult<()> {
    each_backend!(conn, |conn| {
        conn.transaction(|c| {
            diesel::update(
                project::table
                    .filter(project::organization_id.eq(id))
                    .filter(project::deleted.is_null()),
            )
            .set(project::deleted.eq(now))
            .execute(c)?;
            diesel::update(organization::table.find(id))
                .set(organization::deleted.eq(now))
                .execute(c)
                .map(drop)
        })
    })
}

/// Deletes an organization row for good, with its roles, projects and their keys.
pub fn hard_delete(conn: &mut Conn, id: i32) -> QueryResult<()> {
    each_backend!(conn, |conn| {
        diesel::delete(organization::table.find(id))
            .execute(conn)
            .map(drop)
    })
}
