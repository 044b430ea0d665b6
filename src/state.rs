//! What every handler can reach: the database, the JWT keys, the clock and the settings.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::db::Conn;

use crate::auth::access::{InProject, ProjectAt};
use crate::auth::{Actor, AuthUser, Bearer, Principal, authenticate, authenticate_actor};
use crate::credentials::jwt::JwtKeys;
use crate::db::Db;
use crate::domain::accounts::Url;
use crate::error::ApiError;
use crate::mail::Mailer;

/// Shared state: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub jwt: Arc<JwtKeys>,
    pub clock: Clock,
    pub settings: Arc<Settings>,
    pub mailer: Mailer,
    /// Per-client-address budgets (failed authentications, emails).
    pub limits: Arc<crate::limits::ClientLimits>,
    /// Request and authentication counters; `None` unless metrics are enabled.
    pub metrics: Option<Arc<crate::telemetry::Metrics>>,
}

/// Settings the handlers read.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The web console's URL, used in links and as the default JWT issuer.
    pub console_url: Url,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// How long a request may take, body included, before it is answered 408.
    pub request_timeout: std::time::Duration,
    /// How long an organization invitation can be redeemed, in seconds.
    pub invite_ttl: u32,
    /// Live API keys a project, and a user, may hold.
    pub key_limits: crate::config::KeyLimits,
}

/// The time source. Handlers read it instead of the system clock so tests can move it.
#[derive(Clone, Debug, Default)]
pub enum Clock {
    #[default]
    System,
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// A clock that stands still at `start` until advanced.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self::Manual(Arc::new(Mutex::new(start)))
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Manual(t) => *t.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Moves a manual clock forward; a system clock ignores this.
    pub fn advance(&self, by: chrono::TimeDelta) {
        if let Self::Manual(t) = self {
            let mut t = t.lock().unwrap_or_else(PoisonError::into_inner);
            *t += by;
        }
    }
}

impl AppState {
    /// Verifies `bearer` and runs `f` as that caller, in one read transaction: the
    /// credential and everything `f` reads come from one snapshot, and the request crosses
    /// to the database threads once. `f` also gets the request's time.
    pub async fn read_as<T, F>(&self, bearer: Bearer, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Conn, AuthUser, DateTime<Utc>) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.db.run(self.as_user(bearer, f)).await
    }

    /// As [`read_as`](Self::read_as), in one write transaction, answered after it commits.
    /// `f` may run more than once (a PostgreSQL transaction that lost a race runs again), so
    /// it borrows what it captured rather than consuming it.
    pub async fn write_as<T, F>(&self, bearer: Bearer, mut f: F) -> Result<T, ApiError>
    where
        F: FnMut(&mut Conn, AuthUser, DateTime<Utc>) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (jwt, now) = (self.jwt.clone(), self.clock.now());
        self.db
            .write(move |c| {
                let caller = authenticate(c, &jwt, &bearer, now)?;
                f(c, caller, now)
            })
            .await
    }

    /// As [`read_as`](Self::read_as) on a project's keys: the caller, the project they hold
    /// `permission` on and (with `key`) that key's row come from
    /// [`in_project`](crate::auth::access::in_project), one statement for a user key.
    pub async fn read_in_project<T, F>(
        &self,
        bearer: Bearer,
        at: ProjectAt,
        f: F,
    ) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Conn, InProject, DateTime<Utc>) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (jwt, now) = (self.jwt.clone(), self.clock.now());
        self.db
            .run(move |c| {
                let inside = at.enter(c, &jwt, &bearer, now)?;
                f(c, inside, now)
            })
            .await
    }

    /// As [`read_in_project`](Self::read_in_project) for a handler that needs nothing more
    /// from the database than what that first read brings (a key view):
    /// [`in_project_shared`](crate::auth::access::in_project_shared).
    pub async fn view_in_project(
        &self,
        bearer: Bearer,
        at: ProjectAt,
    ) -> Result<InProject, ApiError> {
        crate::auth::access::in_project_shared(&self.db, &self.jwt, bearer, self.clock.now(), at)
            .await
    }

    /// [`read_in_project`](Self::read_in_project) in one write transaction, as
    /// [`write_as`](Self::write_as).
    pub async fn write_in_project<T, F>(
        &self,
        bearer: Bearer,
        at: ProjectAt,
        mut f: F,
    ) -> Result<T, ApiError>
    where
        F: FnMut(&mut Conn, InProject, DateTime<Utc>) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (jwt, now) = (self.jwt.clone(), self.clock.now());
        self.db
            .write(move |c| {
                let inside = at.enter(c, &jwt, &bearer, now)?;
                f(c, inside, now)
            })
            .await
    }

    /// The database work of [`read_as`](Self::read_as):
    /// authenticate, then `f`, both as of the request's time.
    fn as_user<T, F>(
        &self,
        bearer: Bearer,
        f: F,
    ) -> impl FnOnce(&mut Conn) -> Result<T, ApiError> + Send + 'static
    where
        F: FnOnce(&mut Conn, AuthUser, DateTime<Utc>) -> Result<T, ApiError> + Send + 'static,
    {
        let (jwt, now) = (self.jwt.clone(), self.clock.now());
        move |c| {
            let caller = authenticate(c, &jwt, &bearer, now)?;
            f(c, caller, now)
        }
    }

    /// As [`read_as`](Self::read_as) for a project-data endpoint, whose credential is
    /// optional and may be a project key.
    pub async fn read_as_actor<T, F>(&self, actor: Actor, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Conn, Principal, DateTime<Utc>) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (jwt, now) = (self.jwt.clone(), self.clock.now());
        self.db
            .run(move |c| {
                let principal = authenticate_actor(c, &jwt, &actor, now)?;
                f(c, principal, now)
            })
            .await
    }
}
