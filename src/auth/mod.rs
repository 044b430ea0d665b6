//! Authentication: reading `Authorization: Bearer …`, verifying the credential against the
//! database, and the extractors that state a handler's authentication in its signature.
//!
//! Two extractors, as in Bencher:
//! - [`BearerToken`] (credential endpoints, users, organizations): a header is required and
//!   only its *syntax* is checked in the extractor; [`authenticate`] verifies it later, in
//!   the handler's database call, so a bad path or body is reported first.
//! - [`Actor`] (project-data endpoints such as `GET /v0/projects/{project}`): the header is
//!   optional, and a project key (`bencher_run_…`) is accepted.

pub mod access;
pub mod rbac;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};

use crate::credentials::jwt::{Audience, JwtKeys};
use crate::credentials::secret::{KeyKind, PlainKey};
use crate::credentials::{verify_project_key, verify_user_key};
use crate::db;
use crate::db::Conn;
use crate::db::credentials::CredentialRow;
use crate::db::rows::QueryUser;
use crate::domain::ids::uuid_from_db;
use crate::error::{ApiError, AuthError, Resource};
use crate::state::AppState;

/// A syntactically valid bearer credential of the kind a user authenticates with.
#[derive(Debug)]
pub enum Bearer {
    UserKey(PlainKey),
    Jwt(String),
}

/// Reads the bearer value: `Ok(None)` when there is no `Authorization` header.
fn read_bearer(headers: &HeaderMap) -> Result<Option<String>, AuthError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|e| AuthError::InvalidHeader(e.to_string()))?;
    let (scheme, rest) = value.split_once(' ').ok_or(AuthError::MissingBearer)?;
    let rest = rest.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || rest.is_empty() {
        return Err(AuthError::MissingBearer);
    }
    Ok(Some(rest.to_owned()))
}

/// Sorts a bearer value into a user key or a JWT, checking its shape only.
fn classify(value: String) -> Result<Bearer, AuthError> {
    if value.starts_with(KeyKind::User.prefix()) {
        PlainKey::parse(KeyKind::User, &value)
            .map(Bearer::UserKey)
            .ok_or(AuthError::MalformedUserKey)
    } else if crate::domain::names::Jwt::parse(&value).is_ok() {
        Ok(Bearer::Jwt(value))
    } else {
        Err(AuthError::MalformedJwt)
    }
}

/// The `Authorization` header of a credential endpoint, syntax-checked.
#[derive(Debug)]
pub struct BearerToken(pub Bearer);

impl FromRequestParts<AppState> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        let value = read_bearer(&parts.headers)?.ok_or(AuthError::MissingHeader)?;
        Ok(Self(classify(value)?))
    }
}

/// The optional credential of a project-data endpoint.
#[derive(Debug)]
pub enum Actor {
    Anonymous,
    User(Bearer),
    ProjectKey(String),
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        let value = match read_bearer(&parts.headers) {
            Ok(Some(v)) => v,
            Ok(None) => return Ok(Self::Anonymous),
            Err(_) => return Err(AuthError::InvalidToken.into()),
        };
        if value.starts_with(KeyKind::Project.prefix()) {
            return Ok(Self::ProjectKey(value));
        }
        classify(value)
            .map(Self::User)
            .map_err(|_| AuthError::InvalidToken.into())
    }
}

/// How an authenticated user proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// A JWT: a session (`client`) or a legacy API token (`api_key`).
    Jwt(Audience),
    /// A user API key, by its row id.
    UserKey(i32),
}

/// An authenticated, unlocked user.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub user: QueryUser,
    pub via: Via,
}

impl AuthUser {
    /// Whether the user is a server admin.
    pub fn is_admin(&self) -> bool {
        self.user.admin
    }

    /// The user's public id.
    pub fn uuid(&self) -> uuid::Uuid {
        uuid_from_db(&self.user.uuid)
    }

    /// The user key this request authenticated with, if it did.
    pub fn user_key_id(&self) -> Option<i32> {
        match self.via {
            Via::UserKey(id) => Some(id),
            Via::Jwt(_) => None,
        }
    }
}

