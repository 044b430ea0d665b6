//! Organizations, members and projects, and the existence-hiding rules around them.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn organization_post_and_get() {
    let app = TestApp::new();
    let alice = app.signup("Alice", "alice@example.com").await;
    let bob = app.signup("Bob", "bob@example.com").await;
    let res = app
        .post("/v0/organizations")
        .auth(&bob.jwt)
        .json(&json!({"name": "Acme Corp"}))
        .send()
        .await
        .expect(201);
    let body = res.json();
    let fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "uuid", "name", "slug", "license", "created", "modified", "claimed"
        ]
    );
    assert_eq!(body["slug"], "acme-corp");
    assert!(body["license"].is_null());
    app.get("/v0/organizations/acme-corp")
        .auth(&bob.jwt)
        .send()
        .await
        .expect(200);
    app.get("/v0/organizations/acme-corp")
        .auth(&alice.jwt)
        .send()
        .await
        .expect(200);
    let carol = app.signup("Carol", "carol@example.com").await;
    let res = app
        .get("/v0/organizations/acme-corp")
        .auth(&carol.jwt)
        .send()
        .await
        .expect(403);
    assert!(
        res.message()
            .starts_with("Permission (view) denied for user (")
    );
    let res = app
        .get("/v0/organizations/nope")
        .auth(&carol.jwt)
        .send()
        .await
        .expect(404);
    assert!(
        res.message()
            .starts_with("Organization (Slug(OrganizationSlug(Slug(\"nope\")))) not found")
    );
    let res = app
        .post("/v0/organizations")
        .auth(&carol.jwt)
        .json(&json!({"name": "X", "slug": "acme-corp"}))
        .send()
        .await
        .expect(409);
    assert!(
        res.message()
            .ends_with("UNIQUE constraint failed: organization.slug")
    );
    // Lists: members see theirs, the admin sees all.
    let res = app.get("/v0/organizations").auth(&bob.jwt).send().await;
    assert_eq!(res.header("x-total-count").as_deref(), Some("2"));
    let res = app.get("/v0/organizations").auth(&alice.jwt).send().await;
    // Three personal organizations and Acme.
    assert_eq!(res.header("x-total-count").as_deref(), Some("4"));
    app.get("/v0/organizations").send().await.expect(400);
}

#[tokio::test]
async fn members_invite_accept_change_remove() {
    let app = TestApp::new();
    let _admin = app.signup("Alice", "alice@example.com").await;
    let bob = app.signup("Bob", "bob@example.com").await;
    let carol = app.signup("Carol", "carol@example.com").await;
    let org = app.org(&bob, "Team").await;
    let members = format!("/v0/organizations/{org}/members");
    app.post(&members)
        .auth(&carol.jwt)
        .json(&json!({"email": "carol@example.com", "role": "leader"}))
        .send()
        .await
        .expect(403);
    let res = app
        .post(&members)
        .auth(&bob.jwt)
        .json(&json!({"email": "carol@example.com", "role": "leader"}))
        .send()
        .await
        .expect(202);
    assert_eq!(res.json()["email"], "carol@example.com");
    let invite = {
        let sent = app.outbox.lock().unwrap();
        let m = sent
            .iter()
            .rev()
            .find(|m| m.to_email == "carol@example.com")
            .unwrap();
        m.body
            .lines()
            .find_map(|l| l.strip_prefix("Invite Token: "))
            .unwrap()
            .to_owned()
    };
    // Someone else cannot use Carol's invitation.
    app.post("/v0/auth/accept")
        .auth(&bob.jwt)
        .json(&json!({ "invite": invite }))
        .send()
        .await
        .expect(403);
    app.post("/v0/auth/accept")
        .auth(&carol.jwt)
        .json(&json!({ "invite": invite }))
        .send()
        .await
        .expect(202);
    let res = app.get(&members).auth(&carol.jwt).send().await.expect(200);
    assert_eq!(res.header("x-total-count").as_deref(), Some("2"));
    let member = format!("{members}/{}", carol.slug);
    let res = app.get(&member).auth(&bob.jwt).send().await.expect(200);
    assert_eq!(res.json()["role"], "leader");
    app.patch(&member)
        .auth(&bob.jwt)
        .json(&json!({}))
        .send()
        .await
        .expect(409);
    app.patch(&member)
        .auth(&bob.jwt)
        .json(&json!({"role": "leader"}))
        .send()
        .await
        .expect(200);
    app.patch(&member)
        .auth(&bob.jwt)
        .json(&json!({"role": "member"}))
        .send()
        .await
        .expect(400);
    app.delete(&member).auth(&bob.jwt).send().await.expect(204);
    app.get(&member).auth(&bob.jwt).send().await.expect(404);
    app.get(&members).auth(&carol.jwt).send().await.expect(403);
}

