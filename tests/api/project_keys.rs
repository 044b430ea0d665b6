//! `/v0/projects/{project}/keys[/{key}]`.

use serde_json::{Value, json};

use crate::helpers::{
    Account, HINT, TestApp, assert_error_cors, assert_error_shape, assert_success_headers,
};

struct World {
    app: TestApp,
    admin: Account,
    bob: Account,
    project: String,
    project_uuid: String,
}

/// Alice (admin) owns org `acme`; Bob leads `bob-org` with project `key-project`.
async fn world() -> World {
    let app = TestApp::new();
    let admin = app.signup("Alice Admin", "alice@example.com").await;
    let bob = app.signup("Bob", "bob@example.com").await;
    let org = app.org(&bob, "Bob Org").await;
    let (project, project_uuid) = app.project(&bob, &org, "Key Project").await;
    World {
        app,
        admin,
        bob,
        project,
        project_uuid,
    }
}

fn keys(project: &str) -> String {
    format!("/v0/projects/{project}/keys")
}

fn names(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn proj_key_post_returns_the_key_once_with_subsecond_times() {
    let w = world().await;
    let res = w
        .app
        .post(&keys(&w.project))
        .auth(&w.bob.jwt)
        .json(&json!({"name": "ci-key"}))
        .send()
        .await
        .expect(201);
    assert_success_headers(&res, "POST", "1");
    let body = res.json();
    let key = body["key"].as_str().unwrap();
    assert!(key.starts_with("bencher_run_") && key.len() == 42);
    assert!(
        key["bencher_run_".len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
    );
    let fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        ["uuid", "project", "name", "key", "creation", "expiration"]
    );
    assert_eq!(body["project"], w.project_uuid.as_str());
    assert_eq!(body["creation"], "2026-11-22T04:26:55.500Z");
    // 4294967295 s later.
    assert_eq!(body["expiration"], "2162-12-29T10:55:10.500Z");

    // Later reads show whole seconds, the creator, and never the key.
    let uuid = body["uuid"].as_str().unwrap();
    let res = w
        .app
        .get(&format!("{}/{uuid}", keys(&w.project)))
        .auth(&w.bob.jwt)
        .send()
        .await
        .expect(200);
    assert_success_headers(&res, "GET", "1");
    assert_eq!(
        res.text,
        format!(
            r#"{{"uuid":"{uuid}","project":"{}","creator":"{}","name":"ci-key","creation":"2026-11-22T04:26:55Z","expiration":"2162-12-29T10:55:10Z"}}"#,
            w.project_uuid, w.bob.uuid
        )
    );
    assert!(!res.text.contains(key));
}

#[tokio::test]
async fn proj_key_post_stores_only_the_sha256() {
    use diesel::prelude::*;
    use keyward::db::schema::project_key;
    let w = world().await;
    let (_, key) = w
        .app
        .project_key(&w.bob.jwt, &w.project, &json!({"name": "k"}))
        .await;
    let stored: Vec<String> = w
        .app
        .state
        .db
        .run_sync(|c| -> Result<_, keyward::db::DbError> {
            Ok(project_key::table
                .select(project_key::key_hash)
                .load(c)
                .unwrap())
        })
        .unwrap();
    let expected = keyward::credentials::secret::KeyHash::of(&key);
    assert_eq!(stored, [expected.as_str().to_owned()]);
    assert!(
        stored[0]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
}

#[tokio::test]
async fn proj_key_post_ttl_edges() {
    let w = world().await;
    let post = |body: &'static str| {
        w.app
            .post(&keys(&w.project))
            .auth(&w.bob.jwt)
            .header("content-type", "application/json")
            .raw(body)
            .send()
    };
    let res = post(r#"{"name":"k","ttl":0}"#).await.expect(400);
    assert_eq!(res.message(), "TTL must be greater than zero");
    assert_error_cors(&res, true);
    let res = post(r#"{"name":"k","ttl":60,"bogus":1}"#).await.expect(201);
    assert_eq!(res.json()["expiration"], "2026-11-22T04:27:55.500Z");
    post(r#"{"name":"k","ttl":4294967295}"#).await.expect(201);
    let res = post(r#"{"name":"k","ttl":null}"#).await.expect(201);
    assert_eq!(res.json()["expiration"], "2162-12-29T10:55:10.500Z");
    let cases = [
        (
            r#"{"name":"k","ttl":4294967296}"#,
            "unable to parse JSON body: ttl: invalid value: integer `4294967296`, expected u32 at line 1 column 28",
        ),
        (
            r#"{"name":"k","ttl":1.5}"#,
            "unable to parse JSON body: ttl: invalid type: floating point `1.5`, expected u32 at line 1 column 21",
        ),
        (
            r#"{"name":"k","ttl":"60"}"#,
            "unable to parse JSON body: ttl: invalid type: string \"60\", expected u32 at line 1 column 22",
        ),
        (
            r#"{"name":"k","ttl":-1}"#,
            "unable to parse JSON body: ttl: invalid value: integer `-1`, expected u32 at line 1 column 20",
        ),
    ];
    for (body, message) in cases {
        let res = post(body).await.expect(400);
        assert_eq!(res.message(), message);
        assert_error_cors(&res, false);
    }
}

#[tokio::test]
async fn proj_key_post_name_edges() {
    let w = world().await;
    let post = |name: String| {
        w.app
            .post(&keys(&w.project))
            .auth(&w.bob.jwt)
            .json(&json!({ "name": name }))
            .send()
    };
    post("a".repeat(64)).await.expect(201);
    post("é".repeat(32)).await.expect(201);
    let res = post("ünïcödé ✓ name".into()).await.expect(201);
    assert!(res.text.contains("ünïcödé ✓ name"), "raw UTF-8, no escapes");
    post("a\tb".into()).await.expect(201);
    for bad in [
        "a".repeat(65),
        "é".repeat(33),
        " x".into(),
        "x ".into(),
        "\u{a0}x".into(),
        String::new(),
    ] {
        let res = post(bad.clone()).await.expect(400);
        assert!(
            res.message().starts_with(
                "unable to parse JSON body: name: Failed to validate resource name string: "
            ),
            "{bad:?}: {}",
            res.message()
        );
    }
    let res = post("é".repeat(33)).await.expect(400);
    assert!(
        res.message().ends_with("at line 1 column 77"),
        "columns count bytes"
    );
    // Names are not unique.
    post("dup".into()).await.expect(201);
    post("dup".into()).await.expect(201);
}

#[tokio::test]
async fn proj_keys_get_sorts_filters_and_counts() {
    let w = world().await;
    for name in [
        "primary-key",
        "bbbb",
        "byuuid",
        "sibling_key",
        "maxttl",
        "nullttl",
    ] {
        w.app
            .project_key(&w.bob.jwt, &w.project, &json!({ "name": name }))
            .await;
        w.app.advance(1);
    }
    let list = |query: &str| {
        w.app
            .get(&format!("{}{query}", keys(&w.project)))
            .auth(&w.bob.jwt)
            .send()
    };
    let res = list("").await.expect(200);
    assert_success_headers(&res, "GET", "6");
    assert_eq!(
        names(&res.json()),
        [
            "bbbb",
            "byuuid",
            "maxttl",
            "nullttl",
            "primary-key",
            "sibling_key"
        ]
    );
    let res = list("?per_page=2&page=2&direction=desc").await.expect(200);
    assert_eq!(names(&res.json()), ["nullttl", "maxttl"]);
    assert_eq!(res.header("x-total-count").as_deref(), Some("6"));
    let res = list("?per_page=0").await.expect(200);
    assert_eq!(res.text, "[]");
    assert_eq!(res.header("x-total-count").as_deref(), Some("6"));
    assert_eq!(
        names(&list("?page=0").await.json()),
        names(&list("?page=1").await.json())
    );
    assert_eq!(list("?page=99").await.text, "[]");
    assert_eq!(names(&list("?per_page=255").await.json()).len(), 6);
    assert_eq!(
        names(&list("?per_page=2&page=2147483649").await.json()),
        ["bbbb", "byuuid"]
    );
    // LIKE semantics: `_` and `%` are wildcards, ASCII case-insensitive.
    assert_eq!(
        names(&list("?search=_key").await.json()),
        ["primary-key", "sibling_key"]
    );
    assert_eq!(
        names(&list("?search=PRIMARY").await.json()),
        ["primary-key"]
    );
    assert_eq!(names(&list("?search=b%25u").await.json()), ["byuuid"]);
    assert_eq!(
        list("?search=").await.header("x-total-count").as_deref(),
        Some("6")
    );
    assert_eq!(names(&list("?name=bbbb").await.json()), ["bbbb"]);
    assert_eq!(list("?name=bbb").await.text, "[]");
    // Search also matches the UUID text.
    let all = list("").await.json();
    let uuid = all[0]["uuid"].as_str().unwrap().to_owned();
    let res = list(&format!("?search={}", &uuid[24..])).await.json();
    assert_eq!(res[0]["uuid"], uuid.as_str());
}

#[tokio::test]
async fn proj_keys_get_orders_same_names_by_creation() {
    let w = world().await;
    let (first, _) = w
        .app
        .project_key(&w.bob.jwt, &w.project, &json!({"name": "same"}))
        .await;
    w.app.advance(5);
    let (second, _) = w
        .app
        .project_key(&w.bob.jwt, &w.project, &json!({"name": "same"}))
        .await;
    let res = w
        .app
        .get(&keys(&w.project))
        .auth(&w.bob.jwt)
        .send()
        .await
        .json();
    assert_eq!(res[0]["uuid"], first.as_str());
    assert_eq!(res[1]["uuid"], second.as_str());
    let res = w
        .app
        .get(&format!("{}?direction=desc", keys(&w.project)))
        .auth(&w.bob.jwt)
        .send()
        .await
        .json();
    assert_eq!(res[0]["uuid"], second.as_str());
}

#[tokio::test]
async fn proj_keys_get_rejects_bad_queries() {
    let w = world().await;
    let cases = [
        (
            "per_page=256",
            "unable to parse query string: number too large to fit in target type",
        ),
        (
            "per_page=-1",
            "unable to parse query string: invalid digit found in string",
        ),
        (
            "per_page=",
            "unable to parse query string: cannot parse integer from empty string",
        ),
        (
            "page=4294967296",
            "unable to parse query string: number too large to fit in target type",
        ),
        (
            "sort=creation",
            "unable to parse query string: unknown variant `creation`, expected `name`",
        ),
        (
            "direction=DESC",
            "unable to parse query string: unknown variant `DESC`, expected `asc` or `desc`",
        ),
        (
            "revoked=yes",
            "unable to parse query string: provided string was not `true` or `false`",
        ),
        (
            "name=%20x",
            "unable to parse query string: Failed to validate resource name string:  x",
        ),
    ];
    for (query, message) in cases {
        let res = w
            .app
            .get(&format!("{}?{query}", keys(&w.project)))
            .auth(&w.bob.jwt)
            .send()
            .await
            .expect(400);
        assert_eq!(res.message(), message);
        assert_error_cors(&res, false);
    }
}

#[tokio::test]
async fn proj_key_patch_renames_and_refuses_empty_changes() {
    let w = world().await;
    let (uuid, key) = w
        .app
        .project_key(&w.bob.jwt, &w.project, &json!({"name": "old"}))
        .await;
    let path = format!("{}/{uuid}", keys(&w.project));
    let res = w
        .app
        .patch(&path)
        .auth(&w.bob.jwt)
        .json(&json!({"name": "new", "ttl": 5}))
        .send()
        .await
        .expect(200);
    assert_success_headers(&res, "PATCH", "1");
    assert_eq!(res.json()["name"], "new");
    assert_eq!(
        res.json()["expiration"],
        "2162-12-29T10:55:10Z",
        "ttl cannot change"
    );
    for body in [json!({}), json!({"name": null}), json!({"ttl": 5})] {
        let res = w
            .app
            .patch(&path)
            .auth(&w.bob.jwt)
            .json(&body)
            .send()
            .await
            .expect(409);
        let message = res.message();
        assert!(message.starts_with("Project Key ("), "{message}");
        assert!(
            message.ends_with(
                ") has conflict: There are no changes to save. This query cannot be built"
            )
        );
        let hash = keyward::credentials::secret::KeyHash::of(&key);
        assert!(
            !message.contains(hash.as_str())
                && !message.contains(&key)
                && !message.contains(&w.bob.jwt)
        );
        assert_error_cors(&res, true);
    }
    // Revoked keys can still be renamed.
    w.app
        .delete(&path)
        .auth(&w.bob.jwt)
        .send()
        .await
        .expect(204);
    let res = w
        .app
        .patch(&path)
        .auth(&w.bob.jwt)
        .json(&json!({"name": "gone"}))
        .send()
        .await
        .expect(200);
    assert_eq!(res.json()["name"], "gone");
    assert!(res.json()["revoked"].is_string());
}

#[tokio::test]
async fn proj_key_delete_revokes_for_good() {
    let w = world().await;
    let (uuid, key) = w
        .app
        .project_key(&w.bob.jwt, &w.project, &json!({"name": "k"}))
        .await;
    let path = format!("{}/{uuid}", keys(&w.project));
    let project = format!("/v0/projects/{}", w.project);
    w.app.get(&project).auth(&key).send().await.expect(200);
    w.app.advance(3);
    let res = w
        .app
        .delete(&path)
        .auth(&w.bob.jwt)
        .send()
        .await
        .expect(204);
    assert!(res.text.is_empty());
    // (No content-length either: hyper drops it on the wire, which tests/smoke.rs checks.)
    assert!(res.header("content-type").is_none());
    assert_success_headers(&res, "DELETE", "0");
    let res = w
        .app
        .delete(&path)
        .auth(&w.bob.jwt)
        .send()
        .await
        .expect(409);
    assert_eq!(res.message(), "Project key has already been revoked");
    assert_error_cors(&res, true);
    // The very next use fails.
    let res = w.app.get(&project).auth(&key).send().await.expect(401);
    assert_eq!(res.message(), "Invalid project key");
    // Still readable by UUID, hidden from the default list, shown with revoked=true.
    let res = w.app.get(&path).auth(&w.bob.jwt).send().await.expect(200);
    assert_eq!(res.json()["revoked"], "2026-11-22T04:26:58Z");
    let res = w.app.get(&keys(&w.project)).auth(&w.bob.jwt).send().await;
    assert_eq!(res.text, "[]");
    assert_eq!(res.header("x-total-count").as_deref(), Some("0"));
    let res = w
        .app
        .get(&format!("{}?revoked=true", keys(&w.project)))
        .auth(&w.bob.jwt)
        .send()
        .await;
    assert_eq!(res.header("x-total-count").as_deref(), Some("1"));
    assert_eq!(res.json()[0]["uuid"], uuid.as_str());
    assert_eq!(
        w.app
            .get(&format!("{}?revoked=false", keys(&w.project)))
            .auth(&w.bob.jwt)
            .send()
            .await
            .text,
        "[]"
    );
}

#[tokio::test]
async fn project_key_expiry_takes_effect_on_the_next_request() {
    let w = world().await;
    let (_, key) = w
        .app
        .project_key(&w.bob.jwt, &w.project, &json!({"name": "short", "ttl": 2}))
        .await;
    let project = format!("/v0/projects/{}", w.project);
    w.app.advance(1);
    w.app.get(&project).auth(&key).send().await.expect(200);
    w.app.advance(1);
    let res = w.app.get(&project).auth(&key).send().await.expect(401);
    assert_eq!(res.message(), "Invalid project key");
}

#[tokio::test]
async fn project_key_authenticates_only_on_its_own_project() {
    let w = world().await;
    let (_, key) = w
        .app
        .project_key(&w.bob.jwt, &w.project, &json!({"name": "k"}))
        .await;
    let res = w
        .app
        .get(&format!("/v0/projects/{}", w.project))
        .auth(&key)
        .send()
        .await
        .expect(200);
    assert_eq!(res.json()["uuid"], w.project_uuid.as_str());
    // Another public project: 403; a private one: 404.
    let org = w.app.org(&w.admin, "Other").await;
    let (other, _) = w.app.project(&w.admin, &org, "Other Project").await;
    let res = w
        .app
        .get(&format!("/v0/projects/{other}"))
        .auth(&key)
        .send()
        .await
        .expect(403);
    assert_eq!(
        res.message(),
        format!(
            "Project (Slug(ProjectSlug(Slug(\"{other}\")))) access denied: view. This Project is public but you do not have the required permission."
        )
    );
    w.app.sql(&format!(
        "UPDATE project SET visibility = 1 WHERE slug = '{other}'"
    ));
    w.app
        .get(&format!("/v0/projects/{other}"))
        .auth(&key)
        .send()
        .await
        .expect(404);
    // Key, token, user and organization endpoints parse it as a malformed JWT.
    for path in [
        keys(&w.project),
        format!("/v0/users/{}/keys", w.bob.slug),
        format!("/v0/users/{}/tokens", w.bob.slug),
        format!("/v0/users/{}", w.bob.slug),
        "/v0/organizations".to_owned(),
    ] {
        let res = w.app.get(&path).auth(&key).send().await.expect(400);
        assert!(
            res.message().starts_with("Malformed JSON Web Token"),
            "{path}"
        );
        assert!(!res.text.contains(&key));
    }
    // Garbage on a project-data endpoint is a 401.
    let res = w
        .app
        .get(&format!("/v0/projects/{}", w.project))
        .auth("garbage")
        .send()
        .await
        .expect(401);
    assert_eq!(res.message(), "Invalid authorization token");
    let malformed = "bencher_run_short";
    let res = w
        .app
        .get(&format!("/v0/projects/{}", w.project))
        .auth(malformed)
        .send()
        .await
        .expect(401);
    assert_eq!(res.message(), "Invalid project key");
}

#[tokio::test]
async fn manage_permission_cases() {
    let w = world().await;
    let carol = w.app.signup("Carol", "carol@example.com").await;
    let list = keys(&w.project);
    // Leader of the owning organization (Bob) and server admin may manage.
    w.app.get(&list).auth(&w.bob.jwt).send().await.expect(200);
    w.app.get(&list).auth(&w.admin.jwt).send().await.expect(200);
    // A non-member on a public project: 403 for every operation.
    let expected = format!(
        "Project (Slug(ProjectSlug(Slug(\"{}\")))) access denied: manage. This Project is public but you do not have the required permission.",
        w.project
    );
    let res = w.app.get(&list).auth(&carol.jwt).send().await.expect(403);
    assert_eq!(res.message(), expected);
    assert_error_cors(&res, true);
    let res = w
        .app
        .post(&list)
        .auth(&carol.jwt)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .expect(403);
    assert_eq!(res.message(), expected);
    // A project maintainer who does not lead the organization may manage.
    w.app.sql(&format!(
        "INSERT INTO project_role (user_id, project_id, role, created, modified)
         SELECT u.id, p.id, 'maintainer', 0, 0 FROM \"user\" u, project p
         WHERE u.slug = '{}' AND p.slug = '{}'",
        carol.slug, w.project
    ));
    w.app.get(&list).auth(&carol.jwt).send().await.expect(200);
    // A private project hides itself from non-members with a 404 naming the permission.
    let dave = w.app.signup("Dave", "dave@example.com").await;
    w.app.sql(&format!(
        "UPDATE project SET visibility = 1 WHERE slug = '{}'",
        w.project
    ));
    let res = w.app.get(&list).auth(&dave.jwt).send().await.expect(404);
    assert_eq!(
        res.message(),
        format!(
            "Project (Slug(ProjectSlug(Slug(\"{}\")))) not found: manage\nProject may be private and require authentication or it may not exist.\n{HINT}",
            w.project
        )
    );
    w.app.get(&list).auth(&carol.jwt).send().await.expect(200);
    w.app.get(&list).auth(&w.admin.jwt).send().await.expect(200);
}

#[tokio::test]
async fn not_found_cases_carry_the_hint() {
    let w = world().await;
    let res = w
        .app
        .get(&keys("no-such-project"))
        .auth(&w.bob.jwt)
        .send()
        .await
        .expect(404);
    assert_eq!(
        res.message(),
        format!(
            "Project (Slug(ProjectSlug(Slug(\"no-such-project\")))) not found: Record not found\nProject may be private and require authentication or it may not exist.\n{HINT}"
        )
    );
    assert_error_shape(&res);
    assert_error_cors(&res, true);
    let nil = "00000000-0000-0000-0000-000000000000";
    let res = w
        .app
        .get(&keys(nil))
        .auth(&w.bob.jwt)
        .send()
        .await
        .expect(404);
    assert!(res.message().starts_with(&format!(
        "Project (Uuid(ProjectUuid({nil}))) not found: Record not found"
    )));
    let res = w
        .app
        .get(&format!("{}/{nil}", keys(&w.project)))
        .auth(&w.bob.jwt)
        .send()
        .await
        .expect(404);
    let message = res.message();
    assert!(message.starts_with("Project Key ("), "{message}");
    assert!(message.contains(&format!("ProjectKeyUuid({nil})")));
    assert!(message.ends_with(&format!(
        " not found: Record not found\nProject Key may be private and require authentication or it may not exist.\n{HINT}"
    )));
    assert!(!message.contains("ProjectId("), "no internal row ids");
    // A key of another project is indistinguishable from a missing one.
    let org = w.app.org(&w.bob, "Second").await;
    let (other, _) = w.app.project(&w.bob, &org, "Second Project").await;
    let (uuid, _) = w
        .app
        .project_key(&w.bob.jwt, &other, &json!({"name": "k"}))
        .await;
    w.app
        .get(&format!("{}/{uuid}", keys(&w.project)))
        .auth(&w.bob.jwt)
        .send()
        .await
        .expect(404);
    // Any UUID form the uuid crate reads.
    let simple = uuid.replace('-', "").to_uppercase();
    w.app
        .get(&format!("{}/{simple}", keys(&other)))
        .auth(&w.bob.jwt)
        .send()
        .await
        .expect(200);
    w.app
        .get(&format!("{}/%7B{uuid}%7D", keys(&other)))
        .auth(&w.bob.jwt)
        .send()
        .await
        .expect(200);
    w.app
        .get(&format!("{}/urn:uuid:{uuid}", keys(&other)))
        .auth(&w.bob.jwt)
        .send()
        .await
        .expect(200);
}

#[tokio::test]
async fn user_key_of_a_maintainer_manages_project_keys() {
    let w = world().await;
    let (_, user_key) = w
        .app
        .user_key(&w.bob.jwt, &w.bob.slug, &json!({"name": "cli"}))
        .await;
    let (uuid, _) = w
        .app
        .project_key(&user_key, &w.project, &json!({"name": "via-user-key"}))
        .await;
    let res = w
        .app
        .get(&keys(&w.project))
        .auth(&user_key)
        .send()
        .await
        .expect(200);
    assert_eq!(res.json()[0]["uuid"], uuid.as_str());
    assert_eq!(res.json()[0]["creator"], w.bob.uuid.as_str());
}

/// Every key's UUID in list order (live or revoked keys), sorted here, not by the server.
fn sorted_uuids(w: &World, revoked: bool, desc: bool) -> Vec<String> {
    use diesel::prelude::*;
    use keyward::db::schema::project_key;
    let mut rows: Vec<(String, i64, i32, String)> = w
        .app
        .state
        .db
        .run_sync(move |c| -> Result<_, keyward::db::DbError> {
            let q = project_key::table
                .select((
                    project_key::name,
                    project_key::creation,
                    project_key::id,
                    project_key::uuid,
                ))
                .into_boxed();
            let q = if revoked {
                q.filter(project_key::revoked.is_not_null())
            } else {
                q.filter(project_key::revoked.is_null())
            };
            Ok(q.load(c).unwrap())
        })
        .unwrap();
    rows.sort();
    if desc {
        rows.reverse();
    }
    rows.into_iter().map(|r| r.3).collect()
}

/// Every page of the list, one after the other, as the server serves them; each page's
/// `X-Total-Count` must be `total`.
async fn all_pages(
    w: &World,
    per_page: u32,
    revoked: bool,
    desc: bool,
    total: usize,
) -> Vec<String> {
    let mut got = Vec::new();
    for page in 1.. {
        let res = w
            .app
            .get(&format!(
                "{}?per_page={per_page}&page={page}&revoked={revoked}&direction={}",
                keys(&w.project),
                if desc { "desc" } else { "asc" }
            ))
            .auth(&w.bob.jwt)
            .send()
            .await
            .expect(200);
        assert_eq!(res.header("x-total-count"), Some(total.to_string()));
        let body = res.json();
        let uuids = body.as_array().unwrap();
        if uuids.is_empty() {
            return got;
        }
        got.extend(uuids.iter().map(|k| k["uuid"].as_str().unwrap().to_owned()));
    }
    unreachable!()
}

async fn check_every_page(w: &World, label: &str) {
    for revoked in [false, true] {
        for desc in [false, true] {
            let want = sorted_uuids(w, revoked, desc);
            for per_page in [128, 255] {
                let got = all_pages(w, per_page, revoked, desc, want.len()).await;
                assert!(
                    got == want,
                    "{label}: revoked={revoked} desc={desc} per_page={per_page}: \
                     the pages differ from the sorted list"
                );
            }
        }
    }
}

/// Deep pages start from remembered positions (src/db/marks.rs). Every page, both ways, live
/// and revoked, must equal the list sorted independently, before and after each kind of
/// change that moves keys (create, rename, revoke): marks from an older state of the list
/// would put keys on the wrong page.
#[tokio::test]
async fn proj_keys_get_deep_pages_match_a_full_sort_across_changes() {
    let w = world().await;
    // 2,600 keys with few distinct names and creations, so that ties are broken by the
    // second and third sort columns on every page boundary; every tenth one revoked.
    w.app.sql(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2600)
         INSERT INTO project_key (uuid, project_id, name, key_hash, creation, expiration, revoked)
         SELECT '00000000-0000-7000-8000-' || substr('000000000000' || i, length('' || i) + 1),
                p.id, 'k' || (i % 7),
                substr('0000000000000000000000000000000000000000000000000000000000000000' || i, length('' || i) + 1), 1000 + (i % 13), 4000000000,
                CASE WHEN i % 10 = 0 THEN 2000 END
         FROM n, project p WHERE p.slug = '{}'",
        w.project
    ));
    check_every_page(&w, "as seeded").await;
    // A new key sorting first shifts every position by one.
    w.app
        .project_key(&w.bob.jwt, &w.project, &json!({"name": "a-first"}))
        .await;
    check_every_page(&w, "after a create").await;
    // A rename moves one key from the start of the list to its end.
    let first = sorted_uuids(&w, false, false)[0].clone();
    w.app
        .patch(&format!("{}/{first}", keys(&w.project)))
        .auth(&w.bob.jwt)
        .json(&json!({"name": "zz-last"}))
        .send()
        .await
        .expect(200);
    check_every_page(&w, "after a rename").await;
    // A revoke moves a key from the live list to the revoked one.
    let early = sorted_uuids(&w, false, false)[3].clone();
    w.app
        .delete(&format!("{}/{early}", keys(&w.project)))
        .auth(&w.bob.jwt)
        .send()
        .await
        .expect(204);
    check_every_page(&w, "after a revoke").await;
}

/// A user key reads its user, the project and the key in one statement; a JWT in three.
/// Both must give the same answer, status and body, in every case the three steps decide.
#[tokio::test]
async fn a_user_key_and_a_jwt_of_the_same_user_get_the_same_answers() {
    let w = world().await;
    let carol = w.app.signup("Carol", "carol@example.com").await;
    let org = w.app.org(&w.bob, "Second").await;
    let (private, private_uuid) = w.app.project(&w.bob, &org, "Private Project").await;
    w.app.sql(&format!(
        "UPDATE project SET visibility = 1 WHERE slug = '{private}'"
    ));
    let (key, _) = w
        .app
        .project_key(&w.bob.jwt, &w.project, &json!({"name": "k"}))
        .await;
    let (private_key, _) = w
        .app
        .project_key(&w.bob.jwt, &private, &json!({"name": "p"}))
        .await;
    w.app
        .delete(&format!("{}/{private_key}", keys(&private)))
        .auth(&w.bob.jwt)
        .send()
        .await
        .expect(204);
    let nil = "00000000-0000-0000-0000-000000000000";
    let paths = [
        keys(&w.project),
        keys(&w.project_uuid),
        format!("{}/{key}", keys(&w.project)),
        format!("{}/{key}", keys(&w.project_uuid)),
        format!("{}/{nil}", keys(&w.project)),
        format!("{}/{key}", keys(&private)),
        format!("{}/{private_key}", keys(&private)),
        format!("{}/{private_key}", keys(&private_uuid)),
        keys(&private),
        keys("no-such-project"),
        keys(nil),
        format!("{}/{key}", keys("no-such-project")),
    ];
    let mut statuses = std::collections::BTreeSet::new();
    for who in [&w.admin, &w.bob, &carol] {
        let (_, user_key) = w
            .app
            .user_key(&who.jwt, &who.slug, &json!({"name": "cli"}))
            .await;
        for path in &paths {
            let by_jwt = w.app.get(path).auth(&who.jwt).send().await;
            let by_key = w.app.get(path).auth(&user_key).send().await;
            assert_eq!(
                (by_key.status, without_request_id(by_key.json())),
                (by_jwt.status, without_request_id(by_jwt.json())),
                "{} GET {path}",
                who.slug
            );
            statuses.insert(by_key.status);
        }
    }
    // The cases reach every answer the steps can give: found, denied (public), hidden
    // (private) and missing.
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        [200, 403, 404],
        "cases cover every outcome"
    );
    // Bad keys are refused before anything else, whatever the path names.
    let (uuid, user_key) = w
        .app
        .user_key(&w.bob.jwt, &w.bob.slug, &json!({"name": "soon revoked"}))
        .await;
    w.app
        .get(&format!("{}/{key}", keys(&w.project)))
        .auth(&user_key)
        .send()
        .await
        .expect(200);
    w.app
        .delete(&format!("/v0/users/{}/keys/{uuid}", w.bob.slug))
        .auth(&w.bob.jwt)
        .send()
        .await
        .expect(204);
    let unknown = format!("{}{}", &user_key[..user_key.len() - 4], "AAAA");
    for bad in [&user_key, &unknown] {
        for path in [
            format!("{}/{key}", keys(&w.project)),
            keys("no-such-project"),
        ] {
            let res = w.app.get(&path).auth(bad).send().await.expect(401);
            assert_error_shape(&res);
        }
    }
    // A locked user's key is refused too.
    let (_, carols) = w
        .app
        .user_key(&carol.jwt, &carol.slug, &json!({"name": "locked"}))
        .await;
    w.app.sql(&format!(
        "UPDATE \"user\" SET locked = TRUE WHERE slug = '{}'",
        carol.slug
    ));
    w.app
        .get(&keys(&w.project))
        .auth(&carols)
        .send()
        .await
        .expect(401);
}

/// An answer's body without the request id, which differs between any two requests.
fn without_request_id(mut body: Value) -> Value {
    if let Some(fields) = body.as_object_mut() {
        fields.remove("request_id");
    }
    body
}

/// On PostgreSQL a key view with a user key reads over a shared asynchronous connection;
/// when that connection dies, the view reads through the pool at once, and the next one
/// makes a new shared connection.
#[tokio::test]
async fn a_key_view_survives_its_shared_connection_dying() {
    if crate::helpers::test_database().is_none() {
        return; // SQLite has no shared connection; the other tests cover its key views.
    }
    let w = world().await;
    let (_, user_key) = w
        .app
        .user_key(&w.bob.jwt, &w.bob.slug, &json!({"name": "cli"}))
        .await;
    let (key, _) = w
        .app
        .project_key(&w.bob.jwt, &w.project, &json!({"name": "k"}))
        .await;
    let view = format!("{}/{key}", keys(&w.project));
    let shared = || {
        w.app.count(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE application_name = 'keyward-shared' AND datname = current_database()",
        )
    };
    assert_eq!(shared(), 0, "made on first use");
    w.app.get(&view).auth(&user_key).send().await.expect(200);
    assert_eq!(shared(), 1, "the view made one");
    // (With a timeout, PostgreSQL answers only once the backend has gone.)
    w.app.sql(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
         WHERE application_name = 'keyward-shared' AND datname = current_database()",
    );
    assert_eq!(shared(), 0, "terminated");
    // Gone: this view finds it broken and reads through the pool.
    let res = w.app.get(&view).auth(&user_key).send().await.expect(200);
    assert_eq!(res.json()["uuid"], key.as_str());
    // The next one makes a new shared connection and reads over it.
    w.app.get(&view).auth(&user_key).send().await.expect(200);
    assert_eq!(shared(), 1, "made again");
}
