//! The organization and project endpoints around the keys: rename and delete an
//! organization or a project, list every visible project, ask what an organization allows.
//! Every status each one answers.

use serde_json::json;

use crate::helpers::{TestApp, assert_error_shape, assert_success_headers};

#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "every status of one endpoint, in order"
)]
async fn organization_patch_renames_and_answers_every_status() {
    let app = TestApp::new();
    let _admin = app.signup("Admin", "admin@example.com").await;
    let leo = app.signup("Leo", "leo@example.com").await;
    let otto = app.signup("Otto", "otto@example.com").await;
    let org = app.org(&leo, "Team").await;
    let path = format!("/v0/organizations/{org}");
    let res = app
        .patch(&path)
        .auth(&leo.jwt)
        .json(&json!({"name": "Team Two", "slug": "team-two"}))
        .send()
        .await
        .expect(200);
    assert_success_headers(&res, "PATCH", "1");
    let body = res.json();
    assert_eq!(body["name"], "Team Two");
    assert_eq!(body["slug"], "team-two");
    assert!(body["claimed"].is_string());
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "uuid", "name", "slug", "license", "created", "modified", "claimed"
        ],
        "Bencher's field order"
    );
    // The old slug is gone; the new one answers. An empty object only touches `modified`.
    app.get(&path).auth(&leo.jwt).send().await.expect(404);
    app.advance(10);
    let res = app
        .patch("/v0/organizations/team-two")
        .auth(&leo.jwt)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    assert_eq!(res.json()["name"], "Team Two");
    assert_ne!(res.json()["modified"], body["modified"]);
    // A slug another organization holds is a conflict; its own slug is not.
    let res = app
        .patch("/v0/organizations/team-two")
        .auth(&leo.jwt)
        .json(&json!({"slug": otto.slug}))
        .send()
        .await
        .expect(409);
    assert_error_shape(&res);
    assert!(
        res.message()
            .ends_with("UNIQUE constraint failed: organization.slug")
    );
    app.patch("/v0/organizations/team-two")
        .auth(&leo.jwt)
        .json(&json!({"slug": "team-two"}))
        .send()
        .await
        .expect(200);
    // License: only null.
    app.patch("/v0/organizations/team-two")
        .auth(&leo.jwt)
        .json(&json!({"license": null}))
        .send()
        .await
        .expect(200);
    let res = app
        .patch("/v0/organizations/team-two")
        .auth(&leo.jwt)
        .json(&json!({"license": "eyJh.eyJz.c2ln"}))
        .send()
        .await
        .expect(400);
    assert!(res.message().contains("license"));
    // Bad bodies, other callers, missing organizations.
    for body in [
        json!([null]),
        json!({"name": ""}),
        json!({"slug": "Not A Slug"}),
    ] {
        app.patch("/v0/organizations/team-two")
            .auth(&leo.jwt)
            .json(&body)
            .send()
            .await
            .expect(400);
    }
    let res = app
        .patch("/v0/organizations/team-two")
        .auth(&otto.jwt)
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .expect(403);
    assert!(
        res.message()
            .starts_with("Permission (edit) denied for user")
    );
    app.patch("/v0/organizations/no-such-org")
        .auth(&leo.jwt)
        .json(&json!({}))
        .send()
        .await
        .expect(404);
    app.patch("/v0/organizations/team-two")
        .json(&json!({}))
        .send()
        .await
        .expect(400);
    app.patch("/v0/organizations/team-two")
        .auth(&format!("bencher_user_{}", "Z".repeat(30)))
        .json(&json!({}))
        .send()
        .await
        .expect(401);
}

