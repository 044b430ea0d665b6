//! A project's key list, read fast at any depth: the count comes from a table the triggers
//! keep (migration `key_counts`), and deep pages of an unfiltered list start from a
//! remembered position ([`PageMarks`]) instead of walking every key before them.

use diesel::dsl;
use diesel::prelude::*;

use super::CredentialRow;
use crate::db::Conn;
use crate::db::marks::PageMarks;
use crate::db::schema::{project_key, user};
use crate::db::{Filter, Listed, Page};

/// The columns of a [`CredentialRow`] for a project key, with `detail` last.
pub(super) type RowWith<D> = (
    project_key::id,
    project_key::uuid,
    project_key::project_id,
    project_key::name,
    project_key::creation,
    project_key::expiration,
    project_key::revoked,
    D,
);

/// [`RowWith`]'s value.
pub(super) fn row_with<D>(detail: D) -> RowWith<D> {
    use project_key::{creation, expiration, id, name, project_id, revoked, uuid};
    (
        id, uuid, project_id, name, creation, expiration, revoked, detail,
    )
}

/// A project key joined to its creator, the creator's UUID as the detail.
pub(super) fn row() -> RowWith<dsl::Nullable<user::uuid>> {
    row_with(user::uuid.nullable())
}

/// The list's queries for SQLite.
mod on_sqlite {
    type Backend = diesel::sqlite::Sqlite;
    type Raw = diesel::sqlite::SqliteConnection;
    include!("project_list_queries.rs");
}

/// The same queries for PostgreSQL.
mod on_postgres {
    type Backend = diesel::pg::Pg;
    type Raw = diesel::pg::PgConnection;
    include!("project_list_queries.rs");
}

/// One page of a project's keys ordered by name then creation, and the total matching
/// `filter`. Count and page read the same snapshot. Deep pages of an unfiltered list start
/// from a remembered position (`marks`) instead of walking every key before them.
pub(super) fn list(
    conn: &mut Conn,
    marks: &PageMarks,
    project_id: i32,
    filter: &Filter,
    page: Page,
) -> QueryResult<Listed<CredentialRow>> {
    match conn {
        Conn::Sqlite(c) => on_sqlite::list(c, marks, project_id, filter, page),
        Conn::Pg(c) => on_postgres::list(c, marks, project_id, filter, page),
    }
}

/// A project's live keys, as the triggers count them (one indexed read).
pub(super) fn live_count(conn: &mut Conn, project_id: i32) -> QueryResult<i64> {
    match conn {
        Conn::Sqlite(c) => on_sqlite::live_count(c, project_id),
        Conn::Pg(c) => on_postgres::live_count(c, project_id),
    }
}
