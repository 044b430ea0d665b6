//! Email through SMTP (Bencher's `smtp` section), against a local SMTP sink started here.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tower::ServiceExt;

/// A minimal SMTP server that accepts everything and keeps each message's DATA.
fn sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut out = stream.try_clone().unwrap();
            let mut lines = BufReader::new(stream);
            let mut say = |s: &str| out.write_all(s.as_bytes());
            let _ = say("220 sink ESMTP\r\n");
            let mut line = String::new();
            while lines.read_line(&mut line).unwrap_or(0) > 0 {
                let verb = line.to_ascii_uppercase();
                let reply = if verb.starts_with("EHLO") {
                    "250-sink\r\n250 AUTH PLAIN LOGIN\r\n"
                } else if verb.starts_with("AUTH") {
                    "235 2.7.0 accepted\r\n"
                } else if verb.starts_with("DATA") {
                    let _ = say("354 go ahead\r\n");
                    let mut data = String::new();
                    let mut chunk = String::new();
                    while lines.read_line(&mut chunk).unwrap_or(0) > 0 && chunk != ".\r\n" {
                        data.push_str(&chunk);
                        chunk.clear();
                    }
                    store.lock().unwrap().push(data);
                    "250 queued\r\n"
                } else if verb.starts_with("QUIT") {
                    let _ = say("221 bye\r\n");
                    break;
                } else {
                    "250 ok\r\n"
                };
                let _ = say(reply);
                line.clear();
            }
        }
    });
    (port, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_email_goes_through_smtp() {
    let (port, received) = sink();
    let dir = tempfile::tempdir().unwrap();
    let bencher = json!({
        "smtp": {
            "hostname": "127.0.0.1", "port": port, "insecure_host": true, "starttls": false,
            "username": "bencher", "secret": "smtp-password",
            "from_name": "Bencher", "from_email": "bencher@example.com"
        }
    });
    let config = keyward::config::Config::resolve(
        keyward::config::Overrides {
            db: Some(dir.path().join("k.db")),
            ..Default::default()
        },
        Some(bencher.to_string()),
        None,
    )
    .unwrap();
    let state = keyward::server::open_state(&config, keyward::state::Clock::System).unwrap();
    let req = axum::http::Request::post("/v0/auth/signup")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"name": "Alice", "email": "alice@example.com", "i_agree": true}).to_string(),
        ))
        .unwrap();
    let res = keyward::app(state).oneshot(req).await.unwrap();
    assert_eq!(res.status(), 202);
    let started = Instant::now();
    let message = loop {
        if let Some(m) = received.lock().unwrap().first().cloned() {
            break m;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no email reached the sink"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        message.contains("Subject: Confirm Bencher Signup"),
        "{message}"
    );
    assert!(message.contains("alice@example.com"));
    assert!(message.contains("bencher@example.com"));
    assert!(message.contains("Confirmation Token: "), "{message}");
}
