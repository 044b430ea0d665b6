//! Every way a request can fail, mapped to Bencher's status and message in one place.
//!
//! The error *body* (`request_id`, `error_code`, `message`) is written by the response
//! conventions layer (`api::conventions`), which knows the request id; here an error only
//! becomes a status plus an [`ErrorReport`] extension.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::credentials::jwt::TokenError;
use crate::db::DbError;

/// The hint Bencher appends to authentication errors and to 404s of project-key endpoints.
pub const BEARER_HINT: &str = "Expected format is `Authorization: Bearer <bencher.api.token>`. Where `<bencher.api.token>` is your Bencher API token (JWT) or user API key (`bencher_user_...`).";

/// Errors of the HTTP layer itself (Dropshot's own in Bencher): they carry no CORS headers.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("Not Found")]
    RouteNotFound,
    #[error("Method Not Allowed")]
    MethodNotAllowed,
    #[error("bad parameter in URL path: {0}")]
    Path(String),
    #[error("unable to parse query string: {0}")]
    Query(String),
    #[error("unable to parse JSON body: {0}")]
    Body(String),
    #[error("expected content type \"application/json\", got \"{0}\"")]
    WrongContentType(String),
    #[error("unsupported content-type: {0}")]
    UnsupportedContentType(String),
    #[error("request body exceeded maximum size of {0} bytes")]
    BodyTooLarge(usize),
    #[error("invalid path encoding")]
    PathEncoding,
    #[error("request timed out")]
    Timeout,
}

/// Authentication failures. Echoed credentials are never part of a message.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Request is missing \"Authorization\" header. {BEARER_HINT}")]
    MissingHeader,
    #[error("Request has an invalid \"Authorization\" header: {0}. {BEARER_HINT}")]
    InvalidHeader(String),
    #[error("Request is missing \"Authorization\" Bearer. {BEARER_HINT}")]
    MissingBearer,
    #[error("Malformed user API key: Failed to validate user key: <redacted>")]
    MalformedUserKey,
    #[error("Malformed JSON Web Token: Failed to validate JWT (JSON Web Token): <redacted>")]
    MalformedJwt,
    #[error("Failed to validate JSON Web Token: {0}")]
    InvalidJwt(TokenError),
    #[error("Invalid user key")]
    InvalidUserKey,
    #[error("Invalid project key")]
    InvalidProjectKey,
    #[error("Invalid authorization token")]
    InvalidToken,
    #[error("This API token has been revoked and is no longer valid")]
    RevokedToken,
    #[error("Your account has been locked. Please contact support: User {{ uuid: {0} }}")]
    Locked(Uuid),
    /// A confirmation or invitation token that does not verify.
    #[error("{0}")]
    BadConfirmation(TokenError),
}

/// The resources named in not-found and conflict messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Project,
    ProjectKey,
    User,
    UserKey,
    Token,
    Organization,
    Member,
}

impl Resource {
    /// The name Bencher's messages use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Project => "Project",
            Self::ProjectKey => "Project Key",
            Self::User => "User",
            Self::UserKey => "User Key",
            Self::Token => "Token",
            Self::Organization => "Organization",
            Self::Member => "Member",
        }
    }
}

/// What a user-key caller tried to do to another key.
#[derive(Clone, Copy, Debug)]
pub enum KeyAction {
    View,
    Update,
    Revoke,
}

/// Refusals (403).
#[derive(Debug, thiserror::Error)]
pub enum Forbidden {
    #[error(
        "Project ({id}) access denied: {permission}. This Project is public but you do not have the required permission."
    )]
    ProjectDenied {
        id: String,
        permission: &'static str,
    },
    #[error(
        "User is not admin and the authenticated user ({caller}) does not match the requested user ({target})"
    )]
    NotSameUser { caller: Uuid, target: Uuid },
    #[error(
        "A user API key cannot be used to create another user API key. Authenticate with a JWT (user session token) instead."
    )]
    UserKeyCannotCreate,
    #[error("{}", user_key_only_message(*.0))]
    UserKeyOnlyItself(KeyAction),
    #[error(
        "User API tokens are deprecated and can no longer be created. Create a user API key instead: https://bencher.dev/docs/explanation/bencher-run/#--key-key"
    )]
    TokensDeprecated,
    #[error("Permission ({permission}) denied for user ({user}) on organization ({organization})")]
    Organization {
        permission: &'static str,
        user: Uuid,
        organization: Uuid,
    },
    #[error("{0}")]
    AdminOnly(&'static str),
    #[error("Only server admins may delete for good (hard=true).")]
    HardDeleteAdminOnly,
    #[error(
        "You must agree to the Bencher Terms of Use (https://bencher.dev/legal/terms-of-use), Privacy Policy (https://bencher.dev/legal/privacy), and License Agreement (https://bencher.dev/legal/license)"
    )]
    TermsNotAccepted,
    #[error("{0}")]
    Invitation(&'static str),
    #[error(
        "Changing an email address needs a session token: authenticate with a JWT (user session token), not an API key or API token."
    )]
    EmailNeedsSession,
    #[error(
        "A user API key cannot read API tokens, which would hand it their JWTs. Authenticate with a JWT (user session token) instead."
    )]
    UserKeyCannotReadTokens,
}

