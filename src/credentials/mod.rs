//! The credential core: the lifecycle of every kind of credential (project keys, user keys
//! and legacy tokens), written once. List, view, rename, revoke, mint, and the one rule for
//! whether a credential is live. The HTTP handlers call these with the caller already
//! resolved to a [`Scope`]; the tables are reached through `db::credentials`.
//!
//! Adding a field shared by the kinds: a column in `db::credentials` (row, insert, selects),
//! its wire field in `domain::credentials`, and its mapping in `json.rs`.

mod json;
pub mod jwt;
pub mod mint;
pub mod secret;

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use uuid::Uuid;

use crate::db::credentials::{self as store, CredentialRow, Selection, Table};
use crate::db::marks::PageMarks;
use crate::db::rows::{QueryProject, QueryUser};
use crate::db::{Conn, Filter, Listed, Page};
use crate::domain::ids::uuid_from_db;
use crate::domain::names::ResourceName;
use crate::error::{ApiError, Forbidden, KeyAction, Resource};
use secret::{KeyHash, PlainKey};

pub use mint::{create_project_key, create_user_key};

/// The kinds of credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `bencher_run_…`: acts on its project.
    ProjectKey,
    /// `bencher_user_…`: acts as its user.
    UserKey,
    /// A legacy JWT with audience `api_key` (read, rename and revoke only).
    Token,
}

impl Kind {
    fn table(self) -> Table {
        match self {
            Self::ProjectKey => Table::ProjectKey,
            Self::UserKey => Table::UserKey,
            Self::Token => Table::Token,
        }
    }

    fn resource(self) -> Resource {
        match self {
            Self::ProjectKey => Resource::ProjectKey,
            Self::UserKey => Resource::UserKey,
            Self::Token => Resource::Token,
        }
    }

    /// How a credential is named in messages: by public UUIDs only (Bencher shows internal
    /// row ids; a token's id is quoted, as Bencher prints it).
    fn describe(self, owner: &str, key: Uuid) -> String {
        match self {
            Self::ProjectKey => format!("(ProjectUuid({owner}), ProjectKeyUuid({key}))"),
            Self::UserKey => format!("(UserUuid({owner}), UserKeyUuid({key}))"),
            Self::Token => format!("(UserUuid({owner}), {:?})", key.to_string()),
        }
    }

    fn already_revoked(self) -> ApiError {
        ApiError::AlreadyRevoked(match self {
            Self::ProjectKey => "Project key",
            Self::UserKey => "User key",
            Self::Token => "Token",
        })
    }
}

/// Whose credentials an operation reaches, and which of them the caller may touch.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    kind: Kind,
    owner_id: i32,
    owner_uuid: &'a str,
    /// A caller authenticated by a user key reaches only that key.
    only: Option<i32>,
}

impl<'a> Scope<'a> {
    /// A project's keys.
    pub fn project_keys(project: &'a QueryProject) -> Self {
        Self::new(Kind::ProjectKey, project.id, &project.uuid, None)
    }

    /// A user's keys, as seen by a caller who authenticated with `caller_key` (if by a key).
    pub fn user_keys(user: &'a QueryUser, caller_key: Option<i32>) -> Self {
        Self::new(Kind::UserKey, user.id, &user.uuid, caller_key)
    }

    /// A user's legacy tokens.
    pub fn tokens(user: &'a QueryUser) -> Self {
        Self::new(Kind::Token, user.id, &user.uuid, None)
    }

    fn new(kind: Kind, owner_id: i32, owner_uuid: &'a str, only: Option<i32>) -> Self {
        Self {
            kind,
            owner_id,
            owner_uuid,
            only,
        }
    }

    fn credential(&self, row: CredentialRow) -> Credential {
        Credential {
            kind: self.kind,
            owner: uuid_from_db(self.owner_uuid),
            row,
        }
    }
}

/// A credential as the core hands it up: its row and its owner's public id. `json.rs`
/// turns it into the wire type of its kind.
#[derive(Clone, Debug)]
pub struct Credential {
    pub kind: Kind,
    pub owner: Uuid,
    pub row: CredentialRow,
}

/// One page of the scope's credentials, live or revoked per `filter`, and the total.
pub fn list(
    c: &mut Conn,
    marks: &PageMarks,
    scope: &Scope<'_>,
    filter: &Filter,
    page: Page,
) -> QueryResult<Listed<Credential>> {
    let selection = Selection {
        table: scope.kind.table(),
        owner_id: scope.owner_id,
        only: scope.only,
        filter,
    };
    let (rows, total) = store::list(c, marks, selection, page)?;
    Ok((
        rows.into_iter().map(|r| scope.credential(r)).collect(),
        total,
    ))
}

/// One credential of the scope, revoked or not: 404 when it is not there, then 403 when the
/// caller may reach only another one.
pub fn view(
    c: &mut Conn,
    scope: &Scope<'_>,
    key: Uuid,
    action: KeyAction,
) -> Result<Credential, ApiError> {
    let row = store::find(c, scope.kind.table(), scope.owner_id, &key.to_string())?;
    view_found(scope, row, key, action)
}

