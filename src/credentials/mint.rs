//! Minting keys: a fresh key from the CSPRNG, only its SHA-256 stored, the plaintext
//! returned once. Used by the key endpoints, `keyward admin` and the benchmark's seeding.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use uuid::Uuid;

use super::secret::{KeyKind, PlainKey};
use crate::db::Conn;
use crate::db::credentials::{self as store, NewCredential, Table};
use crate::db::rows::{QueryProject, QueryUser};
use crate::domain::credentials::{JsonProjectKeyCreated, JsonUserKeyCreated};
use crate::domain::ids::uuid_from_db;
use crate::domain::time::{Timestamp, add_secs};

/// A key just stored: its public id, plaintext and lifetime.
struct Minted {
    uuid: Uuid,
    key: PlainKey,
    creation: Timestamp,
    expiration: Timestamp,
}

/// Stores a new key of `kind` for the owner row `owner_id`, living `ttl` seconds from `now`.
fn mint(
    c: &mut Conn,
    kind: KeyKind,
    owner_id: i32,
    creator_id: Option<i32>,
    name: &str,
    ttl: u32,
    now: DateTime<Utc>,
) -> QueryResult<Minted> {
    let expiration = add_secs(now, ttl);
    let key = PlainKey::generate(kind);
    let uuid = Uuid::now_v7();
    let table = match kind {
        KeyKind::Project => Table::ProjectKey,
        KeyKind::User => Table::UserKey,
    };
    let row = NewCredential {
        uuid: uuid.to_string(),
        owner_id,
        creator_id,
        name,
        secret: key.hash().as_str().to_owned(),
        creation: now.timestamp(),
        expiration: expiration.timestamp(),
    };
    store::insert(c, table, &row)?;
    Ok(Minted {
        uuid,
        key,
        creation: Timestamp(now),
        expiration: Timestamp(expiration),
    })
}

/// Creates a key for `project` (made by `creator`, a user row id) that lives `ttl` seconds.
pub fn create_project_key(
    c: &mut Conn,
    project: &QueryProject,
    creator: Option<i32>,
    name: String,
    ttl: u32,
    now: DateTime<Utc>,
) -> QueryResult<JsonProjectKeyCreated> {
    let m = mint(c, KeyKind::Project, project.id, creator, &name, ttl, now)?;
    Ok(JsonProjectKeyCreated {
        uuid: m.uuid,
        project: uuid_from_db(&project.uuid),
        name,
        key: m.key.into_exposed(),
        creation: m.creation,
        expiration: m.expiration,
    })
}

/// Creates a key for `user` that lives `ttl` seconds.
pub fn create_user_key(
    c: &mut Conn,
    user: &QueryUser,
    name: String,
    ttl: u32,
    now: DateTime<Utc>,
) -> QueryResult<JsonUserKeyCreated> {
    let m = mint(c, KeyKind::User, user.id, None, &name, ttl, now)?;
    Ok(JsonUserKeyCreated {
        uuid: m.uuid,
        user: uuid_from_db(&user.uuid),
        name,
        key: m.key.into_exposed(),
        creation: m.creation,
        expiration: m.expiration,
    })
}
