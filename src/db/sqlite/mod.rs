//! The SQLite backend: the database file, off the async runtime's threads, through two
//! doors:
//!
//! - [`Engine::run`] for reads: a few reader threads, each with its own connection, take the
//!   requests' read work from one queue (see [`readers`]). Each request's reads run in one
//!   read transaction: one snapshot, SQLite's locks taken once.
//! - [`Engine::write`] for anything that writes: one writer thread owns one connection and runs
//!   whatever requests are waiting in a single `BEGIN IMMEDIATE` transaction (group
//!   commit), each in its own savepoint. A request hears back only after the COMMIT, so an
//!   acknowledged write is durable and visible to the very next request. SQLite allows one
//!   writer at a time anyway; doing it in-process replaces lock contention and busy-waits
//!   with a queue.
//! - A checkpointer thread folds the WAL back into the file (see [`checkpoint`]).
//!
//! No connection is ever held across an `.await`.

mod checkpoint;
mod readers;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

use checkpoint::Checkpoints;

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::sqlite::SqliteConnection;

use super::Conn;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// The migrations in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How long a connection waits for another writer before giving up, in milliseconds.
pub const BUSY_TIMEOUT_MS: u32 = 5_000;

/// Reader threads, each with its own connection: one per core (at least two, so one long
/// list cannot hold up every other read; at most eight). More readers than cores only add
/// context switches: measured on 2 cores, 4 readers served a key lookup about 10% slower
/// than 2.
pub fn reader_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8))
}

pub use readers::ReadersState;

/// The most write requests committed together in one transaction.
const MAX_BATCH: usize = 256;

/// Per-connection page cache, in KiB (SQLite's negative `cache_size`).
const CACHE_KIB: u32 = 2_048;

/// Why the database could not be reached (not why a query failed).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database is closed")]
    Closed,
    #[error("the database task failed")]
    Failed,
    #[error("database migration failed: {0}")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("cannot prepare the database: {0}")]
    Setup(#[source] diesel::result::Error),
    #[error("cannot start the {0} thread: {1}")]
    Thread(&'static str, #[source] std::io::Error),
    #[error("cannot create the database directory {path}: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The batch holding the write was rolled back; the cause is shared by every request
    /// of the batch.
    #[error("the write was not committed: {0}")]
    Commit(Arc<diesel::result::Error>),
    /// The write never reached the database (the writer stopped).
    #[error("the write was not applied")]
    NotApplied,
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    /// PostgreSQL refused the connection or could not be reached (libpq's words, on one
    /// line; they never hold the password).
    #[error("cannot connect to PostgreSQL (--database-url, KEYWARD_DATABASE_URL): {0}")]
    PgConnect(String),
    /// No pooled connection came free in time, or the pool could not be built.
    #[error("no database connection: {0}")]
    Pool(String),
}

impl DbError {
    /// Whether retrying later may succeed (the database was locked by another process).
    pub fn is_busy(&self) -> bool {
        match self {
            Self::Commit(e) => is_busy(e),
            _ => false,
        }
    }
}

/// Whether a query failed because another process held the database past the busy
/// timeout. Diesel reports SQLite's `SQLITE_BUSY` with no kind of its own (`Unknown`), so
/// this is the one place that reads SQLite's wording; nothing else classifies by text.
pub fn is_busy(e: &diesel::result::Error) -> bool {
    match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::Unknown, info) => {
            let message = info.message();
            message.contains("database is locked") || message.contains("database is busy")
        }
        _ => false,
    }
}

/// Why a backup was not made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("cannot create {}: {source}", .path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Open(#[source] DbError),
    #[error("cannot copy the database: {0}")]
    Copy(#[source] diesel::result::Error),
    #[error(
        "`keyward backup` copies SQLite files; back a PostgreSQL database up with its own tools: \
         pg_dump --format=custom \"$KEYWARD_DATABASE_URL\" > keyward.dump"
    )]
    Postgres,
}

/// What the writer thread runs: a request's writes, returning how to answer it once the
/// batch's fate (committed, or the error that undid it) is known.
type Job = Box<dyn FnOnce(&mut Conn) -> Completion + Send>;
type Completion = Box<dyn FnOnce(Result<(), Arc<diesel::result::Error>>) + Send>;

/// A handle on the SQLite database: cheap to clone.
#[derive(Clone)]
pub struct Engine {
    readers: Arc<readers::Readers>,
    marks: Arc<super::marks::PageMarks>,
    checkpoints: Arc<Checkpoints>,
    writer: mpsc::Sender<Job>,
    path: Arc<Path>,
}

