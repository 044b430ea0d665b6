//! The holes an outside attacker found, each reproduced: every test here performs the
//! attack and checks that it no longer gets in (or no longer costs the server anything).

use serde_json::json;

use crate::helpers::TestApp;

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
