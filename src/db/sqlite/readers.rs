//! The read side of [`super::Engine`]: a few threads, each owning one SQLite connection, taking
//! requests' read work from one shared queue.
//!
//! Compared with a blocking task per request plus a connection pool, a request costs one
//! queue push and, only when a reader is asleep, one wake-up: a busy reader goes straight
//! on to the next waiting job, there is no pool to check a connection out of, and no
//! semaphore to wait on (the queue is the wait). A connection never changes threads.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::db::Conn;

/// One request's read work; it answers the request itself.
pub type ReadJob = Box<dyn FnOnce(&mut Conn) + Send>;

/// Opens a fresh connection for a reader whose connection a panicking job may have left
/// mid-transaction.
pub type Reconnect = Arc<dyn Fn() -> Option<Conn> + Send + Sync>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<ReadJob>,
    /// Readers waiting for work.
    idle: usize,
    /// Readers running a job.
    busy: usize,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    work: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Jobs run outside the lock, so a panic cannot poison it half-way through an update.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The reader threads. Dropping the last handle lets them finish the queue and exit.
pub struct Readers {
    shared: Arc<Shared>,
}

/// How the readers stand right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadersState {
    pub idle: usize,
    pub busy: usize,
    pub queued: usize,
}

impl Readers {
    /// Starts one thread per connection.
    pub fn start(conns: Vec<Conn>, reconnect: &Reconnect) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            work: Condvar::new(),
        });
        for (n, conn) in conns.into_iter().enumerate() {
            let shared = shared.clone();
            let reconnect = reconnect.clone();
            std::thread::Builder::new()
                .name(format!("keyward-reader-{n}"))
                .spawn(move || reader_loop(&shared, conn, &reconnect))?;
        }
        Ok(Self { shared })
    }

    /// Queues `job`; gives it back when the readers have stopped.
    pub fn submit(&self, job: ReadJob) -> Result<(), ReadJob> {
        let mut queue = self.shared.lock();
        if queue.closed {
            return Err(job);
        }
        queue.jobs.push_back(job);
        // Only a sleeping reader needs waking; one that is busy will find the job itself.
        let wake = queue.idle > 0;
        drop(queue);
        if wake {
            self.shared.work.notify_one();
        }
        Ok(())
    }

    pub fn state(&self) -> ReadersState {
        let queue = self.shared.lock();
        ReadersState {
            idle: queue.idle,
            busy: queue.busy,
            queued: queue.jobs.len(),
        }
    }
}

impl Drop for Readers {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_all();
    }
}

fn reader_loop(shared: &Shared, mut conn: Conn, reconnect: &Reconnect) {
    let mut finished_one = false;
    loop {
        let job = {
            let mut queue = shared.lock();
            if finished_one {
                queue.busy -= 1;
            }
            loop {
                if let Some(job) = queue.jobs.pop_front() {
                    queue.busy += 1;
                    break job;
                }
                if queue.closed {
                    return;
                }
                queue.idle += 1;
                queue = shared
                    .work
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
                queue.idle -= 1;
            }
        };
        finished_one = true;
        // A panicking job drops its answer channel, so its request hears "failed"; the
        // connection it leaves behind may still be inside its transaction, so it is replaced.
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut conn)));
        if run.is_err() {
            conn = loop {
                match reconnect() {
                    Some(fresh) => break fresh,
                    None => std::thread::sleep(std::time::Duration::from_secs(1)),
                }
            };
        }
    }
}
