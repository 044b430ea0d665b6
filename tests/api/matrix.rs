//! The authorization matrix: every kind of caller against every endpoint, each cell checked
//! against the status the contract gives. Expected statuses come from the rules below, not
//! from a typed-in table, so each rule is written once.

use serde_json::{Value, json};

use crate::helpers::{Account, TestApp};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    None,
    Garbage,
    MalformedUserKey,
    ProjectKey,
    WrongSecret,
    AlgNone,
    WrongAudience,
    WrongIssuer,
    ExpiredJwt,
    RevokedLegacyToken,
    RevokedUserKey,
    ExpiredUserKey,
    LockedUser,
    Outsider,
    Maintainer,
    Leader,
    OwnerJwt,
    OwnerUserKey,
    OwnerLegacyToken,
    Admin,
}

const CALLERS: [Caller; 20] = [
    Caller::None,
    Caller::Garbage,
    Caller::MalformedUserKey,
    Caller::ProjectKey,
    Caller::WrongSecret,
    Caller::AlgNone,
    Caller::WrongAudience,
    Caller::WrongIssuer,
    Caller::ExpiredJwt,
    Caller::RevokedLegacyToken,
    Caller::RevokedUserKey,
    Caller::ExpiredUserKey,
    Caller::LockedUser,
    Caller::Outsider,
    Caller::Maintainer,
    Caller::Leader,
    Caller::OwnerJwt,
    Caller::OwnerUserKey,
    Caller::OwnerLegacyToken,
    Caller::Admin,
];

/// What an endpoint requires of a valid caller.
#[derive(Clone, Copy, Debug)]
enum Rule {
    /// `manage` on the public project.
    ManagePublic,
    /// `manage` on the private project.
    ManagePrivate,
    /// The owner (Tara) or an admin.
    SelfOrAdmin,
    /// As `SelfOrAdmin`, and a user-key caller may act only on itself (the target is another key).
    SelfOrAdminNotOtherKey,
    /// As `SelfOrAdmin`, but a user-key caller may not create keys.
    SelfOrAdminNoUserKey,
    /// Refused (403) for every valid caller.
    Deprecated,
    AdminOnly,
    /// Leader of the organization or an admin.
    OrgLeader,
    /// Any valid credential.
    AnyValid,
    /// Optional credential; the public project.
    ViewPublic,
    /// Optional credential; the private project.
    ViewPrivate,
}

struct Endpoint {
    method: &'static str,
    path: String,
    body: Option<Value>,
    rule: Rule,
    ok: u16,
    /// What a fresh target to act on is (a DELETE gets a new one per cell).
    fresh: Fresh,
}

#[derive(Clone, Copy)]
enum Fresh {
    No,
    ProjectKey,
    UserKey,
    Token,
    /// An organization led by the leader.
    Org,
    /// A public project of the organization, maintained by the maintainer.
    Project,
}

struct World {
    app: TestApp,
    admin: Account,
    owner: Account,
    org: String,
    public: String,
    private: String,
    public_key: String,
    owner_key_uuid: String,
    owner_token_uuid: String,
    credentials: Vec<(Caller, Option<String>)>,
}

fn jwt(app: &TestApp, aud: &str, sub: &str, exp_delta: i64, iss: &str, secret: &str) -> String {
    let now = app.now();
    TestApp::jwt_with(
        &json!({"aud": aud, "exp": now + exp_delta, "iat": now, "iss": iss, "sub": sub, "org": null, "state": null, "oci": null}),
        secret,
    )
}

