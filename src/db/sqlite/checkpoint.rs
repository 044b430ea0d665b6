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
//! frame copied back and no reader still on an old snapshot, which a steady stream of writes
//! never allows by itself: the file grew by ~7.7 KB per created key, to 2 GiB in 20 s. So
//! once the WAL file is past [`MAX_WAL`], the writer, between two batches, runs a `RESTART`
//! checkpoint on its own connection: it copies the frames the checkpointer has not yet
//! copied, waits for the readers of older snapshots (requests: well under a millisecond),
//! and so the next batch starts the WAL over. The
//! file stays near `MAX_WAL`: `journal_size_limit` cuts it back to that size at the first
//! commit after a restart, so its size tells the writer when to restart again (one `stat`
//! per batch). Measured costs are in `bench/README.md`.
//!
//! A restart's stall is mostly its `fsync` of the database file, which flushes every page
//! copied since the last one. SQLite fsyncs the database only when a pass ends at the WAL's
//! live end, which during a write stream the writer has always moved past, so a whole restart
//! cycle's pages were flushed inside the writer's restart (p50 16 ms over 60 s of S7, growing
//! with the file). So the checkpointer syncs the database file itself after each pass that
//! copied frames, on its own thread, and a restart flushes only what was copied since its last
//! pass (p50 5 ms).
//!
//! Cutting a grown file back is slow (670 ms for 1 GB on this machine's disk) and locks
//! readers out meanwhile, so it waits until the server has been idle, no read and no write,
//! for [`IDLE`].

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use diesel::sql_types::Integer;
use diesel::sqlite::SqliteConnection;
use diesel::{QueryableByName, RunQueryDsl};

/// The least time between two passes (each ends with fsyncs, 0.2 ms here). Short, so that
/// little is left to copy when the writer restarts the WAL: over 60 s of S7, 50 ms gave a
/// p99 of 26 ms and a maximum of 44 ms, 10 ms 21 ms and 33 ms.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// After this long with no request touching the database, a WAL file grown past
/// [`IDLE_SIZE`] is emptied.
const IDLE: Duration = Duration::from_secs(5);

/// The size past which an idle WAL file is emptied.
const IDLE_SIZE: u64 = 64 * 1024 * 1024;

/// The WAL file size past which the writer restarts the WAL: about 2,000 created keys. A
/// restart's stall grows with it, and restarts come more often below it: over 60 s of S7,
/// 48 MiB gave a p99 of 44 ms, 16 MiB 26 ms at 17.3k creates/s, 8 MiB 21 ms at 12.6k/s.
pub const MAX_WAL: u64 = 16 * 1024 * 1024;

/// The least time between two restart attempts the readers held off (a long read keeps an
/// old snapshot): the writer does not spend every batch waiting for it.
const RESTART_RETRY: Duration = Duration::from_millis(20);

#[derive(Default)]
struct State {
    /// A commit happened since the last pass began.
    wanted: bool,
    /// When the writer last found the readers holding off a restart.
    restart_failed: Option<Instant>,
    /// WAL restarts the writer made.
    restarts: u64,
    closed: bool,
}

/// When the checkpointer empties the WAL file and when the writer restarts the WAL.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub idle: Duration,
    pub idle_size: u64,
    /// The WAL file size past which the writer restarts the WAL.
    pub max_wal: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            idle: IDLE,
            idle_size: IDLE_SIZE,
            max_wal: MAX_WAL,
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
    /// Times the checkpointer synced the database file.
    syncs: AtomicU64,
}

#[derive(QueryableByName)]
struct PassResult {
    /// 1 when the checkpoint could not finish (a reader or writer held it off).
    #[diesel(sql_type = Integer)]
    busy: i32,
    /// Frames of the WAL copied back to the database file so far; -1 when another
    /// checkpoint was running.
    #[diesel(sql_type = Integer)]
    checkpointed: i32,
}

/// The files the checkpointer works on.
pub struct Files {
    /// The database file, synced after each pass that copied frames.
    pub db: PathBuf,
    pub wal: PathBuf,
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

    /// Called by the writer before each batch, with its connection (no transaction open):
    /// when the WAL file is past [`MAX_WAL`], checkpoints it with `RESTART`, so that this
    /// batch writes from the WAL's first frame again.
    pub fn before_batch(&self, conn: &mut SqliteConnection, wal: &Path) {
        let grown = std::fs::metadata(wal).is_ok_and(|m| m.len() > self.limits.max_wal);
        if !grown {
            return;
        }
        let mut state = self.lock();
        let held_off = state
            .restart_failed
            .is_some_and(|t| t.elapsed() < RESTART_RETRY);
        if state.closed || held_off {
            return;
        }
        drop(state);
        let result =
            diesel::sql_query("PRAGMA wal_checkpoint(RESTART)").get_result::<PassResult>(conn);
        state = self.lock();
        match result {
            Ok(r) if r.busy == 0 => {
                state.restart_failed = None;
                state.restarts += 1;
            }
            // The checkpointer was mid-pass (SQLite then reports no counts): a few microseconds
            // lost, so the next batch tries again. Waiting [`RESTART_RETRY`] here let the WAL
            // run on past its bound while the machine was loaded.
            Ok(r) if r.checkpointed < 0 => {}
            // Readers on older snapshots held it off.
            Ok(_) => state.restart_failed = Some(Instant::now()),
            Err(e) => {
                tracing::warn!(error = %e, "WAL restart failed; retried after the next batches");
                state.restart_failed = Some(Instant::now());
            }
        }
    }

    /// Syncs the database file after a pass that copied frames. SQLite syncs it only when a
    /// pass ends at the WAL's live end, which the writer has usually moved past by then; when
    /// it did, this sync finds nothing to flush.
    fn sync(&self, db: Option<&File>) {
        match db.map(File::sync_data) {
            Some(Ok(())) => {
                self.syncs.fetch_add(1, Ordering::Relaxed);
            }
            Some(Err(e)) => {
                tracing::warn!(error = %e, "syncing the database file failed; the next restart flushes it");
            }
            None => {}
        }
    }

    /// How many times the checkpointer synced the database file.
    #[cfg(test)]
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// How many times the writer restarted the WAL.
    #[cfg(test)]
    pub fn restarts(&self) -> u64 {
        self.lock().restarts
    }

    /// Stops the checkpointer once it has done what was asked.
    pub fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// The checkpointer thread's loop.
    pub fn run(&self, conn: &mut SqliteConnection, files: &Files) {
        let wal = files.wal.as_path();
        // Opened once; fsync through any descriptor flushes the file's pages.
        let db = File::open(&files.db)
            .map_err(|e| tracing::warn!(error = %e, "the checkpointer cannot open the database file; restarts flush it"))
            .ok();
        let mut copied = 0;
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
            // Wait out the rest of the interval.
            if let Some(since) = last {
                let left = MIN_INTERVAL.saturating_sub(since.elapsed());
                state = self
                    .changed
                    .wait_timeout_while(state, left, |s| !s.closed)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            state.wanted = false;
            drop(state);
            match diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<PassResult>(conn)
            {
                Ok(pass) => {
                    if pass.checkpointed > 0 && pass.checkpointed != copied {
                        self.sync(db.as_ref());
                    }
                    copied = pass.checkpointed;
                }
                Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries"),
            }
            last = Some(Instant::now());
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
