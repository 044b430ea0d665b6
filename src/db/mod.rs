//! SQLite through Diesel. Every query runs on a blocking thread through [`Db::run`]; no
//! connection is ever held across an `.await`.

pub mod organizations;
pub mod project_keys;
pub mod projects;
pub mod rows;
pub mod schema;
pub mod server;
pub mod tokens;
pub mod user_keys;
pub mod users;

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// The migrations in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How long a connection waits for another writer before giving up, in milliseconds.
pub const BUSY_TIMEOUT_MS: u32 = 5_000;

/// A pooled connection.
pub type Conn = PooledConnection<ConnectionManager<SqliteConnection>>;

/// Why the database could not be reached (not why a query failed).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no database connection available: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("database task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("cannot create the database directory {path}: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A handle on the database: cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<SqliteConnection>>,
    path: PathBuf,
}

/// Sets the per-connection PRAGMAs each time the pool opens a connection.
#[derive(Debug)]
struct Pragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON; \
             PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384;"
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

impl Db {
    /// Opens (creating if needed) the SQLite file at `path`, switches it to WAL and runs
    /// the embedded migrations.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::Directory {
                path: dir.to_owned(),
                source,
            })?;
        }
        let manager = ConnectionManager::<SqliteConnection>::new(path.to_string_lossy());
        let pool = Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(Pragmas))
            .build(manager)?;
        let mut conn = pool.get()?;
        // WAL is a property of the file: set once, it stays.
        conn.batch_execute("PRAGMA journal_mode = WAL;")
            .map_err(|e| DbError::Migration(e.to_string()))?;
        conn.run_pending_migrations(MIGRATIONS)
            .map_err(|e| DbError::Migration(e.to_string()))?;
        drop(conn);
        Ok(Self {
            pool,
            path: path.to_owned(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with one connection on a blocking thread, off the async runtime.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut SqliteConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            f(&mut conn)
        })
        .await
        .map_err(DbError::from)?
    }

    /// Runs `f` on the calling thread: for the command-line tools, which have no runtime.
    pub fn run_sync<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut SqliteConnection) -> Result<T, E>,
        E: From<DbError>,
    {
        let mut conn = self.pool.get().map_err(DbError::from)?;
        f(&mut conn)
    }

    /// Folds the WAL back into the main file; called once at shutdown.
    pub fn checkpoint(&self) -> Result<(), DbError> {
        let mut conn = self.pool.get()?;
        conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(|e| DbError::Migration(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_go_up_down_and_up_again() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("k.db")).unwrap();
        db.run_sync(|c| -> Result<(), DbError> {
            c.revert_all_migrations(MIGRATIONS)
                .map_err(|e| DbError::Migration(e.to_string()))?;
            c.run_pending_migrations(MIGRATIONS)
                .map_err(|e| DbError::Migration(e.to_string()))?;
            Ok(())
        })
        .unwrap();
    }
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
