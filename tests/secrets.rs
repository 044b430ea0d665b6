//! How the real binary keeps its secrets on disk and takes them from the operator: under
//! the usual 022 umask, the data directory is private (0700) and every database and backup
//! file is 0600; a short signing secret is refused; a secret can come from a file.
#![allow(clippy::unwrap_used, reason = "test harness")]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Runs the binary with a 022 umask, as a shell started by a login would.
fn keyward_022(args: &[&str]) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_keyward"))
        .args(args)
        .env_remove("KEYWARD_SECRET_KEY")
        .env_remove("BENCHER_CONFIG")
        .env_remove("BENCHER_CONFIG_PATH")
        .output()
        .unwrap()
}

#[test]
fn database_wal_and_backup_files_are_private_under_a_022_umask() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join("keyward.db");
    let db_arg = db.to_str().unwrap();
    // A write through the real binary: the database, its WAL and shared memory exist.
    let out = keyward_022(&[
        "--db",
        db_arg,
        "admin",
        "create-user",
        "--email",
        "ops@example.com",
        "--name",
        "Ops",
        "--admin",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&data), 0o700, "data directory");
    assert_eq!(mode(&db), 0o600, "database file");
    // A server keeps the WAL open: check it and the shared memory while it runs.
    let mut server = Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_keyward"))
        .args(["serve", "--bind", "127.0.0.1:0", "--db", db_arg])
        .env_remove("KEYWARD_SECRET_KEY")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let wal = data.join("keyward.db-wal");
    let shm = data.join("keyward.db-shm");
    let started = std::time::Instant::now();
    while !(wal.exists() && shm.exists()) {
        assert!(started.elapsed().as_secs() < 20, "no -wal/-shm appeared");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(mode(&wal), 0o600, "-wal file");
    assert_eq!(mode(&shm), 0o600, "-shm file");
    let backup = dir.path().join("backup.db");
    let out = keyward_022(&["--db", db_arg, "backup", "--to", backup.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&backup), 0o600, "backup file");
    assert!(std::fs::metadata(&backup).unwrap().len() > 0);
    let _ = server.kill();
    let _ = server.wait();

    // A database made before (0644 under this umask) is made private when opened.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = keyward_022(&["--db", db_arg, "admin", "list-keys", "--user", "ops"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&db), 0o600, "an existing database is made private");
}

#[test]
fn short_secrets_are_refused_and_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let db_arg = db.to_str().unwrap();
    let out = keyward_022(&[
        "--db",
        db_arg,
        "--secret-key",
        "too-short",
        "admin",
        "list-keys",
        "--user",
        "x",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("secret key") && err.contains("at least 32 bytes"),
        "{err}"
    );
    assert!(!err.contains("too-short"), "the secret is echoed: {err}");

    // The same secret from a file (with its trailing newline) signs what the server checks.
    let secret = "a-secret-kept-in-a-file-0123456789abcdef";
    let file = dir.path().join("secret");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let out = keyward_022(&[
        "--db",
        db_arg,
        "--secret-key-file",
        file.to_str().unwrap(),
        "admin",
        "create-user",
        "--email",
        "ops@example.com",
        "--name",
        "Ops",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let jwt = text
        .lines()
        .find_map(|l| l.strip_prefix("session token (JWT, valid 30 days): "))
        .unwrap();
    let key = jsonwebtoken::DecodingKey::from_secret(secret.as_bytes());
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;
    jsonwebtoken::decode::<serde_json::Value>(jwt, &key, &validation)
        .expect("the JWT is signed with the file's secret");

    let out = keyward_022(&[
        "--db",
        db_arg,
        "--secret-key-file",
        dir.path().join("missing").to_str().unwrap(),
        "admin",
        "list-keys",
        "--user",
        "ops",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("secret key file"));
}
