//! Configuration, read once at start-up: command-line flags, then `KEYWARD_*` environment
//! variables, then Bencher's own config JSON (`BENCHER_CONFIG` inline, or the file named by
//! `BENCHER_CONFIG_PATH`), then defaults. A bad value stops the start and names the setting.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::domain::accounts::Url;

/// The default listen address (the self-hosted port Bencher users know).
pub const DEFAULT_BIND: &str = "127.0.0.1:61016";
/// The default database file.
pub const DEFAULT_DB: &str = "./data/keyward.db";
/// The default console URL.
pub const DEFAULT_CONSOLE_URL: &str = "http://localhost:3000";
/// The default request body limit: 4 MiB, as in Bencher.
pub const DEFAULT_BODY_LIMIT: usize = 4_194_304;
/// The default time a client has to send a request's headers.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
/// The default time a request may take, body included.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;

/// A secret string whose `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: String) -> Self {
        Self(s)
    }

    /// The secret itself, for building keys.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// An SMTP server to send email through (Bencher's `smtp` section).
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    pub hostname: String,
    pub port: u16,
    /// No TLS at all (a local relay or a test sink).
    pub insecure_host: bool,
    /// STARTTLS on a plain connection; `false` means TLS from the first byte.
    pub starttls: bool,
    pub username: Option<String>,
    pub secret: Option<Secret>,
    pub from_name: String,
    pub from_email: String,
}

/// The settings as given, before defaults: each source fills what the ones before left open.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub bind: Option<String>,
    pub db: Option<PathBuf>,
    pub console_url: Option<String>,
    pub issuer: Option<String>,
    pub secret_key: Option<Secret>,
    pub body_limit: Option<u64>,
    pub log_level: Option<String>,
    pub header_timeout_secs: Option<u64>,
    pub request_timeout_secs: Option<u64>,
    pub metrics: bool,
    pub max_connections: Option<usize>,
    pub auth_failures_per_minute: Option<u32>,
    pub emails_per_hour: Option<u32>,
    pub invite_ttl_secs: Option<u32>,
    pub max_project_keys: Option<u32>,
    pub max_user_keys: Option<u32>,
    pub database_url: Option<Secret>,
    pub database_pool_size: Option<u32>,
    pub database_wait_secs: Option<u64>,
    pub smtp: Option<SmtpConfig>,
}

/// Validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub bind: SocketAddr,
    pub db_path: PathBuf,
    /// PostgreSQL instead of the SQLite file at `db_path`.
    pub postgres: Option<Postgres>,
    pub console_url: Url,
    /// `None`: the console URL with a trailing slash, as Bencher does.
    pub issuer: Option<String>,
    /// `None`: generate one on first start and keep it in the database.
    pub secret_key: Option<Secret>,
    pub body_limit: usize,
    pub log_level: String,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// How long a whole request may take.
    pub request_timeout: Duration,
    /// Serve `GET /metrics`.
    pub metrics: bool,
    /// The most connections served at once.
    pub max_connections: usize,
    /// Failed authentications a client address may have per minute (0: no limit).
    pub auth_failures_per_minute: u32,
    /// Emails (signup, login, invitation) a client address may ask for per hour (0: no limit).
    pub emails_per_hour: u32,
    /// How long an organization invitation can be redeemed, in seconds.
    pub invite_ttl: u32,
    /// Live API keys a project, and a user, may hold.
    pub key_limits: KeyLimits,
    /// Send email through this server; `None`: emails go to the log.
    pub smtp: Option<SmtpConfig>,
    /// Parts of a Bencher config that Keyward does not use (logged once at start).
    pub ignored: Vec<String>,
}

/// Where and how to reach PostgreSQL.
#[derive(Clone, Debug)]
pub struct Postgres {
    /// The connection URL (it may hold a password).
    pub url: Secret,
    pub options: crate::db::postgres::Options,
}

/// The default size of a server's PostgreSQL pool.
const DEFAULT_POOL_SIZE: u32 = 16;

/// The default time start-up waits for PostgreSQL to come up, in seconds.
const DEFAULT_DATABASE_WAIT_SECS: u64 = 30;

