//! The holes an outside attacker found, each reproduced: every test here performs the
//! attack and checks that it no longer gets in (or no longer costs the server anything).

use serde_json::json;

use crate::helpers::{TestApp, assert_error_shape};

/// Hole 1: made-up methods of any length end up as `other`, in metrics and the log.
#[tokio::test]
async fn made_up_methods_do_not_grow_the_metrics() {
    let app = TestApp::with(keyward::config::Overrides {
        metrics: true,
        ..Default::default()
    });
    for i in 0..50 {
        let method = format!("X{}{i}", "M".repeat(4_000));
        let res = app.req(&method, "/v0/users").send().await;
        assert!(res.status < 500, "{}", res.status);
    }
    let res = app.get("/metrics").send().await.expect(200);
    assert!(
        !res.text.contains("MMMM"),
        "a made-up method reached the metrics"
    );
    assert!(
        res.text.contains(r#"method="other""#),
        "made-up methods are counted as other: {}",
        res.text
    );
    assert!(res.text.len() < 16_384, "{} bytes", res.text.len());
}

/// Hole 2: a removed member loses the roles they held on the organization's projects.
#[tokio::test]
async fn a_removed_member_loses_manage_on_the_projects_they_created() {
    let app = TestApp::new();
    let _admin = app.signup("Admin", "admin@example.com").await;
    let owner = app.signup("Owner", "owner@example.com").await;
    let mallory = app.signup("Mallory", "mallory@example.com").await;
    let org = app.org(&owner, "Team").await;
    // Mallory is made a leader, creates a project (and so maintains it) and a key.
    let invite = invite_token(&app, &owner, &org, "mallory@example.com").await;
    app.post("/v0/auth/accept")
        .auth(&mallory.jwt)
        .json(&json!({ "invite": invite }))
        .send()
        .await
        .expect(202);
    let (project, _) = app.project(&mallory, &org, "Mallorys").await;
    let (before, _) = app
        .project_key(&mallory.jwt, &project, &json!({"name": "before"}))
        .await;
    app.delete(&format!("/v0/organizations/{org}/members/{}", mallory.slug))
        .auth(&owner.jwt)
        .send()
        .await
        .expect(204);
    let res = app
        .get(&format!("/v0/projects/{project}/allowed/manage"))
        .auth(&mallory.jwt)
        .send()
        .await
        .expect(200);
    assert_eq!(res.text, r#"{"allowed":false}"#);
    app.post(&format!("/v0/projects/{project}/keys"))
        .auth(&mallory.jwt)
        .json(&json!({"name": "after"}))
        .send()
        .await
        .expect(403);
    app.get(&format!("/v0/projects/{project}/keys/{before}"))
        .auth(&mallory.jwt)
        .send()
        .await
        .expect(403);
    // The owner still manages the project and its key.
    app.get(&format!("/v0/projects/{project}/keys/{before}"))
        .auth(&owner.jwt)
        .send()
        .await
        .expect(200);
}

/// An invitation token for `email` to join `org`, sent by `leader`.
pub async fn invite_token(
    app: &TestApp,
    leader: &crate::helpers::Account,
    org: &str,
    email: &str,
) -> String {
    app.post(&format!("/v0/organizations/{org}/members"))
        .auth(&leader.jwt)
        .json(&json!({"email": email, "role": "leader"}))
        .send()
        .await
        .expect(202);
    let sent = app.outbox.lock().unwrap();
    let message = sent
        .iter()
        .rev()
        .find(|m| m.to_email == email)
        .expect("an invitation was sent");
    message
        .body
        .lines()
        .find_map(|l| l.strip_prefix("Invite Token: "))
        .expect("an invite token line")
        .to_owned()
}

/// Hole 5: an oversized `search` (or any other string) is a 400, never a 500.
#[tokio::test]
async fn oversized_inputs_are_refused_with_400() {
    let app = TestApp::new();
    let alice = app.signup("Alice", "alice@example.com").await;
    let org = app.org(&alice, "Team").await;
    let (project, _) = app.project(&alice, &org, "P").await;
    let long = "a".repeat(50_001);
    for path in [
        format!("/v0/projects/{project}/keys?search={long}"),
        format!("/v0/users/{}/keys?search={long}", alice.slug),
        format!("/v0/users/{}/tokens?search={long}", alice.slug),
        format!("/v0/organizations?search={long}"),
        format!("/v0/organizations/{org}/projects?search={long}"),
        format!("/v0/organizations/{org}/members?search={long}"),
        format!("/v0/users?search={long}"),
        format!("/v0/projects?search={long}"),
    ] {
        let res = app.get(&path).auth(&alice.jwt).send().await.expect(400);
        assert!(res.message().contains("search"), "{}", res.message());
        assert!(!res.text.contains(&long[..300]), "the value is echoed");
    }
    // 256 bytes is the most a search may have.
    let ok = "b".repeat(256);
    app.get(&format!("/v0/projects/{project}/keys?search={ok}"))
        .auth(&alice.jwt)
        .send()
        .await
        .expect(200);
    app.get(&format!("/v0/projects/{project}/keys?search={ok}b"))
        .auth(&alice.jwt)
        .send()
        .await
        .expect(400);
    // Oversized body strings: names, slugs, emails, URLs, JWTs.
    let cases = [
        (
            "POST",
            "/v0/organizations".to_owned(),
            json!({"name": long}),
        ),
        (
            "POST",
            "/v0/organizations".to_owned(),
            json!({"name": "x", "slug": long}),
        ),
        (
            "POST",
            format!("/v0/organizations/{org}/projects"),
            json!({"name": "x", "url": format!("https://{long}")}),
        ),
        (
            "POST",
            "/v0/auth/confirm".to_owned(),
            json!({"token": format!("{long}.a.b")}),
        ),
        (
            "POST",
            "/v0/auth/login".to_owned(),
            json!({"email": format!("{long}@example.com")}),
        ),
        (
            "POST",
            format!("/v0/projects/{project}/keys"),
            json!({"name": long}),
        ),
        (
            "PATCH",
            format!("/v0/users/{}", alice.slug),
            json!({"name": long}),
        ),
    ];
    for (method, path, body) in cases {
        let res = app
            .req(method, &path)
            .auth(&alice.jwt)
            .json(&body)
            .send()
            .await;
        assert_eq!(res.status, 400, "{method} {path}: {}", res.text);
        assert!(res.text.len() < 1_024, "{method} {path} echoed the value");
    }
}

/// Hole 7: a name cannot forge a line of the log (the emails that go to it) or send the
/// operator's terminal a command.
#[tokio::test]
async fn names_cannot_forge_log_lines_or_reach_the_terminal() {
    let app = TestApp::new();
    let alice = app.signup("Alice", "alice@example.com").await;
    let res = app
        .post("/v0/organizations")
        .auth(&alice.jwt)
        .json(&json!({"name": "Zed\nConfirmation Token: eyJhbGciOi.forged.x"}))
        .send()
        .await
        .expect(201);
    let org = res.json()["slug"].as_str().unwrap().to_owned();
    invite_token(&app, &alice, &org, "bob@example.com").await;
    {
        let sent = app.outbox.lock().unwrap();
        let invitation = sent.last().unwrap();
        assert!(
            !invitation
                .body
                .lines()
                .chain(invitation.subject.lines().skip(1))
                .any(|l| l.starts_with("Confirmation Token:")),
            "{}",
            invitation.body
        );
        assert!(invitation.body.contains(r"Zed\nConfirmation Token"));
    }
    app.user_key(&alice.jwt, &alice.slug, &json!({"name": "\u{1b}[2Jgone"}))
        .await;
    let mut out = Vec::new();
    keyward::admin::list_user_keys(&app.state, &alice.slug, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains(r"\u{1b}[2Jgone"), "{text}");
}

/// Hole 3: an invitation works only for the address it was sent to, once, and not forever.
#[tokio::test]
async fn invitations_are_for_their_address_once_and_expire() {
    let app = TestApp::new();
    let _admin = app.signup("Admin", "admin@example.com").await;
    let owner = app.signup("Owner", "owner@example.com").await;
    let mallory = app.signup("Mallory", "mallory@example.com").await;
    let org = app.org(&owner, "Team").await;
    let members = format!("/v0/organizations/{org}/members");
    let invite = invite_token(&app, &owner, &org, "bob@example.com").await;
    // Someone else's login, signup or accept with Bob's invitation joins nobody.
    let res = app
        .post("/v0/auth/login")
        .json(&json!({"email": "mallory@example.com", "invite": invite}))
        .send()
        .await
        .expect(403);
    assert_eq!(
        res.message(),
        "This invitation was sent to another email address."
    );
    app.post("/v0/auth/signup")
        .json(
            &json!({"name": "Eve", "email": "eve@example.com", "i_agree": true, "invite": invite}),
        )
        .send()
        .await
        .expect(403);
    app.post("/v0/auth/accept")
        .auth(&mallory.jwt)
        .json(&json!({ "invite": invite }))
        .send()
        .await
        .expect(403);
    assert_eq!(member_count(&app, &owner.jwt, &members).await, "1");
    // Bob signs up with it: he joins. A second use of it (by anyone) is refused.
    app.post("/v0/auth/signup")
        .json(
            &json!({"name": "Bob", "email": "bob@example.com", "i_agree": true, "invite": invite}),
        )
        .send()
        .await
        .expect(202);
    assert_eq!(member_count(&app, &owner.jwt, &members).await, "2");
    let res = app
        .post("/v0/auth/login")
        .json(&json!({"email": "bob@example.com", "invite": invite}))
        .send()
        .await
        .expect(403);
    assert_eq!(res.message(), "This invitation has already been used.");
    // An invitation expires after 7 days.
    let late = invite_token(&app, &owner, &org, "mallory@example.com").await;
    app.advance(7 * 24 * 3600 + 1);
    let res = app
        .post("/v0/auth/login")
        .json(&json!({"email": "mallory@example.com", "invite": late}))
        .send()
        .await;
    assert!(matches!(res.status, 401 | 403), "{}", res.text);
    assert_eq!(member_count(&app, &owner.jwt, &members).await, "2");
}

async fn member_count(app: &TestApp, jwt: &str, members: &str) -> String {
    let res = app.get(members).auth(jwt).send().await.expect(200);
    res.header("x-total-count").unwrap()
}

/// An invitation minted before invitations expired (with an expiry a century away) is held
/// to the lifetime too.
#[tokio::test]
async fn old_never_expiring_invitations_are_refused_after_the_lifetime() {
    let app = TestApp::new();
    let _admin = app.signup("Admin", "admin@example.com").await;
    let owner = app.signup("Owner", "owner@example.com").await;
    let bob = app.signup("Bob", "bob@example.com").await;
    let org = app.org(&owner, "Team").await;
    let res = app
        .get(&format!("/v0/organizations/{org}"))
        .auth(&owner.jwt)
        .send()
        .await;
    let org_uuid = res.json()["uuid"].as_str().unwrap().to_owned();
    let (old, _) = app
        .state
        .jwt
        .mint(
            keyward::credentials::jwt::Audience::Invite,
            "bob@example.com",
            u32::MAX,
            app.state.clock.now() - chrono::TimeDelta::days(8),
            Some(keyward::credentials::jwt::OrgClaim {
                uuid: org_uuid.parse().unwrap(),
                role: keyward::domain::accounts::OrganizationRole::Leader,
            }),
        )
        .unwrap();
    let res = app
        .post("/v0/auth/accept")
        .auth(&bob.jwt)
        .json(&json!({ "invite": old }))
        .send()
        .await
        .expect(403);
    assert_eq!(res.message(), "This invitation has expired.");
}

/// Hole 4: a user key cannot change the login email (and so mint itself a session), and
/// cannot read the legacy tokens' JWTs. A session can change the email; the old address is
/// told.
#[tokio::test]
async fn a_user_key_cannot_become_a_session() {
    let app = TestApp::new();
    let alice = app.signup("Alice", "alice@example.com").await;
    let (_, key) = app
        .user_key(&alice.jwt, &alice.slug, &json!({"name": "k"}))
        .await;
    let (token, _) = app.legacy_token(&alice, "legacy", 100_000);
    let user = format!("/v0/users/{}", alice.slug);
    let res = app
        .patch(&user)
        .auth(&key)
        .json(&json!({"email": "attacker@example.com"}))
        .send()
        .await
        .expect(403);
    assert!(
        res.message()
            .starts_with("Changing an email address needs a session token")
    );
    app.post("/v0/auth/login")
        .json(&json!({"email": "attacker@example.com"}))
        .send()
        .await
        .expect(404);
    // A legacy token is no session either.
    let (_, legacy) = app.legacy_token(&alice, "other", 100_000);
    app.patch(&user)
        .auth(&legacy)
        .json(&json!({"email": "attacker@example.com"}))
        .send()
        .await
        .expect(403);
    // The key may rename, and may revoke tokens, but not read their JWTs.
    app.patch(&user)
        .auth(&key)
        .json(&json!({"name": "Alice A"}))
        .send()
        .await
        .expect(200);
    for path in [format!("{user}/tokens"), format!("{user}/tokens/{token}")] {
        let res = app.get(&path).auth(&key).send().await.expect(403);
        assert!(!res.text.contains("eyJ"), "{}", res.text);
    }
    app.patch(&format!("{user}/tokens/{token}"))
        .auth(&key)
        .json(&json!({"name": "renamed"}))
        .send()
        .await
        .expect(403);
    app.delete(&format!("{user}/tokens/{token}"))
        .auth(&key)
        .send()
        .await
        .expect(204);
    // With a session, the email changes and the old address hears of it.
    app.patch(&user)
        .auth(&alice.jwt)
        .json(&json!({"email": "alice@new.example.com"}))
        .send()
        .await
        .expect(200);
    let sent = app.outbox.lock().unwrap();
    let notice = sent.last().unwrap();
    assert_eq!(notice.to_email, "alice@example.com");
    assert!(
        notice.body.contains("alice@new.example.com"),
        "{}",
        notice.body
    );
}

/// Hole 8: a private project the caller may not see answers exactly as a missing one.
#[tokio::test]
async fn a_private_projects_existence_does_not_leak() {
    let app = TestApp::new();
    let _admin = app.signup("Admin", "admin@example.com").await;
    let owner = app.signup("Owner", "owner@example.com").await;
    let outsider = app.signup("Outsider", "outsider@example.com").await;
    let org = app.org(&owner, "Team").await;
    let (secret, _) = app.project(&owner, &org, "Secret").await;
    app.sql(&format!(
        "UPDATE project SET visibility = 1 WHERE slug = '{secret}'"
    ));
    for permission in ["view", "manage"] {
        let hidden = app
            .get(&format!("/v0/projects/{secret}/allowed/{permission}"))
            .auth(&outsider.jwt)
            .send()
            .await;
        let missing = app
            .get(&format!(
                "/v0/projects/no-such-project/allowed/{permission}"
            ))
            .auth(&outsider.jwt)
            .send()
            .await;
        assert_eq!(
            (hidden.status, &hidden.text),
            (missing.status, &missing.text)
        );
        assert_eq!(hidden.text, r#"{"allowed":false}"#);
    }
    let res = app
        .get(&format!("/v0/projects/{secret}/allowed/view"))
        .auth(&owner.jwt)
        .send()
        .await
        .expect(200);
    assert_eq!(res.text, r#"{"allowed":true}"#);
    // The same holds for organizations.
    let hidden = app
        .get(&format!("/v0/organizations/{org}/allowed/view"))
        .auth(&outsider.jwt)
        .send()
        .await
        .expect(200);
    let missing = app
        .get("/v0/organizations/no-such-org/allowed/view")
        .auth(&outsider.jwt)
        .send()
        .await
        .expect(200);
    assert_eq!(hidden.text, missing.text);
    assert_eq!(hidden.text, r#"{"allowed":false}"#);
    // And the public list shows it to nobody outside.
    let res = app
        .get("/v0/projects")
        .auth(&outsider.jwt)
        .send()
        .await
        .expect(200);
    assert!(!res.text.contains(&secret), "{}", res.text);
}

/// Hole 9: failed authentications and email requests are limited per client address.
#[tokio::test]
async fn failed_authentications_are_limited_per_address() {
    let app = TestApp::new();
    let alice = app.signup("Alice", "alice@example.com").await;
    let (_, key) = app
        .user_key(&alice.jwt, &alice.slug, &json!({"name": "k"}))
        .await;
    let path = format!("/v0/users/{}/keys", alice.slug);
    let fake = format!("bencher_user_{}", "Q".repeat(30));
    let attacker = "203.0.113.9";
    for _ in 0..keyward::config::DEFAULT_AUTH_FAILURES_PER_MINUTE {
        app.get(&path)
            .auth(&fake)
            .peer(attacker)
            .send()
            .await
            .expect(401);
    }
    let res = app
        .get(&path)
        .auth(&fake)
        .peer(attacker)
        .send()
        .await
        .expect(429);
    crate::helpers::assert_error_shape(&res);
    assert!(
        res.message()
            .starts_with("Too many failed authentication attempts")
    );
    let retry: i64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // While it lasts, the address is refused even with a valid key; other addresses, and
    // requests without a credential, are not.
    app.get(&path)
        .auth(&key)
        .peer(attacker)
        .send()
        .await
        .expect(429);
    app.get(&path)
        .auth(&key)
        .peer("198.51.100.4")
        .send()
        .await
        .expect(200);
    app.get("/v0/server/version")
        .peer(attacker)
        .send()
        .await
        .expect(200);
    app.advance(retry);
    app.get(&path)
        .auth(&key)
        .peer(attacker)
        .send()
        .await
        .expect(200);
}

#[tokio::test]
async fn email_requests_are_limited_per_address() {
    let app = TestApp::new();
    let _alice = app.signup("Alice", "alice@example.com").await;
    let client = "203.0.113.10";
    for _ in 0..keyward::config::DEFAULT_EMAILS_PER_HOUR {
        app.post("/v0/auth/login")
            .peer(client)
            .json(&json!({"email": "alice@example.com"}))
            .send()
            .await
            .expect(202);
    }
    let sent = app.outbox.lock().unwrap().len();
    let res = app
        .post("/v0/auth/signup")
        .peer(client)
        .json(&json!({"name": "Bob", "email": "bob@example.com", "i_agree": true}))
        .send()
        .await
        .expect(429);
    assert!(res.header("retry-after").is_some());
    assert!(res.message().starts_with("Too many emails requested"));
    assert_eq!(app.outbox.lock().unwrap().len(), sent, "no email was sent");
    app.post("/v0/auth/login")
        .peer("198.51.100.5")
        .json(&json!({"email": "alice@example.com"}))
        .send()
        .await
        .expect(202);
    app.advance(3_600);
    app.post("/v0/auth/login")
        .peer(client)
        .json(&json!({"email": "alice@example.com"}))
        .send()
        .await
        .expect(202);
}

/// The compatibility slip: slugs are made from names exactly as Bencher makes them.
#[tokio::test]
async fn slugs_are_made_as_bencher_makes_them() {
    let app = TestApp::new();
    let alice = app.signup("Alice", "alice@example.com").await;
    let org_slug = |name: &'static str| {
        let app = &app;
        let jwt = alice.jwt.clone();
        async move {
            let res = app
                .post("/v0/organizations")
                .auth(&jwt)
                .json(&json!({ "name": name }))
                .send()
                .await
                .expect(201);
            res.json()["slug"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(org_slug("Café Zürich").await, "cafe-zurich");
    assert_eq!(org_slug("数据").await, "shu-ju");
    assert_eq!(org_slug("🚀 Launch").await, "rocket-launch");
    let taken = org_slug("Café Zürich").await;
    assert!(
        taken.starts_with("cafe-zurich-") && taken.len() == "cafe-zurich-".len() + 8,
        "{taken}"
    );
    // A name with nothing to slugify gets an eight-character random slug, not a fixed word.
    let punct = org_slug("!!! ???").await;
    assert_eq!(punct.len(), 8, "{punct}");
    assert!(
        punct
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    let long = "Ünïcödé wörds ".repeat(3);
    let res = app
        .post("/v0/organizations")
        .auth(&alice.jwt)
        .json(&json!({ "name": long.trim_end() }))
        .send()
        .await
        .expect(201);
    let slug = res.json()["slug"].as_str().unwrap().to_owned();
    assert!(
        slug.len() <= 64 && !slug.ends_with('-') && slug.starts_with("unicode-words-"),
        "{slug}"
    );
    // Projects, the same way.
    let org = org_slug("Team").await;
    let res = app
        .post(&format!("/v0/organizations/{org}/projects"))
        .auth(&alice.jwt)
        .json(&json!({"name": "Crème brûlée"}))
        .send()
        .await
        .expect(201);
    assert_eq!(res.json()["slug"], "creme-brulee");
    // Users: a name of only punctuation gets a random slug (and so does its organization).
    app.post("/v0/auth/signup")
        .json(&json!({"name": "...", "email": "dots@example.com", "i_agree": true}))
        .send()
        .await
        .expect(202);
    let res = app
        .get("/v0/users?per_page=255")
        .auth(&alice.jwt)
        .send()
        .await
        .expect(200);
    let users = res.json();
    let dots = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "dots@example.com")
        .unwrap();
    let user_slug = dots["slug"].as_str().unwrap().to_owned();
    assert_eq!(user_slug.len(), 8, "{user_slug}");
    // A slug Bencher accepts is accepted here, and one it refuses is refused.
    for (slug, ok) in [
        ("cafe-zurich-2", true),
        ("Café", false),
        ("a--b", false),
        ("-a", false),
    ] {
        let res = app
            .post("/v0/organizations")
            .auth(&alice.jwt)
            .json(&json!({"name": "x", "slug": slug}))
            .send()
            .await;
        assert_eq!(res.status == 201, ok, "{slug}: {}", res.text);
    }
}

#[tokio::test]
async fn live_keys_are_limited_per_project_and_per_user() {
    let app = TestApp::with(keyward::config::Overrides {
        max_project_keys: Some(2),
        max_user_keys: Some(1),
        ..keyward::config::Overrides::default()
    });
    let owner = app.signup("Owner", "owner@example.com").await;
    let org = app.org(&owner, "Team").await;
    let (project, _) = app.project(&owner, &org, "Limited").await;
    let keys = format!("/v0/projects/{project}/keys");
    let (first, _) = app
        .project_key(&owner.jwt, &project, &json!({"name": "one"}))
        .await;
    app.project_key(&owner.jwt, &project, &json!({"name": "two"}))
        .await;
    let res = app
        .post(&keys)
        .auth(&owner.jwt)
        .json(&json!({"name": "three"}))
        .send()
        .await
        .expect(409);
    assert_error_shape(&res);
    let message = res.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("2 live API keys"), "{message}");
    assert!(message.contains("--max-project-keys 2"), "{message}");
    // A revoked key makes room again.
    app.delete(&format!("{keys}/{first}"))
        .auth(&owner.jwt)
        .send()
        .await
        .expect(204);
    app.project_key(&owner.jwt, &project, &json!({"name": "three"}))
        .await;

    let user_keys = format!("/v0/users/{}/keys", owner.slug);
    app.user_key(&owner.jwt, &owner.slug, &json!({"name": "first"}))
        .await;
    let res = app
        .post(&user_keys)
        .auth(&owner.jwt)
        .json(&json!({"name": "second"}))
        .send()
        .await
        .expect(409);
    assert!(
        res.json()["message"]
            .as_str()
            .unwrap()
            .contains("--max-user-keys 1")
    );
}
