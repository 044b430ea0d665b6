//! Several servers on one PostgreSQL database: three `keyward` processes started together on
//! a fresh database, driven at once over TCP. Racing first signups make one admin; project
//! and user keys are created, renamed and revoked on any server while every server
//! authenticates with them; a revoke or a lock through one server holds on the others at
//! the very next request; after each phase every acknowledged write is there on every
//! server and every list's `X-Total-Count` is its length. Then one server is killed with
//! SIGKILL under load: the other two answer everything, and after its restart nothing
//! acknowledged is lost.
//!
//! PostgreSQL comes from `KEYWARD_TEST_DATABASE_URL` (a URL that may create databases), or
//! else from a throwaway cluster that `scripts/pg.sh` starts (installing Debian's package
//! when it is missing) and stops when the test ends.
#![allow(clippy::unwrap_used, reason = "test harness")]
#![allow(clippy::print_stdout, reason = "the test reports what it verified")]

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, try_call};
use serde_json::Value;

/// The PostgreSQL cluster the test uses; stops it at the end when the test started it.
struct Postgres {
    admin_url: String,
    started: Option<String>,
}

impl Postgres {
    fn get() -> Self {
        if let Ok(url) = std::env::var("KEYWARD_TEST_DATABASE_URL") {
            return Self {
                admin_url: url,
                started: None,
            };
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg.sh");
        let out = Command::new("bash")
            .args([script, "start"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "scripts/pg.sh could not start a PostgreSQL cluster (or set \
             KEYWARD_TEST_DATABASE_URL): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let exports = String::from_utf8(out.stdout).unwrap();
        let value = |name: &str| {
            exports
                .lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .unwrap()
                .trim_matches('\'')
                .to_owned()
        };
        Self {
            admin_url: value("KEYWARD_TEST_DATABASE_URL"),
            started: Some(value("KEYWARD_PG_DIR")),
        }
    }

    /// A new, empty database on the cluster; its URL.
    fn database(&self) -> String {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let name = format!("keyward_servers_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::PgConnection::establish(&self.admin_url).unwrap();
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let (base, _) = self.admin_url.rsplit_once('/').unwrap();
        format!("{base}/{name}")
    }
}

impl Postgres {
    /// Drops the database at `url`, closing every connection to it.
    fn drop_database(&self, url: &str) {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let (_, name) = url.rsplit_once('/').unwrap();
        let mut conn = diesel::PgConnection::establish(&self.admin_url).unwrap();
        conn.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .unwrap();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(dir) = &self.started {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg.sh");
            let _ = Command::new("bash").args([script, "stop", dir]).status();
        }
    }
}

fn start(url: &str) -> Server {
    Server::start_with(&[
        "--database-url",
        url,
        "--database-pool-size",
        "8",
        // Every request comes from 127.0.0.1, and revoked keys are tried on purpose.
        "--auth-failures-per-minute",
        "0",
        "--emails-per-hour",
        "0",
    ])
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Project,
    User,
}

/// What the clients know of one key from the answers they received.
#[derive(Clone, Debug)]
struct Known {
    kind: Kind,
    plain: String,
    /// The name of the last rename that got its 200 (or the name it was created with).
    name: String,
    /// A rename was sent whose answer never came (its server was killed).
    rename_unknown: bool,
    /// A revoke got its 204.
    revoked: bool,
    /// A revoke was sent whose answer never came.
    revoke_unknown: bool,
}

/// Everything the clients were told, and everything that went wrong.
#[derive(Default)]
struct Ledger {
    keys: HashMap<String, Known>,
    errors: Vec<String>,
    requests: usize,
}

/// The fixed world the clients work in.
struct World {
    jwt: String,
    user: String,
    project: String,
}

impl World {
    fn key_path(&self, kind: Kind, uuid: &str) -> String {
        match kind {
            Kind::Project => format!("/v0/projects/{}/keys/{uuid}", self.project),
            Kind::User => format!("/v0/users/{}/keys/{uuid}", self.user),
        }
    }

    fn list_path(&self, kind: Kind) -> String {
        match kind {
            Kind::Project => format!("/v0/projects/{}/keys", self.project),
            Kind::User => format!("/v0/users/{}/keys", self.user),
        }
    }

    /// A request a key of `kind` authenticates.
    fn authenticated_path(&self, kind: Kind) -> String {
        match kind {
            Kind::Project => format!("/v0/projects/{}", self.project),
            Kind::User => format!("/v0/users/{}", self.user),
        }
    }
}

/// One client: creates, renames and revokes keys through `addrs` in turn, and after each
/// change checks it on every server in `addrs`. With `tolerant`, a refused connection ends
/// the client quietly (its server is being killed); otherwise it is an error.
#[expect(
    clippy::too_many_lines,
    reason = "one client's loop, read top to bottom"
)]
fn client(
    id: usize,
    addrs: &[String],
    world: &World,
    stop: &AtomicBool,
    tolerant: bool,
    ledger: &Mutex<Ledger>,
) {
    let mut mine: Vec<(String, Kind)> = Vec::new();
    let mut turn = 0_usize;
    let error = |what: String| ledger.lock().unwrap().errors.push(what);
    let call = |addr: &str, method: &str, path: &str, auth: &str, body: Option<&str>| {
        ledger.lock().unwrap().requests += 1;
        try_call(addr, method, path, Some(auth), body)
    };
    // Every server must answer `expect` to a request made with `plain`, at once.
    let every_server = |kind: Kind, plain: &str, expect: u16, what: &str| {
        for other in addrs {
            match call(other, "GET", &world.authenticated_path(kind), plain, None) {
                Ok((status, _)) if status == expect => {}
                Ok((status, body)) => {
                    return Err(format!("{what} answered {status} on {other}: {body}"));
                }
                Err(e) => return Err(format!("check on {other}: {e}")),
            }
        }
        Ok(())
    };
    // A change whose answer never came (its server was killed): its outcome is unknown.
    let unknown = |uuid: &str, mark: fn(&mut Known)| {
        mark(ledger.lock().unwrap().keys.get_mut(uuid).unwrap());
    };
    while !stop.load(Ordering::Relaxed) {
        turn += 1;
        let addr = &addrs[(id + turn) % addrs.len()];
        let kind = if turn % 2 == 0 {
            Kind::Project
        } else {
            Kind::User
        };
        let action = turn % 5;
        let result = if action == 3 && !mine.is_empty() {
            // Rename one of this client's live keys.
            let (uuid, kind) = mine[turn % mine.len()].clone();
            let name = format!("renamed-{id}-{turn}");
            let body = format!(r#"{{"name":"{name}"}}"#);
            match call(
                addr,
                "PATCH",
                &world.key_path(kind, &uuid),
                &world.jwt,
                Some(&body),
            ) {
                Ok((200, _)) => {
                    let mut l = ledger.lock().unwrap();
                    let known = l.keys.get_mut(&uuid).unwrap();
                    known.name = name;
                    known.rename_unknown = false;
                    Ok(())
                }
                Ok((status, body)) => Err(format!("rename on {addr}: {status} {body}")),
                Err(e) => {
                    unknown(&uuid, |k| k.rename_unknown = true);
                    Err(format!("rename on {addr}: {e}"))
                }
            }
        } else if action == 4 && !mine.is_empty() {
            // Revoke one, then every other server must refuse it at once.
            let (uuid, kind) = mine.swap_remove(turn % mine.len());
            match call(
                addr,
                "DELETE",
                &world.key_path(kind, &uuid),
                &world.jwt,
                None,
            ) {
                Ok((204, _)) => {
                    let plain = {
                        let mut l = ledger.lock().unwrap();
                        let known = l.keys.get_mut(&uuid).unwrap();
                        known.revoked = true;
                        known.plain.clone()
                    };
                    every_server(kind, &plain, 401, &format!("key {uuid} revoked on {addr}"))
                }
                Ok((status, body)) => Err(format!("revoke on {addr}: {status} {body}")),
                Err(e) => {
                    unknown(&uuid, |k| k.revoke_unknown = true);
                    Err(format!("revoke on {addr}: {e}"))
                }
            }
        } else {
            // Create one, then every server must accept it at once.
            let name = format!("c{id}-{turn}");
            let body = format!(r#"{{"name":"{name}"}}"#);
            match call(
                addr,
                "POST",
                &world.list_path(kind),
                &world.jwt,
                Some(&body),
            ) {
                Ok((201, body)) => {
                    let json: Value = serde_json::from_str(&body).unwrap();
                    let uuid = json["uuid"].as_str().unwrap().to_owned();
                    let plain = json["key"].as_str().unwrap().to_owned();
                    ledger.lock().unwrap().keys.insert(
                        uuid.clone(),
                        Known {
                            kind,
                            plain: plain.clone(),
                            name,
                            rename_unknown: false,
                            revoked: false,
                            revoke_unknown: false,
                        },
                    );
                    mine.push((uuid.clone(), kind));
                    every_server(kind, &plain, 200, &format!("key {uuid} created on {addr}"))
                }
                Ok((status, body)) => Err(format!("create on {addr}: {status} {body}")),
                Err(e) => Err(format!("create on {addr}: {e}")),
            }
        };
        if let Err(what) = result {
            if tolerant {
                return;
            }
            error(what);
        }
    }
}

/// Runs `clients` clients per group of servers until `run_for` has passed (or `kill`
/// returns, for the group marked tolerant); returns when all have stopped.
fn load(
    groups: &[(Vec<String>, bool)],
    clients: usize,
    world: &Arc<World>,
    ledger: &Arc<Mutex<Ledger>>,
    run_for: Duration,
    during: impl FnOnce(),
) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for (g, (addrs, tolerant)) in groups.iter().enumerate() {
        for c in 0..clients {
            let (addrs, world, ledger, stop, tolerant) = (
                addrs.clone(),
                world.clone(),
                ledger.clone(),
                stop.clone(),
                *tolerant,
            );
            let id = g * 100 + c;
            handles.push(std::thread::spawn(move || {
                client(id, &addrs, &world, &stop, tolerant, &ledger);
            }));
        }
    }
    let started = Instant::now();
    during();
    std::thread::sleep(run_for.saturating_sub(started.elapsed()));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
}

/// Every acknowledged key, as each server shows it: there, with its last acknowledged name,
/// revoked when a revoke was acknowledged (and then refused), live and accepted otherwise;
/// and each list's `X-Total-Count` is the number of rows it pages through. Returns the live
/// keys of each kind.
fn verify(servers: &[Server], world: &World, ledger: &Ledger) -> HashMap<Kind, usize> {
    for server in servers {
        for (uuid, known) in &ledger.keys {
            let (status, body) = try_call(
                &server.addr,
                "GET",
                &world.key_path(known.kind, uuid),
                Some(&world.jwt),
                None,
            )
            .unwrap();
            assert_eq!(
                status, 200,
                "acknowledged key {uuid} missing on {}",
                server.addr
            );
            let row: Value = serde_json::from_str(&body).unwrap();
            if !known.rename_unknown {
                assert_eq!(row["name"], known.name.as_str(), "rename of {uuid} lost");
            }
            let (auth, _) = try_call(
                &server.addr,
                "GET",
                &world.authenticated_path(known.kind),
                Some(&known.plain),
                None,
            )
            .unwrap();
            if known.revoked {
                assert!(row["revoked"].is_string(), "revoke of {uuid} lost");
                assert_eq!(auth, 401, "revoked {uuid} accepted on {}", server.addr);
            } else if !known.revoke_unknown {
                assert!(row.get("revoked").is_none(), "{uuid} revoked unasked");
                assert_eq!(auth, 200, "live {uuid} refused on {}", server.addr);
            }
        }
    }
    let mut live = HashMap::new();
    for kind in [Kind::Project, Kind::User] {
        let mut totals = Vec::new();
        for server in servers {
            let (mut listed, mut total, mut page) = (0, None, 1);
            loop {
                let path = format!("{}?per_page=255&page={page}", world.list_path(kind));
                let (status, head, body) = server.call("GET", &path, Some(&world.jwt), None);
                assert_eq!(status, 200, "{body}");
                let count: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("x-total-count: "))
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
                assert_eq!(
                    *total.get_or_insert(count),
                    count,
                    "total moved while paging"
                );
                let rows = serde_json::from_str::<Value>(&body).unwrap();
                let rows = rows.as_array().unwrap().len();
                listed += rows;
                if rows < 255 {
                    break;
                }
                page += 1;
            }
            assert_eq!(
                Some(listed),
                total,
                "{kind:?} X-Total-Count on {}",
                server.addr
            );
            totals.push(listed);
        }
        assert!(totals.windows(2).all(|w| w[0] == w[1]), "{totals:?}");
        live.insert(kind, totals[0]);
    }
    live
}

/// A fresh account's session, signed up and confirmed on `on` from the email `from` logged.
fn confirm(on: &Server, from: &Server, email: &str) -> Value {
    let token = from.confirmation_token_for(email);
    on.json(
        "POST",
        "/v0/auth/confirm",
        None,
        Some(&format!(r#"{{"token":"{token}"}}"#)),
        200,
    )
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "the phases of one scenario, in order"
)]
fn three_servers_on_one_database_agree_and_survive_a_kill() {
    let pg = Postgres::get();
    let url = pg.database();

    // Three servers start at once on an empty database: one migrates, one secret is made.
    let starting: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || start(&url))
        })
        .collect();
    let mut servers: Vec<Server> = starting.into_iter().map(|s| s.join().unwrap()).collect();