#[tokio::test]
async fn organization_delete_hides_it_its_projects_and_their_keys() {
    let app = TestApp::new();
    let admin = app.signup("Admin", "admin@example.com").await;
    let leo = app.signup("Leo", "leo@example.com").await;
    let otto = app.signup("Otto", "otto@example.com").await;
    let org = app.org(&leo, "Doomed").await;
    let (project, project_uuid) = app.project(&leo, &org, "Doomed Project").await;
    let (_, key) = app
        .project_key(&leo.jwt, &project, &json!({"name": "ci"}))
        .await;
    app.get(&format!("/v0/projects/{project}"))
        .auth(&key)
        .send()
        .await
        .expect(200);
    let path = format!("/v0/organizations/{org}");
    app.delete(&path).auth(&otto.jwt).send().await.expect(403);
    let res = app
        .delete(&format!("{path}?hard=true"))
        .auth(&leo.jwt)
        .send()
        .await
        .expect(403);
    assert!(res.message().contains("hard=true"));
    app.delete(&format!("{path}?hard=maybe"))
        .auth(&leo.jwt)
        .send()
        .await
        .expect(400);
    let res = app.delete(&path).auth(&leo.jwt).send().await.expect(204);
    assert_success_headers(&res, "DELETE", "0");
    assert!(res.text.is_empty());
    app.get(&path).auth(&leo.jwt).send().await.expect(404);
    app.delete(&path).auth(&leo.jwt).send().await.expect(404);
    for id in [&project, &project_uuid] {
        app.get(&format!("/v0/projects/{id}"))
            .auth(&leo.jwt)
            .send()
            .await
            .expect(404);
    }
    // Its project's key stops authenticating on the very next request.
    app.get(&format!("/v0/projects/{project}"))
        .auth(&key)
        .send()
        .await
        .expect(401);
    // Its slug stays taken by the deleted row: a new organization gets another one.
    let again = app.org(&leo, "Doomed").await;
    assert_ne!(again, org);
    // A server admin may delete for good: then the slug is free again.
    app.delete(&format!("/v0/organizations/{again}?hard=true"))
        .auth(&admin.jwt)
        .send()
        .await
        .expect(204);
    let res = app
        .post("/v0/organizations")
        .auth(&leo.jwt)
        .json(&json!({"name": "Reborn", "slug": again}))
        .send()
        .await
        .expect(201);
    assert_eq!(res.json()["slug"], again.as_str());
}

#[tokio::test]
async fn project_patch_changes_fields_and_answers_every_status() {
    let app = TestApp::new();
    let _admin = app.signup("Admin", "admin@example.com").await;
    let leo = app.signup("Leo", "leo@example.com").await;
    let otto = app.signup("Otto", "otto@example.com").await;
    let org = app.org(&leo, "Team").await;
    let (project, _) = app.project(&leo, &org, "Alpha").await;
    app.project(&leo, &org, "Beta").await;
    let res = app
        .patch(&format!("/v0/projects/{project}"))
        .auth(&leo.jwt)
        .json(&json!({"name": "Gamma", "slug": "gamma", "url": "https://example.com/g"}))
        .send()
        .await
        .expect(200);
    assert_success_headers(&res, "PATCH", "1");
    let body = res.json();
    assert_eq!(body["name"], "Gamma");
    assert_eq!(body["slug"], "gamma");
    assert_eq!(body["url"], "https://example.com/g");
    // `null` removes the URL; a missing field leaves it.
    let res = app
        .patch("/v0/projects/gamma")
        .auth(&leo.jwt)
        .json(&json!({"name": "Gamma"}))
        .send()
        .await
        .expect(200);
    assert_eq!(res.json()["url"], "https://example.com/g");
    let res = app
        .patch("/v0/projects/gamma")
        .auth(&leo.jwt)
        .json(&json!({"url": null}))
        .send()
        .await
        .expect(200);
    assert!(res.json()["url"].is_null());
    // Conflicts: a name another project of the organization has, a taken slug.
    let res = app
        .patch("/v0/projects/gamma")
        .auth(&leo.jwt)
        .json(&json!({"name": "Beta"}))
        .send()
        .await
        .expect(409);
    assert!(
        res.message()
            .ends_with("project.organization_id, project.name")
    );
    let res = app
        .patch("/v0/projects/gamma")
        .auth(&leo.jwt)
        .json(&json!({"slug": "beta"}))
        .send()
        .await
        .expect(409);
    assert!(
        res.message()
            .ends_with("UNIQUE constraint failed: project.slug")
    );
    // Visibility; an outsider is refused on a public project and told nothing of a
    // private one.
    let res = app
        .patch("/v0/projects/gamma")
        .auth(&otto.jwt)
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .expect(403);
    assert!(res.message().contains("access denied: edit"));
    app.patch("/v0/projects/gamma")
        .auth(&leo.jwt)
        .json(&json!({"visibility": "private"}))
        .send()
        .await
        .expect(200);
    let hidden = app
        .patch("/v0/projects/gamma")
        .auth(&otto.jwt)
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .expect(404);
    assert!(hidden.message().contains("not found: edit"));
    app.patch("/v0/projects/no-such-project")
        .auth(&leo.jwt)
        .json(&json!({}))
        .send()
        .await
        .expect(404);
    for body in [
        json!([null]),
        json!({"url": "ftp://x"}),
        json!({"visibility": "secret"}),
    ] {
        app.patch("/v0/projects/gamma")
            .auth(&leo.jwt)
            .json(&body)
            .send()
            .await
            .expect(400);
    }
}