/// [`view`] of a row already read: `found` is what the scope holds under `key`.
pub fn view_found(
    scope: &Scope<'_>,
    found: Option<CredentialRow>,
    key: Uuid,
    action: KeyAction,
) -> Result<Credential, ApiError> {
    let kind = scope.kind;
    let row = found
        .filter(|row| row.owner_id == scope.owner_id)
        .ok_or_else(|| {
            ApiError::not_found(kind.resource(), kind.describe(scope.owner_uuid, key))
        })?;
    match scope.only {
        Some(own) if own != row.id => Err(Forbidden::UserKeyOnlyItself(action).into()),
        _ => Ok(scope.credential(row)),
    }
}

/// Renames a credential (revoked ones too). No new name is Bencher's empty-update 409.
pub fn rename(
    c: &mut Conn,
    scope: &Scope<'_>,
    key: Uuid,
    name: Option<ResourceName>,
) -> Result<Credential, ApiError> {
    let mut found = view(c, scope, key, KeyAction::Update)?;
    let kind = scope.kind;
    let name = name.ok_or_else(|| {
        ApiError::empty_update(kind.resource(), kind.describe(scope.owner_uuid, key))
    })?;
    store::rename(c, kind.table(), found.row.id, name.as_str())?;
    found.row.name = name.into_string();
    Ok(found)
}

/// Revokes a credential for good at `now`: it stops working on the next request. A
/// credential already revoked is a 409.
pub fn revoke(
    c: &mut Conn,
    scope: &Scope<'_>,
    key: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let found = view(c, scope, key, KeyAction::Revoke)?;
    match store::revoke(c, scope.kind.table(), found.row.id, now.timestamp())? {
        0 => Err(scope.kind.already_revoked()),
        _ => Ok(()),
    }
}

/// Refuses a new credential when the scope's owner already holds `limit` live ones: a 409
/// that says which limit, and how to make room.
pub fn ensure_room(c: &mut Conn, scope: &Scope<'_>, limit: u32) -> Result<(), ApiError> {
    let live = store::live_count(c, scope.kind.table(), scope.owner_id)?;
    if live < i64::from(limit) {
        return Ok(());
    }
    let (resource, owner, setting) = match scope.kind {
        Kind::ProjectKey => (Resource::Project, "ProjectUuid", "--max-project-keys"),
        Kind::UserKey | Kind::Token => (Resource::User, "UserUuid", "--max-user-keys"),
    };
    Err(ApiError::Conflict {
        resource,
        id: format!("{owner}({})", scope.owner_uuid),
        reason: format!(
            "it already has {live} live API keys, the most this server allows ({setting} {limit}). Revoke keys it no longer uses first."
        ),
    })
}

/// The one rule for whether a credential authenticates at `now` (Unix seconds): not
/// revoked, and not yet at its expiration.
pub fn is_live(revoked: Option<i64>, expiration: i64, now: i64) -> bool {
    revoked.is_none() && now < expiration
}

/// The live project key that `key` is, on a project that exists: one indexed read, then a
/// constant-time comparison of the stored hash.
pub fn verify_project_key(
    c: &mut Conn,
    key: &PlainKey,
    now: DateTime<Utc>,
) -> QueryResult<Option<CredentialRow>> {
    let hash = key.hash();
    let found = store::project_key_by_hash(c, hash.as_str())?;
    Ok(found.and_then(|(row, stored)| live(row, &stored, &hash, now)))
}

/// The live user key that `key` is, and its user (locked or not: the caller decides).
pub fn verify_user_key(
    c: &mut Conn,
    key: &PlainKey,
    now: DateTime<Utc>,
) -> QueryResult<Option<(CredentialRow, QueryUser)>> {
    let hash = key.hash();
    let found = store::user_key_by_hash(c, hash.as_str())?;
    Ok(user_key_verified(found, &hash, now))
}

/// What a lookup of the user key with `hash` found (row, stored hash, user), if it is that
/// key and live at `now`.
pub fn user_key_verified(
    found: Option<(CredentialRow, String, QueryUser)>,
    hash: &KeyHash,
    now: DateTime<Utc>,
) -> Option<(CredentialRow, QueryUser)> {
    found.and_then(|(row, stored, user)| Some((live(row, &stored, hash, now)?, user)))
}

/// `row` if its stored hash is `hash` and it is live at `now`.
fn live(
    row: CredentialRow,
    stored: &str,
    hash: &KeyHash,
    now: DateTime<Utc>,
) -> Option<CredentialRow> {
    (hash.matches(stored) && is_live(row.revoked, row.expiration, now.timestamp())).then_some(row)
}

#[cfg(test)]
mod liveness {
    use super::is_live;

    #[test]
    fn live_until_revoked_or_expired() {
        assert!(is_live(None, 100, 99));
        assert!(!is_live(None, 100, 100), "expired at its expiration second");
        assert!(!is_live(Some(50), 100, 60));
        assert!(
            !is_live(Some(50), 100, 40),
            "a revocation counts whenever it was"
        );
    }
}
