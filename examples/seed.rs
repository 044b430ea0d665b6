//! Seeds a Keyward database through Keyward's own code, for the scale script and the
//! benchmark: one admin, one organization, one project with N project keys, M users each
//! with a user key, and a few legacy tokens. Writes the credentials it made to a JSON file.
//!
//! `cargo run --release --example seed -- --db PATH --keys 100000 --users 1000 --tokens 5 --out creds.json`
#![allow(clippy::print_stdout, reason = "a command-line tool")]

use std::error::Error;
use std::path::PathBuf;

use keyward::db::Conn;

use keyward::accounts::{NewAccount, create_account};
use keyward::config::{Config, Overrides};
use keyward::credentials::create_user_key;
use keyward::credentials::jwt::JwtKeys;
use keyward::credentials::jwt::{Audience, CLIENT_TTL};
use keyward::credentials::secret::{KeyKind, PlainKey};
use keyward::db;
use keyward::db::credentials::{NewCredential, Table};
use keyward::db::rows::{
    InsertOrganization, InsertOrganizationRole, InsertProject, InsertProjectRole,
    QueryOrganization, QueryProject, QueryUser,
};
use keyward::domain::names::{Email, UserName};
use keyward::state::Clock;

struct Args {
    db: PathBuf,
    database_url: Option<String>,
    keys: usize,
    users: usize,
    tokens: usize,
    out: PathBuf,
}

