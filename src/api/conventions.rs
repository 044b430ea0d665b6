//! Bencher's response conventions, implemented once for every route:
//! - `outer`: request id, path normalisation, the error body, the request log line;
//! - `route`: per-route CORS headers and `X-Total-Count` on successes, OPTIONS preflight,
//!   405 with `allow` lines, HEAD refused.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tower_http::request_id::RequestId;

use super::pagination::TOTAL_COUNT;
use crate::error::{ApiError, ErrorReport, RequestError, TooMany};
use crate::limits::{ClientAddr, ClientLimits};
use crate::state::Clock;
use crate::telemetry::{Answered, AuthOutcome, CredentialKind, Metrics};

const ALLOW_ORIGIN: HeaderName = header::ACCESS_CONTROL_ALLOW_ORIGIN;
const ALLOW_METHODS: HeaderName = header::ACCESS_CONTROL_ALLOW_METHODS;
const ALLOW_HEADERS: HeaderName = header::ACCESS_CONTROL_ALLOW_HEADERS;
const EXPOSE_HEADERS: HeaderName = header::ACCESS_CONTROL_EXPOSE_HEADERS;
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the conventions need to know of a route: its methods and whether it takes a
/// credential (which changes `access-control-allow-headers`).
#[derive(Clone, Debug)]
pub struct RouteMeta {
    /// In Bencher's order: GET, POST, PUT, PATCH, DELETE.
    pub methods: Vec<Method>,
    pub auth: bool,
}

/// Route template (as `MatchedPath` shows it) → its metadata. The key is shared with each
/// response's [`RouteLabel`], not copied.
#[derive(Clone, Debug, Default)]
pub struct RouteTable(pub HashMap<Arc<str>, RouteMeta>);

/// Which route answered, for the request log.
#[derive(Clone, Debug)]
struct RouteLabel(Arc<str>);

/// What the outermost layer needs: the counters, the client budgets and the clock.
#[derive(Clone)]
pub struct Outer {
    pub metrics: Option<Arc<Metrics>>,
    pub limits: Arc<ClientLimits>,
    pub clock: Clock,
}

/// The outermost layer: runs before routing.
pub async fn outer(
    State(Outer {
        metrics,
        limits,
        clock,
    }): State<Outer>,
    mut req: Request,
    next: Next,
) -> Response {
    let request_id = request_id_of(&req);
    let started = Instant::now();
    let method = req.method().clone();
    // Metrics and the log take the method from a fixed set: a made-up method of any
    // length is `other`, so nothing a client sends can grow either without bound.
    let method_label = method_label(&method);
    let credential = metrics
        .as_ref()
        .and_then(|_| credential_kind(req.headers()));
    let client = req.extensions().get::<ClientAddr>().map(|c| c.0);
    let refused = over_budget(&limits, &clock, &req, client);
    let response = match (refused, normalize_path(req.uri())) {
        (Some(retry_after), _) => {
            ApiError::from(TooMany::AuthFailures { retry_after }).into_response()
        }
        (None, Ok(Some(uri))) => {
            *req.uri_mut() = uri;
            next.run(req).await
        }
        (None, Ok(None)) => next.run(req).await,
        (None, Err(e)) => ApiError::from(e).into_response(),
    };
    spend_on_auth_failure(&limits, &clock, client, &response);
    let response = finish(response, &request_id, method == Method::HEAD);
    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map_or("-", |r| &*r.0);
    if let Some(metrics) = &metrics {
        record(metrics, &response, route, method_label, started, credential);
    }
    tracing::info!(
        method = method_label,
        route,
        status = response.status().as_u16(),
        latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        request_id = %request_id.to_str().unwrap_or("-"),
        "request"
    );
    response
}

/// A client that failed to authenticate too often is refused (with when to retry) before
/// any credential of its is looked at again: it spends its budget only by failing.
fn over_budget(
    limits: &ClientLimits,
    clock: &Clock,
    req: &Request,
    client: Option<std::net::IpAddr>,
) -> Option<u64> {
    client
        .filter(|_| req.headers().contains_key(header::AUTHORIZATION))
        .and_then(|addr| limits.auth_failures.check(addr, clock.now()).err())
}

/// A refused credential spends one of its client's failed-authentication budget.
fn spend_on_auth_failure(
    limits: &ClientLimits,
    clock: &Clock,
    client: Option<std::net::IpAddr>,
    response: &Response,
) {
    let failed = response.extensions().get::<ErrorReport>();
    if let Some(addr) = client.filter(|_| failed.is_some_and(|r| r.auth_failure)) {
        let _ = limits.auth_failures.spend(addr, clock.now());
    }
}

