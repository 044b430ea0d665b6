//! Prometheus metrics through the `metrics` facade and its Prometheus exporter: requests by
//! route template, method and status with latency histograms; authentication outcomes by
//! credential kind; database reader figures. Labels are route templates and fixed words
//! only, never a path value, a credential or an identifier.
//!
//! Each server state owns its recorder (not installed process-wide), so that servers in one
//! process (the tests) keep their own counts.

use std::time::Duration;

use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::db::ReadersState;

/// Latency histogram bounds, in seconds.
const BUCKETS: [f64; 10] = [
    0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

const REQUESTS: &str = "keyward_http_requests_total";
const DURATION: &str = "keyward_http_request_duration_seconds";
const AUTH: &str = "keyward_auth_outcomes_total";
const READERS: &str = "keyward_db_readers";
const READ_QUEUE: &str = "keyward_db_read_queue";

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

/// One answered request, as metrics see it.
pub struct Answered<'a> {
    /// The route template (or `-` when no route matched).
    pub route: &'a str,
    /// One of a fixed set of method names.
    pub method: &'static str,
    pub status: u16,
    pub took: Duration,
    pub auth: Option<(CredentialKind, AuthOutcome)>,
}

/// This server's metrics.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), &BUCKETS)
            // Refused only for an empty list of buckets, which BUCKETS is not.
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            describe_counter!(
                REQUESTS,
                "Requests answered, by route template, method and status."
            );
            describe_histogram!(
                DURATION,
                Unit::Seconds,
                "Time to answer, by route template and method."
            );
            describe_counter!(
                AUTH,
                "What became of the credentials requests carried, by kind."
            );
            describe_gauge!(READERS, "Database reader threads, by state.");
            describe_gauge!(READ_QUEUE, "Requests' read work waiting for a reader.");
        });
        Self { recorder, handle }
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn record(&self, answered: &Answered<'_>) {
        let route = answered.route.to_owned();
        metrics::with_local_recorder(&self.recorder, || {
            counter!(
                REQUESTS,
                "route" => route.clone(),
                "method" => answered.method,
                "status" => answered.status.to_string()
            )
            .increment(1);
            metrics::histogram!(DURATION, "route" => route, "method" => answered.method)
                .record(answered.took.as_secs_f64());
            if let Some((kind, outcome)) = answered.auth {
                counter!(AUTH, "kind" => kind.label(), "outcome" => outcome.label()).increment(1);
            }
        });
    }

    /// The Prometheus text exposition, with the readers' figures as of now.
    pub fn render(&self, readers: ReadersState) -> String {
        metrics::with_local_recorder(&self.recorder, || {
            #[expect(
                clippy::cast_precision_loss,
                reason = "thread and queue counts are far below 2^52"
            )]
            let (idle, busy, queued) = (
                readers.idle as f64,
                readers.busy as f64,
                readers.queued as f64,
            );
            gauge!(READERS, "state" => "idle").set(idle);
            gauge!(READERS, "state" => "busy").set(busy);
            gauge!(READ_QUEUE).set(queued);
        });
        self.handle.render()
    }
}
