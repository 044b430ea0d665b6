//! Times the database work of one "view a project key with a user key" request (S2 of the
//! benchmark), step by step, on one connection, to see where a request's time goes:
//! `cargo run --release --example probe -- DB SEED.json` (files made by examples/seed.rs).
#![allow(clippy::print_stdout, reason = "a measuring tool")]

use std::error::Error;
use std::time::{Duration, Instant};

use keyward::auth::{Bearer, Principal, access, authenticate, rbac::Permission};
use keyward::config::{Config, Overrides};
use keyward::credentials::secret::{KeyKind, PlainKey};
use keyward::domain::ids::ResourceId;
use keyward::state::Clock;

const ROUNDS: u32 = 20_000;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let (db, seed) = (args.next().ok_or("DB")?, args.next().ok_or("SEED.json")?);
    let seed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(seed)?)?;
    let overrides = Overrides {
        db: Some(db.into()),
        ..Overrides::default()
    };
    let state =
        keyward::server::open_state(&Config::resolve(overrides, None, None)?, Clock::System)?;
    let key = seed["admin_user_key"].as_str().ok_or("admin_user_key")?;
    let bearer = Bearer::UserKey(PlainKey::parse(KeyKind::User, key).ok_or("a user key")?);
    let project = ResourceId::parse("bench-project").ok_or("slug")?;
    let key_uuid = seed["project_key_uuid"]
        .as_str()
        .ok_or("project_key_uuid")?
        .to_owned();
    let now = chrono::Utc::now();
    let (auth, proj, find) = state.db.run_sync(|c| -> Result<_, Box<dyn Error>> {
        let mut spent = [Duration::ZERO; 3];
        for _ in 0..ROUNDS {
            let t0 = Instant::now();
            let user = authenticate(c, &state.jwt, &bearer, now).map_err(|e| e.to_string())?;
            let t1 = Instant::now();
            let found =
                access::project_for(c, &Principal::User(user), &project, Permission::Manage)
                    .map_err(|e| e.to_string())?;
            let t2 = Instant::now();
            let table = keyward::db::credentials::Table::ProjectKey;
            keyward::db::credentials::find(c, table, found.project.id, &key_uuid)?
                .ok_or("no key")?;
            let t3 = Instant::now();
            spent[0] += t1 - t0;
            spent[1] += t2 - t1;
            spent[2] += t3 - t2;
        }
        Ok((spent[0] / ROUNDS, spent[1] / ROUNDS, spent[2] / ROUNDS))
    })?;
    println!("per request: authenticate {auth:?}, project and permission {proj:?}, key {find:?}");
    Ok(())
}
