//! Wire types around the credentials: auth, users, organizations, members, projects, server.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::names::{Email, Jwt, ResourceName, Slug, UserName};
use super::time::Timestamp;

/// Sign up a new user.
#[derive(Deserialize, ToSchema)]
pub struct JsonSignup {
    pub name: UserName,
    #[serde(default)]
    pub slug: Option<Slug>,
    pub email: Email,
    /// An organization invitation to accept instead of creating a personal organization.
    #[serde(default)]
    pub invite: Option<Jwt>,
    #[serde(default)]
    pub claim: Option<Uuid>,
    pub i_agree: bool,
}

/// Ask for a login confirmation token.
#[derive(Deserialize, ToSchema)]
pub struct JsonLogin {
    pub email: Email,
    #[serde(default)]
    pub invite: Option<Jwt>,
}

/// Exchange a confirmation token for a session token.
#[derive(Deserialize, ToSchema)]
pub struct JsonConfirm {
    pub token: Jwt,
}

/// Accept an organization invitation.
#[derive(Deserialize, ToSchema)]
pub struct JsonAccept {
    pub invite: Jwt,
}

/// An acknowledgement naming the email a message went to.
#[derive(Serialize, ToSchema)]
pub struct JsonAuthAck {
    pub email: Email,
}

/// A confirmed user and their new session token.
#[derive(Serialize, ToSchema)]
pub struct JsonAuthUser {
    pub user: JsonUser,
    pub token: String,
    pub creation: Timestamp,
    pub expiration: Timestamp,
}

/// A user account.
#[derive(Serialize, ToSchema)]
pub struct JsonUser {
    pub uuid: Uuid,
    pub name: String,
    pub slug: String,
    pub email: String,
    pub admin: bool,
    pub locked: bool,
    pub created: Timestamp,
}

/// A page of users (a JSON array).
#[derive(Serialize, ToSchema)]
#[serde(transparent)]
pub struct JsonUsers(pub Vec<JsonUser>);

/// Changes to a user; `admin` and `locked` only by a server admin.
#[derive(Deserialize, ToSchema)]
pub struct JsonUpdateUser {
    /// Any other fields, ignored. Being flattened, it also makes the body a JSON object only:
    /// every field here is optional, so serde's array form would read `[null]` as "no change".
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: serde::de::IgnoredAny,
    #[serde(default)]
    pub name: Option<UserName>,
    #[serde(default)]
    pub slug: Option<Slug>,
    #[serde(default)]
    pub email: Option<Email>,
    #[serde(default)]
    pub admin: Option<bool>,
    #[serde(default)]
    pub locked: Option<bool>,
}

/// Create an organization.
#[derive(Deserialize, ToSchema)]
pub struct JsonNewOrganization {
    pub name: ResourceName,
    #[serde(default)]
    pub slug: Option<Slug>,
}

/// An organization.
#[derive(Serialize, ToSchema)]
pub struct JsonOrganization {
    pub uuid: Uuid,
    pub name: String,
    pub slug: String,
    /// Always `null`: Keyward has no licensing.
    pub license: Option<String>,
    pub created: Timestamp,
    pub modified: Timestamp,
    /// When the organization first got a member.
    pub claimed: Option<Timestamp>,
}

/// A page of organizations (a JSON array).
#[derive(Serialize, ToSchema)]
#[serde(transparent)]
pub struct JsonOrganizations(pub Vec<JsonOrganization>);

/// The one organization role this API level knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationRole {
    Leader,
}

impl OrganizationRole {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Leader => "leader",
        }
    }
}

/// Invite someone to an organization.
#[derive(Deserialize, ToSchema)]
pub struct JsonNewMember {
    #[serde(default)]
    pub name: Option<UserName>,
    pub email: Email,
    pub role: OrganizationRole,
}

/// A member of an organization.
#[derive(Serialize, ToSchema)]
pub struct JsonMember {
    pub uuid: Uuid,
    pub name: String,
    pub slug: String,
    pub email: String,
    pub role: OrganizationRole,
    pub created: Timestamp,
    pub modified: Timestamp,
}

/// A page of members (a JSON array).
#[derive(Serialize, ToSchema)]
#[serde(transparent)]
pub struct JsonMembers(pub Vec<JsonMember>);

/// Change a member's role.
#[derive(Deserialize, ToSchema)]
pub struct JsonUpdateMember {
    #[serde(default)]
    pub role: Option<OrganizationRole>,
}