#[allow(
    clippy::too_many_lines,
    reason = "one place that builds every kind of caller"
)]
async fn world() -> World {
    use base64::Engine as _;
    let app = TestApp::new();
    let admin = app.signup("Admin", "admin@example.com").await;
    let leader = app.signup("Leo", "leo@example.com").await;
    let maintainer = app.signup("Mia", "mia@example.com").await;
    let owner = app.signup("Tara", "tara@example.com").await;
    let outsider = app.signup("Otto", "otto@example.com").await;
    let locked = app.signup("Luke", "luke@example.com").await;
    let org = app.org(&leader, "Matrix Org").await;
    let (public, _) = app.project(&leader, &org, "Public Project").await;
    let (private, _) = app.project(&leader, &org, "Private Project").await;
    app.sql(&format!(
        "UPDATE project SET visibility = 1 WHERE slug = '{private}'"
    ));
    app.sql(&format!(
        "INSERT INTO project_role (user_id, project_id, role, created, modified)
         SELECT u.id, p.id, 'maintainer', 0, 0 FROM \"user\" u, project p WHERE u.slug = 'mia' AND p.slug = '{public}'"
    ));
    app.patch("/v0/users/luke")
        .auth(&admin.jwt)
        .json(&json!({"locked": true}))
        .send()
        .await
        .expect(200);
    let (public_key, project_key) = app
        .project_key(&leader.jwt, &public, &json!({"name": "target"}))
        .await;
    let (_, owner_user_key) = app
        .user_key(&owner.jwt, &owner.slug, &json!({"name": "caller"}))
        .await;
    let (owner_key_uuid, _) = app
        .user_key(&owner.jwt, &owner.slug, &json!({"name": "target"}))
        .await;
    let (revoked_key_uuid, revoked_user_key) = app
        .user_key(&owner.jwt, &owner.slug, &json!({"name": "revoked"}))
        .await;
    app.delete(&format!("/v0/users/tara/keys/{revoked_key_uuid}"))
        .auth(&owner.jwt)
        .send()
        .await
        .expect(204);
    let (_, expired_user_key) = app
        .user_key(&owner.jwt, &owner.slug, &json!({"name": "short", "ttl": 1}))
        .await;
    let (_, owner_legacy) = app.legacy_token(&owner, "caller", 1_000_000);
    let (owner_token_uuid, _) = app.legacy_token(&owner, "target", 2_000_000);
    let (revoked_token_uuid, revoked_legacy) = app.legacy_token(&owner, "revoked", 3_000_000);
    app.delete(&format!("/v0/users/tara/tokens/{revoked_token_uuid}"))
        .auth(&owner.jwt)
        .send()
        .await
        .expect(204);
    let iss = "http://localhost:3000/";
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    let alg_none = format!(
        "{}.{}.c2ln",
        b64(&json!({"typ": "JWT", "alg": "none"})),
        b64(
            &json!({"aud": "client", "exp": app.now() + 100, "iat": app.now(), "iss": iss, "sub": "admin@example.com"})
        )
    );
    let credentials = vec![
        (Caller::None, None),
        (Caller::Garbage, Some("garbage".to_owned())),
        (
            Caller::MalformedUserKey,
            Some("bencher_user_AAAA".to_owned()),
        ),
        (Caller::ProjectKey, Some(project_key)),
        (
            Caller::WrongSecret,
            Some(jwt(&app, "client", "admin@example.com", 100, iss, "wrong")),
        ),
        (Caller::AlgNone, Some(alg_none)),
        (
            Caller::WrongAudience,
            Some(jwt(
                &app,
                "auth",
                "admin@example.com",
                100,
                iss,
                "test-secret-0123456789abcdef0123456789",
            )),
        ),
        (
            Caller::WrongIssuer,
            Some(jwt(
                &app,
                "client",
                "admin@example.com",
                100,
                "http://evil/",
                "test-secret-0123456789abcdef0123456789",
            )),
        ),
        (
            Caller::ExpiredJwt,
            Some(jwt(
                &app,
                "client",
                "admin@example.com",
                -120,
                iss,
                "test-secret-0123456789abcdef0123456789",
            )),
        ),
        (Caller::RevokedLegacyToken, Some(revoked_legacy)),
        (Caller::RevokedUserKey, Some(revoked_user_key)),
        (Caller::ExpiredUserKey, Some(expired_user_key)),
        (Caller::LockedUser, Some(locked.jwt)),
        (Caller::Outsider, Some(outsider.jwt)),
        (Caller::Maintainer, Some(maintainer.jwt)),
        (Caller::Leader, Some(leader.jwt)),
        (Caller::OwnerJwt, Some(owner.jwt.clone())),
        (Caller::OwnerUserKey, Some(owner_user_key)),
        (Caller::OwnerLegacyToken, Some(owner_legacy)),
        (Caller::Admin, Some(admin.jwt.clone())),
    ];
    app.advance(2);
    World {
        app,
        admin,
        owner,
        org,
        public,
        private,
        public_key,
        owner_key_uuid,
        owner_token_uuid,
        credentials,
    }
}