/// Checks the PostgreSQL settings: a URL of the `postgres` scheme, a pool of 1 to 1,000.
fn parse_postgres(given: &Overrides) -> Result<Option<Postgres>, ConfigError> {
    let Some(url) = &given.database_url else {
        return Ok(None);
    };
    let scheme = url.expose().split_once("://").map(|(scheme, _)| scheme);
    if !matches!(scheme, Some("postgres" | "postgresql")) {
        // The URL may hold a password: only its scheme is named.
        return Err(bad(
            "database URL",
            "must start with postgres:// or postgresql:// (KEYWARD_DATABASE_URL, --database-url)",
        ));
    }
    let pool_size = given.database_pool_size.unwrap_or(DEFAULT_POOL_SIZE);
    if !(1..=1000).contains(&pool_size) {
        return Err(bad("database pool size", "must be between 1 and 1000"));
    }
    Ok(Some(Postgres {
        url: url.clone(),
        options: crate::db::postgres::Options {
            pool_size,
            wait: Duration::from_secs(
                given
                    .database_wait_secs
                    .unwrap_or(DEFAULT_DATABASE_WAIT_SECS),
            ),
            checkout: Duration::from_secs(10),
        },
    }))
}

/// A setting that cannot be used, named.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting `{setting}`: {reason}")]
pub struct ConfigError {
    pub setting: String,
    pub reason: String,
}

/// The shortest signing secret accepted: an HMAC-SHA256 key shorter than its 32-byte output
/// is the weak point of every token signed with it.
pub const MIN_SECRET_BYTES: usize = 32;

/// Connections served at once unless configured: far above what a credential server's
/// clients keep open, and within the descriptor limit the server raises itself to at start.
pub const DEFAULT_MAX_CONNECTIONS: usize = 2_048;

/// Failed authentications per minute a client address may have unless configured.
pub const DEFAULT_AUTH_FAILURES_PER_MINUTE: u32 = 30;

/// How long an invitation can be redeemed unless configured: 7 days.
pub const DEFAULT_INVITE_TTL_SECS: u32 = 7 * 24 * 60 * 60;

/// Live keys a project may hold unless configured: ten times the benchmark's 100,000.
pub const DEFAULT_MAX_PROJECT_KEYS: u32 = 1_000_000;

/// Live keys a user may hold unless configured.
pub const DEFAULT_MAX_USER_KEYS: u32 = 10_000;

/// How many live (unrevoked) API keys one owner may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyLimits {
    pub per_project: u32,
    pub per_user: u32,
}

/// Emails per hour a client address may ask for unless configured.
pub const DEFAULT_EMAILS_PER_HOUR: u32 = 20;

