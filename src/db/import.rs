//! `keyward import bencher`: copies a Bencher database's accounts and credentials into
//! Keyward's, keeping UUIDs, slugs, timestamps, revocations and key hashes, so existing
//! `bencher_run_`/`bencher_user_` keys keep working, and (with Bencher's config, whose
//! secret key and issuer Keyward then adopts) existing legacy JWTs too.
//!
//! All in one transaction: a failure leaves Keyward's database as it was, and `--dry-run`
//! rolls back after counting. Rows are matched by UUID, so a second run copies nothing.
//!
//! The copies are SQL (`INSERT … SELECT` from the Bencher tables), written once. On SQLite
//! the Bencher file is attached as the schema `bencher`; on PostgreSQL its tables are first
//! staged, in chunks, into temporary tables `bencher_<table>` of the same transaction (read
//! from the file as JSON rows, written with `json_populate_recordset`), and the statements'
//! table names are rewritten to match.

use std::fmt::Write as _;
use std::path::Path;

use crate::db::Conn;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::Db;

/// The Bencher columns the copies read, per table, with their PostgreSQL staging types.
const STAGED: [(&str, &[(&str, &str)]); 8] = [
    (
        "user",
        &[
            ("id", "integer"),
            ("uuid", "text"),
            ("name", "text"),
            ("slug", "text"),
            ("email", "text"),
            ("admin", "boolean"),
            ("locked", "boolean"),
            ("created", "bigint"),
            ("modified", "bigint"),
        ],
    ),
    (
        "organization",
        &[
            ("id", "integer"),
            ("uuid", "text"),
            ("name", "text"),
            ("slug", "text"),
            ("license", "text"),
            ("created", "bigint"),
            ("modified", "bigint"),
            ("deleted", "bigint"),
        ],
    ),
    (
        "organization_role",
        &[
            ("user_id", "integer"),
            ("organization_id", "integer"),
            ("role", "text"),
            ("created", "bigint"),
            ("modified", "bigint"),
        ],
    ),
    (
        "project",
        &[
            ("id", "integer"),
            ("uuid", "text"),
            ("organization_id", "integer"),
            ("name", "text"),
            ("slug", "text"),
            ("url", "text"),
            ("visibility", "integer"),
            ("created", "bigint"),
            ("modified", "bigint"),
            ("deleted", "bigint"),
        ],
    ),
    (
        "project_role",
        &[
            ("user_id", "integer"),
            ("project_id", "integer"),
            ("role", "text"),
            ("created", "bigint"),
            ("modified", "bigint"),
        ],
    ),
    (
        "token",
        &[
            ("uuid", "text"),
            ("user_id", "integer"),
            ("name", "text"),
            ("jwt", "text"),
            ("creation", "bigint"),
            ("expiration", "bigint"),
            ("revoked", "bigint"),
        ],
    ),
    (
        "project_key",
        &[
            ("uuid", "text"),
            ("project_id", "integer"),
            ("creator_id", "integer"),
            ("name", "text"),
            ("key_hash", "text"),
            ("creation", "bigint"),
            ("expiration", "bigint"),
            ("revoked", "bigint"),
        ],
    ),
    (
        "user_key",
        &[
            ("uuid", "text"),
            ("user_id", "integer"),
            ("name", "text"),
            ("key_hash", "text"),
            ("creation", "bigint"),
            ("expiration", "bigint"),
            ("revoked", "bigint"),
        ],
    ),
];

/// Rows staged per statement on PostgreSQL.
const STAGE_CHUNK: i64 = 5_000;

/// Where the copies read the Bencher tables from and write Keyward's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// `bencher.<table>` (the attached file) into `main.<table>`.
    Sqlite,
    /// `bencher_<table>` (temporary staging tables) into `"<table>"`.
    Postgres,
}

