//! The `user` table.

use super::Conn;
use diesel::prelude::*;

use super::rows::{InsertUser, QueryUser};
use super::schema::{keyward_first_user, user};
use super::{Filter, Listed, Page, each_backend, lower};
use crate::domain::ids::ResourceId;

/// Finds a user by UUID or slug.
pub fn find(conn: &mut Conn, id: &ResourceId) -> QueryResult<Option<QueryUser>> {
    each_backend!(conn, |conn| {
        // Two fixed statements rather than one built at run time: SQLite keeps them prepared.
        let users = user::table.select(QueryUser::as_select());
        match id {
            ResourceId::Uuid(u) => users
                .filter(user::uuid.eq(u.to_string()))
                .first(conn)
                .optional(),
            ResourceId::Slug(s) => users
                .filter(user::slug.eq(s.as_str()))
                .first(conn)
                .optional(),
        }
    })
}

/// Finds a user by (lowercase) email.
pub fn find_by_email(conn: &mut Conn, email: &str) -> QueryResult<Option<QueryUser>> {
    each_backend!(conn, |conn| {
        user::table
            .filter(user::email.eq(email))
            .select(QueryUser::as_select())
            .first(conn)
            .optional()
    })
}

/// Finds a user by internal id.
pub fn find_by_id(conn: &mut Conn, id: i32) -> QueryResult<QueryUser> {
    each_backend!(conn, |conn| {
        user::table
            .find(id)
            .select(QueryUser::as_select())
            .first(conn)
    })
}

/// Claims the server's first-user slot for `user_id`: true if this call took it (once per
/// database, whoever comes first; safe with concurrent writers).
pub fn claim_first(conn: &mut Conn, user_id: i32) -> QueryResult<bool> {
    each_backend!(conn, |conn| {
        diesel::insert_into(keyward_first_user::table)
            .values((
                keyward_first_user::id.eq(1),
                keyward_first_user::user_id.eq(user_id),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .map(|n| n == 1)
    })
}

/// The oldest user's row id, if there is a user.
pub fn oldest(conn: &mut Conn) -> QueryResult<Option<i32>> {
    each_backend!(conn, |conn| {
        user::table
            .select(user::id)
            .order(user::id.asc())
            .first(conn)
            .optional()
    })
}

/// Makes a user a server admin; returns the stored row.
pub fn make_admin(conn: &mut Conn, id: i32) -> QueryResult<QueryUser> {
    each_backend!(conn, |conn| {
        diesel::update(user::table.find(id))
            .set(user::admin.eq(true))
            .returning(QueryUser::as_returning())
            .get_result(conn)
    })
}

/// Whether a slug is taken.
pub fn slug_taken(conn: &mut Conn, slug: &str) -> QueryResult<bool> {
    each_backend!(conn, |conn| {
        diesel::select(diesel::dsl::exists(user::table.filter(user::slug.eq(slug))))
            .get_result(conn)
    })
}

/// Inserts a user and returns the stored row.
pub fn insert(conn: &mut Conn, row: &InsertUser) -> QueryResult<QueryUser> {
    each_backend!(conn, |conn| {
        diesel::insert_into(user::table)
            .values(row)
            .returning(QueryUser::as_returning())
            .get_result(conn)
    })
}

/// All unlocked server admins (for the new-user notice).
pub fn admins(conn: &mut Conn) -> QueryResult<Vec<QueryUser>> {
    each_backend!(conn, |conn| {
        user::table
            .filter(user::admin.eq(true).and(user::locked.eq(false)))
            .select(QueryUser::as_select())
            .load(conn)
    })
}

/// Changes to a user row; `None` leaves a column as it is.
#[derive(AsChangeset, Default)]
#[diesel(table_name = user)]
pub struct UpdateUser {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub email: Option<String>,
    pub admin: Option<bool>,
    pub locked: Option<bool>,
    pub modified: Option<i64>,
}

/// Applies `changes` and returns the row as stored.
pub fn update(conn: &mut Conn, id: i32, changes: &UpdateUser) -> QueryResult<QueryUser> {
    each_backend!(conn, |conn| {
        diesel::update(user::table.find(id))
            .set(changes)
            .returning(QueryUser::as_returning())
            .get_result(conn)
    })
}

/// One page of users ordered by name, and the total matching `filter`.
pub fn list(conn: &mut Conn, filter: &Filter, page: Page) -> QueryResult<Listed<QueryUser>> {
    each_backend!(conn, |conn| {
        let like = filter.like();
        let filtered = || {
            let mut q = user::table.into_boxed();
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
        crate::db::one_snapshot_on(conn, |c| {
            let total = filtered().count().get_result(c)?;
            let q = filtered().select(QueryUser::as_select());
            let q = if page.desc {
                q.order((user::name.desc(), user::id.desc()))
            } else {
                q.order((user::name.asc(), user::id.asc()))
            };
            let rows = q.limit(page.limit).offset(page.offset).load(c)?;
            Ok((rows, total))
        })
    })
}
