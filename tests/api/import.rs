//! `keyward import bencher` against a Bencher-shaped database built here, with keys and
//! tokens whose plaintexts are known: after the import they must work against Keyward.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use keyward::config::{Config, Overrides};
use keyward::credentials::secret::KeyHash;
use keyward::db::import::{BencherSecurity, import_bencher};
use keyward::state::{AppState, Clock};
use serde_json::json;
use tower::ServiceExt;

const RUN_KEY: &str = "bencher_run_AAAAAAAAAAbbbbbbbbbbCCCCCCCCCC";
const REVOKED_RUN_KEY: &str = "bencher_run_zzzzzzzzzz0000000000ZZZZZZZZZZ";
const USER_KEY: &str = "bencher_user_DDDDDDDDDDeeeeeeeeee1111111111";
const CAROL_KEY: &str = "bencher_user_CCCCCCCCCCaaaaaaaaaa2222222222";
const SECRET: &str = "bencher-secret-key";
const ISSUER: &str = "https://console.example.com/";

fn legacy_jwt(sub: &str, iat: i64) -> String {
    crate::helpers::TestApp::jwt_with(
        &json!({"aud": "api_key", "exp": iat + 1_000_000_000, "iat": iat, "iss": ISSUER, "sub": sub, "org": null, "state": null, "oci": null}),
        SECRET,
    )
}

/// A Bencher v0.6.12-shaped database: Bencher's table and column names, its own row ids.
fn bencher_db(path: &std::path::Path, with_tokens: bool) -> (String, String) {
    let mut c = SqliteConnection::establish(&path.to_string_lossy()).unwrap();
    let live = legacy_jwt("alice@example.com", 1_700_000_000);
    let revoked = legacy_jwt("alice@example.com", 1_700_000_001);
    let token_table = if with_tokens {
        "CREATE TABLE token (id INTEGER PRIMARY KEY NOT NULL, uuid TEXT NOT NULL UNIQUE, user_id INTEGER NOT NULL, name TEXT NOT NULL, jwt TEXT NOT NULL, creation BIGINT NOT NULL, expiration BIGINT NOT NULL, revoked BIGINT);"
    } else {
        ""
    };
    c.batch_execute(&format!(
        "CREATE TABLE user (id INTEGER PRIMARY KEY NOT NULL, uuid TEXT NOT NULL UNIQUE, name TEXT NOT NULL, slug TEXT NOT NULL UNIQUE, email TEXT NOT NULL UNIQUE, admin BOOLEAN NOT NULL, locked BOOLEAN NOT NULL, created BIGINT NOT NULL, modified BIGINT NOT NULL);
         CREATE TABLE organization (id INTEGER PRIMARY KEY NOT NULL, uuid TEXT NOT NULL UNIQUE, name TEXT NOT NULL, slug TEXT NOT NULL UNIQUE, license TEXT UNIQUE, created BIGINT NOT NULL, modified BIGINT NOT NULL, deleted BIGINT);
         CREATE TABLE organization_role (id INTEGER PRIMARY KEY NOT NULL, user_id INTEGER NOT NULL, organization_id INTEGER NOT NULL, role TEXT NOT NULL, created BIGINT NOT NULL, modified BIGINT NOT NULL, UNIQUE(user_id, organization_id));
         CREATE TABLE project (id INTEGER PRIMARY KEY NOT NULL, uuid TEXT NOT NULL UNIQUE, organization_id INTEGER NOT NULL, name TEXT NOT NULL, slug TEXT NOT NULL UNIQUE, url TEXT, visibility INTEGER NOT NULL, created BIGINT NOT NULL, modified BIGINT NOT NULL, deleted BIGINT, UNIQUE(organization_id, name));
         CREATE TABLE project_role (id INTEGER PRIMARY KEY NOT NULL, user_id INTEGER NOT NULL, project_id INTEGER NOT NULL, role TEXT NOT NULL, created BIGINT NOT NULL, modified BIGINT NOT NULL, UNIQUE(user_id, project_id));
         {token_table}
         CREATE TABLE project_key (id INTEGER PRIMARY KEY NOT NULL, uuid TEXT NOT NULL UNIQUE, project_id INTEGER NOT NULL, creator_id INTEGER, name TEXT NOT NULL, key_hash TEXT NOT NULL, creation BIGINT NOT NULL, expiration BIGINT NOT NULL, revoked BIGINT);
         CREATE UNIQUE INDEX index_project_key_hash ON project_key(key_hash);
         CREATE TABLE user_key (id INTEGER PRIMARY KEY NOT NULL, uuid TEXT NOT NULL UNIQUE, user_id INTEGER NOT NULL, name TEXT NOT NULL, key_hash TEXT NOT NULL, creation BIGINT NOT NULL, expiration BIGINT NOT NULL, revoked BIGINT);
         CREATE UNIQUE INDEX index_user_key_hash ON user_key(key_hash);
         INSERT INTO user VALUES (7, '01a00000-0000-7000-8000-000000000001', 'Alice', 'alice', 'alice@example.com', 1, 0, 1700000000, 1700000000);
         INSERT INTO user VALUES (9, '01a00000-0000-7000-8000-000000000003', 'Carol', 'carol', 'carol@example.com', 0, 0, 1700000000, 1700000000);
         INSERT INTO organization VALUES (3, '01a00000-0000-7000-8000-000000000010', 'Acme', 'acme', NULL, 1700000000, 1700000000, NULL);
         INSERT INTO organization_role VALUES (1, 7, 3, 'leader', 1700000000, 1700000000);
         INSERT INTO project VALUES (5, '01a00000-0000-7000-8000-000000000020', 3, 'Bench', 'bench', NULL, 0, 1700000000, 1700000000, NULL);
         INSERT INTO project_role VALUES (1, 7, 5, 'maintainer', 1700000000, 1700000000);
         INSERT INTO project_key VALUES (1, '01a00000-0000-7000-8000-000000000030', 5, 7, 'ci', '{run}', 1700000000, 6000000000, NULL);
         INSERT INTO project_key VALUES (2, '01a00000-0000-7000-8000-000000000031', 5, 7, 'old', '{revoked_run}', 1700000000, 6000000000, 1700000500);
         INSERT INTO user_key VALUES (1, '01a00000-0000-7000-8000-000000000040', 7, 'laptop', '{user}', 1700000000, 6000000000, NULL);
         INSERT INTO user_key VALUES (2, '01a00000-0000-7000-8000-000000000041', 9, 'carol', '{carol}', 1700000000, 6000000000, NULL);",
        run = KeyHash::of(RUN_KEY).as_str(),
        revoked_run = KeyHash::of(REVOKED_RUN_KEY).as_str(),
        user = KeyHash::of(USER_KEY).as_str(),
        carol = KeyHash::of(CAROL_KEY).as_str(),
    ))
    .unwrap();
    if with_tokens {
        c.batch_execute(&format!(
            "INSERT INTO token VALUES (1, '01a00000-0000-7000-8000-000000000050', 7, 'cli', '{live}', 1700000000, 2700000000, NULL);
             INSERT INTO token VALUES (2, '01a00000-0000-7000-8000-000000000051', 7, 'gone', '{revoked}', 1700000001, 2700000001, 1700000600);"
        ))
        .unwrap();
    }
    (live, revoked)
}

