//! The integration tests: every request goes through the real router.
#![allow(clippy::unwrap_used, reason = "test harness")]

mod accounts;
mod authn;
mod conventions;
mod endpoints;
mod helpers;
mod openapi;
mod organizations;
mod project_keys;
mod tokens;
mod user_keys;
