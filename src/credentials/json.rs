//! A [`Credential`] as the wire type of its kind. Each conversion destructures the row, so
//! a new column is a compile error here until it is shown or deliberately left out.

use super::Credential;
use crate::db::credentials::CredentialRow;
use crate::domain::credentials::{JsonProjectKey, JsonToken, JsonUserKey};
use crate::domain::ids::uuid_from_db;
use crate::domain::time::Timestamp;

/// The fields every kind shows, in Bencher's order around the kind's own ones.
struct Shown {
    uuid: uuid::Uuid,
    name: String,
    creation: Timestamp,
    expiration: Timestamp,
    revoked: Option<Timestamp>,
    detail: Option<String>,
}

fn shown(row: CredentialRow) -> Shown {
    let CredentialRow {
        id: _,
        uuid,
        owner_id: _,
        name,
        creation,
        expiration,
        revoked,
        detail,
    } = row;
    Shown {
        uuid: uuid_from_db(&uuid),
        name,
        creation: Timestamp::from_secs(creation),
        expiration: Timestamp::from_secs(expiration),
        revoked: revoked.map(Timestamp::from_secs),
        detail,
    }
}

impl From<Credential> for JsonProjectKey {
    fn from(c: Credential) -> Self {
        let s = shown(c.row);
        Self {
            uuid: s.uuid,
            project: c.owner,
            creator: s.detail.as_deref().map(uuid_from_db),
            name: s.name,
            creation: s.creation,
            expiration: s.expiration,
            revoked: s.revoked,
        }
    }
}

impl From<Credential> for JsonUserKey {
    fn from(c: Credential) -> Self {
        let s = shown(c.row);
        Self {
            uuid: s.uuid,
            user: c.owner,
            name: s.name,
            creation: s.creation,
            expiration: s.expiration,
            revoked: s.revoked,
        }
    }
}

impl From<Credential> for JsonToken {
    fn from(c: Credential) -> Self {
        let s = shown(c.row);
        Self {
            uuid: s.uuid,
            user: c.owner,
            name: s.name,
            // Every token row holds its JWT (the column is NOT NULL).
            token: s.detail.unwrap_or_default(),
            creation: s.creation,
            expiration: s.expiration,
            revoked: s.revoked,
        }
    }
}