fn user_key_only_message(action: KeyAction) -> &'static str {
    match action {
        KeyAction::View => {
            "A user API key can only view itself. Authenticate with a JWT (user session token) to view other keys."
        }
        KeyAction::Update => {
            "A user API key can only update itself. Authenticate with a JWT (user session token) to update other keys."
        }
        KeyAction::Revoke => {
            "A user API key can only revoke itself. Authenticate with a JWT (user session token) to revoke other keys."
        }
    }
}

/// A client address that spent one of its budgets (429, with `Retry-After`).
#[derive(Debug, thiserror::Error)]
pub enum TooMany {
    #[error(
        "Too many failed authentication attempts from this address. Try again in {retry_after} seconds."
    )]
    AuthFailures { retry_after: u64 },
    #[error(
        "Too many emails requested from this address (signup, login or invitation). Try again in {retry_after} seconds."
    )]
    Emails { retry_after: u64 },
}

impl TooMany {
    /// Seconds until the budget is renewed.
    pub fn retry_after(&self) -> u64 {
        match self {
            Self::AuthFailures { retry_after } | Self::Emails { retry_after } => *retry_after,
        }
    }
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("{}", not_found_message(*.resource, .id, .reason, *.hint))]
    NotFound {
        resource: Resource,
        /// How the lookup value is shown (never a secret or an internal row id).
        id: String,
        /// `Record not found`, or the missing permission for a hidden private project.
        reason: &'static str,
        /// Append the bearer hint (project-key endpoints do).
        hint: bool,
    },
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("{} ({id}) has conflict: {reason}", .resource.name())]
    Conflict {
        resource: Resource,
        id: String,
        reason: String,
    },
    #[error("{0} has already been revoked")]
    AlreadyRevoked(&'static str),
    #[error("TTL must be greater than zero")]
    TtlZero,
    #[error(transparent)]
    TooMany(#[from] TooMany),
    /// A well-formed request for something this server does not do.
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("database unavailable: {0}")]
    Unavailable(#[from] DbError),
    /// A token could not be signed (the signing key is unusable).
    #[error("cannot sign a token: {0}")]
    Signing(#[from] jsonwebtoken::errors::Error),
}

/// Diesel's text for a missing row, which Bencher's messages carry.
pub const RECORD_NOT_FOUND: &str = "Record not found";

/// Diesel's text for an `UPDATE` with nothing in it, which Bencher reports as a conflict.
pub const EMPTY_CHANGESET: &str = "There are no changes to save. This query cannot be built";

fn not_found_message(resource: Resource, id: &str, reason: &str, hint: bool) -> String {
    let name = resource.name();
    let mut msg = format!(
        "{name} ({id}) not found: {reason}\n{name} may be private and require authentication or it may not exist."
    );
    if hint {
        msg.push('\n');
        msg.push_str(BEARER_HINT);
    }
    msg
}

impl ApiError {
    /// A resource that does not exist (or may not be seen).
    pub fn not_found(resource: Resource, id: impl Into<String>) -> Self {
        Self::NotFound {
            resource,
            id: id.into(),
            reason: RECORD_NOT_FOUND,
            hint: false,
        }
    }

    /// Adds the bearer hint to a 404, as the project-key endpoints do.
    #[must_use]
    pub fn with_token_hint(self) -> Self {
        match self {
            Self::NotFound {
                resource,
                id,
                reason,
                ..
            } => Self::NotFound {
                resource,
                id,
                reason,
                hint: true,
            },
            other => other,
        }
    }

    /// An `UPDATE` with nothing to change.
    pub fn empty_update(resource: Resource, id: impl Into<String>) -> Self {
        Self::Conflict {
            resource,
            id: id.into(),
            reason: EMPTY_CHANGESET.to_owned(),
        }
    }

    /// The HTTP status, decided in exactly one place.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Request(RequestError::RouteNotFound) | Self::NotFound { .. } => {
                StatusCode::NOT_FOUND
            }
            Self::Request(RequestError::MethodNotAllowed) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Request(RequestError::Timeout) => StatusCode::REQUEST_TIMEOUT,
            Self::Request(_) | Self::TtlZero | Self::Unsupported(_) => StatusCode::BAD_REQUEST,
            Self::Auth(e) => match e {
                AuthError::MissingHeader
                | AuthError::InvalidHeader(_)
                | AuthError::MissingBearer
                | AuthError::MalformedUserKey
                | AuthError::MalformedJwt
                | AuthError::InvalidJwt(_) => StatusCode::BAD_REQUEST,
                AuthError::InvalidUserKey
                | AuthError::InvalidProjectKey
                | AuthError::InvalidToken
                | AuthError::RevokedToken
                | AuthError::BadConfirmation(_) => StatusCode::UNAUTHORIZED,
                AuthError::Locked(_) => StatusCode::FORBIDDEN,
            },
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Conflict { .. } | Self::AlreadyRevoked(_) => StatusCode::CONFLICT,
            Self::Database(e) if crate::db::is_busy(e) => StatusCode::SERVICE_UNAVAILABLE,
            // A concurrent write took the same unique value after this request checked it.
            Self::Database(e) if crate::db::is_unique_violation(e) => StatusCode::CONFLICT,
            Self::Unavailable(e) if e.is_busy() => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Unavailable(_) | Self::Signing(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// Whether Bencher itself (not its HTTP framework) makes this error, which decides
    /// whether the response carries CORS headers.
    fn made_by_bencher(&self) -> bool {
        !matches!(self, Self::Request(_))
    }
}

/// What the response conventions layer needs to write an error body.
#[derive(Clone, Debug)]
pub struct ErrorReport {
    pub message: String,
    pub error_code: Option<String>,
    pub cors: bool,
    /// The request's credential was refused (for metrics).
    pub auth_failure: bool,
}

impl crate::db::WriteError for ApiError {
    fn raced(&self) -> bool {
        matches!(self, Self::Database(e) if crate::db::is_raced(e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (message, error_code) = if status.is_server_error() {
            // Log once, with the cause; the client gets a code to quote, not internals.
            let code = Uuid::new_v4().to_string();
            tracing::error!(error_code = %code, error = %self, "request failed");
            let message = if status == StatusCode::SERVICE_UNAVAILABLE {
                format!("The database is busy. Please try again. Error code: {code}")
            } else {
                format!("Internal server error. Error code: {code}")
            };
            (message, Some(code))
        } else {
            (self.to_string(), None)
        };
        let mut response = status.into_response();
        if let Self::TooMany(too_many) = &self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(too_many.retry_after()),
            );
        }
        response.extensions_mut().insert(ErrorReport {
            message,
            error_code,
            cors: self.made_by_bencher(),
            auth_failure: matches!(
                self,
                Self::Auth(_) | Self::TooMany(TooMany::AuthFailures { .. })
            ),
        });
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_lost_race_is_worth_running_again() {
        use crate::db::WriteError;
        use diesel::result::{DatabaseErrorKind, Error};
        let db = |kind, message: &str| {
            ApiError::Database(Error::DatabaseError(kind, Box::new(message.to_owned())))
        };
        assert!(
            db(
                DatabaseErrorKind::SerializationFailure,
                "could not serialize"
            )
            .raced()
        );
        assert!(db(DatabaseErrorKind::UniqueViolation, "duplicate key").raced());
        assert!(db(DatabaseErrorKind::Unknown, "deadlock detected").raced());
        assert!(!db(DatabaseErrorKind::Unknown, "disk full").raced());
        assert!(!db(DatabaseErrorKind::ForeignKeyViolation, "no such row").raced());
        assert!(!ApiError::Database(Error::NotFound).raced());
        assert!(!ApiError::TtlZero.raced());
    }

    #[test]
    fn a_unique_violation_from_a_concurrent_write_is_a_conflict_not_a_server_error() {
        use diesel::result::{DatabaseErrorKind, Error};
        let raced = Error::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("UNIQUE constraint failed: organization.slug".to_owned()),
        );
        assert_eq!(ApiError::Database(raced).status(), StatusCode::CONFLICT);
        let other =
            Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new("disk I/O".to_owned()));
        assert_eq!(
            ApiError::Database(other).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
