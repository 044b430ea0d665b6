//! The OpenAPI document, generated from the handlers' annotations. The conventions every
//! operation shares (error responses, CORS and `X-Total-Count` headers, the bearer scheme,
//! deprecation of the legacy token operations) are added here once.

use serde::Serialize;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Deprecated, OpenApi as Spec, RefOr};
use utoipa::{OpenApi, ToSchema};

/// Bencher's error body.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct JsonError {
    /// Equal to the `x-request-id` response header.
    pub request_id: String,
    /// Present only on server errors: quote it when reporting a problem.
    #[schema(nullable = false)]
    pub error_code: Option<String>,
    pub message: String,
}

/// The document's fixed parts.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Keyward",
        version = "0.6.12",
        description = "A self-hosted server for Bencher API keys and tokens, wire-compatible with the Bencher v0.6.12 API."
    ),
    components(schemas(
        JsonError,
        crate::domain::ids::ResourceId,
        crate::domain::JsonDirection,
        crate::api::pagination::NameSort,
        crate::auth::rbac::Permission
    ))
)]
pub struct ApiDoc;

const SUCCESS_HEADERS: [(&str, &str); 5] = [
    ("Access-Control-Allow-Origin", "Always `*`."),
    (
        "Access-Control-Allow-Methods",
        "The method of this operation.",
    ),
    (
        "Access-Control-Allow-Headers",
        "The request headers a browser may send.",
    ),
    ("Access-Control-Expose-Headers", "Always `X-Total-Count`."),
    (
        "X-Total-Count",
        "For a list, the number of items matching its filters; otherwise 1 (0 for 204).",
    ),
];

/// The operations of a path, in Bencher's method order (GET, POST, PUT, PATCH, DELETE).
pub fn operations_mut(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.post,
        &mut item.put,
        &mut item.patch,
        &mut item.delete,
    ]
    .into_iter()
    .flatten()
}

/// Adds what every operation shares. Runs on the merged document, after the routes.
fn apply_conventions(spec: &mut Spec) {
    {
        let components = spec.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        let error = ResponseBuilder::new()
            .description("Error")
            .content(
                "application/json",
                utoipa::openapi::content::ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                        "Error",
                    ))))
                    .build(),
            )
            .build();
        components
            .responses
            .insert("Error".to_owned(), RefOr::T(error));
        for (path, item) in &mut spec.paths.paths {
            let deprecated = path.contains("/tokens");
            for op in operations_mut(item) {
                if deprecated {
                    op.deprecated = Some(Deprecated::True);
                }
                for response in op.responses.responses.values_mut() {
                    if let RefOr::T(r) = response {
                        for (name, description) in SUCCESS_HEADERS {
                            let header = HeaderBuilder::new()
                                .schema(
                                    utoipa::openapi::ObjectBuilder::new()
                                        .schema_type(utoipa::openapi::schema::Type::String),
                                )
                                .description(Some(description))
                                .build();
                            r.headers.insert(name.to_owned(), header);
                        }
                    }
                }
                for status in ["4XX", "5XX"] {
                    op.responses.responses.insert(
                        status.to_owned(),
                        RefOr::Ref(utoipa::openapi::Ref::from_response_name("Error")),
                    );
                }
            }
        }
    }
}

/// Each list's sort parameter has its own schema name in Bencher's document.
const SORT_SCHEMAS: [(&str, &str); 7] = [
    ("proj_keys_get", "ProjKeysSort"),
    ("user_keys_get", "UserKeysSort"),
    ("user_tokens_get", "UserTokensSort"),
    ("users_get", "UsersSort"),
    ("organizations_get", "OrganizationsSort"),
    ("org_members_get", "OrgMembersSort"),
    ("org_projects_get", "OrgProjectsSort"),
];

/// Key path parameters are named UUID schemas in Bencher's document.
const KEY_SCHEMAS: [(&str, &str); 2] = [
    ("/v0/projects/{project}/keys/{key}", "ProjectKeyUuid"),
    ("/v0/users/{user}/keys/{key}", "UserKeyUuid"),
];