/// Creates `dir` (and its missing parents) readable by this user only. An existing
/// directory keeps its mode: it may be shared on purpose.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Makes the database file (creating it empty if missing) and its `-wal` and `-shm`
/// readable by this user only, whatever the umask: they hold the signing secret and every
/// key hash. SQLite gives the `-wal` and `-shm` files it creates the database file's mode.
fn private_files(path: &Path) {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let file = PathBuf::from(file);
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        if meta.permissions().mode() & 0o077 != 0 {
            if let Err(e) = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
            {
                tracing::warn!(
                    file = %file.display(),
                    error = %e,
                    "cannot make the database file private (mode 0600)"
                );
            }
        }
    }
}

/// Creates `path` as an empty file readable by this user only (for a backup to be written
/// into); fails if it exists.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
}

/// Opens a connection to `path` with the PRAGMAs every connection gets. (`journal_mode =
/// WAL` is set once, at open.)
fn connect(path: &Path) -> Result<SqliteConnection, DbError> {
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
    setup(
        &mut conn,
        &format!(
            "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON; \
             PRAGMA synchronous = NORMAL; PRAGMA cache_size = -{CACHE_KIB};"
        ),
    )?;
    Ok(conn)
}

/// Runs set-up SQL (PRAGMAs) on `conn`.
fn setup(conn: &mut SqliteConnection, sql: &str) -> Result<(), DbError> {
    conn.batch_execute(sql).map_err(DbError::Setup)
}

/// The writer thread: takes whatever requests are waiting, runs them in one transaction
/// (each in a savepoint), commits, then answers them all, and tells the checkpointer.
fn writer_loop(mut conn: Conn, jobs: &mpsc::Receiver<Job>, checkpoints: &Checkpoints, wal: &Path) {
    while let Ok(first) = jobs.recv() {
        checkpoints.before_batch(sqlite(&mut conn), wal);
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut answers: Vec<Completion> = Vec::with_capacity(batch.len());
        let outcome = run_batch(&mut conn, &mut batch, &mut answers).map_err(Arc::new);
        match &outcome {
            Ok(()) => checkpoints.committed(),
            Err(e) => {
                tracing::error!(error = %e, requests = answers.len(), "a write batch was rolled back");
            }
        }
        for answer in answers {
            answer(outcome.clone());
        }
        // Requests left in `batch` (BEGIN failed) are dropped: each hears "not committed".
    }
    checkpoints.close();
}

/// The SQLite connection inside a [`Conn`] this engine made.
fn sqlite(conn: &mut Conn) -> &mut SqliteConnection {
    match conn {
        Conn::Sqlite(c) => c,
        Conn::Pg(_) => unreachable!("the SQLite engine only makes SQLite connections"),
    }
}

/// Runs a batch's jobs in one `BEGIN IMMEDIATE` transaction (each job's own transaction is a
/// savepoint inside it) and commits; a job that panics undoes the whole batch.
fn run_batch(
    conn: &mut Conn,
    batch: &mut Vec<Job>,
    answers: &mut Vec<Completion>,
) -> diesel::QueryResult<()> {
    type Manager = AnsiTransactionManager;
    Manager::begin_transaction_sql(sqlite(conn), "BEGIN IMMEDIATE")?;
    for job in batch.drain(..) {
        let Ok(answer) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn)))
        else {
            // The job's savepoint may still be open: unwind every level.
            let raw = sqlite(conn);
            while let Ok(Some(_)) = Manager::transaction_manager_status_mut(raw).transaction_depth()
            {
                if Manager::rollback_transaction(raw).is_err() {
                    break;
                }
            }
            return Err(diesel::result::Error::RollbackTransaction);
        };
        answers.push(answer);
    }
    // A failed COMMIT is rolled back by the transaction manager itself.
    Manager::commit_transaction(sqlite(conn))
}

