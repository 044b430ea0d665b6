//! `GET /metrics`: Prometheus text, off unless configured. Requests by route template,
//! method and status with latency histograms; authentication outcomes by credential kind;
//! database reader figures. Labels are route templates and fixed words only, never a path
//! value, a credential or an identifier.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::db::ReadersState;
use crate::error::{ApiError, RequestError};
use crate::state::AppState;

/// Latency histogram bounds, in seconds.
const BUCKETS: [f64; 10] = [
    0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// The credential a request carried, by its form (never its value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CredentialKind {
    UserKey,
    ProjectKey,
    Jwt,
}

impl CredentialKind {
    /// Sorts a bearer value by its prefix.
    pub fn of(bearer: &str) -> Self {
        if bearer.starts_with("bencher_user_") {
            Self::UserKey
        } else if bearer.starts_with("bencher_run_") {
            Self::ProjectKey
        } else {
            Self::Jwt
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::UserKey => "user_key",
            Self::ProjectKey => "project_key",
            Self::Jwt => "jwt",
        }
    }
}

/// What became of a request's credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AuthOutcome {
    /// The request went past authentication.
    Accepted,
    /// Refused as missing, malformed, invalid, revoked, expired or locked.
    Rejected,
    /// The request failed before the credential was looked at (a bad path or body).
    NotChecked,
}

impl AuthOutcome {
    fn label(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::NotChecked => "not_checked",
        }
    }
}

#[derive(Default)]
struct Latency {
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Counters {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Latency>,
    auth: BTreeMap<(CredentialKind, AuthOutcome), u64>,
}

/// The counters, shared by every request.
#[derive(Default)]
pub struct Metrics {
    counters: Mutex<Counters>,
}

impl Metrics {
    /// Counts one answered request.
    pub fn record(
        &self,
        route: &str,
        method: &str,
        status: u16,
        took: Duration,
        auth: Option<(CredentialKind, AuthOutcome)>,
    ) {
        let mut c = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        *c.requests
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default() += 1;
        let secs = took.as_secs_f64();
        let latency = c
            .latency
            .entry((route.to_owned(), method.to_owned()))
            .or_default();
        for (bound, bucket) in BUCKETS.iter().zip(latency.buckets.iter_mut()) {
            if secs <= *bound {
                *bucket += 1;
            }
        }
        latency.sum += secs;
        latency.count += 1;
        if let Some(key) = auth {
            *c.auth.entry(key).or_default() += 1;
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self, readers: ReadersState) -> String {
        let c = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::new();
        out.push_str("# HELP keyward_http_requests_total Requests answered, by route template, method and status.\n");
        out.push_str("# TYPE keyward_http_requests_total counter\n");
        for ((route, method, status), n) in &c.requests {
            let _ = writeln!(
                out,
                "keyward_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP keyward_http_request_duration_seconds Time to answer, by route template and method.\n");
        out.push_str("# TYPE keyward_http_request_duration_seconds histogram\n");
        for ((route, method), l) in &c.latency {
            let labels = format!("route=\"{route}\",method=\"{method}\"");
            for (bound, n) in BUCKETS.iter().zip(l.buckets) {
                let _ = writeln!(
                    out,
                    "keyward_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "keyward_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                l.count
            );
            let _ = writeln!(
                out,
                "keyward_http_request_duration_seconds_sum{{{labels}}} {}",
                l.sum
            );
            let _ = writeln!(
                out,
                "keyward_http_request_duration_seconds_count{{{labels}}} {}",
                l.count
            );
        }
        out.push_str("# HELP keyward_auth_outcomes_total What became of the credentials requests carried, by kind.\n");
        out.push_str("# TYPE keyward_auth_outcomes_total counter\n");
        for ((kind, outcome), n) in &c.auth {
            let _ = writeln!(
                out,
                "keyward_auth_outcomes_total{{kind=\"{}\",outcome=\"{}\"}} {n}",
                kind.label(),
                outcome.label()
            );
        }
        out.push_str("# HELP keyward_db_readers Database reader threads, by state.\n");
        out.push_str("# TYPE keyward_db_readers gauge\n");
        let _ = writeln!(out, "keyward_db_readers{{state=\"idle\"}} {}", readers.idle);
        let _ = writeln!(out, "keyward_db_readers{{state=\"busy\"}} {}", readers.busy);
        out.push_str("# HELP keyward_db_read_queue Requests' read work waiting for a reader.\n");
        out.push_str("# TYPE keyward_db_read_queue gauge\n");
        let _ = writeln!(out, "keyward_db_read_queue {}", readers.queued);
        out
    }
}

/// Metrics
///
/// Prometheus text: request counts and latencies by route template and status,
/// authentication outcomes by credential kind, database reader figures. 404 unless the
/// server runs with `--metrics`.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics_get(State(state): State<AppState>) -> Result<Response, ApiError> {
    let Some(metrics) = &state.metrics else {
        return Err(RequestError::RouteNotFound.into());
    };
    let text = metrics.render(state.db.readers_state());
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}
