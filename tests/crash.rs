//! Crash safety: concurrent clients create and revoke keys while the server is killed with
//! SIGKILL, five times over. After each restart on the same database, every key whose 201
//! reached a client is there and authenticates, every revoke that got its 204 still holds,
//! and SQLite's integrity check passes.
#![allow(clippy::unwrap_used, reason = "test harness")]
#![allow(clippy::print_stdout, reason = "the test reports what it verified")]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Server, create_admin, integrity_check, try_call};

#[derive(Default)]
struct Acknowledged {
    /// uuid → plaintext key, for every 201 a client received.
    created: HashMap<String, String>,
    /// Every key whose revoke got a 204.
    revoked: HashSet<String>,
    /// Every key a revoke was sent for (its outcome may be unknown).
    revoke_sent: HashSet<String>,
}

fn load(addr: &str, key: &str, client: usize, stop: &AtomicBool, acked: &Mutex<Acknowledged>) {
    let mut mine: Vec<String> = Vec::new();
    let mut i = 0_usize;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        if i % 3 == 0 {
            if let Some(uuid) = mine.pop() {
                acked.lock().unwrap().revoke_sent.insert(uuid.clone());
                match try_call(
                    addr,
                    "DELETE",
                    &format!("/v0/projects/crash/keys/{uuid}"),
                    Some(key),
                    None,
                ) {
                    Ok((204, _)) => {
                        acked.lock().unwrap().revoked.insert(uuid);
                    }
                    Ok((status, body)) => panic!("revoke answered {status}: {body}"),
                    Err(_) => return,
                }
                continue;
            }
        }
        let body = format!(r#"{{"name":"c{client}-{i}"}}"#);
        match try_call(
            addr,
            "POST",
            "/v0/projects/crash/keys",
            Some(key),
            Some(&body),
        ) {
            Ok((201, body)) => {
                let json: serde_json::Value = serde_json::from_str(&body).unwrap();
                let uuid = json["uuid"].as_str().unwrap().to_owned();
                let plain = json["key"].as_str().unwrap().to_owned();
                acked.lock().unwrap().created.insert(uuid.clone(), plain);
                mine.push(uuid);
            }
            Ok((status, body)) => panic!("create answered {status}: {body}"),
            Err(_) => return,
        }
    }
}

fn verify(server: &Server, key: &str, acked: &Acknowledged) {
    for (uuid, plain) in &acked.created {
        let (status, body) = try_call(
            &server.addr,
            "GET",
            &format!("/v0/projects/crash/keys/{uuid}"),
            Some(key),
            None,
        )
        .unwrap();
        assert_eq!(status, 200, "acknowledged key {uuid} is gone: {body}");
        let row: serde_json::Value = serde_json::from_str(&body).unwrap();
        let (status, _) =
            try_call(&server.addr, "GET", "/v0/projects/crash", Some(plain), None).unwrap();
        if acked.revoked.contains(uuid) {
            assert!(
                row["revoked"].is_string(),
                "acknowledged revoke of {uuid} was lost"
            );
            assert_eq!(status, 401, "revoked key {uuid} still authenticates");
        } else if !acked.revoke_sent.contains(uuid) {
            assert!(row.get("revoked").is_none());
            assert_eq!(status, 200, "acknowledged key {uuid} does not authenticate");
        }
    }
}

#[test]
fn crash_sigkill_mid_load_loses_no_acknowledged_write() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("data/keyward.db");
    let (_, key) = create_admin(&db, "ops@example.com");
    let mut server = Server::start_in(tmp.path(), &[]);
    let org = server.json(
        "POST",
        "/v0/organizations",
        Some(&key),
        Some(r#"{"name":"Crash Org"}"#),
        201,
    );
    let org = org["slug"].as_str().unwrap().to_owned();
    server.json(
        "POST",
        &format!("/v0/organizations/{org}/projects"),
        Some(&key),
        Some(r#"{"name":"Crash"}"#),
        201,
    );
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let kills = 5;
    for _ in 0..kills {
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..4)
            .map(|client| {
                let (addr, key, stop, acked) = (
                    server.addr.clone(),
                    key.clone(),
                    stop.clone(),
                    acked.clone(),
                );
                std::thread::spawn(move || load(&addr, &key, client, &stop, &acked))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(400));
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            c.join().unwrap();
        }
        assert_eq!(integrity_check(&db), "ok");
        server = Server::start_in(tmp.path(), &[]);
        verify(&server, &key, &acked.lock().unwrap());
    }
    let acked = acked.lock().unwrap();
    println!(
        "crash safety: {kills} SIGKILLs survived; {} acknowledged creates and {} acknowledged revokes verified",
        acked.created.len(),
        acked.revoked.len()
    );
    assert!(acked.created.len() > 50, "the load really ran");
    assert!(!acked.revoked.is_empty());
    let (exit, _) = server.terminate();
    assert!(exit.success());
    assert_eq!(integrity_check(&db), "ok");
}
