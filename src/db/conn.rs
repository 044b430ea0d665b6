//! The one connection type: a Diesel `MultiConnection` over the two backends, so that every
//! query module is written once and runs on either.

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;

/// A connection to whichever database the server was started on.
#[derive(diesel::MultiConnection)]
pub enum Conn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// The backend of [`Conn`]: SQL is generated for the connection's own database.
pub type Backend = <Conn as diesel::Connection>::Backend;

/// Runs `$body` with `$c` bound to the connection's own backend connection, compiled once per
/// backend: how the query modules run their statements, written once. Through the
/// `MultiConnection` itself Diesel rebuilds each statement's SQL text at every execution
/// (its wrapper's `walk_ast` serializes the whole query even to collect the binds), which
/// doubled the instructions of a key lookup (119,825 -> 253,004 per S2 request); here each
/// backend's connection finds the statement by type in its cache. It also builds what
/// `MultiBackend` cannot (`ON CONFLICT`, `RETURNING`).
macro_rules! each_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($c) => $body,
            $crate::db::Conn::Pg($c) => $body,
        }
    };
}
pub(crate) use each_backend;

/// Runs `f` between `begin` (the SQL that opens the transaction) and COMMIT, or ROLLBACK when
/// it fails: for the transactions Diesel's `transaction` does not open (`BEGIN IMMEDIATE`, an
/// isolation level). A failed COMMIT is rolled back by Diesel's transaction manager itself.
pub(super) fn in_transaction<T, E, F>(conn: &mut Conn, begin: &str, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    each_backend!(&mut *conn, |c| {
        AnsiTransactionManager::begin_transaction_sql(c, begin)
    })?;
    let result = f(conn);
    each_backend!(&mut *conn, |c| end_transaction(c, result))
}

/// Commits the transaction `result` came from when it is a success, else rolls it back and
/// hands the error on.
fn end_transaction<C, T, E>(conn: &mut C, result: Result<T, E>) -> Result<T, E>
where
    C: diesel::Connection<TransactionManager = AnsiTransactionManager>,
    E: From<diesel::result::Error>,
{
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => match AnsiTransactionManager::rollback_transaction(conn) {
            // The original error says more than a manager already broken by it.
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(e),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// Whether a transaction is open on a backend's connection.
fn open_on<C>(conn: &mut C) -> diesel::QueryResult<bool>
where
    C: diesel::Connection<TransactionManager = AnsiTransactionManager>,
{
    Ok(AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_some())
}

/// Whether a transaction is open on `conn`.
fn transaction_open(conn: &mut Conn) -> diesel::QueryResult<bool> {
    each_backend!(conn, |c| open_on(c))
}

/// Runs `f` atomically: as a savepoint when a transaction is already open (as inside the
/// doors of [`Db`](super::Db)), otherwise in a transaction of its own, which on SQLite takes
/// the write lock at `BEGIN` (`IMMEDIATE`), so that it never fails half-way on a lock upgrade.
pub fn atomically<T, E, F>(conn: &mut Conn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let open = transaction_open(conn)?;
    match conn {
        Conn::Sqlite(_) if !open => in_transaction(conn, "BEGIN IMMEDIATE", f),
        _ => conn.transaction(f),
    }
}

/// A backend's own connection, and how it opens a transaction whose reads all come from one
/// snapshot.
pub trait SnapshotConnection:
    diesel::Connection<TransactionManager = AnsiTransactionManager>
{
    /// SQLite: a read transaction (deferred). PostgreSQL: `REPEATABLE READ`, read-only.
    const BEGIN_SNAPSHOT: &'static str;
}

impl SnapshotConnection for diesel::SqliteConnection {
    const BEGIN_SNAPSHOT: &'static str = "BEGIN";
}

impl SnapshotConnection for diesel::PgConnection {
    const BEGIN_SNAPSHOT: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
}

/// Runs `f` so that all it reads comes from one snapshot (a page and its total): directly
/// when a transaction is already open (SQLite's read door always opens one, as does every
/// write), else in a snapshot transaction of its own (PostgreSQL's read door runs each
/// statement on its own, which saves two round trips per request). No savepoint: reading
/// needs none.
pub fn one_snapshot<T, E, F>(conn: &mut Conn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if transaction_open(conn)? {
        return f(conn);
    }
    let begin = match conn {
        Conn::Sqlite(_) => diesel::SqliteConnection::BEGIN_SNAPSHOT,
        Conn::Pg(_) => diesel::PgConnection::BEGIN_SNAPSHOT,
    };
    in_transaction(conn, begin, f)
}

/// [`one_snapshot`] on a backend's own connection (inside `each_backend!`).
pub fn one_snapshot_on<C, T, E, F>(conn: &mut C, f: F) -> Result<T, E>
where
    C: SnapshotConnection,
    F: FnOnce(&mut C) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if open_on(conn)? {
        return f(conn);
    }
    AnsiTransactionManager::begin_transaction_sql(conn, C::BEGIN_SNAPSHOT)?;
    let result = f(conn);
    end_transaction(conn, result)
}