#[tokio::test]
async fn project_delete_makes_it_missing_and_stops_its_keys() {
    let app = TestApp::new();
    let admin = app.signup("Admin", "admin@example.com").await;
    let leo = app.signup("Leo", "leo@example.com").await;
    let otto = app.signup("Otto", "otto@example.com").await;
    let org = app.org(&leo, "Team").await;
    let (project, uuid) = app.project(&leo, &org, "Alpha").await;
    let (_, key) = app
        .project_key(&leo.jwt, &project, &json!({"name": "ci"}))
        .await;
    let path = format!("/v0/projects/{project}");
    app.delete(&path).auth(&otto.jwt).send().await.expect(403);
    app.delete(&format!("{path}?hard=true"))
        .auth(&leo.jwt)
        .send()
        .await
        .expect(403);
    app.delete(&path).auth(&leo.jwt).send().await.expect(204);
    // By slug or UUID, it answers exactly as a project that never existed.
    for id in [project.as_str(), uuid.as_str()] {
        let res = app
            .get(&format!("/v0/projects/{id}/keys"))
            .auth(&leo.jwt)
            .send()
            .await
            .expect(404);
        assert!(
            res.message().contains("not found: Record not found"),
            "{}",
            res.text
        );
    }
    app.get(&path).auth(&key).send().await.expect(401);
    app.delete(&path).auth(&leo.jwt).send().await.expect(404);
    let res = app.get("/v0/projects").send().await.expect(200);
    assert_eq!(res.header("x-total-count").as_deref(), Some("0"));
    // Hard delete by an admin.
    let (beta, _) = app.project(&leo, &org, "Beta").await;
    app.delete(&format!("/v0/projects/{beta}?hard=true"))
        .auth(&admin.jwt)
        .send()
        .await
        .expect(204);
    let (again, _) = app.project(&leo, &org, "Beta").await;
    assert_eq!(again, beta, "a hard-deleted project's slug is free again");
}

