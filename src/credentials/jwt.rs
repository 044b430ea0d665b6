//! HS256 JSON Web Tokens with Bencher's claims, audiences and issuer rule.

use std::fmt;

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::accounts::OrganizationRole;

/// Bencher verifies `exp` with this leeway first, then again strictly.
pub const LEEWAY_SECS: i64 = 60;
/// Lifetime of an email confirmation token.
pub const AUTH_TTL: u32 = 1_800;
/// Lifetime of a session (`client`) token: 30 days.
pub const CLIENT_TTL: u32 = 2_592_000;

/// What a token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Email confirmation (signup and login).
    Auth,
    /// A browser or CLI session.
    Client,
    /// A legacy user API token.
    ApiKey,
    /// An invitation to an organization.
    Invite,
}

impl Audience {
    /// The `aud` claim.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Client => "client",
            Self::ApiKey => "api_key",
            Self::Invite => "invite",
        }
    }
}

/// The organization an invitation is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgClaim {
    pub uuid: Uuid,
    pub role: OrganizationRole,
}

/// Bencher's claims, in Bencher's order. The last three may be absent on the way in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub sub: String,
    #[serde(default)]
    pub org: Option<OrgClaim>,
    #[serde(default)]
    pub state: Option<serde_json::Value>,
    #[serde(default)]
    pub oci: Option<serde_json::Value>,
}

/// Why a token did not verify. The texts are `jsonwebtoken`'s and Bencher's.
#[derive(Debug)]
pub enum TokenError {
    Decode(jsonwebtoken::errors::Error),
    Expired { exp: i64, now: i64 },
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(e) => write!(f, "Failed to decode JSON Web Token: {e}"),
            Self::Expired { exp, now } => {
                write!(
                    f,
                    "Expired JSON Web Token ({exp} < {now}): ExpiredSignature"
                )
            }
        }
    }
}

impl std::error::Error for TokenError {}

/// Signing and verification keys, built once at start-up.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKeys")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Keys for `secret` (its UTF-8 bytes) and the issuer every token must carry.
    pub fn new(secret: &str, issuer: String) -> Self {
        // Claims are checked by `verify` against our own clock, in Bencher's order;
        // the library checks only the signature and the algorithm.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            issuer,
        }
    }

    /// The issuer tokens carry.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Mints a token for `email`, valid `ttl` seconds from `now`.
    pub fn mint(
        &self,
        audience: Audience,
        email: &str,
        ttl: u32,
        now: DateTime<Utc>,
        org: Option<OrgClaim>,
    ) -> Result<(String, Claims), jsonwebtoken::errors::Error> {
        let iat = now.timestamp();
        let claims = Claims {
            aud: audience.as_str().to_owned(),
            exp: iat.checked_add(i64::from(ttl)).unwrap_or(iat),
            iat,
            iss: self.issuer.clone(),
            sub: email.to_owned(),
            org,
            state: None,
            oci: None,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims))
    }

    /// Verifies a token: signature, then `exp` with leeway, issuer, audience, then `exp`
    /// strictly (Bencher's order).
    pub fn verify(
        &self,
        token: &str,
        audiences: &[Audience],
        now: DateTime<Utc>,
    ) -> Result<Claims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(TokenError::Decode)?;
        let claims = data.claims;
        let now = now.timestamp();
        let kind = |k: ErrorKind| TokenError::Decode(k.into());
        if claims.exp < now - LEEWAY_SECS {
            return Err(kind(ErrorKind::ExpiredSignature));
        }
        if claims.iss != self.issuer {
            return Err(kind(ErrorKind::InvalidIssuer));
        }
        if !audiences.iter().any(|a| a.as_str() == claims.aud) {
            return Err(kind(ErrorKind::InvalidAudience));
        }
        if claims.exp < now {
            return Err(TokenError::Expired {
                exp: claims.exp,
                now,
            });
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn keys() -> JwtKeys {
        JwtKeys::new("secret", "http://localhost:3000/".into())
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    #[test]
    fn round_trip_and_claim_order() {
        let k = keys();
        let (t, c) = k
            .mint(Audience::Client, "a@b.c", CLIENT_TTL, at(1_000), None)
            .unwrap();
        assert_eq!(c.exp - c.iat, 2_592_000);
        let v = k
            .verify(&t, &[Audience::Client, Audience::ApiKey], at(1_001))
            .unwrap();
        assert_eq!(v.sub, "a@b.c");
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.starts_with(r#"{"aud":"client","exp":"#), "{json}");
        assert!(
            json.ends_with(r#""org":null,"state":null,"oci":null}"#),
            "{json}"
        );
    }

    #[test]
    fn expiry_leeway_then_strict() {
        let k = keys();
        let (t, _) = k
            .mint(Audience::Client, "a@b.c", 10, at(1_000), None)
            .unwrap();
        let all = [Audience::Client];
        assert_eq!(
            k.verify(&t, &all, at(1_040)).unwrap_err().to_string(),
            "Expired JSON Web Token (1010 < 1040): ExpiredSignature"
        );
        assert_eq!(
            k.verify(&t, &all, at(1_071)).unwrap_err().to_string(),
            "Failed to decode JSON Web Token: ExpiredSignature"
        );
    }

    #[test]
    fn wrong_secret_audience_issuer() {
        let k = keys();
        let other = JwtKeys::new("other", "http://localhost:3000/".into());
        let (t, _) = other.mint(Audience::Client, "a", 100, at(0), None).unwrap();
        assert_eq!(
            k.verify(&t, &[Audience::Client], at(1))
                .unwrap_err()
                .to_string(),
            "Failed to decode JSON Web Token: InvalidSignature"
        );
        let (t, _) = k.mint(Audience::Auth, "a", 100, at(0), None).unwrap();
        assert_eq!(
            k.verify(&t, &[Audience::Client], at(1))
                .unwrap_err()
                .to_string(),
            "Failed to decode JSON Web Token: InvalidAudience"
        );
        let no_slash = JwtKeys::new("secret", "http://localhost:3000".into());
        let (t, _) = no_slash
            .mint(Audience::Client, "a", 100, at(0), None)
            .unwrap();
        assert_eq!(
            k.verify(&t, &[Audience::Client], at(1))
                .unwrap_err()
                .to_string(),
            "Failed to decode JSON Web Token: InvalidIssuer"
        );
    }
}
