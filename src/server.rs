//! Start-up and shutdown: open the database, settle the signing secret, bind, serve until
//! SIGINT or SIGTERM, let in-flight requests finish, then close the database cleanly.

use std::sync::Arc;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rand::Rng;
use tokio::net::TcpListener;

use crate::config::{Config, ConfigError, Secret};
use crate::credentials::jwt::JwtKeys;
use crate::db::{Db, DbError};
use crate::limits::{Budget, ClientAddr, ClientLimits};
use crate::mail::Mailer;
use crate::state::{AppState, Clock, Settings};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the database: {0}")]
    Db(#[from] DbError),
    #[error("cannot read or store the signing secret: {0}")]
    Secret(#[from] diesel::result::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Opens the configured database: PostgreSQL when a URL is given, else the SQLite file.
pub fn open_db(config: &Config) -> Result<Db, crate::db::DbError> {
    match &config.postgres {
        Some(pg) => Db::connect(pg.url.expose(), &pg.options),
        None => Db::open(&config.db_path),
    }
}

/// Opens the database and builds the state the handlers share.
pub fn open_state(config: &Config, clock: Clock) -> Result<AppState, StartError> {
    let db = open_db(config)?;
    let adopted = |name: &'static str| {
        db.run_sync(|c| -> Result<_, StartError> { Ok(crate::db::settings::setting(c, name)?) })
    };
    // A setting given explicitly wins; then one adopted from a Bencher import; then ours.
    let secret = match &config.secret_key {
        Some(secret) => secret.clone(),
        None => match adopted("secret_key")? {
            Some(imported) => Secret::new(imported),
            None => stored_secret(&db, &clock)?,
        },
    };
    let issuer = match (&config.issuer, adopted("issuer")?) {
        (None, Some(imported)) => imported,
        _ => config.issuer(),
    };
    db.run_sync(|c| -> Result<_, StartError> {
        let fresh = uuid::Uuid::now_v7().to_string();
        Ok(crate::db::settings::ensure_uuid(
            c,
            &fresh,
            clock.now().timestamp(),
        )?)
    })?;
    Ok(AppState {
        db,
        jwt: Arc::new(JwtKeys::new(secret.expose(), issuer)),
        clock,
        settings: Arc::new(Settings {
            console_url: config.console_url.clone(),
            body_limit: config.body_limit,
            request_timeout: config.request_timeout,
            invite_ttl: config.invite_ttl,
            key_limits: config.key_limits,
        }),
        mailer: match &config.smtp {
            Some(smtp) => Mailer::smtp(smtp).map_err(|reason| {
                StartError::Config(crate::config::ConfigError {
                    setting: "smtp".into(),
                    reason,
                })
            })?,
            None => Mailer::Log,
        },
        limits: Arc::new(ClientLimits::new(
            Budget {
                per_window: config.auth_failures_per_minute,
                window: chrono::TimeDelta::minutes(1),
            },
            Budget {
                per_window: config.emails_per_hour,
                window: chrono::TimeDelta::hours(1),
            },
        )),
        metrics: config
            .metrics
            .then(|| Arc::new(crate::telemetry::Metrics::default())),
    })
}

/// The secret kept in the database, generated on first start: 64 characters from the
/// operating system's CSPRNG.
fn stored_secret(db: &Db, clock: &Clock) -> Result<Secret, StartError> {
    let existing =
        db.run_sync(|c| -> Result<_, StartError> { Ok(crate::db::settings::secret_key(c)?) })?;
    let secret = if let Some(s) = existing {
        s
    } else {
        {
            let fresh: String = rand::rngs::OsRng
                .sample_iter(&rand::distributions::Alphanumeric)
                .take(64)
                .map(char::from)
                .collect();
            let stored = db.run_sync(|c| -> Result<_, StartError> {
                Ok(crate::db::settings::store_secret_key(
                    c,
                    &fresh,
                    clock.now().timestamp(),
                )?)
            })?;
            tracing::info!("generated a new signing secret and stored it in the database");
            stored
        }
    };
    Ok(Secret::new(secret))
}

/// The most a request line plus headers may take, in bytes; more is a 431 (or a 414 for a
/// long request line), answered by hyper itself.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// How long in-flight requests get to finish after a shutdown signal.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves until a shutdown signal, then drains and closes.
pub async fn run(config: Config) -> Result<(), StartError> {
    if !config.ignored.is_empty() {
        tracing::info!(
            ignored = %config.ignored.join(", "),
            "Bencher config settings that Keyward does not use were ignored"
        );
    }
    let state = open_state(&config, Clock::System)?;
    let db = state.db.clone();
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr()?;
    raise_descriptor_limit(config.max_connections);
    tracing::info!(database = %config.db_path.display(), "listening on http://{addr}");
    let limits = Limits {
        header_timeout: config.header_timeout,
        max_connections: config.max_connections,
    };
    serve(listener, crate::app(state), limits).await;
    tracing::info!("stopped accepting; in-flight requests finished");
    db.checkpoint()?;
    tracing::info!("database closed cleanly");
    Ok(())
}

/// Raises the soft limit on open files to the hard one, so that the connection cap (and
/// not the descriptor limit) is what a flood of idle sockets runs into.
fn raise_descriptor_limit(max_connections: usize) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < max_connections as u64 + 64 => tracing::warn!(
            limit,
            max_connections,
            "the open-file limit is below the connection cap; raise it or lower --max-connections"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
}

/// What bounds each connection.
struct Limits {
    header_timeout: std::time::Duration,
    max_connections: usize,
}

/// Accepts connections until a shutdown signal, then waits for open ones to finish. At most
/// `max_connections` are served at once: past that, new ones wait in the listen backlog
/// until one closes.
async fn serve(listener: TcpListener, app: axum::Router, limits: Limits) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut signal => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let _ = stream.set_nodelay(true);
        let client = ClientAddr(peer.ip().to_canonical());
        let service = tower::ServiceExt::map_request(
            app.clone(),
            move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(client);
                req
            },
        );
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_buf_size(MAX_HEADER_BYTES)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after {DRAIN_TIMEOUT:?}; closing them");
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