#[tokio::test]
async fn projects_get_lists_what_the_caller_may_see() {
    let app = TestApp::new();
    let admin = app.signup("Admin", "admin@example.com").await;
    let leo = app.signup("Leo", "leo@example.com").await;
    let otto = app.signup("Otto", "otto@example.com").await;
    let org = app.org(&leo, "Team").await;
    let other = app.org(&otto, "Other").await;
    for name in ["Bravo", "Alpha", "Charlie"] {
        app.project(&leo, &org, name).await;
    }
    let (secret, _) = app.project(&leo, &org, "Secret").await;
    app.sql(&format!(
        "UPDATE project SET visibility = 1 WHERE slug = '{secret}'"
    ));
    let (otto_secret, _) = app.project(&otto, &other, "Otto Secret").await;
    app.sql(&format!(
        "UPDATE project SET visibility = 1 WHERE slug = '{otto_secret}'"
    ));
    let (_, secret_key) = app
        .project_key(&leo.jwt, &secret, &json!({"name": "ci"}))
        .await;
    let names = |res: &crate::helpers::Res| -> Vec<String> {
        res.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let res = app.get("/v0/projects").send().await.expect(200);
    assert_eq!(names(&res), ["Alpha", "Bravo", "Charlie"]);
    assert_eq!(res.header("x-total-count").as_deref(), Some("3"));
    let res = app
        .get("/v0/projects")
        .auth(&leo.jwt)
        .send()
        .await
        .expect(200);
    assert_success_headers(&res, "GET", "4");
    assert_eq!(names(&res), ["Alpha", "Bravo", "Charlie", "Secret"]);
    let res = app
        .get("/v0/projects")
        .auth(&otto.jwt)
        .send()
        .await
        .expect(200);
    assert_eq!(names(&res), ["Alpha", "Bravo", "Charlie", "Otto Secret"]);
    let res = app
        .get("/v0/projects")
        .auth(&admin.jwt)
        .send()
        .await
        .expect(200);
    assert_eq!(res.header("x-total-count").as_deref(), Some("5"));
    let res = app
        .get("/v0/projects")
        .auth(&secret_key)
        .send()
        .await
        .expect(200);
    assert_eq!(names(&res), ["Alpha", "Bravo", "Charlie", "Secret"]);
    // Paging, direction, filters.
    let res = app
        .get("/v0/projects?per_page=2&page=2&direction=desc")
        .send()
        .await
        .expect(200);
    assert_eq!(names(&res), ["Alpha"]);
    assert_eq!(res.header("x-total-count").as_deref(), Some("3"));
    let res = app.get("/v0/projects?search=rav").send().await.expect(200);
    assert_eq!(names(&res), ["Bravo"]);
    let res = app
        .get("/v0/projects?name=Charlie")
        .send()
        .await
        .expect(200);
    assert_eq!(names(&res), ["Charlie"]);
    // Each project names its organization.
    let body = res.json();
    let org_uuid = app
        .get(&format!("/v0/organizations/{org}"))
        .auth(&leo.jwt)
        .send()
        .await
        .json()["uuid"]
        .clone();
    assert_eq!(body[0]["organization"], org_uuid);
    // Errors.
    app.get("/v0/projects?per_page=256")
        .send()
        .await
        .expect(400);
    app.get("/v0/projects?sort=created")
        .send()
        .await
        .expect(400);
    app.get("/v0/projects")
        .auth(&format!("bencher_user_{}", "Z".repeat(30)))
        .send()
        .await
        .expect(401);
}

#[tokio::test]
async fn org_allowed_get_answers_for_each_permission() {
    let app = TestApp::new();
    let admin = app.signup("Admin", "admin@example.com").await;
    let leo = app.signup("Leo", "leo@example.com").await;
    let otto = app.signup("Otto", "otto@example.com").await;
    let org = app.org(&leo, "Team").await;
    for permission in ["view", "create", "edit", "delete", "manage", "view_role"] {
        for (who, allowed) in [(&leo, true), (&admin, true), (&otto, false)] {
            let res = app
                .get(&format!("/v0/organizations/{org}/allowed/{permission}"))
                .auth(&who.jwt)
                .send()
                .await
                .expect(200);
            assert_eq!(res.json()["allowed"], allowed, "{permission}");
        }
    }
    let res = app
        .get(&format!("/v0/organizations/{org}/allowed/view"))
        .auth(&leo.jwt)
        .send()
        .await;
    assert_success_headers(&res, "GET", "1");
    app.get(&format!("/v0/organizations/{org}/allowed/fly"))
        .auth(&leo.jwt)
        .send()
        .await
        .expect(400);
    app.get(&format!("/v0/organizations/{org}/allowed/view"))
        .send()
        .await
        .expect(400);
}