    // First signups race on the three servers; the same email races on all three.
    let signups: Vec<_> = (0..3)
        .flat_map(|i| {
            [
                (i, format!("first{i}@example.com")),
                (i, "same@example.com".into()),
            ]
        })
        .map(|(i, email): (usize, String)| {
            let addr = servers[i].addr.clone();
            std::thread::spawn(move || {
                let body = format!(r#"{{"name":"User","email":"{email}","i_agree":true}}"#);
                let (status, body) =
                    try_call(&addr, "POST", "/v0/auth/signup", None, Some(&body)).unwrap();
                (i, email, status, body)
            })
        })
        .collect();
    let (mut same, mut signed_up) = (Vec::new(), Vec::new());
    for s in signups {
        let (i, email, status, body) = s.join().unwrap();
        if email == "same@example.com" {
            same.push(status);
        } else {
            assert_eq!(status, 202, "{email}: {body}");
        }
        if status == 202 {
            signed_up.push((i, email));
        }
    }
    same.sort_unstable();
    assert_eq!(
        same,
        [202, 409, 409],
        "one account per email across servers"
    );
    // Each confirmation is checked by another server than the one that signed it.
    let sessions: Vec<Value> = signed_up
        .iter()
        .map(|(i, email)| confirm(&servers[(i + 1) % 3], &servers[*i], email))
        .collect();
    let admins: Vec<_> = sessions
        .iter()
        .filter(|s| s["user"]["admin"] == true)
        .collect();
    assert_eq!(
        admins.len(),
        1,
        "exactly one server admin from racing first signups"
    );
    let admin_jwt = admins[0]["token"].as_str().unwrap().to_owned();
    let owner = sessions
        .iter()
        .find(|s| s["user"]["admin"] != true)
        .unwrap();
    let world = Arc::new(World {
        jwt: owner["token"].as_str().unwrap().to_owned(),
        user: owner["user"]["slug"].as_str().unwrap().to_owned(),
        project: {
            let org = servers[0].json(
                "POST",
                "/v0/organizations",
                Some(owner["token"].as_str().unwrap()),
                Some(r#"{"name":"Fleet"}"#),
                201,
            );
            let org = org["slug"].as_str().unwrap();
            let project = servers[1].json(
                "POST",
                &format!("/v0/organizations/{org}/projects"),
                Some(owner["token"].as_str().unwrap()),
                Some(r#"{"name":"Fleet"}"#),
                201,
            );
            project["slug"].as_str().unwrap().to_owned()
        },
    });

    // Phase 1: six clients spread over the three servers.
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let addrs: Vec<String> = servers.iter().map(|s| s.addr.clone()).collect();
    load(
        &[(addrs.clone(), false)],
        6,
        &world,
        &ledger,
        Duration::from_secs(6),
        || {},
    );
    {
        let l = ledger.lock().unwrap();
        assert_eq!(l.errors, Vec::<String>::new(), "phase 1");
        let live = verify(&servers, &world, &l);
        for kind in [Kind::Project, Kind::User] {
            let expected = l
                .keys
                .values()
                .filter(|k| k.kind == kind && !k.revoked)
                .count();
            assert_eq!(live[&kind], expected, "{kind:?} keys live after phase 1");
        }
        println!(
            "phase 1: {} requests, {} keys acknowledged, {} revoked, 0 errors",
            l.requests,
            l.keys.len(),
            l.keys.values().filter(|k| k.revoked).count()
        );
        assert!(l.keys.len() > 30, "the load really ran: {}", l.keys.len());
    }

    // A user locked through one server is refused by the others at the next request.
    let locked = &sessions
        .iter()
        .find(|s| s["user"]["admin"] != true && s["user"]["slug"] != world.user.as_str())
        .unwrap();
    let (locked_slug, locked_jwt) = (
        locked["user"]["slug"].as_str().unwrap(),
        locked["token"].as_str().unwrap(),
    );
    for s in &servers {
        s.json(
            "GET",
            &format!("/v0/users/{locked_slug}"),
            Some(locked_jwt),
            None,
            200,
        );
    }
    servers[2].json(
        "PATCH",
        &format!("/v0/users/{locked_slug}"),
        Some(&admin_jwt),
        Some(r#"{"locked":true}"#),
        200,
    );
    for s in &servers {
        let (status, _, _) = s.call(
            "GET",
            &format!("/v0/users/{locked_slug}"),
            Some(locked_jwt),
            None,
        );
        assert_eq!(status, 403, "locked user accepted on {}", s.addr);
    }

    // Phase 2: load on all three; server 0 is killed with SIGKILL mid-load. The clients of
    // servers 1 and 2 see no error; then server 0 restarts and has everything acknowledged.
    let survivors = vec![addrs[1].clone(), addrs[2].clone()];
    let killed = servers.remove(0);
    let killed_addr = killed.addr.clone();
    load(
        &[(vec![killed_addr], true), (survivors, false)],
        3,
        &world,
        &ledger,
        Duration::from_secs(4),
        || {
            std::thread::sleep(Duration::from_millis(1500));
            killed.kill();
        },
    );
    servers.insert(0, start(&url));
    let l = ledger.lock().unwrap();
    assert_eq!(
        l.errors,
        Vec::<String>::new(),
        "phase 2: the surviving servers"
    );
    let live = verify(&servers, &world, &l);
    println!(
        "phase 2: {} requests in all, {} keys acknowledged, {} revoked; after SIGKILL and \
         restart every acknowledged write is on all three servers; live: {live:?}",
        l.requests,
        l.keys.len(),
        l.keys.values().filter(|k| k.revoked).count()
    );
    drop(l);

    // Readiness follows the database: ready now; once the database is gone, 503 and a
    // failing `keyward healthcheck`, while liveness still answers.
    let healthcheck = |addr: &str| {
        Command::new(env!("CARGO_BIN_EXE_keyward"))
            .args(["healthcheck", "--bind", addr])
            .output()
            .unwrap()
    };
    for server in &servers {
        let out = healthcheck(&server.addr);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    pg.drop_database(&url);
    for server in &servers {
        let (status, _, body) = server.call("GET", "/readyz", None, None);
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("Not ready: the database"), "{body}");
        assert_eq!(server.call("GET", "/healthz", None, None).0, 200);
        let out = healthcheck(&server.addr);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("Not ready: the database"));
    }
    for server in servers {
        let (exit, _) = server.terminate();
        assert!(exit.success());
    }
    drop(pg);
}
