//! `GET /healthz` and `GET /readyz`: probes for load balancers and orchestrators (both answer
//! `HEAD` too). Liveness says the process serves; readiness says its database answers.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, extract::State};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ErrorReport;
use crate::state::AppState;

/// The probes' paths: outside Bencher's API, so they answer `HEAD` (Bencher's routes refuse
/// it), as load balancers' health checks often send it.
pub const PATHS: [&str; 2] = ["/healthz", "/readyz"];

/// How long readiness waits for the database before it answers 503.
const READY_WITHIN: Duration = Duration::from_secs(2);

/// A probe's answer when all is well.
#[derive(Serialize, ToSchema)]
pub struct JsonProbe {
    /// `ok`.
    pub status: &'static str,
}

/// Liveness
///
/// 200 while the process serves requests; it does not touch the database.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process serves", body = JsonProbe)))]
pub async fn healthz_get() -> Json<JsonProbe> {
    Json(JsonProbe { status: "ok" })
}

/// Readiness
///
/// 200 when the database answers a query within two seconds (on PostgreSQL: a pooled
/// connection was free and the server answered), else 503 in the error shape of every
/// other endpoint, its message saying what failed: take this server out of the load
/// balancer until it answers again.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = JsonProbe),
        (status = 503, description = "The database does not answer")))]
pub async fn readyz_get(State(state): State<AppState>) -> Response {
    let ping = state
        .db
        .run(|c| -> Result<(), crate::error::ApiError> { Ok(crate::db::ping(c)?) });
    let reason = match tokio::time::timeout(READY_WITHIN, ping).await {
        Ok(Ok(())) => return Json(JsonProbe { status: "ok" }).into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database failed");
            "the database failed a query".to_owned()
        }
        Err(_) => format!(
            "the database did not answer within {} s",
            READY_WITHIN.as_secs()
        ),
    };
    let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
    response.extensions_mut().insert(ErrorReport {
        message: format!("Not ready: {reason}"),
        error_code: None,
        cors: false,
        auth_failure: false,
    });
    response
}