/// Reads a signing secret from a file (as Docker and systemd secrets provide it): its first
/// line, without the line break.
pub fn read_secret_file(path: &std::path::Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        bad(
            "secret key file",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let secret = text
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r');
    if secret.is_empty() {
        return Err(bad(
            "secret key file",
            format!("{} is empty", path.display()),
        ));
    }
    Ok(Secret::new(secret.to_owned()))
}

/// Bencher's config, from inline JSON or else from a file: the settings it gives and the
/// parts of it that Keyward does not use.
fn read_bencher_config(
    json: Option<String>,
    path: Option<PathBuf>,
) -> Result<(Overrides, Vec<String>), ConfigError> {
    match (json, path) {
        (Some(json), _) => parse_bencher_config(&json, "BENCHER_CONFIG"),
        (None, Some(path)) => {
            let json = std::fs::read_to_string(&path).map_err(|e| {
                bad(
                    "BENCHER_CONFIG_PATH",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            parse_bencher_config(&json, "BENCHER_CONFIG_PATH")
        }
        (None, None) => Ok((Overrides::default(), Vec::new())),
    }
}

/// The listening address: `host:port`.
fn parse_bind(given: Option<String>) -> Result<SocketAddr, ConfigError> {
    let text = given.unwrap_or_else(|| DEFAULT_BIND.to_owned());
    text.parse()
        .map_err(|_| bad("bind address", format!("`{text}` is not an address:port")))
}

/// The console's URL: http(s) only.
fn parse_console_url(given: Option<String>) -> Result<Url, ConfigError> {
    let text = given.unwrap_or_else(|| DEFAULT_CONSOLE_URL.to_owned());
    Url::parse(&text).map_err(|_| bad("console URL", format!("`{text}` is not an http(s) URL")))
}

/// The largest request body, in bytes: positive.
fn parse_body_limit(given: Option<u64>) -> Result<usize, ConfigError> {
    given.map_or(Ok(DEFAULT_BODY_LIMIT), |n| {
        usize::try_from(n)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad("request body limit", "must be a positive number of bytes"))
    })
}

/// The log filter: a level or an `EnvFilter` directive list.
fn parse_log_level(given: Option<String>) -> Result<String, ConfigError> {
    let level = given.unwrap_or_else(|| "info".to_owned());
    if tracing_subscriber::EnvFilter::try_new(&level).is_err() {
        return Err(bad(
            "log level",
            format!("`{level}` is not a level or filter"),
        ));
    }
    Ok(level)
}

/// A setting that must be at least 1, or its default.
fn positive<T: Default + PartialEq>(
    given: Option<T>,
    default: T,
    name: &str,
) -> Result<T, ConfigError> {
    match given {
        Some(n) if n == T::default() => Err(bad(name, "must be at least 1")),
        Some(n) => Ok(n),
        None => Ok(default),
    }
}

/// Refuses a signing secret too short to be safe, without repeating it.
fn check_secret(secret: Option<&Secret>) -> Result<(), ConfigError> {
    match secret {
        Some(secret) if secret.0.len() < MIN_SECRET_BYTES => Err(bad(
            "secret key",
            format!(
                "must be at least {MIN_SECRET_BYTES} bytes (this one has {}); \
                 `openssl rand -hex 32` makes a good one",
                secret.0.len()
            ),
        )),
        _ => Ok(()),
    }
}

fn bad(setting: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_owned(),
        reason: reason.into(),
    }
}

impl Config {
    /// Resolves the configuration from flags/env (`given`) and Bencher's config sources.
    pub fn resolve(
        given: Overrides,
        bencher_config: Option<String>,
        bencher_config_path: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let (from_file, ignored) = read_bencher_config(bencher_config, bencher_config_path)?;
        let postgres = parse_postgres(&given)?;
        let bind = parse_bind(given.bind.or(from_file.bind))?;
        let console_url = parse_console_url(given.console_url.or(from_file.console_url))?;
        let issuer = given.issuer.or(from_file.issuer);
        if issuer.as_deref() == Some("") {
            return Err(bad("issuer", "must not be empty"));
        }
        let secret_key = given.secret_key.or(from_file.secret_key);
        check_secret(secret_key.as_ref())?;
        let max_connections = positive(
            given.max_connections,
            DEFAULT_MAX_CONNECTIONS,
            "max connections",
        )?;
        let body_limit = parse_body_limit(given.body_limit.or(from_file.body_limit))?;
        let log_level = parse_log_level(given.log_level.or(from_file.log_level))?;
        let seconds = |given: Option<u64>, default: u64, name: &str| match given {
            Some(0) => Err(bad(name, "must be at least 1 second")),
            Some(n) => Ok(Duration::from_secs(n)),
            None => Ok(Duration::from_secs(default)),
        };
        let header_timeout = seconds(
            given.header_timeout_secs,
            DEFAULT_HEADER_TIMEOUT_SECS,
            "header timeout",
        )?;
        let request_timeout = seconds(
            given.request_timeout_secs,
            DEFAULT_REQUEST_TIMEOUT_SECS,
            "request timeout",
        )?;
        Ok(Self {
            bind,
            postgres,
            db_path: given
                .db
                .or(from_file.db)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DB)),
            console_url,
            issuer,
            secret_key,
            body_limit,
            log_level,
            header_timeout,
            request_timeout,
            metrics: given.metrics,
            max_connections,
            auth_failures_per_minute: given
                .auth_failures_per_minute
                .unwrap_or(DEFAULT_AUTH_FAILURES_PER_MINUTE),
            emails_per_hour: given.emails_per_hour.unwrap_or(DEFAULT_EMAILS_PER_HOUR),
            invite_ttl: positive(given.invite_ttl_secs, DEFAULT_INVITE_TTL_SECS, "invite TTL")?,
            key_limits: KeyLimits {
                per_project: positive(
                    given.max_project_keys,
                    DEFAULT_MAX_PROJECT_KEYS,
                    "project key limit",
                )?,
                per_user: positive(given.max_user_keys, DEFAULT_MAX_USER_KEYS, "user key limit")?,
            },
            smtp: given.smtp.or(from_file.smtp),
            ignored,
        })
    }

    /// The issuer tokens carry and must carry.
    pub fn issuer(&self) -> String {
        self.issuer
            .clone()
            .unwrap_or_else(|| self.console_url.with_root_slash())
    }
}