/// Renames the shared sort and key-UUID schemas to Bencher's per-endpoint names.
fn apply_schema_names(spec: &mut Spec) {
    let components = spec.components.get_or_insert_with(Default::default);
    let Some(sort) = components.schemas.remove("NameSort") else {
        return;
    };
    for (_, name) in SORT_SCHEMAS {
        components.schemas.insert(name.to_owned(), sort.clone());
    }
    let uuid = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Uuid,
        )))
        .build();
    for (_, name) in KEY_SCHEMAS {
        components
            .schemas
            .insert(name.to_owned(), RefOr::T(uuid.clone().into()));
    }
    for (path, item) in &mut spec.paths.paths {
        let key_schema = KEY_SCHEMAS.iter().find(|(p, _)| p == path).map(|(_, n)| *n);
        for op in operations_mut(item) {
            let sort = SORT_SCHEMAS
                .iter()
                .find(|(id, _)| op.operation_id.as_deref() == Some(id))
                .map(|(_, n)| *n);
            for param in op.parameters.iter_mut().flatten() {
                let name = match param.name.as_str() {
                    "sort" => sort,
                    "key" => key_schema,
                    _ => None,
                };
                if let Some(name) = name {
                    param.schema = Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(name)));
                }
            }
        }
    }
}

/// The longest value of each validated string type, so that the document states every
/// bound (and the fuzzer tries values past it). JSON Schema counts characters where the
/// server counts bytes: for ASCII they agree.
fn apply_bounds(spec: &mut Spec) {
    use crate::domain::names::{MAX_ECHO, MAX_EMAIL, MAX_LEN};
    let bounds = [
        ("ResourceName", MAX_LEN),
        ("UserName", MAX_LEN),
        ("Slug", MAX_LEN),
        ("Email", MAX_EMAIL),
        ("Jwt", MAX_ECHO),
        ("Url", crate::domain::accounts::MAX_URL),
    ];
    let components = spec.components.get_or_insert_with(Default::default);
    for (name, max) in bounds {
        if let Some(RefOr::T(utoipa::openapi::schema::Schema::Object(object))) =
            components.schemas.get_mut(name)
        {
            object.max_length = Some(max);
        }
    }
}

/// Stateful links: what a created key or token can be used for next.
const LINKS: [(&str, &str, &str, &[&str]); 2] = [
    (
        "/v0/projects/{project}/keys",
        "project",
        "key",
        &["proj_key_get", "proj_key_patch", "proj_key_delete"],
    ),
    (
        "/v0/users/{user}/keys",
        "user",
        "key",
        &["user_key_get", "user_key_patch", "user_key_delete"],
    ),
];

/// Adds OpenAPI links from each 201 to the operations on the created resource.
fn apply_links(spec: &mut Spec) {
    for (path, parent, child, targets) in LINKS {
        let Some(created) = spec
            .paths
            .paths
            .get_mut(path)
            .and_then(|item| item.post.as_mut())
            .and_then(|op| op.responses.responses.get_mut("201"))
        else {
            continue;
        };
        if let RefOr::T(response) = created {
            for target in targets {
                let link = utoipa::openapi::link::LinkBuilder::new()
                    .operation_id(*target)
                    .parameter(parent, format!("$request.path.{parent}"))
                    .parameter(child, "$response.body#/uuid")
                    .build();
                response.links.insert((*target).to_owned(), RefOr::T(link));
            }
        }
    }
}

/// The document as JSON, as served at `/v0/server/spec` and committed in `openapi.json`.
pub fn document() -> serde_json::Value {
    let mut value = serde_json::to_value(spec()).unwrap_or_default();
    fix_link_keys(&mut value);
    value
}

/// utoipa writes a link's fields in snake case; OpenAPI spells them in camel case.
fn fix_link_keys(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(links) = map.get_mut("links").and_then(|l| l.as_object_mut()) {
                for link in links.values_mut().filter_map(|l| l.as_object_mut()) {
                    for (from, to) in [
                        ("operation_id", "operationId"),
                        ("operation_ref", "operationRef"),
                        ("request_body", "requestBody"),
                    ] {
                        if let Some(v) = link.shift_remove(from) {
                            link.insert(to.to_owned(), v);
                        }
                    }
                }
            }
            map.values_mut().for_each(fix_link_keys);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(fix_link_keys),
        _ => {}
    }
}

/// The complete document as utoipa types (see [`document`] for what is served).
pub fn spec() -> Spec {
    let (_, mut spec) = crate::api::router().split_for_parts();
    apply_conventions(&mut spec);
    apply_schema_names(&mut spec);
    apply_bounds(&mut spec);
    apply_links(&mut spec);
    spec
}
