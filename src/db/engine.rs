//! [`Db`]: the two doors over whichever backend the server was started on.

use std::path::Path;
use std::sync::Arc;

use super::{
    BackupError, Conn, DbError, ReadersState, WriteError, marks::PageMarks, postgres, sqlite,
};

/// A handle on the database: cheap to clone.
#[derive(Clone)]
pub enum Db {
    /// The embedded default: one SQLite file.
    Sqlite(sqlite::Engine),
    /// A PostgreSQL server, which several Keyward servers may share.
    Postgres(postgres::Engine),
}

/// Calls the same method on whichever engine this is.
macro_rules! either {
    ($db:expr, |$e:ident| $body:expr) => {
        match $db {
            Db::Sqlite($e) => $body,
            Db::Postgres($e) => $body,
        }
    };
}

impl Db {
    /// Opens (creating if needed) the SQLite file at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        sqlite::Engine::open(path).map(Self::Sqlite)
    }

    /// Connects to PostgreSQL at `url` and migrates it.
    pub fn connect(url: &str, options: &postgres::Options) -> Result<Self, DbError> {
        postgres::Engine::connect(url, options).map(Self::Postgres)
    }

    /// Runs `f` (reads). On SQLite in one read transaction (one snapshot); on PostgreSQL
    /// each statement on its own, with what must agree read through
    /// [`one_snapshot`](super::one_snapshot).
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        either!(self, |e| e.run(f).await)
    }

    /// Runs `f` (which writes) in one write transaction; the answer comes after COMMIT. On
    /// PostgreSQL `f` may run more than once: a transaction that lost a race to another
    /// server's is run again (see [`postgres::Engine::write`]).
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnMut(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: WriteError + Send + 'static,
    {
        either!(self, |e| e.write(f).await)
    }

    /// Runs `f` on the calling thread with a connection: start-up and the command-line tools.
    pub fn run_sync<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E>,
        E: From<DbError>,
    {
        either!(self, |e| e.run_sync(f))
    }

    /// PostgreSQL's shared asynchronous connections (`None` on SQLite).
    pub fn shared(&self) -> Option<&postgres::Shared> {
        match self {
            Self::Sqlite(_) => None,
            Self::Postgres(e) => Some(e.shared()),
        }
    }

    pub fn page_marks(&self) -> Arc<PageMarks> {
        either!(self, |e| e.page_marks())
    }

    /// The connections serving reads: idle, busy, and requests waiting for one.
    pub fn readers_state(&self) -> ReadersState {
        either!(self, |e| e.readers_state())
    }

    /// Where the database is, for messages: the SQLite file, or "PostgreSQL".
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(e) => e.path().display().to_string(),
            Self::Postgres(_) => "the PostgreSQL database".to_owned(),
        }
    }

    /// Writes a consistent copy to the new file `to`; on PostgreSQL, points to `pg_dump`.
    pub fn backup_to(&self, to: &Path) -> Result<(), BackupError> {
        match self {
            Self::Sqlite(e) => e.backup_to(to),
            Self::Postgres(_) => Err(BackupError::Postgres),
        }
    }

    /// Called once at shutdown: folds SQLite's WAL back into its file.
    pub fn checkpoint(&self) -> Result<(), DbError> {
        match self {
            Self::Sqlite(e) => e.checkpoint(),
            Self::Postgres(_) => Ok(()),
        }
    }
}
