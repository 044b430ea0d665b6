//! The PostgreSQL backend behind the seam: a pool of connections (r2d2), each request on a
//! blocking thread of its own. Nothing here is per server but the pool and the page marks,
//! which are checked against the version the database keeps, so any number of servers can
//! share one database.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::QueryResult;
use diesel::connection::SimpleConnection;
use diesel::deserialize::FromSqlRow;
use diesel::pg::Pg;
use diesel::pg::PgConnection;
use diesel::query_builder::{AsQuery, QueryFragment, QueryId};
use diesel::r2d2::{self, ManageConnection, Pool, R2D2Connection};
use diesel::{Connection, ConnectionError};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::StreamExt;

use super::conn::in_transaction;
use super::{Conn, DbError, ReadersState, WriteError};

/// The PostgreSQL migrations in `migrations-postgres/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations-postgres");

/// How the pool is sized and how long start-up waits for the database.
#[derive(Clone, Debug)]
pub struct Options {
    /// Connections in the pool.
    pub pool_size: u32,
    /// How long start-up retries an unreachable server.
    pub wait: Duration,
    /// How long a request waits for a free connection.
    pub checkout: Duration,
}

/// An advisory lock key ("keyward" in ASCII) held while migrating, so that servers starting
/// together migrate once.
const MIGRATION_LOCK: i64 = 0x006b_6579_7761_7264;

/// How many times a write transaction runs at most when it keeps losing races.
pub const WRITE_ATTEMPTS: u32 = 5;

/// The pause before the next attempt: random, up to 2, 4, 8, 16 ms, so that transactions
/// that collided once do not collide again in step.
fn backoff(attempt: u32) -> Duration {
    let ceiling_us = 1_000u64 << attempt.min(6);
    Duration::from_micros(rand::Rng::gen_range(
        &mut rand::thread_rng(),
        ceiling_us / 4..=ceiling_us,
    ))
}

/// A handle on the pool: cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pool: Pool<Manager>,
    /// One per pooled connection: how many requests may be on the database at once.
    permits: Arc<tokio::sync::Semaphore>,
    /// Requests waiting for a permit (the readers' gauge's queue).
    waiting: Arc<AtomicUsize>,
    marks: Arc<super::marks::PageMarks>,
    shared: Arc<Shared>,
}

/// Makes the pool's connections: PostgreSQL ones, inside the seam's [`Conn`].
#[derive(Debug)]
struct Manager {
    url: String,
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Conn, r2d2::Error> {
        PgConnection::establish(&self.url)
            .map(Conn::Pg)
            .map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), r2d2::Error> {
        pg(conn).ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        pg(conn).is_broken()
    }
}

/// The PostgreSQL connection inside a [`Conn`] this engine made.
fn pg(conn: &mut Conn) -> &mut PgConnection {
    match conn {
        Conn::Pg(c) => c,
        Conn::Sqlite(_) => unreachable!("the PostgreSQL engine only makes PostgreSQL connections"),
    }
}

/// Whether connecting failed for a reason that waiting can cure (the server is not up yet).
fn may_come_up(e: &ConnectionError) -> bool {
    match e {
        ConnectionError::BadConnection(message) => {
            let m = message.to_ascii_lowercase();
            m.contains("connection refused")
                || m.contains("could not connect")
                || m.contains("the database system is starting up")
                || m.contains("could not translate host name")
                || m.contains("timeout expired")
        }
        _ => false,
    }
}

