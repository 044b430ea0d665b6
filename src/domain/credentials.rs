//! Wire types of the credential endpoints: project keys, user keys and legacy tokens.
//! Field order is Bencher's; `revoked` is left out until a credential is revoked.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::names::ResourceName;
use super::time::Timestamp;

/// A project API key as every read shows it (no secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct JsonProjectKey {
    pub uuid: Uuid,
    pub project: Uuid,
    /// The user who created the key, or `null` once that user is gone.
    pub creator: Option<Uuid>,
    pub name: String,
    pub creation: Timestamp,
    pub expiration: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Timestamp>,
}

/// A page of project keys (a JSON array).
#[derive(Serialize, ToSchema)]
#[serde(transparent)]
pub struct JsonProjectKeys(pub Vec<JsonProjectKey>);

/// A project API key just created: the only time its plaintext `key` is shown.
#[derive(Serialize, ToSchema)]
pub struct JsonProjectKeyCreated {
    pub uuid: Uuid,
    pub project: Uuid,
    pub name: String,
    /// The plaintext key (`bencher_run_…`). Store it now: it is never shown again.
    pub key: String,
    pub creation: Timestamp,
    pub expiration: Timestamp,
}

/// A request to create a project API key.
#[derive(Deserialize, ToSchema)]
pub struct JsonNewProjectKey {
    pub name: ResourceName,
    /// Time to live in seconds, at least 1; absent or `null` means 4,294,967,295 s.
    #[serde(default)]
    #[schema(format = "uint32", minimum = 1, maximum = 4_294_967_295_u32)]
    pub ttl: Option<u32>,
}

/// A request to rename a project API key.
#[derive(Deserialize, ToSchema)]
pub struct JsonUpdateProjectKey {
    #[serde(default)]
    pub name: Option<ResourceName>,
}

/// A user API key as every read shows it (no secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct JsonUserKey {
    pub uuid: Uuid,
    pub user: Uuid,
    pub name: String,
    pub creation: Timestamp,
    pub expiration: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Timestamp>,
}

/// A page of user keys (a JSON array).
#[derive(Serialize, ToSchema)]
#[serde(transparent)]
pub struct JsonUserKeys(pub Vec<JsonUserKey>);

/// A user API key just created: the only time its plaintext `key` is shown.
#[derive(Serialize, ToSchema)]
pub struct JsonUserKeyCreated {
    pub uuid: Uuid,
    pub user: Uuid,
    pub name: String,
    /// The plaintext key (`bencher_user_…`). Store it now: it is never shown again.
    pub key: String,
    pub creation: Timestamp,
    pub expiration: Timestamp,
}

/// A request to create a user API key.
#[derive(Deserialize, ToSchema)]
pub struct JsonNewUserKey {
    pub name: ResourceName,
    /// Time to live in seconds, at least 1; absent or `null` means 4,294,967,295 s.
    #[serde(default)]
    #[schema(format = "uint32", minimum = 1, maximum = 4_294_967_295_u32)]
    pub ttl: Option<u32>,
}

/// A request to rename a user API key.
#[derive(Deserialize, ToSchema)]
pub struct JsonUpdateUserKey {
    #[serde(default)]
    pub name: Option<ResourceName>,
}

/// A legacy user API token (a JWT with audience `api_key`).
#[derive(Debug, Serialize, ToSchema)]
pub struct JsonToken {
    pub uuid: Uuid,
    pub user: Uuid,
    pub name: String,
    /// The JWT itself.
    pub token: String,
    pub creation: Timestamp,
    pub expiration: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Timestamp>,
}

/// A page of legacy tokens (a JSON array).
#[derive(Serialize, ToSchema)]
#[serde(transparent)]
pub struct JsonTokens(pub Vec<JsonToken>);

/// A request to create a legacy token (always refused: tokens are deprecated).
#[derive(Deserialize, ToSchema)]
pub struct JsonNewToken {
    pub name: ResourceName,
    #[serde(default)]
    #[schema(format = "uint32", minimum = 1, maximum = 4_294_967_295_u32)]
    pub ttl: Option<u32>,
}

/// A request to rename a legacy token.
#[derive(Deserialize, ToSchema)]
pub struct JsonUpdateToken {
    #[serde(default)]
    pub name: Option<ResourceName>,
}

/// The default time to live of a new key: `u32::MAX` seconds (about 136 years).
pub const DEFAULT_TTL: u32 = u32::MAX;

/// Applies Bencher's TTL rule: absent means the default, zero is refused.
pub fn ttl_or_default(ttl: Option<u32>) -> Option<u32> {
    match ttl {
        None => Some(DEFAULT_TTL),
        Some(0) => None,
        Some(t) => Some(t),
    }
}