impl Dialect {
    /// The statement `sql`, written for SQLite, with its table names for this dialect.
    fn sql(self, sql: &str) -> String {
        match self {
            Self::Sqlite => sql.to_owned(),
            Self::Postgres => {
                let mut tables: Vec<&str> = STAGED.iter().map(|(t, _)| *t).collect();
                // `user_key` before `user`, so that no name is cut by a shorter one.
                tables.sort_by_key(|t| std::cmp::Reverse(t.len()));
                let mut sql = sql.to_owned();
                for t in tables {
                    sql = sql
                        .replace(&format!("bencher.{t}"), &format!("bencher_{t}"))
                        .replace(&format!("main.{t}"), &format!("\"{t}\""));
                }
                sql
            }
        }
    }
}

/// Why an import stopped (nothing was changed).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Invalid(String),
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("{0}")]
    Unavailable(#[from] crate::db::DbError),
}

/// One table's outcome.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TableReport {
    pub table: &'static str,
    pub in_source: i64,
    pub copied: i64,
    pub already_present: i64,
    /// Not copied: a slug, email, name or key hash is used by another row, or the row it
    /// belongs to was not copied. Up to ten of their UUIDs.
    pub skipped: i64,
    pub skipped_examples: Vec<String>,
}

/// What an import did (or, dry, would do).
#[derive(Debug, Default)]
pub struct Report {
    pub tables: Vec<TableReport>,
    pub adopted_secret: bool,
    pub adopted_issuer: Option<String>,
    pub dry_run: bool,
}

impl Report {
    /// A human-readable summary.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let verb = if self.dry_run { "would copy" } else { "copied" };
        for t in &self.tables {
            let _ = writeln!(
                s,
                "{:<18} {} {:>6} of {:>6}; {:>6} already present; {:>6} skipped",
                t.table, verb, t.copied, t.in_source, t.already_present, t.skipped
            );
            for uuid in &t.skipped_examples {
                let _ = writeln!(
                    s,
                    "    skipped {uuid}: a unique value (slug, email, name or key hash) is taken, or its parent was skipped"
                );
            }
        }
        if self.adopted_secret {
            let _ = writeln!(
                s,
                "adopted Bencher's JWT secret key (sessions signed before now end)"
            );
        }
        if let Some(issuer) = &self.adopted_issuer {
            let _ = writeln!(
                s,
                "adopted Bencher's JWT issuer: {}",
                crate::domain::names::escape_control(issuer)
            );
        }
        if self.dry_run {
            let _ = writeln!(s, "dry run: nothing was changed");
        }
        s
    }
}