/// Who may see a project without a role on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    #[default]
    Public,
    Private,
}

impl Visibility {
    /// Stored as an integer: 0 public, 1 private.
    pub fn from_db(v: i32) -> Self {
        if v == 1 { Self::Private } else { Self::Public }
    }

    /// The stored integer.
    pub fn to_db(self) -> i32 {
        match self {
            Self::Public => 0,
            Self::Private => 1,
        }
    }
}

/// Create a project.
#[derive(Deserialize, ToSchema)]
pub struct JsonNewProject {
    pub name: ResourceName,
    #[serde(default)]
    pub slug: Option<Slug>,
    #[serde(default)]
    pub url: Option<Url>,
    #[serde(default)]
    pub visibility: Option<Visibility>,
}

/// Changes to an organization: any of its fields; an empty object changes nothing but
/// `modified`.
#[derive(Clone, Deserialize, ToSchema)]
pub struct JsonUpdateOrganization {
    /// Makes the body a JSON object only (see [`JsonUpdateUser`]).
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: serde::de::IgnoredAny,
    #[serde(default)]
    pub name: Option<ResourceName>,
    #[serde(default)]
    pub slug: Option<Slug>,
    /// Bencher Plus licenses are not managed here: only `null` (no license) is accepted.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    pub license: Option<Option<Jwt>>,
}

/// Changes to a project: any of its fields; `"url": null` removes the URL; an empty object
/// changes nothing but `modified`.
#[derive(Clone, Deserialize, ToSchema)]
pub struct JsonUpdateProject {
    /// Makes the body a JSON object only (see [`JsonUpdateUser`]).
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: serde::de::IgnoredAny,
    #[serde(default)]
    pub name: Option<ResourceName>,
    #[serde(default)]
    pub slug: Option<Slug>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    pub url: Option<Option<Url>>,
    #[serde(default)]
    pub visibility: Option<Visibility>,
}

/// For a field where `null` means something: a present field is `Some`, `null` included
/// (an absent one stays `None` through `#[serde(default)]`).
#[expect(
    clippy::option_option,
    reason = "absent, null and a value are three different requests; Diesel's changesets take the same shape"
)]
fn present<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A project.
#[derive(Serialize, ToSchema)]
pub struct JsonProject {
    pub uuid: Uuid,
    pub organization: Uuid,
    pub name: String,
    pub slug: String,
    pub url: Option<String>,
    pub visibility: Visibility,
    pub created: Timestamp,
    pub modified: Timestamp,
    pub claimed: Option<Timestamp>,
}

/// A page of projects (a JSON array).
#[derive(Serialize, ToSchema)]
#[serde(transparent)]
pub struct JsonProjects(pub Vec<JsonProject>);

/// Whether the caller holds a permission.
#[derive(Serialize, ToSchema)]
pub struct JsonAllowed {
    pub allowed: bool,
}

/// Where the web console lives.
#[derive(Serialize, ToSchema)]
pub struct JsonConsole {
    pub url: String,
}

/// The Bencher API level this server speaks.
#[derive(Serialize, ToSchema)]
pub struct JsonApiVersion {
    pub version: String,
}

/// The longest URL accepted, in bytes.
pub const MAX_URL: usize = 2_048;

/// An `http` or `https` URL.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(value_type = String)]
#[serde(transparent)]
pub struct Url(String);

impl Url {
    /// Accepts `http://` or `https://` followed by a host and no whitespace, at most
    /// 2,048 bytes in all.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() > MAX_URL {
            return Err(format!(
                "Failed to validate url: longer than {MAX_URL} bytes"
            ));
        }
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"));
        match rest {
            Some(r) if !r.is_empty() && !r.starts_with('/') && !s.contains(char::is_whitespace) => {
                Ok(Self(s.to_owned()))
            }
            _ => Err(format!("Failed to validate url: {s}")),
        }
    }

    /// The URL text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL with a `/` path when it has none, as the `url` crate prints it.
    pub fn with_root_slash(&self) -> String {
        let rest = self.0.split_once("://").map_or("", |(_, r)| r);
        if rest.contains('/') {
            self.0.clone()
        } else {
            format!("{}/", self.0)
        }
    }

    /// The URL without a trailing `/`, for building links.
    pub fn trimmed(&self) -> &str {
        self.0.trim_end_matches('/')
    }
}

impl<'de> Deserialize<'de> for Url {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}