/// The settings Keyward shares with Bencher: which JSON path, and which of ours.
const KNOWN: [&str; 15] = [
    "smtp.hostname",
    "smtp.port",
    "smtp.insecure_host",
    "smtp.starttls",
    "smtp.username",
    "smtp.secret",
    "smtp.from_name",
    "smtp.from_email",
    "console.url",
    "security.issuer",
    "security.secret_key",
    "server.bind_address",
    "server.request_body_max_bytes",
    "database.file",
    "logging.log.stderr_terminal.level",
];

/// Reads a Bencher config: the shared settings, and the paths of everything else.
fn parse_bencher_config(json: &str, source: &str) -> Result<(Overrides, Vec<String>), ConfigError> {
    let root: Value =
        serde_json::from_str(json).map_err(|e| bad(source, format!("not valid JSON: {e}")))?;
    if !root.is_object() {
        return Err(bad(source, "must be a JSON object"));
    }
    let text = |path: &str| -> Result<Option<String>, ConfigError> {
        match lookup(&root, path) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(path, "must be a string")),
        }
    };
    let body_limit = match lookup(&root, "server.request_body_max_bytes") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| bad("server.request_body_max_bytes", "must be a whole number"))?,
        ),
    };
    let overrides = Overrides {
        bind: text("server.bind_address")?,
        db: text("database.file")?.map(PathBuf::from),
        console_url: text("console.url")?,
        issuer: text("security.issuer")?,
        secret_key: text("security.secret_key")?.map(Secret),
        body_limit,
        log_level: text("logging.log.stderr_terminal.level")?,
        header_timeout_secs: None,
        request_timeout_secs: None,
        smtp: parse_smtp(&root)?,
        ..Overrides::default()
    };
    let mut ignored = Vec::new();
    collect_unknown(&root, "", &mut ignored);
    Ok((overrides, ignored))
}

/// Bencher's `smtp` section, if there is one.
fn parse_smtp(root: &Value) -> Result<Option<SmtpConfig>, ConfigError> {
    let Some(smtp) = root.get("smtp").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let text = |key: &str| -> Result<Option<String>, ConfigError> {
        match smtp.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(&format!("smtp.{key}"), "must be a string")),
        }
    };
    let flag = |key: &str, default: bool| -> Result<bool, ConfigError> {
        match smtp.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(bad(&format!("smtp.{key}"), "must be true or false")),
        }
    };
    let hostname = text("hostname")?.ok_or_else(|| bad("smtp.hostname", "is required"))?;
    let port = match smtp.get("port") {
        None | Some(Value::Null) => 587,
        Some(v) => v
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| bad("smtp.port", "must be a port number"))?,
    };
    let from_email = text("from_email")?.ok_or_else(|| bad("smtp.from_email", "is required"))?;
    Ok(Some(SmtpConfig {
        hostname,
        port,
        insecure_host: flag("insecure_host", false)?,
        starttls: flag("starttls", true)?,
        username: text("username")?,
        secret: text("secret")?.map(Secret),
        from_name: text("from_name")?.unwrap_or_else(|| "Bencher".to_owned()),
        from_email,
    }))
}

fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(root, |v, key| v.get(key))
}

