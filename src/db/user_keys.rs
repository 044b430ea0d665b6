//! The `user_key` table.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::rows::{InsertUserKey, QueryUser, QueryUserKey};
use super::schema::{user, user_key};
use super::{Filter, Listed, Page};

/// One page of a user's keys ordered by name then creation, and the total matching
/// `filter`. `only` narrows the list to one key (a caller authenticated by that key).
pub fn list(
    conn: &mut SqliteConnection,
    user_id: i32,
    only: Option<i32>,
    filter: &Filter,
    page: Page,
) -> QueryResult<Listed<QueryUserKey>> {
    let like = filter.like();
    let filtered = || {
        let mut q = user_key::table
            .filter(user_key::user_id.eq(user_id))
            .into_boxed();
        if let Some(id) = only {
            q = q.filter(user_key::id.eq(id));
        }
        q = if filter.revoked {
            q.filter(user_key::revoked.is_not_null())
        } else {
            q.filter(user_key::revoked.is_null())
        };
        if let Some(name) = &filter.name {
            q = q.filter(user_key::name.eq(name.clone()));
        }
        if let Some(like) = &like {
            q = q.filter(
                user_key::name
                    .like(like.clone())
                    .or(user_key::uuid.like(like.clone())),
            );
        }
        q
    };
    conn.transaction(|c| {
        let total = filtered().count().get_result(c)?;
        let q = filtered().select(QueryUserKey::as_select());
        let q = if page.desc {
            q.order((
                user_key::name.desc(),
                user_key::creation.desc(),
                user_key::id.desc(),
            ))
        } else {
            q.order((
                user_key::name.asc(),
                user_key::creation.asc(),
                user_key::id.asc(),
            ))
        };
        let rows = q.limit(page.limit).offset(page.offset).load(c)?;
        Ok((rows, total))
    })
}

/// One key of a user, revoked or not.
pub fn find(
    conn: &mut SqliteConnection,
    user_id: i32,
    uuid: &str,
) -> QueryResult<Option<QueryUserKey>> {
    user_key::table
        .filter(user_key::user_id.eq(user_id))
        .filter(user_key::uuid.eq(uuid))
        .select(QueryUserKey::as_select())
        .first(conn)
        .optional()
}

/// Inserts a key.
pub fn insert(conn: &mut SqliteConnection, row: &InsertUserKey) -> QueryResult<()> {
    diesel::insert_into(user_key::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Renames a key.
pub fn rename(conn: &mut SqliteConnection, id: i32, name: &str) -> QueryResult<()> {
    diesel::update(user_key::table.find(id))
        .set(user_key::name.eq(name))
        .execute(conn)
        .map(drop)
}

/// Revokes a live key; returns 0 when it was already revoked.
pub fn revoke(conn: &mut SqliteConnection, id: i32, now: i64) -> QueryResult<usize> {
    diesel::update(user_key::table.find(id).filter(user_key::revoked.is_null()))
        .set(user_key::revoked.eq(now))
        .execute(conn)
}

/// The key with this hash and its user, whatever their state: the caller decides.
pub fn find_by_hash(
    conn: &mut SqliteConnection,
    hash: &str,
) -> QueryResult<Option<(QueryUserKey, QueryUser)>> {
    user_key::table
        .inner_join(user::table)
        .filter(user_key::key_hash.eq(hash))
        .select((QueryUserKey::as_select(), QueryUser::as_select()))
        .first(conn)
        .optional()
}
