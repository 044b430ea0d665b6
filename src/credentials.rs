//! Minting credentials: a fresh key from the CSPRNG, only its SHA-256 stored, the plaintext
//! returned once. Used by the key endpoints, `keyward admin` and the benchmark's seeding.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel::sqlite::SqliteConnection;
use uuid::Uuid;

use crate::auth::api_key::{KeyKind, PlainKey};
use crate::db;
use crate::db::rows::{InsertProjectKey, InsertUserKey, QueryProject, QueryUser};
use crate::domain::credentials::{JsonProjectKeyCreated, JsonUserKeyCreated};
use crate::domain::ids::uuid_from_db;
use crate::domain::time::{Timestamp, add_secs};

/// Creates a key for `project` (made by `creator`, a user row id) that lives `ttl` seconds.
pub fn create_project_key(
    c: &mut SqliteConnection,
    project: &QueryProject,
    creator: Option<i32>,
    name: String,
    ttl: u32,
    now: DateTime<Utc>,
) -> QueryResult<JsonProjectKeyCreated> {
    let expiration = add_secs(now, ttl);
    let key = PlainKey::generate(KeyKind::Project);
    let uuid = Uuid::now_v7();
    db::project_keys::insert(
        c,
        &InsertProjectKey {
            uuid: uuid.to_string(),
            project_id: project.id,
            creator_id: creator,
            name: name.clone(),
            key_hash: key.hash().as_str().to_owned(),
            creation: now.timestamp(),
            expiration: expiration.timestamp(),
        },
    )?;
    Ok(JsonProjectKeyCreated {
        uuid,
        project: uuid_from_db(&project.uuid),
        name,
        key: key.into_exposed(),
        creation: Timestamp(now),
        expiration: Timestamp(expiration),
    })
}

/// Creates a key for `user` that lives `ttl` seconds.
pub fn create_user_key(
    c: &mut SqliteConnection,
    user: &QueryUser,
    name: String,
    ttl: u32,
    now: DateTime<Utc>,
) -> QueryResult<JsonUserKeyCreated> {
    let expiration = add_secs(now, ttl);
    let key = PlainKey::generate(KeyKind::User);
    let uuid = Uuid::now_v7();
    db::user_keys::insert(
        c,
        &InsertUserKey {
            uuid: uuid.to_string(),
            user_id: user.id,
            name: name.clone(),
            key_hash: key.hash().as_str().to_owned(),
            creation: now.timestamp(),
            expiration: expiration.timestamp(),
        },
    )?;
    Ok(JsonUserKeyCreated {
        uuid,
        user: uuid_from_db(&user.uuid),
        name,
        key: key.into_exposed(),
        creation: Timestamp(now),
        expiration: Timestamp(expiration),
    })
}
