//! Keyward: a self-hosted server for Bencher API keys and tokens, wire-compatible with the
//! Bencher v0.6.12 REST API for them, in one binary with an embedded SQLite database.

pub mod accounts;
pub mod admin;
pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod db;
pub mod domain;
pub mod error;
pub mod limits;
pub mod mail;
pub mod organizations;
pub mod server;
pub mod state;
pub mod telemetry;

pub use api::app;
