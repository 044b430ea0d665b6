//! Storage: the one seam between Keyward and its database. Everything above `db/` works
//! with [`Conn`] and the two doors of [`Db`] (`run` for a read transaction, `write` for a
//! write transaction answered after COMMIT), and calls the query functions of the modules
//! below; no SQL and no backend type is named above this folder.
//!
//! Two backends fill it: SQLite ([`sqlite`]: reader threads, a group-commit writer, a
//! checkpointer) and PostgreSQL ([`postgres`]: a pool). [`Conn`] is a Diesel
//! `MultiConnection` over both; the query modules are written once with Diesel's DSL and run
//! their statements on the backend's own connection (`each_backend!`, see `conn.rs`).

mod conn;
pub mod credentials;
mod engine;
pub mod import;
pub mod marks;
pub mod organizations;
pub mod postgres;
pub mod projects;
pub mod rows;
pub mod schema;
pub mod settings;
mod sqlite;
pub mod users;

pub(crate) use conn::each_backend;
pub use conn::{Backend, Conn, atomically, one_snapshot, one_snapshot_on};
pub use engine::Db;
pub use sqlite::{
    BUSY_TIMEOUT_MS, BackupError, DbError, MIGRATIONS, ReadersState, is_busy, reader_count,
};

/// Whether a statement broke a unique constraint: another row (perhaps written at the same
/// moment by another request, or another server) holds the value. From Diesel's kind, on
/// every backend.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Whether a write failed only because another transaction got there at the same moment,
/// so that running it again from the start can succeed or give the right answer: PostgreSQL's
/// serialization failure, a deadlock, or a unique value another transaction committed after
/// this one checked it (a second try sees that row and answers as if it had been first).
pub fn is_raced(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(
            DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::UniqueViolation,
            _,
        ) => true,
        // Diesel has no kind for SQLSTATE 40P01; PostgreSQL's message names it.
        Error::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            info.message().contains("deadlock detected")
        }
        _ => false,
    }
}

/// The error a write's closure ends with, as the write door needs to see it: whether the
/// transaction lost a race ([`is_raced`]) and is worth running again.
pub trait WriteError: From<DbError> + From<diesel::result::Error> {
    fn raced(&self) -> bool;
}

/// `SELECT 1`: whether the database answers (readiness).
pub fn ping(conn: &mut Conn) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    each_backend!(conn, |conn| {
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
            .execute(conn)
            .map(drop)
    })
}

diesel::define_sql_function! {
    /// SQL's `lower`: searches compare lowercased text, so that `LIKE` ignores case on both
    /// backends (SQLite's `LIKE` already ignores ASCII case and its `lower` is ASCII-only, so
    /// nothing changes there; PostgreSQL's `LIKE` is case-sensitive).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// One page of a list: `LIMIT`, `OFFSET` and the direction of the list's ordering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
    pub desc: bool,
}

/// The filters every list shares: exact `name`, `%search%` over name/slug/uuid, and for
/// credentials whether to show the revoked ones (and only those) or the live ones.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub name: Option<String>,
    pub search: Option<String>,
    pub revoked: bool,
}

impl Filter {
    /// The `LIKE` pattern of `search`: wrapped in `%`, nothing escaped (as Bencher does).
    pub fn like(&self) -> Option<String> {
        self.search.as_ref().map(|s| format!("%{s}%"))
    }
}

/// A list page and the total of rows matching its filter.
pub type Listed<T> = (Vec<T>, i64);
