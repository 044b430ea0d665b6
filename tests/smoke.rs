//! Starts the real `keyward` binary on a free port and talks HTTP/1.1 to it over TCP:
//! signup → confirm (token read from the server log) → organization → project → user key
//! → project key (using only the user key) → revoke → refused; then SIGTERM and a clean stop.
#![allow(clippy::unwrap_used, reason = "test harness")]

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        Self::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_keyward"))
            .args(["serve", "--bind", "127.0.0.1:0", "--db"])
            .arg(dir.path().join("data/keyward.db"))
            .args(extra)
            .env_remove("BENCHER_CONFIG")
            .env_remove("BENCHER_CONFIG_PATH")
            .env("KEYWARD_LOG", "info")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let line = line.unwrap_or_default();
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let started = Instant::now();
        let addr = loop {
            let found = log.lock().unwrap().lines().find_map(|l| {
                l.split("listening on http://")
                    .nth(1)
                    .map(|a| a.split_whitespace().next().unwrap().to_owned())
            });
            if let Some(addr) = found {
                break addr;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "server did not start:\n{}",
                log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Self {
            child,
            addr,
            log,
            reader,
            _dir: dir,
        }
    }

    /// One request on its own connection; returns (status, raw headers, body).
    fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<&str>,
    ) -> (u16, String, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        if let Some(token) = auth {
            let _ = write!(request, "Authorization: Bearer {token}\r\n");
        }
        let body = body.unwrap_or("");
        if !body.is_empty() {
            let _ = write!(
                request,
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            );
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let status = head[9..12].parse().unwrap();
        (status, head.to_ascii_lowercase(), body.to_owned())
    }

    fn json(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<&str>,
        expect: u16,
    ) -> serde_json::Value {
        let (status, _, text) = self.call(method, path, auth, body);
        assert_eq!(status, expect, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Waits (up to 10 s) for the confirmation email to reach the log.
    fn confirmation_token(&self) -> String {
        let started = Instant::now();
        loop {
            let found = self
                .log
                .lock()
                .unwrap()
                .lines()
                .find_map(|l| l.strip_prefix("Confirmation Token: ").map(str::to_owned));
            if let Some(token) = found {
                return token;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the confirmation email is in the log"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        // The reader ends at EOF on the child's stderr: after it, the log is complete.
        self.reader.join().unwrap();
        let log = self.log.lock().unwrap().clone();
        (exit, log)
    }
}

#[test]
fn smoke_full_lifecycle_over_tcp() {
    let server = Server::start();
    let version = server.json("GET", "/v0/server/version", None, None, 200);
    assert_eq!(version["version"], "0.6.12");

    server.json(
        "POST",
        "/v0/auth/signup",
        None,
        Some(r#"{"name":"Alice Admin","email":"alice@example.com","i_agree":true}"#),
        202,
    );
    let token = server.confirmation_token();
    let auth = server.json(
        "POST",
        "/v0/auth/confirm",
        None,
        Some(&format!(r#"{{"token":"{token}"}}"#)),
        200,
    );
    let jwt = auth["token"].as_str().unwrap();
    assert_eq!(auth["user"]["admin"], true);

    let org = server.json(
        "POST",
        "/v0/organizations",
        Some(jwt),
        Some(r#"{"name":"Acme"}"#),
        201,
    );
    let org = org["slug"].as_str().unwrap();
    let project = server.json(
        "POST",
        &format!("/v0/organizations/{org}/projects"),
        Some(jwt),
        Some(r#"{"name":"Smoke Project"}"#),
        201,
    );
    assert_eq!(project["slug"], "smoke-project");

    // From here on, only the user key.
    let user_key = server.json(
        "POST",
        "/v0/users/alice-admin/keys",
        Some(jwt),
        Some(r#"{"name":"cli"}"#),
        201,
    );
    let user_key = user_key["key"].as_str().unwrap();
    let second = server.json(
        "POST",
        &format!("/v0/organizations/{org}/projects"),
        Some(user_key),
        Some(r#"{"name":"Keyed"}"#),
        201,
    );
    assert_eq!(second["slug"], "keyed");
    let created = server.json(
        "POST",
        "/v0/projects/keyed/keys",
        Some(user_key),
        Some(r#"{"name":"ci"}"#),
        201,
    );
    let run_key = created["key"].as_str().unwrap();
    let uuid = created["uuid"].as_str().unwrap();
    server.json("GET", "/v0/projects/keyed", Some(run_key), None, 200);
    let (status, head, body) = server.call(
        "DELETE",
        &format!("/v0/projects/keyed/keys/{uuid}"),
        Some(user_key),
        None,
    );
    assert_eq!(status, 204);
    assert!(body.is_empty());
    let names: Vec<&str> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split(':').next())
        .collect();
    assert!(
        !names.contains(&"content-length") && !names.contains(&"content-type"),
        "{head}"
    );
    assert!(head.contains("x-total-count: 0"));
    let refused = server.json("GET", "/v0/projects/keyed", Some(run_key), None, 401);
    assert_eq!(refused["message"], "Invalid project key");

    // Every request left one log line; no plaintext key or session token was logged.
    let (exit, log) = server.terminate();
    assert!(exit.success(), "clean exit: {exit:?}\n{log}");
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(log.contains("database closed cleanly"), "{log}");
    assert!(log.contains("route=\"/v0/projects/{project}/keys\""));
    for secret in [user_key, run_key, jwt] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
}

#[test]
fn smoke_bad_setting_stops_the_start_and_names_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["serve", "--bind", "not-an-address"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bind address"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .arg("serve")
        .env(
            "BENCHER_CONFIG",
            r#"{"server":{"request_body_max_bytes":"big"}}"#,
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("server.request_body_max_bytes"));
}

#[test]
fn smoke_secret_survives_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_keyward"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .env_remove("KEYWARD_SECRET_KEY")
            .output()
            .unwrap()
    };
    let out = run(&[
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
    let text = String::from_utf8(out.stdout).unwrap();
    let jwt = text
        .lines()
        .find_map(|l| l.strip_prefix("session token (JWT, valid 30 days): "))
        .unwrap()
        .to_owned();
    // A later process, same database: the generated secret was kept, so the JWT verifies.
    let dir2 = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["serve", "--bind", "127.0.0.1:0", "--db"])
        .arg(&db)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(a) = line.split("listening on http://").nth(1) {
            break a.split_whitespace().next().unwrap().to_owned();
        }
    };
    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(stream, "GET /v0/users/ops HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {jwt}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    drop(dir2);
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
}

/// Sends `raw`, then reads until the server closes; returns what it sent back and when.
fn exchange(addr: &str, raw: &[u8], stall: bool) -> (String, Duration) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let started = Instant::now();
    // A server may answer and close before it has read everything: that is fine here.
    let _ = stream.write_all(raw);
    if !stall {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    (
        String::from_utf8_lossy(&reply).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn smoke_slow_and_oversized_clients_are_cut_off() {
    let server = Server::start_with(&["--header-timeout", "1", "--request-timeout", "2"]);
    // Headers that never finish: the connection is closed after the header timeout.
    let (_, took) = exchange(
        &server.addr,
        b"GET /v0/server/version HTTP/1.1\r\nHost: x\r\n",
        true,
    );
    assert!(
        took < Duration::from_secs(5),
        "stalled headers held the connection for {took:?}"
    );
    // A body that never finishes: 408 in Bencher's error shape after the request timeout.
    let (reply, took) = exchange(
        &server.addr,
        b"POST /v0/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\"",
        true,
    );
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("\"request_id\""), "{reply}");
    assert!(took < Duration::from_secs(6), "{took:?}");
    // Oversized headers and query strings are refused with a 4xx, not read forever.
    let big_header = format!(
        "GET /v0/server/version HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200_000)
    );
    let (reply, _) = exchange(&server.addr, big_header.as_bytes(), false);
    assert!(
        reply.starts_with("HTTP/1.1 4"),
        "{}",
        &reply[..reply.len().min(200)]
    );
    let big_query = format!(
        "GET /v0/server/version?q={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(200_000)
    );
    let (reply, _) = exchange(&server.addr, big_query.as_bytes(), false);
    assert!(
        reply.starts_with("HTTP/1.1 4"),
        "{}",
        &reply[..reply.len().min(200)]
    );
    // The server is still fine.
    let version = server.json("GET", "/v0/server/version", None, None, 200);
    assert_eq!(version["version"], "0.6.12");
}