/// Keyward's database for a test: a file in `dir`, or with `KEYWARD_TEST_DATABASE_URL` a
/// PostgreSQL database of its own (the same one each time the target is opened).
fn target(dir: &std::path::Path) -> Overrides {
    Overrides {
        db: Some(dir.join("keyward.db")),
        database_url: crate::helpers::test_database(),
        ..Overrides::default()
    }
}

fn open(target: &Overrides) -> AppState {
    let config = Config::resolve(target.clone(), None, None).unwrap();
    keyward::server::open_state(&config, Clock::System).unwrap()
}

async fn status(state: &AppState, path: &str, token: &str) -> u16 {
    let req = axum::http::Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    keyward::app(state.clone())
        .oneshot(req)
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn rows(state: &AppState) -> i64 {
    use keyward::db::schema::{project_key, user, user_key};
    state
        .db
        .run_sync(|c| -> Result<i64, keyward::db::DbError> {
            let a: i64 = user::table.count().get_result(c).unwrap();
            let b: i64 = project_key::table.count().get_result(c).unwrap();
            let d: i64 = user_key::table.count().get_result(c).unwrap();
            Ok(a * 10_000 + b * 100 + d)
        })
        .unwrap()
}

#[tokio::test]
async fn import_bencher_keeps_every_credential_working() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("bencher.db");
    let (live_jwt, revoked_jwt) = bencher_db(&source, true);
    let target = target(dir.path());
    let security = BencherSecurity {
        secret_key: Some(SECRET.into()),
        issuer: Some(ISSUER.into()),
    };
    {
        // Keyward already has a user whose slug is Bencher Carol's: she is skipped.
        let state = open(&target);
        let mut out = Vec::new();
        keyward::admin::create_user(
            &state,
            "other@example.com",
            "Carol",
            Some("carol"),
            false,
            &mut out,
        )
        .unwrap();
        let before = rows(&state);
        let dry = import_bencher(&state.db, &source, &security, true, 1_800_000_000).unwrap();
        assert!(dry.render().contains("dry run"));
        assert_eq!(rows(&state), before, "a dry run changes nothing");

        let report = import_bencher(&state.db, &source, &security, false, 1_800_000_000).unwrap();
        let copied: Vec<(&str, i64, i64)> = report
            .tables
            .iter()
            .map(|t| (t.table, t.copied, t.skipped))
            .collect();
        assert_eq!(
            copied,
            [
                ("user", 1, 1),
                ("organization", 1, 0),
                ("organization_role", 1, 0),
                ("project", 1, 0),
                ("project_role", 1, 0),
                ("token", 2, 0),
                ("project_key", 2, 0),
                ("user_key", 1, 1)
            ]
        );
        assert!(
            report
                .render()
                .contains("01a00000-0000-7000-8000-000000000003"),
            "the skipped user is named"
        );

        let again = import_bencher(&state.db, &source, &security, false, 1_800_000_001).unwrap();
        assert!(
            again.tables.iter().all(|t| t.copied == 0),
            "a second run copies nothing: {}",
            again.render()
        );
        assert_eq!(again.tables[0].already_present, 1);
    }
    // A server started afterwards uses Bencher's secret and issuer.
    let state = open(&target);
    assert_eq!(status(&state, "/v0/projects/bench", RUN_KEY).await, 200);
    assert_eq!(
        status(&state, "/v0/projects/bench", REVOKED_RUN_KEY).await,
        401
    );
    assert_eq!(status(&state, "/v0/users/alice", USER_KEY).await, 200);
    assert_eq!(status(&state, "/v0/users/alice", &live_jwt).await, 200);
    assert_eq!(status(&state, "/v0/users/alice", &revoked_jwt).await, 401);
    assert_eq!(
        status(&state, "/v0/users/carol", CAROL_KEY).await,
        401,
        "skipped with its user"
    );
    assert_eq!(
        status(&state, "/v0/projects/bench/keys", USER_KEY).await,
        200,
        "roles came across"
    );
    let req = axum::http::Request::get("/v0/projects/bench/keys?revoked=true")
        .header("authorization", format!("Bearer {USER_KEY}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let res = keyward::app(state.clone()).oneshot(req).await.unwrap();
    let body = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let keys: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(keys[0]["uuid"], "01a00000-0000-7000-8000-000000000031");
    assert_eq!(keys[0]["creator"], "01a00000-0000-7000-8000-000000000001");
    assert_eq!(
        keys[0]["revoked"], "2023-11-14T22:21:40Z",
        "timestamps are kept"
    );
}

#[tokio::test]
async fn import_bencher_failure_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("bencher.db");
    bencher_db(&source, false);
    let state = open(&target(dir.path()));
    let before = rows(&state);
    let err =
        import_bencher(&state.db, &source, &BencherSecurity::default(), false, 0).unwrap_err();
    assert!(err.to_string().contains("`token`"), "{err}");
    assert_eq!(rows(&state), before);
    assert!(
        import_bencher(
            &state.db,
            &dir.path().join("missing.db"),
            &BencherSecurity::default(),
            false,
            0
        )
        .is_err()
    );
}

#[tokio::test]
async fn import_bencher_keeps_bencher_s_first_user_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("bencher.db");
    bencher_db(&source, true);
    let state = open(&target(dir.path()));
    import_bencher(
        &state.db,
        &source,
        &BencherSecurity::default(),
        false,
        1_800_000_000,
    )
    .unwrap();
    let account = keyward::accounts::NewAccount {
        name: keyward::domain::names::UserName::parse("Dave").unwrap(),
        slug: None,
        email: keyward::domain::names::Email::parse("dave@example.com").unwrap(),
        admin: None,
        invite: None,
    };
    let (dave, first) = state
        .db
        .run_sync(|c| keyward::accounts::create_account(c, &account, 1_800_000_001))
        .unwrap();
    assert!(!first, "the imported users came first");
    assert!(!dave.admin, "a signup after an import is not made admin");
}
