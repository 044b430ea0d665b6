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
/// backend: for the statements Diesel's `MultiConnection` cannot build (`ON CONFLICT`,
/// `RETURNING`, sub-selects), still written once.
macro_rules! each_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($c) => $body,
            $crate::db::Conn::Pg($c) => $body,
        }
    };
}
pub(crate) use each_backend;

/// Runs `f` atomically: as a savepoint when a transaction is already open (as inside the
/// doors of [`Db`](super::Db)), otherwise in a transaction of its own, which on SQLite takes
/// the write lock at `BEGIN` (`IMMEDIATE`), so that it never fails half-way on a lock upgrade.
pub fn atomically<T, E, F>(conn: &mut Conn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let open = match conn {
        Conn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
        Conn::Pg(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
    }
    .transaction_depth()
    .map_err(E::from)?
    .is_some();
    match conn {
        Conn::Sqlite(c) if !open => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            let result = f(conn);
            let Conn::Sqlite(c) = conn else {
                unreachable!("the connection cannot change backend")
            };
            match result {
                Ok(value) => {
                    AnsiTransactionManager::commit_transaction(c)?;
                    Ok(value)
                }
                Err(e) => {
                    AnsiTransactionManager::rollback_transaction(c)?;
                    Err(e)
                }
            }
        }
        _ => conn.transaction(f),
    }
}