impl Engine {
    /// Connects to `url` (retrying an unreachable server for `options.wait`), runs the
    /// embedded migrations under an advisory lock, and opens the pool.
    pub fn connect(url: &str, options: &Options) -> Result<Self, DbError> {
        let started = Instant::now();
        let mut first = loop {
            match PgConnection::establish(url) {
                Ok(c) => break c,
                Err(e) if may_come_up(&e) && started.elapsed() < options.wait => {
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(e) => {
                    let waited = started.elapsed().as_secs();
                    let mut words = e
                        .to_string()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ");
                    if may_come_up(&e) {
                        words = format!("{words} (retried for {waited} s; --database-wait)");
                    }
                    return Err(DbError::PgConnect(words));
                }
            }
        };
        first
            .batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .map_err(DbError::Setup)?;
        let migrated = first.run_pending_migrations(MIGRATIONS).map(drop);
        first
            .batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
            .map_err(DbError::Setup)?;
        migrated.map_err(DbError::Migration)?;
        let pool = Pool::builder()
            .max_size(options.pool_size)
            .min_idle(Some(options.pool_size.min(4)))
            .connection_timeout(options.checkout)
            // No `SELECT 1` before each request (one round trip in six on a key view): a
            // connection that broke is known by its error and dropped (`has_broken`).
            .test_on_check_out(false)
            .build(Manager {
                url: url.to_owned(),
            })
            .map_err(|e| DbError::Pool(e.to_string()))?;
        Ok(Self {
            pool,
            permits: Arc::new(tokio::sync::Semaphore::new(options.pool_size as usize)),
            waiting: Arc::default(),
            marks: Arc::default(),
            shared: Arc::new(Shared::for_url(url, shared_connections())),
        })
    }

    /// The shared asynchronous connections (see [`Shared`]).
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    pub fn page_marks(&self) -> Arc<super::marks::PageMarks> {
        self.marks.clone()
    }

    /// The pool as the readers' gauge shows it: idle and checked-out connections, and the
    /// requests waiting for one.
    pub fn readers_state(&self) -> ReadersState {
        let state = self.pool.state();
        ReadersState {
            idle: state.idle_connections as usize,
            busy: (state.connections - state.idle_connections) as usize,
            queued: self.waiting.load(Ordering::Relaxed),
        }
    }

    /// Runs `f` (reads) on a pooled connection, on a blocking thread, each statement on its
    /// own: it sees what was committed when it ran. What must agree (a page and its total)
    /// reads one snapshot through [`one_snapshot`](super::one_snapshot). A transaction
    /// around every request cost two of a key view's five round trips.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        self.blocking(f).await
    }