/// Counts one answered request.
fn record(
    metrics: &Metrics,
    response: &Response,
    route: &str,
    method: &'static str,
    started: Instant,
    credential: Option<CredentialKind>,
) {
    let outcome = match response.extensions().get::<ErrorReport>() {
        Some(report) if report.auth_failure => AuthOutcome::Rejected,
        Some(report) if !report.cors => AuthOutcome::NotChecked,
        _ => AuthOutcome::Accepted,
    };
    metrics.record(&Answered {
        route,
        method,
        status: response.status().as_u16(),
        took: started.elapsed(),
        auth: credential.map(|kind| (kind, outcome)),
    });
}

/// The id tower-http's `SetRequestId` gave this request (a UUID v4).
fn request_id_of(req: &Request) -> HeaderValue {
    req.extensions()
        .get::<RequestId>()
        .map_or(HeaderValue::from_static("-"), |id| {
            id.header_value().clone()
        })
}

/// A request id sent by the client is dropped: every request gets one of the server's own
/// (as Bencher does), so a client cannot choose what the logs and error bodies say.
pub fn forget_client_request_id(mut req: Request) -> Request {
    req.headers_mut().remove(REQUEST_ID);
    req
}

/// The span of one request: everything logged while it is served (on any thread it
/// reaches: see `Db::run`) carries its id. The request's own line is written outside it
/// by [`outer`], naming the id in its fields, so the id is not formatted twice.
pub fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let id = req.extensions().get::<RequestId>();
    let id = id
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", request_id = %id)
}

/// The standard methods by name; any other is `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The kind of credential a request carries, if any (for metrics; the value is not kept).
fn credential_kind(headers: &HeaderMap) -> Option<CredentialKind> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (_, bearer) = value.split_once(' ')?;
    Some(CredentialKind::of(bearer.trim()))
}

