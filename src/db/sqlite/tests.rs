//! The SQLite engine's own tests: checkpoints, the WAL's bounds, readers after a panic,
//! migrations up and down.

use super::Engine as Db;
use super::*;
use diesel::RunQueryDsl;
use std::time::Duration;

#[derive(Debug)]
enum TestError {
    Db(DbError),
    Query(
        #[expect(dead_code, reason = "shown by Debug in a failed assertion")] diesel::result::Error,
    ),
}
impl From<DbError> for TestError {
    fn from(e: DbError) -> Self {
        Self::Db(e)
    }
}
impl From<diesel::result::Error> for TestError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Query(e)
    }
}

fn count(c: &mut crate::db::Conn, table: &str) -> Result<i64, TestError> {
    let sql = format!("SELECT count(*) FROM {table}");
    Ok(diesel::dsl::sql::<diesel::sql_types::BigInt>(&sql).get_result(c)?)
}

/// Writes `batches` batches of 64 KiB each, one write request per batch.
async fn write_blobs(db: &Db, batches: usize) {
    db.write(|c| -> Result<(), TestError> {
        c.batch_execute("CREATE TABLE IF NOT EXISTS blob (b BLOB);")?;
        Ok(())
    })
    .await
    .unwrap();
    for _ in 0..batches {
        db.write(|c| -> Result<(), TestError> {
            c.batch_execute("INSERT INTO blob SELECT randomblob(65536);")?;
            Ok(())
        })
        .await
        .unwrap();
    }
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

async fn eventually(what: &str, mut ok: impl FnMut() -> bool) {
    for _ in 0..200 {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what} did not happen within 5 s");
}

#[tokio::test]
async fn the_checkpointer_copies_commits_into_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let db = Db::open(&path).unwrap();
    let before = size(&path);
    // 4 MiB of commits: the writer itself never checkpoints (wal_autocheckpoint = 0).
    write_blobs(&db, 64).await;
    eventually("a checkpoint", || size(&path) >= before + 4 * 1024 * 1024).await;
}

#[tokio::test]
async fn a_grown_wal_is_emptied_once_idle_and_not_while_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let wal = dir.path().join("k.db-wal");
    let limits = checkpoint::Limits {
        idle: Duration::from_millis(300),
        idle_size: 1024 * 1024,
        max_wal: u64::MAX,
    };
    let db = Db::open_with(&path, limits).unwrap();
    write_blobs(&db, 64).await;
    assert!(size(&wal) > 4 * 1024 * 1024, "{}", size(&wal));
    // Reads every 50 ms keep the server busy: the file stays.
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_millis(900) {
        db.run(|c| count(c, "blob")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(size(&wal) > 4 * 1024 * 1024, "emptied while busy");
    eventually("emptying the WAL", || size(&wal) == 0).await;
    assert_eq!(db.run(|c| count(c, "blob")).await.unwrap(), 64);
}

/// Four clients write 16 KiB rows back to back, 500 each: the writer never goes idle,
/// so the WAL restarts only through the frame limit (without it, it grew to 42 MB).
/// Returns the WAL file's size after the burst, the writer's restarts and the checkpointer's
/// syncs of the database file.
async fn burst(max_wal: u64) -> (u64, u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let limits = checkpoint::Limits {
        idle: Duration::from_secs(3600),
        idle_size: u64::MAX,
        max_wal,
    };
    let db = Db::open_with(&path, limits).unwrap();
    write_blobs(&db, 0).await;
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                for _ in 0..500 {
                    db.write(|c| -> Result<(), TestError> {
                        c.batch_execute("INSERT INTO blob SELECT randomblob(16384);")?;
                        Ok(())
                    })
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    (
        size(&dir.path().join("k.db-wal")),
        db.checkpoints.restarts(),
        db.checkpoints.syncs(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_burst_of_writes_restarts_the_wal_at_the_frame_limit() {
    // The burst writes about 40 MiB.
    let (bounded, restarts, syncs) = burst(1024 * 1024).await;
    assert!(bounded < 8 * 1024 * 1024, "the WAL grew to {bounded} bytes");
    assert!(restarts > 0, "the writer restarted the WAL");
    // The checkpointer's passes end short of the moving WAL end, where SQLite does not sync:
    // it syncs the database file itself, so that a restart has little left to flush.
    assert!(syncs > 0, "the checkpointer never synced the database file");
}

/// The message of the panics that the panicking-job tests provoke on purpose.
const EXPECTED_PANIC: &str = "a job panics mid-transaction on purpose";

/// Keeps the reader threads' expected panics (message and backtrace) out of the test
/// output; every other panic still goes to the default hook.
fn silence_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if message != Some(EXPECTED_PANIC) {
                default(info);
            }
        }));
    });
}

#[tokio::test]
async fn a_panicking_read_fails_only_its_request_and_leaves_no_stale_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("k.db")).unwrap();
    db.write(|c| -> Result<(), TestError> {
        c.batch_execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")?;
        Ok(())
    })
    .await
    .unwrap();
    silence_expected_panics();
    // Every reader gets to panic inside an open read transaction.
    for _ in 0..reader_count() * 3 {
        let failed = db
            .run(|c| -> Result<(), TestError> {
                count(c, "t")?;
                panic!("{}", EXPECTED_PANIC);
            })
            .await;
        assert!(
            matches!(failed, Err(TestError::Db(DbError::Failed))),
            "{failed:?}"
        );
    }
    db.write(|c| -> Result<(), TestError> {
        c.batch_execute("INSERT INTO t VALUES (2);")?;
        Ok(())
    })
    .await
    .unwrap();
    // A reader still inside its old transaction would see one row.
    for _ in 0..reader_count() * 4 {
        assert_eq!(db.run(|c| count(c, "t")).await.unwrap(), 2);
    }
    assert_eq!(db.readers_state().queued, 0);
}

#[tokio::test]
async fn a_write_panicking_inside_nested_savepoints_undoes_its_batch_and_the_next_one_commits() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("k.db")).unwrap();
    db.write(|c| -> Result<(), TestError> {
        c.batch_execute("CREATE TABLE t (x INTEGER);")?;
        Ok(())
    })
    .await
    .unwrap();
    silence_expected_panics();
    // Two savepoints deep (the door's own and one more) when it panics: every level must be
    // unwound, or the writer's next BEGIN finds a transaction still open.
    let failed = db
        .write(|c| -> Result<(), TestError> {
            c.transaction(|c| -> Result<(), TestError> {
                c.batch_execute("INSERT INTO t VALUES (1);")?;
                c.transaction(|c| -> Result<(), TestError> {
                    c.batch_execute("INSERT INTO t VALUES (2);")?;
                    panic!("{}", EXPECTED_PANIC);
                })
            })
        })
        .await;
    assert!(
        matches!(failed, Err(TestError::Db(DbError::NotApplied))),
        "{failed:?}"
    );
    db.write(|c| -> Result<(), TestError> {
        c.batch_execute("INSERT INTO t VALUES (3);")?;
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(db.run(|c| count(c, "t")).await.unwrap(), 1);
}

#[test]
fn migrations_go_up_down_and_up_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("k.db")).unwrap();
    db.run_sync(|c| -> Result<(), DbError> {
        c.revert_all_migrations(MIGRATIONS)
            .map_err(DbError::Migration)?;
        c.run_pending_migrations(MIGRATIONS)
            .map_err(DbError::Migration)?;
        Ok(())
    })
    .unwrap();
}
