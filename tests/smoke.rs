//! Starts the real `keyward` binary on a free port and talks HTTP/1.1 to it over TCP:
//! signup → confirm (token read from the server log) → organization → project → user key
//! → project key (using only the user key) → revoke → refused; then SIGTERM and a clean stop.
#![allow(clippy::unwrap_used, reason = "test harness")]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Server, exchange};

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
        if let Some(addr) = common::listening_address(&line) {
            break addr;
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

#[test]
fn smoke_json_log_format() {
    let server = Server::start_with(&["--log-format", "json"]);
    server.json("GET", "/v0/server/version", None, None, 200);
    let (exit, log) = server.terminate();
    assert!(exit.success());
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let request = lines
        .iter()
        .find(|l| l["fields"]["message"] == "request")
        .expect("a request line");
    assert_eq!(request["fields"]["route"], "/v0/server/version");
    assert_eq!(request["fields"]["status"], 200);
    assert!(request["fields"]["request_id"].is_string());
    assert!(request["fields"]["latency_us"].is_number());
}

#[test]
fn smoke_every_command_parses_and_has_help() {
    let commands: [&[&str]; 12] = [
        &[],
        &["serve"],
        &["admin"],
        &["admin", "create-user"],
        &["admin", "create-key"],
        &["admin", "import-token"],
        &["admin", "lock-user"],
        &["admin", "list-keys"],
        &["import"],
        &["import", "bencher"],
        &["backup"],
        &["healthcheck"],
    ];
    for command in commands {
        let out = Command::new(env!("CARGO_BIN_EXE_keyward"))
            .args(command)
            .arg("--help")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{command:?} --help: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("Usage: keyward"), "{command:?}: {text}");
    }
}

#[test]
fn smoke_import_bencher_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    // The config file is missing: the command must say so and fail, not panic.
    let out = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["import", "bencher", "--db"])
        .arg(dir.path().join("bencher.db"))
        .arg("--into")
        .arg(dir.path().join("keyward.db"))
        .args(["--dry-run", "--config"])
        .arg(dir.path().join("missing.json"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("missing.json") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn smoke_connections_beyond_the_cap_wait_for_a_free_slot() {
    let server = Server::start_with(&["--max-connections", "3", "--header-timeout", "30"]);
    // Three idle connections take every slot.
    let idle: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(&server.addr).unwrap())
        .collect();
    // Give the server a moment to accept all three.
    std::thread::sleep(Duration::from_millis(300));
    let mut waiting = TcpStream::connect(&server.addr).unwrap();
    waiting
        .write_all(b"GET /v0/server/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    waiting
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut buf = [0_u8; 64];
    let early = waiting.read(&mut buf);
    assert!(
        early.is_err(),
        "a fourth connection was served while three were open: {early:?}"
    );
    // One idle connection goes away: the waiting one is served.
    drop(idle);
    waiting
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reply = String::new();
    waiting.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}
