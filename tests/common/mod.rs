//! Driving the real `keyward` binary over TCP: start it, talk HTTP/1.1 to it, stop it.
#![allow(dead_code, reason = "each test binary uses a different part")]

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub addr: String,
    pub log: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
    pub dir: PathBuf,
    tmp: Option<tempfile::TempDir>,
}

impl Server {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let mut server = Self::start_in(tmp.path(), extra);
        server.tmp = Some(tmp);
        server
    }

    /// Starts a server on the database `dir/data/keyward.db` (kept when it stops).
    pub fn start_in(dir: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_keyward"))
            .args(["serve", "--bind", "127.0.0.1:0", "--db"])
            .arg(dir.join("data/keyward.db"))
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
            let found = log.lock().unwrap().lines().find_map(listening_address);
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
            reader: Some(reader),
            dir: dir.to_owned(),
            tmp: None,
        }
    }

    /// One request on its own connection; returns (status, raw headers, body).
    pub fn call(
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

    pub fn json(
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
    pub fn confirmation_token(&self) -> String {
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

    /// Waits (up to 10 s) for a confirmation email to `email` to reach the log (other
    /// messages, such as an admin's new-user notices, are passed over).
    pub fn confirmation_token_for(&self, email: &str) -> String {
        let to = format!("<{email}>");
        let started = Instant::now();
        loop {
            let found = {
                let log = self.log.lock().unwrap();
                let mut recipient_matches = false;
                log.lines().find_map(|l| {
                    if l.contains("To: ") {
                        recipient_matches = l.contains(&to);
                    }
                    l.strip_prefix("Confirmation Token: ")
                        .filter(|_| recipient_matches)
                        .map(str::to_owned)
                })
            };
            if let Some(token) = found {
                return token;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no confirmation email to {email} in the log"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the server with SIGKILL: no shutdown, no checkpoint.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
    }

    /// A snapshot of everything the server has logged so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        // The reader ends at EOF on the child's stderr: after it, the log is complete.
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        let log = self.log.lock().unwrap().clone();
        (exit, log)
    }
}

/// Sends `raw`, then reads until the server closes; returns what it sent back and when.
pub fn exchange(addr: &str, raw: &[u8], stall: bool) -> (String, Duration) {
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

impl Drop for Server {
    /// A test that stops early (a failed assertion) must not leave its server running.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The address in a "listening on http://ADDR" log line, text or JSON.
pub fn listening_address(line: &str) -> Option<String> {
    let rest = line.split("listening on http://").nth(1)?;
    let addr: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']'))
        .collect();
    (!addr.is_empty()).then_some(addr)
}

/// One request on its own connection, without panicking when the server is gone:
/// returns (status, body).
pub fn try_call(
    addr: &str,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = auth {
        let _ = write!(request, "Authorization: Bearer {token}\r\n");
    }
    let body = body.unwrap_or("");
    let _ = write!(
        request,
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no complete response"))?;
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    Ok((status, body.to_owned()))
}

/// Runs `keyward admin create-user` on a database; returns (session JWT, user key).
pub fn create_admin(db: &Path, email: &str) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .arg("--db")
        .arg(db)
        .args([
            "admin",
            "create-user",
            "--email",
            email,
            "--name",
            "Ops",
            "--admin",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let find = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap()
            .to_owned()
    };
    (
        find("session token (JWT, valid 30 days): "),
        find("user API key (shown once, never again): "),
    )
}

/// `PRAGMA integrity_check` on a database file.
pub fn integrity_check(db: &Path) -> String {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let mut conn = SqliteConnection::establish(&db.to_string_lossy()).unwrap();
    let rows: Vec<Row> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .unwrap();
    rows.into_iter()
        .map(|r| r.integrity_check)
        .collect::<Vec<_>>()
        .join("\n")
}