/// Drops empty segments (`//`, a trailing `/`) and refuses `.`/`..` segments.
fn normalize_path(uri: &Uri) -> Result<Option<Uri>, RequestError> {
    let path = uri.path();
    // One pass over the segments: reject dot segments, note any empty one after the first.
    let mut empty_inside = false;
    for (i, segment) in path.as_bytes().split(|&b| b == b'/').enumerate() {
        if is_dot_segment(segment) {
            return Err(RequestError::PathEncoding);
        }
        empty_inside |= i > 0 && segment.is_empty();
    }
    // Nothing to drop (the usual case): no allocation. A lone "/" has nothing to drop.
    if path.starts_with('/') && (!empty_inside || path.len() == 1) {
        return Ok(None);
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let normalized = format!("/{}", segments.join("/"));
    let with_query = match uri.query() {
        Some(q) => format!("{normalized}?{q}"),
        None => normalized,
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(with_query.parse().map_err(|_| RequestError::PathEncoding)?);
    Uri::from_parts(parts)
        .map(Some)
        .map_err(|_| RequestError::PathEncoding)
}

/// `.` or `..`, written plainly or with `%2e` (either case) for a dot.
fn is_dot_segment(segment: &[u8]) -> bool {
    let mut rest = segment;
    let mut dots = 0;
    while !rest.is_empty() {
        if rest[0] == b'.' {
            rest = &rest[1..];
        } else if rest.len() >= 3
            && rest[0] == b'%'
            && rest[1] == b'2'
            && rest[2].eq_ignore_ascii_case(&b'e')
        {
            rest = &rest[3..];
        } else {
            return false;
        }
        dots += 1;
    }
    dots == 1 || dots == 2
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    message: &'a str,
}

/// Writes the error body (if this is an error) and the request id.
fn finish(response: Response, request_id: &HeaderValue, head: bool) -> Response {
    let id = request_id.clone();
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        let mut response = response;
        response.headers_mut().insert(REQUEST_ID, id);
        return response;
    }
    let report = response
        .extensions()
        .get::<ErrorReport>()
        .cloned()
        .unwrap_or_else(|| ErrorReport {
            message: status.canonical_reason().unwrap_or("Error").to_owned(),
            error_code: None,
            cors: false,
            auth_failure: false,
        });
    let (parts, _) = response.into_parts();
    let body = ErrorBody {
        request_id: request_id.to_str().unwrap_or("-"),
        error_code: report.error_code.as_deref(),
        message: &report.message,
    };
    let text = serde_json::to_string_pretty(&body).unwrap_or_default();
    let mut headers = HeaderMap::new();
    for allow in parts.headers.get_all(header::ALLOW) {
        headers.append(header::ALLOW, allow.clone());
    }
    if let Some(retry) = parts.headers.get(header::RETRY_AFTER) {
        headers.insert(header::RETRY_AFTER, retry.clone());
    }
    if report.cors {
        insert_cors(&mut headers, "GET, POST, PUT, PATCH, DELETE, OPTIONS", true);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(REQUEST_ID, id);
    let mut out = if head {
        Response::new(axum::body::Body::empty())
    } else {
        Response::new(axum::body::Body::from(text))
    };
    *out.status_mut() = parts.status;
    *out.headers_mut() = headers;
    *out.extensions_mut() = parts.extensions;
    out
}

fn insert_cors(headers: &mut HeaderMap, methods: &str, auth: bool) {
    let allow_headers = if auth {
        "Content-Type, Authorization"
    } else {
        "Content-Type"
    };
    headers.insert(ALLOW_ORIGIN, HeaderValue::from_static("*"));
    if let Ok(v) = HeaderValue::from_str(methods) {
        headers.insert(ALLOW_METHODS, v);
    }
    headers.insert(ALLOW_HEADERS, HeaderValue::from_static(allow_headers));
    headers.insert(EXPOSE_HEADERS, HeaderValue::from_static("X-Total-Count"));
}

/// The per-route layer: runs after routing, so it knows the route template.
pub async fn route(
    State(table): State<Arc<RouteTable>>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let Some((template, meta)) = matched.and_then(|m| table.0.get_key_value(m.as_str())) else {
        return next.run(req).await;
    };
    let method = req.method().clone();
    let mut response = if method == Method::HEAD && !super::probes::PATHS.contains(&&**template) {
        method_not_allowed(meta)
    } else {
        let response = next.run(req).await;
        if response.status() == StatusCode::METHOD_NOT_ALLOWED
            && response.extensions().get::<ErrorReport>().is_none()
        {
            if method == Method::OPTIONS {
                preflight()
            } else {
                method_not_allowed(meta)
            }
        } else {
            response
        }
    };
    if response.status().is_success() {
        success_headers(&mut response, meta, &method);
    }
    response
        .extensions_mut()
        .insert(RouteLabel(template.clone()));
    response
}

/// The answer to `OPTIONS` on a route: `null`, with the route's methods.
pub fn preflight() -> Response {
    axum::Json(serde_json::Value::Null).into_response()
}

fn method_not_allowed(meta: &RouteMeta) -> Response {
    let mut response = ApiError::from(RequestError::MethodNotAllowed).into_response();
    let mut allowed: Vec<&str> = meta.methods.iter().map(Method::as_str).collect();
    allowed.push("OPTIONS");
    allowed.sort_unstable();
    for m in allowed {
        response
            .headers_mut()
            .append(header::ALLOW, HeaderValue::from_static(static_method(m)));
    }
    response
}

fn static_method(m: &str) -> &'static str {
    match m {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        _ => "OPTIONS",
    }
}

/// CORS headers with this endpoint's method, then `x-total-count` (a list's total, else
/// `1`, or `0` for a 204), in the order Bencher sends them.
fn success_headers(response: &mut Response, meta: &RouteMeta, method: &Method) {
    let methods = if method == Method::OPTIONS {
        meta.methods
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        method.as_str().to_owned()
    };
    let no_content = response.status() == StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    if no_content {
        // A 204 has no body, so no content type and no length either.
        headers.remove(header::CONTENT_TYPE);
        headers.remove(header::CONTENT_LENGTH);
    }
    let total = headers
        .remove(TOTAL_COUNT)
        .unwrap_or_else(|| HeaderValue::from_static(if no_content { "0" } else { "1" }));
    insert_cors(headers, &methods, meta.auth);
    headers.insert(TOTAL_COUNT, total);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> Result<Option<String>, RequestError> {
        normalize_path(&s.parse().unwrap()).map(|u| u.map(|u| u.to_string()))
    }

    #[test]
    fn paths_are_normalised_like_dropshot() {
        assert_eq!(norm("/v0/users").unwrap(), None);
        assert_eq!(norm("//v0//users/").unwrap().as_deref(), Some("/v0/users"));
        assert_eq!(
            norm("/v0/users/?page=2").unwrap().as_deref(),
            Some("/v0/users?page=2")
        );
        assert!(norm("/v0/users/../keys").is_err());
        assert!(norm("/v0/users/%2E/keys").is_err());
        assert_eq!(norm("/v0/users/.x").unwrap(), None);
        assert_eq!(norm("/").unwrap(), None);
        assert!(norm("/v0/users/%2E%2e/keys").is_err());
    }

    #[test]
    fn dot_segments_plain_or_percent_encoded() {
        for dot in [".", "..", "%2e", "%2E", "%2e%2E", ".%2e", "%2E."] {
            assert!(is_dot_segment(dot.as_bytes()), "{dot}");
        }
        for other in ["", "...", "a", ".a", "a.", "%2", "%2f", "%2e%2e%2e", "keys"] {
            assert!(!is_dot_segment(other.as_bytes()), "{other}");
        }
    }
}
