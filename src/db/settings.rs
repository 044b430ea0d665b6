//! The `server` row and Keyward's stored signing secret.

use super::Conn;
use diesel::prelude::*;

use super::each_backend;
use super::schema::{keyward_secret, keyward_setting, server};

/// A setting adopted from elsewhere (see `keyward import bencher`), if any.
pub fn setting(conn: &mut Conn, name: &str) -> QueryResult<Option<String>> {
    each_backend!(conn, |conn| {
        keyward_setting::table
            .find(name)
            .select(keyward_setting::value)
            .first(conn)
            .optional()
    })
}

/// Stores a setting adopted from elsewhere, replacing an earlier one of that name.
pub fn adopt(conn: &mut Conn, name: &str, value: &str, now: i64) -> QueryResult<()> {
    each_backend!(conn, |conn| {
        diesel::insert_into(keyward_setting::table)
            .values((
                keyward_setting::name.eq(name),
                keyward_setting::value.eq(value),
                keyward_setting::modified.eq(now),
            ))
            .on_conflict(keyward_setting::name)
            .do_update()
            .set((
                keyward_setting::value.eq(value),
                keyward_setting::modified.eq(now),
            ))
            .execute(conn)
            .map(drop)
    })
}

/// The stored JWT secret, if one was generated before.
pub fn secret_key(conn: &mut Conn) -> QueryResult<Option<String>> {
    each_backend!(conn, |conn| {
        keyward_secret::table
            .select(keyward_secret::secret_key)
            .first(conn)
            .optional()
    })
}

/// Stores a generated secret unless one already exists; returns the one that is stored.
pub fn store_secret_key(conn: &mut Conn, secret: &str, now: i64) -> QueryResult<String> {
    each_backend!(conn, |conn| {
        conn.transaction(|c| {
            diesel::insert_into(keyward_secret::table)
                .values((
                    keyward_secret::id.eq(1),
                    keyward_secret::secret_key.eq(secret),
                    keyward_secret::created.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(c)?;
            keyward_secret::table
                .select(keyward_secret::secret_key)
                .first(c)
        })
    })
}

/// This server's UUID, made on first start.
pub fn ensure_uuid(conn: &mut Conn, fresh: &str, now: i64) -> QueryResult<String> {
    each_backend!(conn, |conn| {
        conn.transaction(|c| {
            diesel::insert_into(server::table)
                .values((
                    server::id.eq(1),
                    server::uuid.eq(fresh),
                    server::created.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(c)?;
            server::table.select(server::uuid).first(c)
        })
    })
}
