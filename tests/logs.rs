//! No secret in the log: the server runs at its most verbose level through a whole
//! lifecycle, including failed attempts with garbage and with real-looking keys, and not one
//! plaintext key, session or legacy JWT, key hash, or the server secret may appear in what
//! it wrote. The one documented exception is the confirmation email (and its token), which
//! Bencher-compatible signup writes to the log when no SMTP server is configured.
#![allow(clippy::unwrap_used, reason = "test harness")]
#![allow(clippy::print_stdout, reason = "the test reports what it checked")]

mod common;

use std::process::Command;

use common::Server;
use keyward::credentials::secret::{KeyHash, KeyKind, PlainKey};

const SECRET: &str = "a-very-secret-signing-key-0123456789";

#[test]
#[expect(clippy::too_many_lines, reason = "one lifecycle, start to finish")]
fn logs_never_contain_secrets() {
    let server = Server::start_with(&["--log-level", "trace", "--secret-key", SECRET]);
    let mut secrets: Vec<String> = vec![SECRET.to_owned()];

    server.json(
        "POST",
        "/v0/auth/signup",
        None,
        Some(r#"{"name":"Alice","email":"alice@example.com","i_agree":true}"#),
        202,
    );
    let confirmation = server.confirmation_token();
    let auth = server.json(
        "POST",
        "/v0/auth/confirm",
        None,
        Some(&format!(r#"{{"token":"{confirmation}"}}"#)),
        200,
    );
    let jwt = auth["token"].as_str().unwrap().to_owned();
    secrets.push(jwt.clone());

    let user_key = server.json(
        "POST",
        "/v0/users/alice/keys",
        Some(&jwt),
        Some(r#"{"name":"cli"}"#),
        201,
    );
    let user_key_uuid = user_key["uuid"].as_str().unwrap().to_owned();
    let user_key = user_key["key"].as_str().unwrap().to_owned();
    secrets.push(user_key.clone());
    let org = server.json(
        "POST",
        "/v0/organizations",
        Some(&user_key),
        Some(r#"{"name":"Org"}"#),
        201,
    );
    let org = org["slug"].as_str().unwrap().to_owned();
    server.json(
        "POST",
        &format!("/v0/organizations/{org}/projects"),
        Some(&user_key),
        Some(r#"{"name":"Logged"}"#),
        201,
    );
    let project_key = server.json(
        "POST",
        "/v0/projects/logged/keys",
        Some(&user_key),
        Some(r#"{"name":"ci"}"#),
        201,
    );
    let project_key_uuid = project_key["uuid"].as_str().unwrap().to_owned();
    let project_key = project_key["key"].as_str().unwrap().to_owned();
    secrets.push(project_key.clone());
    server.json("GET", "/v0/projects/logged", Some(&project_key), None, 200);

    // A legacy token, carried over by the operator command, used, then revoked.
    let now = chrono::Utc::now().timestamp();
    let legacy = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({"aud": "api_key", "exp": now + 10_000, "iat": now, "iss": "http://localhost:3000/", "sub": "alice@example.com"}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    secrets.push(legacy.clone());
    let out = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .arg("--db")
        .arg(server.dir.join("data/keyward.db"))
        .args([
            "--secret-key",
            SECRET,
            "--log-level",
            "trace",
            "admin",
            "import-token",
            "--user",
            "alice",
            "--name",
            "old",
            "--jwt",
            &legacy,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli_log = String::from_utf8_lossy(&out.stderr).into_owned();
    let tokens = server.json("GET", "/v0/users/alice/tokens", Some(&legacy), None, 200);
    let token_uuid = tokens[0]["uuid"].as_str().unwrap().to_owned();

    // Failed attempts: garbage, and keys and tokens that look real but are not.
    let fake_user = PlainKey::generate(KeyKind::User).into_exposed();
    let fake_run = PlainKey::generate(KeyKind::Project).into_exposed();
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({"aud": "client", "exp": now + 100, "iat": now, "iss": "http://localhost:3000/", "sub": "alice@example.com"}),
        &jsonwebtoken::EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    for bad in [
        "garbage",
        fake_user.as_str(),
        fake_run.as_str(),
        forged.as_str(),
        "bencher_user_short",
    ] {
        let (status, _, _) = server.call("GET", "/v0/users/alice/keys", Some(bad), None);
        assert!((400..500).contains(&status));
        let (status, _, _) = server.call("GET", "/v0/projects/logged", Some(bad), None);
        assert_eq!(status, 401);
    }
    secrets.extend([fake_user, fake_run, forged]);

    // Revocations, then the revoked credentials are refused.
    let (status, _, _) = server.call(
        "DELETE",
        &format!("/v0/projects/logged/keys/{project_key_uuid}"),
        Some(&user_key),
        None,
    );
    assert_eq!(status, 204);
    let (status, _, _) = server.call(
        "DELETE",
        &format!("/v0/users/alice/tokens/{token_uuid}"),
        Some(&jwt),
        None,
    );
    assert_eq!(status, 204);
    let (status, _, _) = server.call(
        "DELETE",
        &format!("/v0/users/alice/keys/{user_key_uuid}"),
        Some(&jwt),
        None,
    );
    assert_eq!(status, 204);
    for revoked in [&project_key, &legacy, &user_key] {
        let (status, _, _) = server.call("GET", "/v0/projects/logged", Some(revoked), None);
        assert_eq!(status, 401);
    }

    let (exit, log) = server.terminate();
    assert!(exit.success());
    assert!(log.contains("Confirmation Token: "), "the log was captured");
    assert!(
        log.contains("TRACE") || log.contains("DEBUG") || log.contains("INFO"),
        "{log}"
    );
    let hashes: Vec<String> = secrets
        .iter()
        .map(|s| KeyHash::of(s).as_str().to_owned())
        .collect();
    // The confirmation email is the documented exception: drop its lines before looking.
    let checked: String = log
        .lines()
        .chain(cli_log.lines())
        .filter(|l| !l.contains(&confirmation))
        .collect::<Vec<_>>()
        .join("\n");
    for secret in secrets.iter().chain(&hashes) {
        assert!(
            !checked.contains(secret.as_str()),
            "a secret reached the log: {}…",
            &secret[..12]
        );
    }
    println!(
        "no secret in {} log lines ({} secrets and their hashes checked)",
        checked.lines().count(),
        secrets.len()
    );
}

/// Every line logged while a request is served carries that request's id, whichever thread
/// writes it (the signup's email is logged by the handler; a JSON log shows the span).
#[test]
fn lines_logged_during_a_request_carry_its_id() {
    let server = Server::start_with(&["--secret-key", SECRET, "--log-format", "json"]);
    let (status, head, _) = server.call(
        "POST",
        "/v0/auth/signup",
        None,
        Some(r#"{"name":"Alice","email":"alice@example.com","i_agree":true}"#),
    );
    assert_eq!(status, 202);
    let id = head
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .unwrap()
        .trim()
        .to_owned();
    let started = std::time::Instant::now();
    while !server.log_text().contains("Confirmation Token") {
        assert!(started.elapsed().as_secs() < 10, "no email in the log");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let log = server.log_text();
    let email_line = log
        .lines()
        .find(|l| l.contains("Confirmation Token"))
        .expect("the email's log line");
    let line: serde_json::Value = serde_json::from_str(email_line).unwrap();
    assert_eq!(line["span"]["request_id"], id.as_str(), "{email_line}");
    // The request's own line names it too. It is written once the response has gone out, so
    // it may reach the log a moment after the client has read the response.
    let has_request_line = |log: &str| {
        log.lines()
            .any(|l| l.contains("\"message\":\"request\"") && l.contains(&id))
    };
    let started = std::time::Instant::now();
    while !has_request_line(&server.log_text()) {
        assert!(
            started.elapsed().as_secs() < 10,
            "no request line naming {id}: {}",
            server.log_text()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