impl Engine {
    /// Opens (creating if needed) the SQLite file at `path`, switches it to WAL and runs
    /// the embedded migrations.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        Self::open_with(path, checkpoint::Limits::default())
    }

    fn open_with(path: &Path, limits: checkpoint::Limits) -> Result<Self, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_dir(dir).map_err(|source| DbError::Directory {
                path: dir.to_owned(),
                source,
            })?;
        }
        private_files(path);
        let mut writer_conn = connect(path)?;
        // WAL is a property of the file: set once, it stays.
        setup(&mut writer_conn, "PRAGMA journal_mode = WAL;")?;
        writer_conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(DbError::Migration)?;
        let reader_conns = (0..reader_count())
            .map(|_| connect(path).map(Conn::Sqlite))
            .collect::<Result<Vec<_>, _>>()?;
        let reconnect_to = path.to_owned();
        let reconnect: readers::Reconnect = Arc::new(move || {
            connect(&reconnect_to)
                .map(Conn::Sqlite)
                .map_err(|e| tracing::error!(error = %e, "a database reader cannot reconnect"))
                .ok()
        });
        let readers = readers::Readers::start(reader_conns, &reconnect)
            .map_err(|e| DbError::Thread("reader", e))?;
        // The checkpointer thread checkpoints, not the writer's commits (see [`checkpoint`]).
        setup(&mut writer_conn, "PRAGMA wal_autocheckpoint = 0;")?;
        // A restarted WAL file is cut back to the restart size at its next commit, so the
        // file's size says how much the WAL holds (see [`checkpoint`]).
        setup(
            &mut writer_conn,
            &format!(
                "PRAGMA journal_size_limit = {};",
                limits.max_wal.min(i64::MAX as u64)
            ),
        )?;
        let mut checkpointer_conn = connect(path)?;
        let checkpoints = Arc::new(Checkpoints::new(limits));
        let shared = checkpoints.clone();
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let files = checkpoint::Files {
            db: path.to_owned(),
            wal: PathBuf::from(wal),
        };
        let writer_wal = files.wal.clone();
        std::thread::Builder::new()
            .name("keyward-checkpointer".into())
            .spawn(move || shared.run(&mut checkpointer_conn, &files))
            .map_err(|e| DbError::Thread("checkpointer", e))?;
        let (writer, jobs) = mpsc::channel::<Job>();
        let on_failure = checkpoints.clone();
        let shared = checkpoints.clone();
        std::thread::Builder::new()
            .name("keyward-writer".into())
            .spawn(move || writer_loop(Conn::Sqlite(writer_conn), &jobs, &shared, &writer_wal))
            .map_err(|e| {
                on_failure.close();
                DbError::Thread("writer", e)
            })?;
        Ok(Self {
            readers: Arc::new(readers),
            marks: Arc::default(),
            checkpoints,
            writer,
            path: Arc::from(path),
        })
    }

    /// Remembered positions in this database's long key lists.
    pub fn page_marks(&self) -> Arc<super::marks::PageMarks> {
        self.marks.clone()
    }

    /// How the reader threads stand right now.
    pub fn readers_state(&self) -> ReadersState {
        self.readers.state()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` (reads) on a reader thread, inside one read transaction: the request sees
    /// one snapshot, and takes SQLite's locks once.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        self.checkpoints.touch();
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<T, E>>();
        // The reader thread logs inside the request's span, so its lines carry the id.
        let span = tracing::Span::current();
        let job: readers::ReadJob = Box::new(move |conn| {
            let _entered = span.enter();
            let _ = reply.send(conn.transaction(f));
        });
        self.readers.submit(job).map_err(|_| DbError::Closed)?;
        answer.await.map_err(|_| DbError::Failed)?
    }

    /// Runs `f` (which writes) on the writer thread, as a savepoint of the next batch; the
    /// answer comes after that batch commits.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let span = tracing::Span::current();
        let job: Job = Box::new(move |conn| {
            let result = span.in_scope(|| conn.transaction(f));
            Box::new(move |committed: Result<(), Arc<diesel::result::Error>>| {
                let result = match committed {
                    Ok(()) => result,
                    Err(e) => Err(E::from(DbError::Commit(e))),
                };
                let _ = reply.send(result);
            })
        });
        self.writer.send(job).map_err(|_| DbError::NotApplied)?;
        answer.await.map_err(|_| DbError::NotApplied)?
    }

    /// Runs `f` on the calling thread with a connection of its own: for start-up and the
    /// command-line tools.
    pub fn run_sync<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E>,
        E: From<DbError>,
    {
        f(&mut Conn::Sqlite(connect(&self.path)?))
    }

    /// Writes a consistent copy of the database to the new file `to` (`VACUUM INTO`), safe
    /// while the server runs. The copy holds the signing secret and every key hash: it is
    /// made private before SQLite writes into it (`VACUUM INTO` fills an empty file), and
    /// removed again if the copy fails.
    pub fn backup_to(&self, to: &Path) -> Result<(), BackupError> {
        create_private_file(to).map_err(|source| BackupError::Create {
            path: to.to_owned(),
            source,
        })?;
        let target = to.to_string_lossy().replace('\'', "''");
        let copied = connect(&self.path)
            .map_err(BackupError::Open)
            .and_then(|mut c| {
                c.batch_execute(&format!("VACUUM INTO '{target}'"))
                    .map_err(BackupError::Copy)
            });
        if copied.is_err() {
            let _ = std::fs::remove_file(to);
        }
        copied
    }

    /// Folds the WAL back into the main file; called once at shutdown.
    pub fn checkpoint(&self) -> Result<(), DbError> {
        setup(
            &mut connect(&self.path)?,
            "PRAGMA wal_checkpoint(TRUNCATE);",
        )
    }
}

#[cfg(test)]
mod tests;