/// The copies, in dependency order: (table, INSERT … SELECT from `bencher`).
/// Parents are matched by UUID; a row whose UUID is already present is left alone.
const COPIES: [(&str, &str); 8] = [
    ("user", "INSERT INTO main.user (uuid, name, slug, email, admin, locked, created, modified)
        SELECT b.uuid, b.name, b.slug, lower(b.email), b.admin, b.locked, b.created, b.modified
        FROM bencher.user b
        WHERE NOT EXISTS (SELECT 1 FROM main.user m
            WHERE m.uuid = b.uuid OR m.slug = b.slug OR m.email = lower(b.email))
        ORDER BY b.id"),
    ("organization", "INSERT INTO main.organization (uuid, name, slug, license, created, modified, deleted)
        SELECT b.uuid, b.name, b.slug, b.license, b.created, b.modified, b.deleted
        FROM bencher.organization b
        WHERE NOT EXISTS (SELECT 1 FROM main.organization m
            WHERE m.uuid = b.uuid OR m.slug = b.slug OR m.license = b.license)
        ORDER BY b.id"),
    ("organization_role", "INSERT INTO main.organization_role (user_id, organization_id, role, created, modified)
        SELECT mu.id, mo.id, r.role, r.created, r.modified
        FROM bencher.organization_role r
        JOIN bencher.user bu ON bu.id = r.user_id JOIN main.user mu ON mu.uuid = bu.uuid
        JOIN bencher.organization bo ON bo.id = r.organization_id
        JOIN main.organization mo ON mo.uuid = bo.uuid
        WHERE NOT EXISTS (SELECT 1 FROM main.organization_role x
            WHERE x.user_id = mu.id AND x.organization_id = mo.id)"),
    ("project", "INSERT INTO main.project (uuid, organization_id, name, slug, url, visibility, created, modified, deleted)
        SELECT b.uuid, mo.id, b.name, b.slug, b.url, b.visibility, b.created, b.modified, b.deleted
        FROM bencher.project b
        JOIN bencher.organization bo ON bo.id = b.organization_id
        JOIN main.organization mo ON mo.uuid = bo.uuid
        WHERE NOT EXISTS (SELECT 1 FROM main.project m
            WHERE m.uuid = b.uuid OR m.slug = b.slug OR (m.organization_id = mo.id AND m.name = b.name))
        ORDER BY b.id"),
    ("project_role", "INSERT INTO main.project_role (user_id, project_id, role, created, modified)
        SELECT mu.id, mp.id, r.role, r.created, r.modified
        FROM bencher.project_role r
        JOIN bencher.user bu ON bu.id = r.user_id JOIN main.user mu ON mu.uuid = bu.uuid
        JOIN bencher.project bp ON bp.id = r.project_id JOIN main.project mp ON mp.uuid = bp.uuid
        WHERE NOT EXISTS (SELECT 1 FROM main.project_role x
            WHERE x.user_id = mu.id AND x.project_id = mp.id)"),
    ("token", "INSERT INTO main.token (uuid, user_id, name, jwt, creation, expiration, revoked)
        SELECT b.uuid, mu.id, b.name, b.jwt, b.creation, b.expiration, b.revoked
        FROM bencher.token b
        JOIN bencher.user bu ON bu.id = b.user_id JOIN main.user mu ON mu.uuid = bu.uuid
        WHERE NOT EXISTS (SELECT 1 FROM main.token m WHERE m.uuid = b.uuid)"),
    ("project_key", "INSERT INTO main.project_key (uuid, project_id, creator_id, name, key_hash, creation, expiration, revoked)
        SELECT b.uuid, mp.id, mc.id, b.name, b.key_hash, b.creation, b.expiration, b.revoked
        FROM bencher.project_key b
        JOIN bencher.project bp ON bp.id = b.project_id JOIN main.project mp ON mp.uuid = bp.uuid
        LEFT JOIN bencher.user bc ON bc.id = b.creator_id
        LEFT JOIN main.user mc ON mc.uuid = bc.uuid
        WHERE NOT EXISTS (SELECT 1 FROM main.project_key m
            WHERE m.uuid = b.uuid OR m.key_hash = b.key_hash)"),
    ("user_key", "INSERT INTO main.user_key (uuid, user_id, name, key_hash, creation, expiration, revoked)
        SELECT b.uuid, mu.id, b.name, b.key_hash, b.creation, b.expiration, b.revoked
        FROM bencher.user_key b
        JOIN bencher.user bu ON bu.id = b.user_id JOIN main.user mu ON mu.uuid = bu.uuid
        WHERE NOT EXISTS (SELECT 1 FROM main.user_key m
            WHERE m.uuid = b.uuid OR m.key_hash = b.key_hash)"),
];

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Uuid {
    #[diesel(sql_type = Text)]
    uuid: String,
}

/// Bencher's JWT settings, from its config file.
#[derive(Debug, Default)]
pub struct BencherSecurity {
    pub secret_key: Option<String>,
    pub issuer: Option<String>,
}

/// Reads `security.secret_key` and the issuer (`security.issuer`, else `console.url` with a
/// trailing slash) from a Bencher config file.
pub fn read_bencher_config(path: &Path) -> Result<BencherSecurity, ImportError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ImportError::Invalid(format!("cannot read {}: {e}", path.display())))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ImportError::Invalid(format!("{} is not JSON: {e}", path.display())))?;
    let text_at = |a: &str, b: &str| {
        json.get(a)
            .and_then(|v| v.get(b))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let issuer = text_at("security", "issuer").or_else(|| {
        text_at("console", "url")
            .and_then(|u| crate::domain::accounts::Url::parse(&u).ok())
            .map(|u| u.with_root_slash())
    });
    Ok(BencherSecurity {
        secret_key: text_at("security", "secret_key").filter(|s| !s.is_empty()),
        issuer,
    })
}

/// Imports `source` (a Bencher SQLite file) into `db`.
pub fn import_bencher(
    db: &Db,
    source: &Path,
    security: &BencherSecurity,
    dry_run: bool,
    now: i64,
) -> Result<Report, ImportError> {
    check_file(source)?;
    let uri = format!("file:{}?mode=ro", source.display());
    match db {
        Db::Sqlite(_) => db.run_sync(|c| -> Result<Report, ImportError> {
            let quoted = uri.replace('\'', "''");
            c.batch_execute(&format!("ATTACH DATABASE '{quoted}' AS bencher"))?;
            let result = check_source(c, "bencher.")
                .and_then(|()| copy_all(c, Dialect::Sqlite, |_| Ok(()), security, dry_run, now));
            // DETACH only outside a transaction; the copy's transaction is over either way.
            let detached = c.batch_execute("DETACH DATABASE bencher");
            let report = result?;
            detached?;
            Ok(report)
        }),
        Db::Postgres(_) => {
            let mut file =
                super::Conn::Sqlite(diesel::SqliteConnection::establish(&uri).map_err(|e| {
                    ImportError::Invalid(format!("cannot open {}: {e}", source.display()))
                })?);
            check_source(&mut file, "")?;
            db.run_sync(|c| {
                let stage = |c: &mut Conn| stage(&mut file, c);
                copy_all(c, Dialect::Postgres, stage, security, dry_run, now)
            })
        }
    }
}

/// Refuses a source that is not a file, before anything connects to Keyward's database.
pub fn check_file(source: &Path) -> Result<(), ImportError> {
    if source.is_file() {
        Ok(())
    } else {
        Err(ImportError::Invalid(format!(
            "no Bencher database at {}",
            source.display()
        )))
    }
}

/// Refuses a source without every table the copies read (`prefix` is its schema, if any).
fn check_source(c: &mut Conn, prefix: &str) -> Result<(), ImportError> {
    for (table, _) in COPIES {
        let found: Vec<Count> = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM {prefix}sqlite_master WHERE type = 'table' AND name = ?"
        ))
        .bind::<Text, _>(table)
        .load(c)?;
        if found.first().map_or(0, |r| r.n) == 0 {
            return Err(ImportError::Invalid(format!(
                "the source has no `{table}` table: is it a Bencher (v0.6.12) database?"
            )));
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Text)]
    row: String,
}

/// Copies the Bencher tables the copies read from `file` into temporary tables of the
/// PostgreSQL transaction `c` is in (dropped at its end), `STAGE_CHUNK` rows at a time.
fn stage(file: &mut Conn, c: &mut Conn) -> Result<(), ImportError> {
    for (table, columns) in STAGED {
        let ddl = columns
            .iter()
            .map(|(name, ty)| format!("{name} {ty}"))
            .collect::<Vec<_>>()
            .join(", ");
        c.batch_execute(&format!(
            "CREATE TEMPORARY TABLE bencher_{table} ({ddl}) ON COMMIT DROP"
        ))?;
        // SQLite keeps booleans as integers; JSON true/false is what PostgreSQL reads.
        let fields = columns
            .iter()
            .map(|(name, ty)| match *ty {
                "boolean" => {
                    format!("'{name}', json(CASE WHEN \"{name}\" THEN 'true' ELSE 'false' END)")
                }
                _ => format!("'{name}', \"{name}\""),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut offset = 0;
        loop {
            let rows: Vec<JsonRow> = diesel::sql_query(format!(
                "SELECT json_object({fields}) AS row FROM \"{table}\" ORDER BY rowid \
                 LIMIT {STAGE_CHUNK} OFFSET {offset}"
            ))
            .load(file)?;
            if rows.is_empty() {
                break;
            }
            let n = i64::try_from(rows.len()).unwrap_or(STAGE_CHUNK);
            let json = format!(
                "[{}]",
                rows.into_iter()
                    .map(|r| r.row)
                    .collect::<Vec<_>>()
                    .join(",")
            );
            diesel::sql_query(format!(
                "INSERT INTO bencher_{table} \
                 SELECT * FROM json_populate_recordset(NULL::bencher_{table}, $1::json)"
            ))
            .bind::<Text, _>(json)
            .execute(c)?;
            if n < STAGE_CHUNK {
                break;
            }
            offset += STAGE_CHUNK;
        }
    }
    Ok(())
}

fn copy_all(
    c: &mut Conn,
    dialect: Dialect,
    stage: impl FnOnce(&mut Conn) -> Result<(), ImportError>,
    security: &BencherSecurity,
    dry_run: bool,
    now: i64,
) -> Result<Report, ImportError> {
    let mut report = Report {
        dry_run,
        ..Report::default()
    };
    let outcome = crate::db::atomically(c, |c| -> Result<(), ImportError> {
        stage(c)?;
        for (table, insert) in COPIES {
            report
                .tables
                .push(copy_table(c, dialect, table, &dialect.sql(insert))?);
        }
        // Bencher's first user stays the first: a later signup does not become admin.
        if let Some(oldest) = crate::db::users::oldest(c)? {
            crate::db::users::claim_first(c, oldest)?;
        }
        if let Some(secret) = &security.secret_key {
            crate::db::settings::adopt(c, "secret_key", secret, now)?;
            report.adopted_secret = true;
        }
        if let Some(issuer) = &security.issuer {
            crate::db::settings::adopt(c, "issuer", issuer, now)?;
            report.adopted_issuer = Some(issuer.clone());
        }
        if dry_run {
            // Undo everything, keeping the counts.
            return Err(ImportError::Invalid(String::new()));
        }
        Ok(())
    });
    match outcome {
        Ok(()) => Ok(report),
        Err(ImportError::Invalid(m)) if dry_run && m.is_empty() => Ok(report),
        Err(e) => Err(e),
    }
}

fn copy_table(
    c: &mut Conn,
    dialect: Dialect,
    table: &'static str,
    insert: &str,
) -> Result<TableReport, ImportError> {
    let count = |c: &mut Conn, sql: String| -> Result<i64, ImportError> {
        let rows: Vec<Count> = diesel::sql_query(dialect.sql(&sql)).load(c)?;
        Ok(rows.first().map_or(0, |r| r.n))
    };
    let in_source = count(c, format!("SELECT count(*) AS n FROM bencher.{table}"))?;
    let has_uuid = !table.ends_with("_role");
    let already_present = if has_uuid {
        count(
            c,
            format!(
                "SELECT count(*) AS n FROM bencher.{table} b WHERE b.uuid IN (SELECT uuid FROM main.{table})"
            ),
        )?
    } else {
        0
    };
    let copied = i64::try_from(diesel::sql_query(insert).execute(c)?).unwrap_or(i64::MAX);
    let skipped_examples = if has_uuid {
        let rows: Vec<Uuid> = diesel::sql_query(dialect.sql(&format!(
            "SELECT b.uuid AS uuid FROM bencher.{table} b WHERE b.uuid NOT IN (SELECT uuid FROM main.{table}) LIMIT 10"
        )))
        .load(c)?;
        rows.into_iter().map(|r| r.uuid).collect()
    } else {
        Vec::new()
    };
    let skipped = if has_uuid {
        count(
            c,
            format!(
                "SELECT count(*) AS n FROM bencher.{table} b WHERE b.uuid NOT IN (SELECT uuid FROM main.{table})"
            ),
        )?
    } else {
        in_source - copied
    };
    Ok(TableReport {
        table,
        in_source,
        copied,
        already_present,
        skipped: skipped.max(0),
        skipped_examples,
    })
}
