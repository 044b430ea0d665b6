//! A [`Credential`] as the wire type of its kind. Each conversion destructures the row, so
//! a new column is a compile error here until it is shown or deliberately left out.

use super::Credential;
use crate::db::credentials::CredentialRow;
use crate::domain::credentials::{JsonProjectKey, JsonToken, JsonUserKey};
use crate::domain::ids::uuid_from_db;
use crate::domain::time::Timestamp;
use uuid::Uuid;

/// The fields every kind shows: uuid, name, creation, expiration, revoked, and the detail.
type Shown = (
    Uuid,
    String,
    Timestamp,
    Timestamp,
    Option<Timestamp>,
    Option<String>,
);

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
    let (creation, expiration) = (
        Timestamp::from_secs(creation),
        Timestamp::from_secs(expiration),
    );
    let revoked = revoked.map(Timestamp::from_secs);
    (
        uuid_from_db(&uuid),
        name,
        creation,
        expiration,
        revoked,
        detail,
    )
}

impl From<Credential> for JsonProjectKey {
    fn from(c: Credential) -> Self {
        let (uuid, name, creation, expiration, revoked, creator) = shown(c.row);
        let creator = creator.as_deref().map(uuid_from_db);
        let project = c.owner;
        Self {
            uuid,
            project,
            creator,
            name,
            creation,
            expiration,
            revoked,
        }
    }
}

impl From<Credential> for JsonUserKey {
    fn from(c: Credential) -> Self {
        let (uuid, name, creation, expiration, revoked, _) = shown(c.row);
        let user = c.owner;
        Self {
            uuid,
            user,
            name,
            creation,
            expiration,
            revoked,
        }
    }
}

impl From<Credential> for JsonToken {
    fn from(c: Credential) -> Self {
        let (uuid, name, creation, expiration, revoked, jwt) = shown(c.row);
        // Every token row holds its JWT (the column is NOT NULL).
        let (user, token) = (c.owner, jwt.unwrap_or_default());
        Self {
            uuid,
            user,
            name,
            token,
            creation,
            expiration,
            revoked,
        }
    }
}