/// Verifies a bearer credential against the database, as of `now`.
pub fn authenticate(
    conn: &mut Conn,
    keys: &JwtKeys,
    bearer: &Bearer,
    now: DateTime<Utc>,
) -> Result<AuthUser, ApiError> {
    match bearer {
        Bearer::UserKey(key) => authenticate_user_key(conn, key, now),
        Bearer::Jwt(token) => authenticate_jwt(conn, keys, token, now),
    }
}

/// Unknown, revoked, expired and locked-user keys all get the same answer, and so does a
/// database error during the lookup.
fn authenticate_user_key(
    conn: &mut Conn,
    key: &PlainKey,
    now: DateTime<Utc>,
) -> Result<AuthUser, ApiError> {
    let found = verify_user_key(conn, key, now).map_err(user_key_lookup_failed)?;
    user_key_caller(found)
}

/// A database error while looking a user key up: logged, and answered as an unknown key.
#[expect(
    clippy::needless_pass_by_value,
    reason = "the shape map_err hands over"
)]
pub(crate) fn user_key_lookup_failed(e: diesel::result::Error) -> AuthError {
    tracing::warn!(error = %e, "user key lookup failed");
    AuthError::InvalidUserKey
}

/// The caller a verified user key stands for: its user, unless locked.
pub(crate) fn user_key_caller(
    found: Option<(CredentialRow, QueryUser)>,
) -> Result<AuthUser, ApiError> {
    match found {
        Some((row, user)) if !user.locked => Ok(AuthUser {
            user,
            via: Via::UserKey(row.id),
        }),
        _ => Err(AuthError::InvalidUserKey.into()),
    }
}

fn authenticate_jwt(
    conn: &mut Conn,
    keys: &JwtKeys,
    token: &str,
    now: DateTime<Utc>,
) -> Result<AuthUser, ApiError> {
    let claims = keys
        .verify(token, &[Audience::Client, Audience::ApiKey], now)
        .map_err(AuthError::InvalidJwt)?;
    let email = claims.sub.to_lowercase();
    let user = db::users::find_by_email(conn, &email)?
        .ok_or_else(|| ApiError::not_found(Resource::User, format!("Email({email:?})")))?;
    if user.locked {
        return Err(AuthError::Locked(uuid_from_db(&user.uuid)).into());
    }
    let audience = if claims.aud == Audience::ApiKey.as_str() {
        if db::credentials::token_is_revoked(conn, user.id, token)? {
            return Err(AuthError::RevokedToken.into());
        }
        Audience::ApiKey
    } else {
        Audience::Client
    };
    Ok(AuthUser {
        user,
        via: Via::Jwt(audience),
    })
}

/// Who is calling a project-data endpoint, verified.
#[derive(Debug)]
pub enum Principal {
    Anonymous,
    User(AuthUser),
    /// A live project key (its row: `owner_id` is its project).
    ProjectKey(CredentialRow),
}

impl Principal {
    /// The user behind the call, if it is a user.
    pub fn user(&self) -> Option<&AuthUser> {
        match self {
            Self::User(u) => Some(u),
            Self::Anonymous | Self::ProjectKey(_) => None,
        }
    }
}

/// Verifies an [`Actor`]. Failures of any kind are 401s on these endpoints.
pub fn authenticate_actor(
    conn: &mut Conn,
    keys: &JwtKeys,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Principal, ApiError> {
    match actor {
        Actor::Anonymous => Ok(Principal::Anonymous),
        Actor::ProjectKey(value) => {
            let key =
                PlainKey::parse(KeyKind::Project, value).ok_or(AuthError::InvalidProjectKey)?;
            match verify_project_key(conn, &key, now) {
                Ok(Some(row)) => Ok(Principal::ProjectKey(row)),
                Ok(None) => Err(AuthError::InvalidProjectKey.into()),
                Err(e) => {
                    tracing::warn!(error = %e, "project key lookup failed");
                    Err(AuthError::InvalidProjectKey.into())
                }
            }
        }
        Actor::User(bearer) => match authenticate(conn, keys, bearer, now) {
            Ok(user) => Ok(Principal::User(user)),
            Err(ApiError::Auth(AuthError::InvalidJwt(_))) => Err(AuthError::InvalidToken.into()),
            Err(e) => Err(e),
        },
    }
}
