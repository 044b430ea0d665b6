//! The test harness: a real SQLite file in a temp dir, a fixed clock, the real router,
//! requests through `oneshot`, and seeds made through the public API.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request};
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt;
use keyward::config::{Config, Overrides, Secret};
use keyward::mail::{Mailer, Message};
use keyward::state::{AppState, Clock};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The instant every test starts at: 2026-11-22T04:26:55.5Z.
pub fn start() -> DateTime<Utc> {
    Utc.timestamp_opt(1_795_321_615, 500_000_000).unwrap()
}

pub struct TestApp {
    pub app: Router,
    pub state: AppState,
    pub outbox: Arc<Mutex<Vec<Message>>>,
    _dir: tempfile::TempDir,
}

pub struct Account {
    pub uuid: String,
    pub slug: String,
    pub email: String,
    pub jwt: String,
}

pub struct Res {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Res {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    pub fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        self
    }
}

pub struct Req<'a> {
    app: &'a TestApp,
    builder: axum::http::request::Builder,
    body: Vec<u8>,
}

impl Req<'_> {
    pub fn auth(mut self, token: &str) -> Self {
        self.builder = self
            .builder
            .header("authorization", format!("Bearer {token}"));
        self
    }

    /// Sends the request as if from this client address (as the server attaches it to
    /// every request of a TCP connection).
    pub fn peer(mut self, addr: &str) -> Self {
        let addr = keyward::limits::ClientAddr(addr.parse().unwrap());
        self.builder = self.builder.extension(addr);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.builder = self.builder.header("content-type", "application/json");
        self.body = serde_json::to_vec(body).unwrap();
        self
    }

    pub fn raw(mut self, body: &str) -> Self {
        self.body = body.as_bytes().to_vec();
        self
    }

    pub async fn send(self) -> Res {
        let req = self.builder.body(Body::from(self.body)).unwrap();
        let res = self.app.app.clone().oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Res {
            status,
            headers,
            text: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }
}

impl TestApp {
    pub fn new() -> Self {
        Self::with(Overrides::default())
    }