    /// Runs `f` in one `READ COMMITTED` transaction; the answer comes after COMMIT. Rules
    /// that must hold across servers rest on constraints and row locks, not on a lone writer.
    /// A transaction that lost a race to another ([`WriteError::raced`]) is rolled back and
    /// run again from the start, up to [`WRITE_ATTEMPTS`] times, after a short random pause;
    /// the client sees only the last answer.
    pub async fn write<T, E, F>(&self, mut f: F) -> Result<T, E>
    where
        F: FnMut(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: WriteError + Send + 'static,
    {
        self.blocking(move |conn| {
            let mut attempt = 1;
            loop {
                match in_transaction(conn, "BEGIN", &mut f) {
                    Err(e) if e.raced() && attempt < WRITE_ATTEMPTS => {
                        tracing::debug!(attempt, "write lost a race; running it again");
                        std::thread::sleep(backoff(attempt));
                        attempt += 1;
                    }
                    done => return done,
                }
            }
        })
        .await
    }

    /// Runs `f` on the calling thread with a pooled connection: start-up and the tools.
    pub fn run_sync<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E>,
        E: From<DbError>,
    {
        let mut conn = self.pool.get().map_err(|e| DbError::Pool(e.to_string()))?;
        f(&mut conn)
    }

    async fn blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        // Requests queue here, in order and without a thread each, for one of the pool's
        // connections; on a blocking thread the checkout then never waits.
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let permit = self.permits.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        let permit = permit.map_err(|_| DbError::Failed)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _entered = span.enter();
            let mut conn = pool.get().map_err(|e| DbError::Pool(e.to_string()))?;
            f(&mut conn)
        })
        .await
        .map_err(|_| DbError::Failed)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_connections_only_where_they_lose_no_tls() {
        let shared = |url: &str| !Shared::for_url(url, 2).slots.is_empty();
        for local in [
            "postgres://kw@127.0.0.1:5432/kw",
            "postgres://kw:pw@localhost/kw",
            "postgres://kw@[::1]:5432/kw",
            "postgres://kw@127.0.0.1/kw?sslmode=prefer",
            "postgres://kw@db.example.com/kw?sslmode=disable",
            "postgres://kw@%2Fvar%2Frun%2Fpostgresql/kw",
            "postgres://kw@/kw?host=/tmp",
        ] {
            assert!(shared(local), "{local}");
        }
        for remote in [
            "postgres://kw@db.example.com/kw",
            "postgres://kw@10.0.0.5/kw",
            "postgres://kw@127.0.0.1/kw?sslmode=require",
            "postgres://kw@127.0.0.1/kw?sslmode=verify-full&sslrootcert=/ca.pem",
            "postgres://kw@127.0.0.1,db.example.com/kw",
        ] {
            assert!(!shared(remote), "{remote}");
        }
    }

    #[test]
    fn an_unreachable_server_is_retried_then_named_without_the_password() {
        // Nothing listens on port 1: refused at once, retried for `wait`, then given up.
        let options = Options {
            pool_size: 1,
            wait: Duration::from_millis(600),
            checkout: Duration::from_secs(1),
        };
        let started = Instant::now();
        let Err(e) = Engine::connect("postgres://kw:hunter2@127.0.0.1:1/kw", &options) else {
            panic!("connected to nothing");
        };
        assert!(started.elapsed() >= options.wait, "gave up before the wait");
        let message = e.to_string();
        assert!(matches!(e, DbError::PgConnect(_)), "{message}");
        assert!(message.contains("--database-url"), "{message}");
        assert!(message.contains("--database-wait"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        assert!(!message.contains('\n'), "one line: {message}");
    }
}

/// A few asynchronous connections (`tokio-postgres`, under `diesel-async`) shared by every
/// request, for the read that opens a key view: a request sends its statement from the
/// runtime's own thread and awaits the answer, and the statements of concurrent requests on
/// one connection are pipelined (sent without waiting for the answers before them). A
/// pooled blocking connection parks a thread and wakes a PostgreSQL backend for every
/// statement; here, while requests keep coming, neither side sleeps between statements.
/// Nothing is cached but prepared statements: every call reads the database.
///
/// An accelerator, never the only way: when a shared connection cannot be made (the
/// server insists on TLS, which only the pool's libpq speaks) or a statement on it fails,
/// the caller reads through the pool instead, and the slot tries again some seconds later.
pub struct Shared {
    url: String,
    slots: Vec<std::sync::Mutex<Slot>>,
    next: AtomicUsize,
}

type SharedConn = Arc<std::sync::Mutex<AsyncPgConnection>>;

/// One shared connection, or when the last attempt to make one failed.
#[derive(Default)]
struct Slot {
    conn: Option<SharedConn>,
    failed: Option<Instant>,
}

/// The `application_name` of the shared connections.
pub const SHARED_NAME: &str = "keyward-shared";

/// How long a slot whose connection could not be made leaves reads to the pool.
const SHARED_RETRY: Duration = Duration::from_secs(5);

/// How many shared connections by default: one per two cores (one on this project's 2-core
/// machines, where one pipelined connection served S2 fastest: 15,000 req/s against 11,900
/// with two and 12,800 with four).
pub fn shared_connections() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

impl Shared {
    /// Shared connections for `url`, if it is one they can serve as safely as the pool:
    /// they speak no TLS, so only to a server on this host (loopback or a Unix socket) or
    /// with `sslmode=disable`. For a remote server reached over TLS (libpq's default
    /// `sslmode=prefer` included), every read goes through the pool.
    fn for_url(url: &str, connections: usize) -> Self {
        use tokio_postgres::config::{Host, SslMode};
        let usable = url.parse::<tokio_postgres::Config>().is_ok_and(|c| {
            let local = c.get_hosts().iter().all(|h| match h {
                Host::Unix(_) => true,
                Host::Tcp(name) => {
                    name == "localhost"
                        || name
                            .trim_matches(|c| c == '[' || c == ']')
                            .parse::<std::net::IpAddr>()
                            .is_ok_and(|ip| ip.is_loopback())
                }
            });
            match c.get_ssl_mode() {
                SslMode::Disable => true,
                SslMode::Prefer => local,
                _ => false,
            }
        });
        if usable {
            tracing::debug!(
                connections,
                "key views on PostgreSQL read over shared connections"
            );
            Self::new(url, connections)
        } else {
            tracing::debug!(
                "key views on PostgreSQL read through the pool (the server is remote and may use TLS)"
            );
            Self::new(url, 0)
        }
    }

    fn new(url: &str, connections: usize) -> Self {
        // Named, so that `pg_stat_activity` tells them from the pool's connections.
        let url = if url.contains("application_name=") {
            url.to_owned()
        } else {
            let joiner = if url.contains('?') { '&' } else { '?' };
            format!("{url}{joiner}application_name={SHARED_NAME}")
        };
        Self {
            url,
            slots: (0..connections)
                .map(|_| std::sync::Mutex::default())
                .collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// The first row `query` returns, if any; `None` when no shared connection is usable
    /// now (read through the pool instead).
    pub async fn first<'q, Q, U>(&self, query: Q) -> Option<QueryResult<Option<U>>>
    where
        Q: AsQuery + 'q,
        Q::Query: QueryFragment<Pg> + QueryId + 'q,
        U: FromSqlRow<Q::SqlType, Pg>,
    {
        if self.slots.is_empty() {
            return None;
        }
        let slot = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let conn = self.connection(slot).await?;
        // Only making the future holds the lock: the future owns what it needs, so the
        // statements of concurrent requests go out on the connection one after another.
        let pending = {
            let mut c = conn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            AsyncConnection::load(&mut *c, query)
        };
        let answer = async {
            let mut rows = pending.await?;
            match rows.next().await {
                Some(row) => U::build_from_row(&row?)
                    .map(Some)
                    .map_err(diesel::result::Error::DeserializationError),
                None => Ok(None),
            }
        }
        .await;
        match answer {
            Ok(found) => Some(Ok(found)),
            Err(e) => {
                // A statement's own error leaves the connection usable, but telling the two
                // apart is not worth keeping a broken one: make a new one next time.
                tracing::warn!(error = %e, "a read on a shared connection failed; reading through the pool");
                let mut held = self.lock(slot);
                if held.conn.as_ref().is_some_and(|c| Arc::ptr_eq(c, &conn)) {
                    held.conn = None;
                }
                None
            }
        }
    }

    async fn connection(&self, slot: usize) -> Option<SharedConn> {
        {
            let held = self.lock(slot);
            if let Some(c) = &held.conn {
                return Some(c.clone());
            }
            if held.failed.is_some_and(|at| at.elapsed() < SHARED_RETRY) {
                return None;
            }
        }
        match AsyncPgConnection::establish(&self.url).await {
            Ok(made) => {
                let mut held = self.lock(slot);
                held.failed = None;
                Some(
                    held.conn
                        .get_or_insert_with(|| Arc::new(std::sync::Mutex::new(made)))
                        .clone(),
                )
            }
            Err(e) => {
                tracing::warn!(error = %e, "no shared connection to PostgreSQL; reading through the pool");
                self.lock(slot).failed = Some(Instant::now());
                None
            }
        }
    }

    fn lock(&self, slot: usize) -> std::sync::MutexGuard<'_, Slot> {
        self.slots[slot]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