/// Lists the paths under `v` that neither are a known setting nor lead to one.
fn collect_unknown(v: &Value, prefix: &str, out: &mut Vec<String>) {
    let Some(map) = v.as_object() else { return };
    for (key, child) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if KNOWN.contains(&path.as_str()) {
            continue;
        }
        if KNOWN.iter().any(|k| k.starts_with(&format!("{path}."))) {
            collect_unknown(child, &path, out);
        } else {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_is_chosen_by_a_postgres_url_and_its_settings_are_checked() {
        let with = |url: &str, pool: Option<u32>| {
            Config::resolve(
                Overrides {
                    database_url: Some(Secret::new(url.into())),
                    database_pool_size: pool,
                    ..Overrides::default()
                },
                None,
                None,
            )
        };
        assert!(
            Config::resolve(Overrides::default(), None, None)
                .unwrap()
                .postgres
                .is_none()
        );
        let pg = with("postgresql://kw:hunter2@db:5432/kw", None)
            .unwrap()
            .postgres
            .unwrap();
        assert_eq!(pg.options.pool_size, DEFAULT_POOL_SIZE);
        assert_eq!(
            pg.options.wait,
            Duration::from_secs(DEFAULT_DATABASE_WAIT_SECS)
        );
        for (url, pool, setting) in [
            ("mysql://kw:hunter2@db/kw", None, "database URL"),
            ("kw:hunter2@db/kw", None, "database URL"),
            ("postgres://kw:hunter2@db/kw", Some(0), "database pool size"),
            (
                "postgres://kw:hunter2@db/kw",
                Some(1001),
                "database pool size",
            ),
        ] {
            let e = with(url, pool).unwrap_err();
            assert_eq!(e.setting, setting, "{url} {pool:?}");
            // The URL may hold a password: no message repeats it.
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn defaults() {
        let c = Config::resolve(Overrides::default(), None, None).unwrap();
        assert_eq!(c.bind.to_string(), DEFAULT_BIND);
        assert_eq!(c.issuer(), "http://localhost:3000/");
        assert_eq!(c.body_limit, 4_194_304);
        assert!(c.secret_key.is_none());
    }

    #[test]
    fn bencher_config_fills_gaps_and_names_what_it_ignores() {
        let json = r#"{
            "console": {"url": "https://bench.example.com"},
            "security": {"issuer": "iss", "secret_key": "s3cret-s3cret-s3cret-s3cret-s3cret"},
            "server": {"bind_address": "0.0.0.0:6610", "request_body_max_bytes": 1024,
                       "tls": {"type": "as_file"}},
            "logging": {"name": "Bencher API", "log": {"stderr_terminal": {"level": "debug"}}},
            "database": {"file": "/tmp/b.db", "busy_timeout": 5000},
            "smtp": {"hostname": "mail", "from_email": "bencher@example.com", "secret": "hunter2", "extra": 1}
        }"#;
        let given = Overrides {
            bind: Some("127.0.0.1:9".into()),
            ..Overrides::default()
        };
        let c = Config::resolve(given, Some(json.into()), None).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:9", "flags win over the file");
        assert_eq!(c.console_url.as_str(), "https://bench.example.com");
        assert_eq!(c.issuer(), "iss");
        assert_eq!(
            c.secret_key.unwrap().expose(),
            "s3cret-s3cret-s3cret-s3cret-s3cret"
        );
        assert_eq!(c.body_limit, 1024);
        assert_eq!(c.log_level, "debug");
        assert_eq!(c.db_path, PathBuf::from("/tmp/b.db"));
        let mut ignored = c.ignored;
        ignored.sort();
        assert_eq!(
            ignored,
            [
                "database.busy_timeout",
                "logging.name",
                "server.tls",
                "smtp.extra"
            ]
        );
        let smtp = c.smtp.unwrap();
        assert_eq!(
            (smtp.hostname.as_str(), smtp.port, smtp.starttls),
            ("mail", 587, true)
        );
        assert!(
            !format!("{smtp:?}").contains("hunter2"),
            "the SMTP secret is redacted"
        );
    }

    #[test]
    fn bad_settings_are_named() {
        let err = |json: &str| {
            Config::resolve(Overrides::default(), Some(json.into()), None)
                .unwrap_err()
                .to_string()
        };
        assert!(err(r#"{"server": {"bind_address": 5}}"#).contains("server.bind_address"));
        assert!(err(r#"{"server": {"bind_address": "nope"}}"#).contains("bind address"));
        assert!(err(r#"{"console": {"url": "ftp://x"}}"#).contains("console URL"));
        assert!(err("not json").contains("BENCHER_CONFIG"));
        assert!(
            err(r#"{"server": {"request_body_max_bytes": -1}}"#)
                .contains("server.request_body_max_bytes")
        );
        let secret = format!("{:?}", Secret::new("hunter2".into()));
        assert!(!secret.contains("hunter2"));
    }
}