    pub fn with(overrides: Overrides) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let overrides = Overrides {
            db: Some(dir.path().join("keyward.db")),
            database_url: overrides.database_url.or_else(test_database),
            database_pool_size: overrides.database_pool_size.or(Some(4)),
            secret_key: overrides
                .secret_key
                .or_else(|| Some(Secret::new("test-secret-0123456789abcdef0123456789".into()))),
            ..overrides
        };
        let config = Config::resolve(overrides, None, None).unwrap();
        let mut state = keyward::server::open_state(&config, Clock::manual(start())).unwrap();
        let outbox = Arc::new(Mutex::new(Vec::new()));
        state.mailer = Mailer::Outbox(outbox.clone());
        Self {
            app: keyward::app(state.clone()),
            state,
            outbox,
            _dir: dir,
        }
    }

    pub fn req(&self, method: &str, path: &str) -> Req<'_> {
        Req {
            app: self,
            builder: Request::builder().method(method).uri(path),
            body: Vec::new(),
        }
    }

    pub fn get(&self, path: &str) -> Req<'_> {
        self.req("GET", path)
    }

    pub fn post(&self, path: &str) -> Req<'_> {
        self.req("POST", path)
    }

    pub fn patch(&self, path: &str) -> Req<'_> {
        self.req("PATCH", path)
    }

    pub fn delete(&self, path: &str) -> Req<'_> {
        self.req("DELETE", path)
    }

    pub fn advance(&self, secs: i64) {
        self.state.clock.advance(chrono::TimeDelta::seconds(secs));
    }

    /// The token on the `Confirmation Token:` line of the last email sent to `email`.
    pub fn confirmation_token(&self, email: &str) -> String {
        let sent = self.outbox.lock().unwrap();
        // The newest message to `email` with a token (an admin also gets new-user notices).
        sent.iter()
            .rev()
            .filter(|m| m.to_email == email)
            .find_map(|m| {
                m.body
                    .lines()
                    .find_map(|l| l.strip_prefix("Confirmation Token: "))
            })
            .expect("an email with a confirmation token was sent")
            .to_owned()
    }

    /// Signs up and confirms; the first account becomes server admin.
    pub async fn signup(&self, name: &str, email: &str) -> Account {
        self.post("/v0/auth/signup")
            .json(&json!({"name": name, "email": email, "i_agree": true}))
            .send()
            .await
            .expect(202);
        let body = self.confirm(email).await;
        Account {
            uuid: body["user"]["uuid"].as_str().unwrap().to_owned(),
            slug: body["user"]["slug"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
            jwt: body["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Logs an existing user in and confirms: a fresh session JWT.
    pub async fn session(&self, email: &str) -> String {
        self.post("/v0/auth/login")
            .json(&json!({ "email": email }))
            .send()
            .await
            .expect(202);
        self.confirm(email).await["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Exchanges the last confirmation token sent to `email`; the body of the answer.
    pub async fn confirm(&self, email: &str) -> Value {
        let token = self.confirmation_token(email);
        self.post("/v0/auth/confirm")
            .json(&json!({ "token": token }))
            .send()
            .await
            .expect(200)
            .json()
    }

    /// Creates an organization as `who`; returns its slug.
    pub async fn org(&self, who: &Account, name: &str) -> String {
        let res = self
            .post("/v0/organizations")
            .auth(&who.jwt)
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect(201);
        res.json()["slug"].as_str().unwrap().to_owned()
    }

    /// Creates a project in `org` as `who`; returns (slug, uuid).
    pub async fn project(&self, who: &Account, org: &str, name: &str) -> (String, String) {
        let res = self
            .post(&format!("/v0/organizations/{org}/projects"))
            .auth(&who.jwt)
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect(201);
        let body = res.json();
        (
            body["slug"].as_str().unwrap().to_owned(),
            body["uuid"].as_str().unwrap().to_owned(),
        )
    }

    /// Creates a project key; returns (uuid, plaintext key).
    pub async fn project_key(&self, token: &str, project: &str, body: &Value) -> (String, String) {
        let res = self
            .post(&format!("/v0/projects/{project}/keys"))
            .auth(token)
            .json(body)
            .send()
            .await
            .expect(201);
        let body = res.json();
        (
            body["uuid"].as_str().unwrap().to_owned(),
            body["key"].as_str().unwrap().to_owned(),
        )
    }

    /// Creates a user key; returns (uuid, plaintext key).
    pub async fn user_key(&self, token: &str, user: &str, body: &Value) -> (String, String) {
        let res = self
            .post(&format!("/v0/users/{user}/keys"))
            .auth(token)
            .json(body)
            .send()
            .await
            .expect(201);
        let body = res.json();
        (
            body["uuid"].as_str().unwrap().to_owned(),
            body["key"].as_str().unwrap().to_owned(),
        )
    }

    /// Puts a legacy `api_key` token row in the database, as an old Bencher would have;
    /// returns (uuid, jwt).
    pub fn legacy_token(&self, who: &Account, name: &str, ttl: u32) -> (String, String) {
        use diesel::prelude::*;
        use keyward::db::schema::{token, user};
        let (jwt, claims) = self
            .state
            .jwt
            .mint(
                keyward::credentials::jwt::Audience::ApiKey,
                &who.email,
                ttl,
                self.state.clock.now(),
                None,
            )
            .unwrap();
        let uuid = uuid::Uuid::now_v7().to_string();
        let (u, n, j) = (uuid.clone(), name.to_owned(), jwt.clone());
        let email = who.email.clone();
        self.state
            .db
            .run_sync(move |c| -> Result<(), keyward::db::DbError> {
                let user_id: i32 = user::table
                    .filter(user::email.eq(email))
                    .select(user::id)
                    .first(c)
                    .unwrap();
                diesel::insert_into(token::table)
                    .values((
                        token::uuid.eq(u),
                        token::user_id.eq(user_id),
                        token::name.eq(n),
                        token::jwt.eq(j),
                        token::creation.eq(claims.iat),
                        token::expiration.eq(claims.exp),
                    ))
                    .execute(c)
                    .unwrap();
                Ok(())
            })
            .unwrap();
        (uuid, jwt)
    }

    /// Runs raw SQL against the database (for states the API cannot reach, such as a
    /// private project on a server without plans).
    pub fn sql(&self, statement: &str) {
        use diesel::connection::SimpleConnection;
        let statement = statement.to_owned();
        self.state
            .db
            .run_sync(move |c| -> Result<(), keyward::db::DbError> {
                c.batch_execute(&statement).unwrap();
                Ok(())
            })
            .unwrap();
    }

    /// The one integer a `SELECT` of one row and one `BIGINT` column (`AS n`) returns.
    pub fn count(&self, select: &str) -> i64 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let select = select.to_owned();
        self.state
            .db
            .run_sync(move |c| -> Result<i64, keyward::db::DbError> {
                Ok(diesel::sql_query(&select).get_result::<N>(c).unwrap().n)
            })
            .unwrap()
    }

    /// Mints a JWT with these claims, signed with `secret`.
    pub fn jwt_with(claims: &Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    /// Now, as the server's clock sees it, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.state.clock.now().timestamp()
    }
}

/// The bearer hint of authentication errors and project-key 404s.
pub const HINT: &str = "Expected format is `Authorization: Bearer <bencher.api.token>`. Where `<bencher.api.token>` is your Bencher API token (JWT) or user API key (`bencher_user_...`).";

/// Asserts Bencher's error shape: pretty JSON, `request_id` equal to `x-request-id`,
/// no `error_code` on a 4xx.
#[track_caller]
pub fn assert_error_shape(res: &Res) {
    let body = res.json();
    let id = res.header("x-request-id").expect("x-request-id");
    assert_eq!(body["request_id"], id);
    assert!(
        res.text.starts_with("{\n  \"request_id\": "),
        "{}",
        res.text
    );
    if res.status < 500 {
        assert!(body.get("error_code").is_none(), "{}", res.text);
    }
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(res.header("x-total-count").is_none());
}

/// Asserts the CORS headers Bencher-made errors carry (or, with `false`, their absence).
#[track_caller]
pub fn assert_error_cors(res: &Res, present: bool) {
    let methods = res.header("access-control-allow-methods");
    if present {
        assert_eq!(
            methods.as_deref(),
            Some("GET, POST, PUT, PATCH, DELETE, OPTIONS")
        );
        assert_eq!(
            res.header("access-control-allow-origin").as_deref(),
            Some("*")
        );
        assert_eq!(
            res.header("access-control-allow-headers").as_deref(),
            Some("Content-Type, Authorization")
        );
        assert_eq!(
            res.header("access-control-expose-headers").as_deref(),
            Some("X-Total-Count")
        );
    } else {
        assert!(methods.is_none(), "no CORS on framework errors");
        assert!(res.header("access-control-allow-origin").is_none());
    }
}

/// Asserts the success headers of an endpoint: the four CORS headers with its method and
/// the given `x-total-count`.
#[track_caller]
pub fn assert_success_headers(res: &Res, method: &str, total: &str) {
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(
        res.header("access-control-allow-methods").as_deref(),
        Some(method)
    );
    assert_eq!(
        res.header("access-control-allow-headers").as_deref(),
        Some("Content-Type, Authorization")
    );
    assert_eq!(
        res.header("access-control-expose-headers").as_deref(),
        Some("X-Total-Count")
    );
    assert_eq!(res.header("x-total-count").as_deref(), Some(total));
    assert!(res.header("x-request-id").is_some());
}

/// With `KEYWARD_TEST_DATABASE_URL` (a PostgreSQL URL whose user may create databases), a
/// fresh database of its own for each test, so that tests stay parallel; without it, none
/// (the test uses a SQLite file).
pub fn test_database() -> Option<Secret> {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let admin = std::env::var("KEYWARD_TEST_DATABASE_URL").ok()?;
    let name = format!("keyward_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = diesel::PgConnection::establish(&admin).expect("KEYWARD_TEST_DATABASE_URL");
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    Some(Secret::new(format!("{base}/{name}")))
}