fn args() -> Result<Args, Box<dyn Error>> {
    let mut a = Args {
        db: PathBuf::from("seed.db"),
        database_url: None,
        keys: 100_000,
        users: 1_000,
        tokens: 5,
        out: PathBuf::from("seed.json"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--db" => a.db = value.into(),
            "--database-url" => a.database_url = Some(value),
            "--keys" => a.keys = value.parse()?,
            "--users" => a.users = value.parse()?,
            "--tokens" => a.tokens = value.parse()?,
            "--out" => a.out = value.into(),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    Ok(a)
}

fn account(
    c: &mut Conn,
    name: &str,
    email: &str,
    admin: bool,
    now: i64,
) -> Result<db::rows::QueryUser, Box<dyn Error>> {
    let new = NewAccount {
        name: UserName::parse(name)?,
        slug: None,
        email: Email::parse(email)?,
        admin: Some(admin),
        invite: None,
    };
    Ok(create_account(c, &new, now).map_err(|e| e.to_string())?.0)
}

type Res<T> = Result<T, Box<dyn Error>>;

/// One organization led by `admin`, with one public project `admin` maintains.
fn org_and_project(
    c: &mut Conn,
    admin: &QueryUser,
    secs: i64,
) -> Res<(QueryOrganization, QueryProject)> {
    keyward::db::atomically(c, |c| -> Res<_> {
        let org = db::organizations::insert(
            c,
            &InsertOrganization {
                uuid: uuid::Uuid::now_v7().to_string(),
                name: "Bench Org".into(),
                slug: "bench-org".into(),
                created: secs,
                modified: secs,
            },
        )?;
        db::organizations::set_role(
            c,
            &InsertOrganizationRole {
                user_id: admin.id,
                organization_id: org.id,
                role: "leader".into(),
                created: secs,
                modified: secs,
            },
        )?;
        let project = db::projects::insert(
            c,
            &InsertProject {
                uuid: uuid::Uuid::now_v7().to_string(),
                organization_id: org.id,
                name: "Bench Project".into(),
                slug: "bench-project".into(),
                url: None,
                visibility: 0,
                created: secs,
                modified: secs,
            },
        )?;
        db::projects::set_role(
            c,
            &InsertProjectRole {
                user_id: admin.id,
                project_id: project.id,
                role: "maintainer".into(),
                created: secs,
                modified: secs,
            },
        )?;
        Ok((org, project))
    })
}

/// `n` project keys in batches of 10,000 per transaction; returns the first (uuid, key).
fn project_keys(
    c: &mut Conn,
    project: &QueryProject,
    admin: &QueryUser,
    n: usize,
    secs: i64,
) -> Res<(String, String)> {
    let mut first = None;
    for chunk in 0..n.div_ceil(10_000) {
        keyward::db::atomically(c, |c| -> Res<()> {
            for i in chunk * 10_000..((chunk + 1) * 10_000).min(n) {
                let key = PlainKey::generate(KeyKind::Project);
                let uuid = uuid::Uuid::now_v7().to_string();
                let row = NewCredential {
                    uuid: uuid.clone(),
                    owner_id: project.id,
                    creator_id: Some(admin.id),
                    name: &format!("key-{i:06}"),
                    secret: key.hash().as_str().to_owned(),
                    creation: secs,
                    expiration: secs + i64::from(u32::MAX),
                };
                db::credentials::insert(c, Table::ProjectKey, &row)?;
                if first.is_none() {
                    first = Some((uuid, key.into_exposed()));
                }
            }
            Ok(())
        })?;
    }
    Ok(first.unwrap_or_default())
}

/// `n` legacy `api_key` tokens for `admin`; returns their JWTs.
fn legacy_tokens(
    c: &mut Conn,
    jwt: &JwtKeys,
    admin: &QueryUser,
    n: usize,
    now: chrono::DateTime<chrono::Utc>,
) -> Res<Vec<String>> {
    let mut tokens = Vec::new();
    for i in 0..n {
        let ttl = u32::MAX - u32::try_from(i)?;
        let (token, claims) = jwt.mint(Audience::ApiKey, &admin.email, ttl, now, None)?;
        let row = NewCredential {
            uuid: uuid::Uuid::now_v7().to_string(),
            owner_id: admin.id,
            creator_id: None,
            name: &format!("legacy-{i}"),
            secret: token.clone(),
            creation: claims.iat,
            expiration: claims.exp,
        };
        db::credentials::insert(c, Table::Token, &row)?;
        tokens.push(token);
    }
    Ok(tokens)
}

fn main() -> Res<()> {
    let args = args()?;
    let config = Config::resolve(
        Overrides {
            db: Some(args.db.clone()),
            database_url: args.database_url.clone().map(keyward::config::Secret::new),
            ..Overrides::default()
        },
        None,
        None,
    )?;
    let state = keyward::server::open_state(&config, Clock::System)?;
    let now = state.clock.now();
    let secs = now.timestamp();
    let started = std::time::Instant::now();
    let out = state.db.run_sync(|c| -> Res<serde_json::Value> {
        let admin = account(c, "Bench Admin", "admin@bench.example", true, secs)?;
        let admin_key = create_user_key(c, &admin, "bench".into(), u32::MAX, now)?;
        let (org, project) = org_and_project(c, &admin, secs)?;
        let (key_uuid, key) = project_keys(c, &project, &admin, args.keys, secs)?;
        let mut user_keys = Vec::with_capacity(args.users);
        for i in 0..args.users {
            let user = account(
                c,
                &format!("User {i}"),
                &format!("user{i}@bench.example"),
                false,
                secs,
            )?;
            user_keys.push(create_user_key(c, &user, "bench".into(), u32::MAX, now)?.key);
        }
        let tokens = legacy_tokens(c, &state.jwt, &admin, args.tokens, now)?;
        let (jwt, _) = state
            .jwt
            .mint(Audience::Client, &admin.email, CLIENT_TTL, now, None)?;
        Ok(serde_json::json!({
            "admin_slug": admin.slug,
            "admin_jwt": jwt,
            "admin_user_key": admin_key.key,
            "organization": org.slug,
            "project": project.slug,
            "project_key_uuid": key_uuid,
            "project_key": key,
            "user_keys": user_keys,
            "legacy_tokens": tokens,
            "keys": args.keys,
        }))
    })?;
    std::fs::write(&args.out, serde_json::to_string_pretty(&out)?)?;
    println!(
        "seeded {} project keys, {} users, {} tokens in {:.1?} → {}",
        args.keys,
        args.users,
        args.tokens,
        started.elapsed(),
        args.out.display()
    );
    Ok(())
}