#[expect(clippy::too_many_lines, reason = "the table of every endpoint")]
fn endpoints(w: &World) -> Vec<Endpoint> {
    let (p, q, org, key, ukey, tok) = (
        &w.public,
        &w.private,
        &w.org,
        &w.public_key,
        &w.owner_key_uuid,
        &w.owner_token_uuid,
    );
    let e = |method, path: String, body: Option<Value>, rule, ok, fresh| Endpoint {
        method,
        path,
        body,
        rule,
        ok,
        fresh,
    };
    let name = || Some(json!({"name": "renamed"}));
    vec![
        e(
            "GET",
            format!("/v0/projects/{p}/keys"),
            None,
            Rule::ManagePublic,
            200,
            Fresh::No,
        ),
        e(
            "POST",
            format!("/v0/projects/{p}/keys"),
            name(),
            Rule::ManagePublic,
            201,
            Fresh::No,
        ),
        e(
            "GET",
            format!("/v0/projects/{p}/keys/{key}"),
            None,
            Rule::ManagePublic,
            200,
            Fresh::No,
        ),
        e(
            "PATCH",
            format!("/v0/projects/{p}/keys/{key}"),
            name(),
            Rule::ManagePublic,
            200,
            Fresh::No,
        ),
        e(
            "DELETE",
            format!("/v0/projects/{p}/keys/{{fresh}}"),
            None,
            Rule::ManagePublic,
            204,
            Fresh::ProjectKey,
        ),
        e(
            "GET",
            format!("/v0/projects/{q}/keys"),
            None,
            Rule::ManagePrivate,
            200,
            Fresh::No,
        ),
        e(
            "POST",
            format!("/v0/projects/{q}/keys"),
            name(),
            Rule::ManagePrivate,
            201,
            Fresh::No,
        ),
        e(
            "GET",
            "/v0/users/tara/keys".into(),
            None,
            Rule::SelfOrAdmin,
            200,
            Fresh::No,
        ),
        e(
            "POST",
            "/v0/users/tara/keys".into(),
            name(),
            Rule::SelfOrAdminNoUserKey,
            201,
            Fresh::No,
        ),
        e(
            "GET",
            format!("/v0/users/tara/keys/{ukey}"),
            None,
            Rule::SelfOrAdminNotOtherKey,
            200,
            Fresh::No,
        ),
        e(
            "PATCH",
            format!("/v0/users/tara/keys/{ukey}"),
            name(),
            Rule::SelfOrAdminNotOtherKey,
            200,
            Fresh::No,
        ),
        e(
            "DELETE",
            "/v0/users/tara/keys/{fresh}".into(),
            None,
            Rule::SelfOrAdminNotOtherKey,
            204,
            Fresh::UserKey,
        ),
        e(
            "GET",
            "/v0/users/tara/tokens".into(),
            None,
            Rule::SelfOrAdminNoUserKey,
            200,
            Fresh::No,
        ),
        e(
            "POST",
            "/v0/users/tara/tokens".into(),
            name(),
            Rule::Deprecated,
            403,
            Fresh::No,
        ),
        e(
            "GET",
            format!("/v0/users/tara/tokens/{tok}"),
            None,
            Rule::SelfOrAdminNoUserKey,
            200,
            Fresh::No,
        ),
        e(
            "PATCH",
            format!("/v0/users/tara/tokens/{tok}"),
            name(),
            Rule::SelfOrAdminNoUserKey,
            200,
            Fresh::No,
        ),
        e(
            "DELETE",
            "/v0/users/tara/tokens/{fresh}".into(),
            None,
            Rule::SelfOrAdmin,
            204,
            Fresh::Token,
        ),
        e(
            "GET",
            "/v0/users".into(),
            None,
            Rule::AdminOnly,
            200,
            Fresh::No,
        ),
        e(
            "GET",
            "/v0/users/tara".into(),
            None,
            Rule::SelfOrAdmin,
            200,
            Fresh::No,
        ),
        e(
            "PATCH",
            "/v0/users/tara".into(),
            Some(json!({"name": "Tara"})),
            Rule::SelfOrAdmin,
            200,
            Fresh::No,
        ),
        e(
            "GET",
            "/v0/organizations".into(),
            None,
            Rule::AnyValid,
            200,
            Fresh::No,
        ),
        e(
            "GET",
            format!("/v0/organizations/{org}"),
            None,
            Rule::OrgLeader,
            200,
            Fresh::No,
        ),
        e(
            "GET",
            format!("/v0/organizations/{org}/members"),
            None,
            Rule::OrgLeader,
            200,
            Fresh::No,
        ),
        e(
            "PATCH",
            format!("/v0/organizations/{org}"),
            Some(json!({})),
            Rule::OrgLeader,
            200,
            Fresh::No,
        ),
        e(
            "DELETE",
            "/v0/organizations/{fresh}".into(),
            None,
            Rule::OrgLeader,
            204,
            Fresh::Org,
        ),
        e(
            "GET",
            format!("/v0/organizations/{org}/allowed/edit"),
            None,
            Rule::AnyValid,
            200,
            Fresh::No,
        ),
        e(
            "GET",
            "/v0/projects".into(),
            None,
            Rule::ViewPublic,
            200,
            Fresh::No,
        ),
        e(
            "PATCH",
            format!("/v0/projects/{p}"),
            Some(json!({})),
            Rule::ManagePublic,
            200,
            Fresh::No,
        ),
        e(
            "PATCH",
            format!("/v0/projects/{q}"),
            Some(json!({})),
            Rule::ManagePrivate,
            200,
            Fresh::No,
        ),
        e(
            "DELETE",
            "/v0/projects/{fresh}".into(),
            None,
            Rule::ManagePublic,
            204,
            Fresh::Project,
        ),
        e(
            "GET",
            format!("/v0/projects/{p}/allowed/manage"),
            None,
            Rule::AnyValid,
            200,
            Fresh::No,
        ),
        e(
            "GET",
            format!("/v0/projects/{p}"),
            None,
            Rule::ViewPublic,
            200,
            Fresh::No,
        ),
        e(
            "GET",
            format!("/v0/projects/{q}"),
            None,
            Rule::ViewPrivate,
            200,
            Fresh::No,
        ),
    ]
}

