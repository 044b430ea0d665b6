//! `keyward admin …`: operator commands that work on the database directly, for a fresh
//! install without email or an operator who lost access.

use std::io::Write;

use chrono::{DateTime, Utc};

use crate::accounts::{NewAccount, create_account};
use crate::credentials::jwt::{Audience, CLIENT_TTL};
use crate::credentials::{self, Scope};
use crate::db;
use crate::db::credentials::{NewCredential, Table};
use crate::db::rows::QueryUser;
use crate::domain::credentials::ttl_or_default;
use crate::domain::ids::ResourceId;
use crate::domain::names::{Email, Jwt, ResourceName, Slug, UserName};
use crate::error::ApiError;
use crate::state::AppState;

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("{0}")]
    Unavailable(#[from] db::DbError),
    #[error("{0}")]
    Backup(#[from] db::BackupError),
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
}

/// Creates a user (with a personal organization) and prints a session JWT and a user key.
pub fn create_user(
    state: &AppState,
    email: &str,
    name: &str,
    slug: Option<&str>,
    admin: bool,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let account = NewAccount {
        name: UserName::parse(name).map_err(AdminError::Invalid)?,
        slug: slug
            .map(Slug::parse)
            .transpose()
            .map_err(AdminError::Invalid)?,
        email: Email::parse(email).map_err(AdminError::Invalid)?,
        admin: Some(admin),
        invite: None,
    };
    let now = state.clock.now();
    let (user, key) = state.db.run_sync(|c| -> Result<_, AdminError> {
        let (user, _) = create_account(c, &account, now.timestamp())?;
        let key =
            credentials::create_user_key(c, &user, "keyward admin".to_owned(), u32::MAX, now)?;
        Ok((user, key))
    })?;
    let (jwt, _) = mint_session(state, &user, now)?;
    writeln!(
        out,
        "Created user {} ({}){}",
        user.email,
        user.uuid,
        if user.admin { ", server admin" } else { "" }
    )?;
    writeln!(out, "slug: {}", user.slug)?;
    writeln!(out, "session token (JWT, valid 30 days): {jwt}")?;
    writeln!(out, "user API key (shown once, never again): {}", key.key)?;
    Ok(())
}

/// Creates a user API key for an existing user and prints it.
pub fn create_user_key(
    state: &AppState,
    user: &str,
    name: &str,
    ttl: Option<u32>,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let name = ResourceName::parse(name).map_err(AdminError::Invalid)?;
    let ttl = ttl_or_default(ttl)
        .ok_or_else(|| AdminError::Invalid("TTL must be greater than zero".into()))?;
    let id = parse_user(user)?;
    let now = state.clock.now();
    let key = state.db.run_sync(|c| -> Result<_, AdminError> {
        let user = find_user(c, &id, user)?;
        Ok(credentials::create_user_key(
            c,
            &user,
            name.into_string(),
            ttl,
            now,
        )?)
    })?;
    writeln!(
        out,
        "user API key {} (shown once, never again): {}",
        key.uuid, key.key
    )?;
    Ok(())
}

/// Stores an existing legacy token (an `api_key` JWT signed with this server's secret) for
/// a user, so that it keeps working and can be listed and revoked.
pub fn import_token(
    state: &AppState,
    user: &str,
    name: &str,
    jwt: &str,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let name = ResourceName::parse(name).map_err(AdminError::Invalid)?;
    let jwt = Jwt::parse(jwt).map_err(|_| AdminError::Invalid("the token is not a JWT".into()))?;
    let claims = state
        .jwt
        .verify(jwt.as_str(), &[Audience::ApiKey], state.clock.now())
        .map_err(|e| {
            AdminError::Invalid(format!(
                "the token does not verify with this server's secret and issuer: {e}"
            ))
        })?;
    let id = parse_user(user)?;
    let uuid = state.db.run_sync(|c| -> Result<_, AdminError> {
        let user = find_user(c, &id, user)?;
        if !claims.sub.eq_ignore_ascii_case(&user.email) {
            return Err(AdminError::Invalid(format!(
                "the token belongs to another email than {}'s",
                user.slug
            )));
        }
        let uuid = uuid::Uuid::now_v7();
        let row = NewCredential {
            uuid: uuid.to_string(),
            owner_id: user.id,
            creator_id: None,
            name: name.as_str(),
            secret: jwt.into_string(),
            creation: claims.iat,
            expiration: claims.exp,
        };
        db::credentials::insert(c, Table::Token, &row)?;
        Ok(uuid)
    })?;
    writeln!(out, "imported token {uuid}")?;
    Ok(())
}

fn mint_session(
    state: &AppState,
    user: &QueryUser,
    now: DateTime<Utc>,
) -> Result<(String, crate::credentials::jwt::Claims), AdminError> {
    state
        .jwt
        .mint(Audience::Client, &user.email, CLIENT_TTL, now, None)
        .map_err(|e| AdminError::Api(ApiError::Signing(e)))
}

fn parse_user(user: &str) -> Result<ResourceId, AdminError> {
    ResourceId::parse(user)
        .ok_or_else(|| AdminError::Invalid(format!("`{user}` is not a user slug or UUID")))
}

fn find_user(c: &mut db::Conn, id: &ResourceId, raw: &str) -> Result<QueryUser, AdminError> {
    db::users::find(c, id)?.ok_or_else(|| AdminError::Invalid(format!("no user `{raw}`")))
}

/// Locks (or unlocks) a user: a locked user's credentials all stop working at once.
pub fn lock_user(
    state: &AppState,
    user: &str,
    locked: bool,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let id = parse_user(user)?;
    let now = state.clock.now().timestamp();
    let row = state.db.run_sync(|c| -> Result<_, AdminError> {
        let found = find_user(c, &id, user)?;
        let changes = db::users::UpdateUser {
            locked: Some(locked),
            modified: Some(now),
            ..db::users::UpdateUser::default()
        };
        Ok(db::users::update(c, found.id, &changes)?)
    })?;
    let state = if row.locked { "locked" } else { "unlocked" };
    writeln!(out, "user {} ({}) is {state}", row.slug, row.uuid)?;
    Ok(())
}

/// Lists a user's API keys, revoked ones included (never a secret).
pub fn list_user_keys(
    state: &AppState,
    user: &str,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let id = parse_user(user)?;
    let keys = state.db.run_sync(|c| -> Result<_, AdminError> {
        let found = find_user(c, &id, user)?;
        let page = db::Page {
            limit: i64::MAX,
            offset: 0,
            desc: false,
        };
        let scope = Scope::user_keys(&found, None);
        let marks = state.db.page_marks();
        let live = credentials::list(c, &marks, &scope, &db::Filter::default(), page)?.0;
        let revoked = db::Filter {
            revoked: true,
            ..db::Filter::default()
        };
        let gone = credentials::list(c, &marks, &scope, &revoked, page)?.0;
        Ok(live
            .into_iter()
            .chain(gone)
            .map(|k| k.row)
            .collect::<Vec<_>>())
    })?;
    writeln!(
        out,
        "{:<36}  {:<20}  {:<20}  {:<20}  name",
        "uuid", "created", "expires", "revoked"
    )?;
    let time = |s: i64| {
        crate::domain::time::Timestamp::from_secs(s)
            .0
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    for key in keys {
        let revoked = key.revoked.map_or_else(|| "-".to_owned(), time);
        writeln!(
            out,
            "{:<36}  {:<20}  {:<20}  {:<20}  {}",
            key.uuid,
            time(key.creation),
            time(key.expiration),
            revoked,
            crate::domain::names::escape_control(&key.name)
        )?;
    }
    Ok(())
}

/// Writes a consistent copy of the database to `to`, safe while the server runs. Refuses to overwrite an existing file.
pub fn backup(
    state: &AppState,
    to: &std::path::Path,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    if to.exists() {
        return Err(AdminError::Invalid(format!(
            "{} already exists",
            to.display()
        )));
    }
    state.db.backup_to(to)?;
    writeln!(out, "backed up {} to {}", state.db.describe(), to.display())?;
    Ok(())
}
