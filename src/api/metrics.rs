//! `GET /metrics`: the Prometheus text of [`crate::telemetry`], off unless configured.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, RequestError};
use crate::state::AppState;

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