/// The status the contract gives a caller on an endpoint.
fn expected(caller: Caller, endpoint: &Endpoint) -> u16 {
    use Caller as C;
    let actor = matches!(endpoint.rule, Rule::ViewPublic | Rule::ViewPrivate);
    // Credentials that fail before any resource is looked at.
    let failed = match caller {
        C::None if actor => None,
        C::None
        | C::Garbage
        | C::MalformedUserKey
        | C::WrongSecret
        | C::AlgNone
        | C::WrongAudience
        | C::WrongIssuer
        | C::ExpiredJwt => Some(if actor { 401 } else { 400 }),
        C::ProjectKey if !actor => Some(400),
        C::RevokedLegacyToken | C::RevokedUserKey | C::ExpiredUserKey => Some(401),
        C::LockedUser => Some(403),
        _ => None,
    };
    if let Some(status) = failed {
        return status;
    }
    let owner = matches!(caller, C::OwnerJwt | C::OwnerUserKey | C::OwnerLegacyToken);
    let ok = endpoint.ok;
    match endpoint.rule {
        Rule::ManagePublic => {
            if matches!(caller, C::Admin | C::Leader | C::Maintainer) {
                ok
            } else {
                403
            }
        }
        Rule::ManagePrivate => {
            if matches!(caller, C::Admin | C::Leader) {
                ok
            } else {
                404
            }
        }
        Rule::SelfOrAdmin => {
            if owner || caller == C::Admin {
                ok
            } else {
                403
            }
        }
        Rule::SelfOrAdminNotOtherKey | Rule::SelfOrAdminNoUserKey => {
            if caller == C::OwnerUserKey || !(owner || caller == C::Admin) {
                403
            } else {
                ok
            }
        }
        Rule::Deprecated => 403,
        Rule::AdminOnly => {
            if caller == C::Admin {
                ok
            } else {
                403
            }
        }
        Rule::OrgLeader => {
            if matches!(caller, C::Admin | C::Leader) {
                ok
            } else {
                403
            }
        }
        Rule::AnyValid | Rule::ViewPublic => ok,
        Rule::ViewPrivate => {
            if matches!(caller, C::Admin | C::Leader) {
                ok
            } else {
                404
            }
        }
    }
}

