//! The `token` table: legacy JWT user tokens, which can be read, renamed and revoked.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::rows::{InsertToken, QueryToken};
use super::schema::token;
use super::{Filter, Listed, Page};

/// One page of a user's tokens ordered by name then expiration, and the total.
pub fn list(
    conn: &mut SqliteConnection,
    user_id: i32,
    filter: &Filter,
    page: Page,
) -> QueryResult<Listed<QueryToken>> {
    let like = filter.like();
    let filtered = || {
        let mut q = token::table.filter(token::user_id.eq(user_id)).into_boxed();
        q = if filter.revoked {
            q.filter(token::revoked.is_not_null())
        } else {
            q.filter(token::revoked.is_null())
        };
        if let Some(name) = &filter.name {
            q = q.filter(token::name.eq(name.clone()));
        }
        if let Some(like) = &like {
            q = q.filter(
                token::name
                    .like(like.clone())
                    .or(token::uuid.like(like.clone())),
            );
        }
        q
    };
    conn.transaction(|c| {
        let total = filtered().count().get_result(c)?;
        let q = filtered().select(QueryToken::as_select());
        let q = if page.desc {
            q.order((
                token::name.desc(),
                token::expiration.desc(),
                token::id.desc(),
            ))
        } else {
            q.order((token::name.asc(), token::expiration.asc(), token::id.asc()))
        };
        let rows = q.limit(page.limit).offset(page.offset).load(c)?;
        Ok((rows, total))
    })
}

/// One token of a user, revoked or not.
pub fn find(
    conn: &mut SqliteConnection,
    user_id: i32,
    uuid: &str,
) -> QueryResult<Option<QueryToken>> {
    token::table
        .filter(token::user_id.eq(user_id))
        .filter(token::uuid.eq(uuid))
        .select(QueryToken::as_select())
        .first(conn)
        .optional()
}

/// Inserts a token row.
pub fn insert(conn: &mut SqliteConnection, row: &InsertToken) -> QueryResult<()> {
    diesel::insert_into(token::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Renames a token.
pub fn rename(conn: &mut SqliteConnection, id: i32, name: &str) -> QueryResult<()> {
    diesel::update(token::table.find(id))
        .set(token::name.eq(name))
        .execute(conn)
        .map(drop)
}

/// Revokes a live token; returns 0 when it was already revoked.
pub fn revoke(conn: &mut SqliteConnection, id: i32, now: i64) -> QueryResult<usize> {
    diesel::update(token::table.find(id).filter(token::revoked.is_null()))
        .set(token::revoked.eq(now))
        .execute(conn)
}

/// Revokes every live token of a user (their email changed, so the JWTs' subject is gone).
pub fn revoke_all(conn: &mut SqliteConnection, user_id: i32, now: i64) -> QueryResult<usize> {
    diesel::update(
        token::table
            .filter(token::user_id.eq(user_id))
            .filter(token::revoked.is_null()),
    )
    .set(token::revoked.eq(now))
    .execute(conn)
}

/// Whether a row holding exactly this JWT for this user has been revoked.
pub fn is_revoked(conn: &mut SqliteConnection, user_id: i32, jwt: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        token::table
            .filter(token::user_id.eq(user_id))
            .filter(token::jwt.eq(jwt))
            .filter(token::revoked.is_not_null()),
    ))
    .get_result(conn)
}
