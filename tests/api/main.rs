//! The integration tests: every request goes through the real router.
#![allow(clippy::unwrap_used, reason = "test harness")]
#![allow(
    clippy::print_stdout,
    reason = "tests report sizes (shown with --show-output)"
)]

mod accounts;
mod authn;
mod conventions;
mod endpoints;
mod hardening;
mod helpers;
mod import;
mod matrix;
mod metrics;
mod openapi;
mod organizations;
mod project_keys;
mod races;
mod smtp;
mod surface;
mod tokens;
mod user_keys;