async fn fresh_target(w: &World, fresh: Fresh) -> Option<String> {
    match fresh {
        Fresh::No => None,
        Fresh::ProjectKey => Some(
            w.app
                .project_key(&w.admin.jwt, &w.public, &json!({"name": "fresh"}))
                .await
                .0,
        ),
        Fresh::UserKey => Some(
            w.app
                .user_key(&w.admin.jwt, "tara", &json!({"name": "fresh"}))
                .await
                .0,
        ),
        Fresh::Token => Some(w.app.legacy_token(&w.owner, "fresh", 5_000_000).0),
        Fresh::Org => {
            let slug = w.app.org(&w.admin, "Fresh Org").await;
            w.app.sql(&format!(
                "INSERT INTO organization_role (user_id, organization_id, role, created, modified)
                 SELECT u.id, o.id, 'leader', 0, 0 FROM \"user\" u, organization o
                 WHERE u.slug = 'leo' AND o.slug = '{slug}'"
            ));
            Some(slug)
        }
        Fresh::Project => {
            let name = format!("Fresh {}", uuid::Uuid::new_v4().simple());
            let (slug, _) = w.app.project(&w.admin, &w.org, &name).await;
            w.app.sql(&format!(
                "INSERT INTO project_role (user_id, project_id, role, created, modified)
                 SELECT u.id, p.id, 'maintainer', 0, 0 FROM \"user\" u, project p
                 WHERE u.slug = 'mia' AND p.slug = '{slug}'"
            ));
            Some(slug)
        }
    }
}

#[tokio::test]
async fn authorization_matrix() {
    let w = world().await;
    let endpoints = endpoints(&w);
    let mut mismatches = Vec::new();
    for endpoint in &endpoints {
        for (caller, credential) in &w.credentials {
            let path = match fresh_target(&w, endpoint.fresh).await {
                Some(uuid) => endpoint.path.replace("{fresh}", &uuid),
                None => endpoint.path.clone(),
            };
            let mut req = w.app.req(endpoint.method, &path);
            if let Some(credential) = credential {
                req = req.auth(credential);
            }
            if let Some(body) = &endpoint.body {
                req = req.json(body);
            }
            let res = req.send().await;
            let want = expected(*caller, endpoint);
            if res.status != want {
                mismatches.push(format!(
                    "{caller:?} {} {path}: got {} want {want}: {}",
                    endpoint.method, res.status, res.text
                ));
            }
        }
    }
    let cells = CALLERS.len() * endpoints.len();
    assert_eq!(w.credentials.len(), CALLERS.len());
    println!(
        "authorization matrix: {} callers x {} endpoints = {cells} cells",
        CALLERS.len(),
        endpoints.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