#[tokio::test]
async fn signup_with_an_invite_joins_that_org() {
    let app = TestApp::new();
    let bob = app.signup("Bob", "bob@example.com").await;
    let org = app.org(&bob, "Team").await;
    app.post(&format!("/v0/organizations/{org}/members"))
        .auth(&bob.jwt)
        .json(&json!({"email": "dave@example.com", "name": "Dave", "role": "leader"}))
        .send()
        .await
        .expect(202);
    let invite = {
        let sent = app.outbox.lock().unwrap();
        let m = sent
            .iter()
            .rev()
            .find(|m| m.to_email == "dave@example.com")
            .unwrap();
        m.body
            .lines()
            .find_map(|l| l.strip_prefix("Invite Token: "))
            .unwrap()
            .to_owned()
    };
    app.post("/v0/auth/signup")
        .json(&json!({"name": "Dave", "email": "dave@example.com", "invite": invite, "i_agree": true}))
        .send()
        .await
        .expect(202);
    let token = app.confirmation_token("dave@example.com");
    let res = app
        .post("/v0/auth/confirm")
        .json(&json!({ "token": token }))
        .send()
        .await
        .expect(200);
    let jwt = res.json()["token"].as_str().unwrap().to_owned();
    let res = app
        .get("/v0/organizations")
        .auth(&jwt)
        .send()
        .await
        .expect(200);
    assert_eq!(res.header("x-total-count").as_deref(), Some("1"));
    assert_eq!(res.json()[0]["slug"], org.as_str());
}

#[tokio::test]
async fn projects_create_list_view() {
    let app = TestApp::new();
    let admin = app.signup("Alice", "alice@example.com").await;
    let bob = app.signup("Bob", "bob@example.com").await;
    let carol = app.signup("Carol", "carol@example.com").await;
    let org = app.org(&bob, "Team").await;
    let projects = format!("/v0/organizations/{org}/projects");
    let res = app
        .post(&projects)
        .auth(&bob.jwt)
        .json(&json!({"name": "My Project", "url": "https://example.com"}))
        .send()
        .await
        .expect(201);
    let body = res.json();
    let fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "uuid",
            "organization",
            "name",
            "slug",
            "url",
            "visibility",
            "created",
            "modified",
            "claimed"
        ]
    );
    assert_eq!(body["visibility"], "public");
    let res = app
        .post(&projects)
        .auth(&bob.jwt)
        .json(&json!({"name": "My Project"}))
        .send()
        .await
        .expect(409);
    assert!(res.message().starts_with("Project ("));
    let res = app
        .post(&projects)
        .auth(&carol.jwt)
        .json(&json!({"name": "Nope"}))
        .send()
        .await
        .expect(403);
    assert!(
        res.message()
            .starts_with("Permission (create) denied for user (")
    );
    app.post(&projects)
        .auth(&admin.jwt)
        .json(&json!({"name": "By Admin"}))
        .send()
        .await
        .expect(201);
    app.post(&projects)
        .auth(&bob.jwt)
        .json(&json!({"name": "Secret", "visibility": "private"}))
        .send()
        .await
        .expect(201);
    // Public projects are readable by anyone; private ones only by members.
    app.get("/v0/projects/my-project").send().await.expect(200);
    app.get("/v0/projects/my-project")
        .auth(&carol.jwt)
        .send()
        .await
        .expect(200);
    let res = app.get("/v0/projects/secret").send().await.expect(404);
    assert!(
        res.message()
            .starts_with("Project (Slug(ProjectSlug(Slug(\"secret\")))) not found: view")
    );
    app.get("/v0/projects/secret")
        .auth(&carol.jwt)
        .send()
        .await
        .expect(404);
    app.get("/v0/projects/secret")
        .auth(&bob.jwt)
        .send()
        .await
        .expect(200);
    app.get("/v0/projects/secret")
        .auth(&admin.jwt)
        .send()
        .await
        .expect(200);
    let res = app.get(&projects).auth(&carol.jwt).send().await;
    assert_eq!(
        res.header("x-total-count").as_deref(),
        Some("2"),
        "outsiders see public projects"
    );
    let res = app.get(&projects).auth(&bob.jwt).send().await;
    assert_eq!(res.header("x-total-count").as_deref(), Some("3"));
}

#[tokio::test]
async fn proj_allowed_get_answers_the_console() {
    let app = TestApp::new();
    let _admin = app.signup("Alice", "alice@example.com").await;
    let bob = app.signup("Bob", "bob@example.com").await;
    let carol = app.signup("Carol", "carol@example.com").await;
    let org = app.org(&bob, "Team").await;
    app.project(&bob, &org, "My Project").await;
    // What the console asks before showing key pages.
    let res = app
        .get("/v0/projects/my-project/allowed/manage")
        .auth(&bob.jwt)
        .send()
        .await
        .expect(200);
    assert_eq!(res.text, r#"{"allowed":true}"#);
    let res = app
        .get("/v0/projects/my-project/allowed/manage")
        .auth(&carol.jwt)
        .send()
        .await
        .expect(200);
    assert_eq!(res.text, r#"{"allowed":false}"#);
    app.get("/v0/projects/my-project/allowed/fly")
        .auth(&bob.jwt)
        .send()
        .await
        .expect(400);
}
