//! The checkpointer: a thread of its own that copies the WAL's pages back into the database
//! file, so that the writer only ever appends to the WAL.
//!
//! Left to itself, SQLite checkpoints inside whichever commit takes the WAL past 1,000 pages:
//! two fsyncs and a page copy while every queued write waits (S7's p99 was 28 ms). Here the
//! writer runs with `wal_autocheckpoint = 0` and tells the checkpointer after each commit;
//! the checkpointer runs `PASSIVE` checkpoints (which never wait for, nor hold up, the
//! writer or the readers), at most one per [`MIN_INTERVAL`].
//!
//! A WAL is restarted from its first frame only when a write transaction begins with every
//! frame copied back, which a steady stream of writes never allows: during a burst the WAL
//! file grows (the checkpointer keeps up with copying, so nothing is left to do when the
//! burst ends), and the first write after it starts the file over from its beginning.
//! Making the writer stop for a restart mid-burst was measured and rejected: each stop (one
//! checkpoint pass, ~50 ms here) pushed S7's p99 from 6 ms to 50–100 ms. A burst long
//! enough to reach [`MAX_FRAMES`] does make the writer stop, so the file stays bounded.
//!
//! Cutting a grown file back is slow (670 ms for 1 GB on this machine's disk) and locks
//! readers out meanwhile, so it waits until the server has been idle, no read and no write,
//! for [`IDLE`].

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use diesel::sql_types::Integer;
use diesel::sqlite::SqliteConnection;
use diesel::{QueryableByName, RunQueryDsl};

/// The least time between two passes (each ends with fsyncs).
const MIN_INTERVAL: Duration = Duration::from_millis(50);

/// After this long with no request touching the database, a WAL file grown past
/// [`IDLE_SIZE`] is emptied.
const IDLE: Duration = Duration::from_secs(5);

/// The size past which an idle WAL file is emptied.
const IDLE_SIZE: u64 = 64 * 1024 * 1024;

/// WAL frames (pages) past which the writer stops until the WAL restarts: 2 GiB of 4 KiB
/// pages, about 20 s of creating keys as fast as this server can on two cores.
const MAX_FRAMES: i32 = 524_288;

/// The longest the writer waits for that restart; past it, it goes on (the WAL grows).
const RESTART_WAIT: Duration = Duration::from_secs(5);

#[derive(Default)]
struct State {
    /// A commit happened (or the writer waits) since the last pass began.
    wanted: bool,
    /// The writer is waiting for a pass: skip the pause between passes.
    urgent: bool,
    /// Passes begun, and passes done.
    started: u64,
    passes: u64,
    /// WAL frames after the last pass.
    frames: i32,
    closed: bool,
}

/// When the checkpointer empties the WAL file and when the writer waits for a restart.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub idle: Duration,
    pub idle_size: u64,
    pub max_frames: i32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            idle: IDLE,
            idle_size: IDLE_SIZE,
            max_frames: MAX_FRAMES,
        }
    }
}

/// What the writer, the readers and the checkpointer share.
#[derive(Default)]
pub struct Checkpoints {
    limits: Limits,
    state: Mutex<State>,
    changed: Condvar,
    /// Requests that reached the database so far.
    activity: AtomicU64,
}

#[derive(QueryableByName)]
struct PassResult {
    #[diesel(sql_type = Integer)]
    log: i32,
}

impl Checkpoints {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Called for every read request (a write's commit already wakes the checkpointer).
    pub fn touch(&self) {
        self.activity.fetch_add(1, Ordering::Relaxed);
    }

    /// Called by the writer after each commit.
    pub fn committed(&self) {
        let mut state = self.lock();
        if !state.wanted {
            state.wanted = true;
            drop(state);
            self.changed.notify_all();
        }
    }

    /// Called by the writer before each batch: when the WAL has grown past [`MAX_FRAMES`],
    /// waits for a pass that began after this call, so that the batch restarts the WAL.
    pub fn before_batch(&self) {
        let mut state = self.lock();
        if state.frames <= self.limits.max_frames || state.closed {
            return;
        }
        // The next pass to begin is number `started + 1`; when it is done, so is this wait.
        let target = state.started + 1;
        state.wanted = true;
        state.urgent = true;
        self.changed.notify_all();
        let (mut state, waited) = self
            .changed
            .wait_timeout_while(state, RESTART_WAIT, |s| s.passes < target && !s.closed)
            .unwrap_or_else(PoisonError::into_inner);
        if waited.timed_out() {
            tracing::warn!("the WAL checkpoint is slow; writing on");
        }
        // This batch restarts the WAL (if no reader still needs its old frames; the next
        // pass will tell).
        state.frames = 0;
    }

    /// Stops the checkpointer once it has done what was asked.
    pub fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// The checkpointer thread's loop; `wal` is the WAL file's path.
    pub fn run(&self, conn: &mut SqliteConnection, wal: &Path) {
        let mut last: Option<Instant> = None;
        loop {
            let mut state = self.lock();
            let mut seen = self.activity.load(Ordering::Relaxed);
            while !state.wanted && !state.closed {
                let (next, timeout) = self
                    .changed
                    .wait_timeout(state, self.limits.idle)
                    .unwrap_or_else(PoisonError::into_inner);
                state = next;
                let now = self.activity.load(Ordering::Relaxed);
                if timeout.timed_out() && !state.wanted && now == seen {
                    drop(state);
                    truncate_if_grown(conn, wal, self.limits.idle_size);
                    state = self.lock();
                }
                seen = now;
            }
            if !state.wanted {
                return;
            }
            // Wait out the rest of the interval unless the writer is waiting.
            if let Some(since) = last {
                let left = MIN_INTERVAL.saturating_sub(since.elapsed());
                state = self
                    .changed
                    .wait_timeout_while(state, left, |s| !s.urgent && !s.closed)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            state.wanted = false;
            state.urgent = false;
            state.started += 1;
            drop(state);
            let frames = match diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)")
                .get_result::<PassResult>(conn)
            {
                Ok(r) => r.log,
                Err(e) => {
                    tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
                    0
                }
            };
            last = Some(Instant::now());
            let mut state = self.lock();
            state.passes += 1;
            state.frames = frames;
            drop(state);
            self.changed.notify_all();
        }
    }
}

/// Empties a WAL file that a burst of writes left large (the writer waits meanwhile).
fn truncate_if_grown(conn: &mut SqliteConnection, wal: &Path, idle_size: u64) {
    let grown = std::fs::metadata(wal).is_ok_and(|m| m.len() > idle_size);
    if grown {
        if let Err(e) = diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").execute(conn) {
            tracing::warn!(error = %e, "WAL truncation failed; retried when next idle");
        }
    }
}
