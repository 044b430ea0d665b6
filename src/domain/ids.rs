//! Public identifiers: UUIDs and the "UUID or slug" path segment.

use std::fmt;

use serde::{Deserialize, Deserializer, de};
use uuid::Uuid;

use super::names::Slug;

/// A `{project}`, `{user}` or `{organization}` path segment: a UUID (any form the `uuid`
/// crate reads) or else a slug.
#[derive(Clone, PartialEq, Eq)]
pub enum ResourceId {
    Uuid(Uuid),
    Slug(Slug),
}

impl ResourceId {
    /// Parses a path segment, UUID first.
    pub fn parse(s: &str) -> Option<Self> {
        if let Ok(uuid) = Uuid::try_parse(s) {
            Some(Self::Uuid(uuid))
        } else {
            Slug::parse(s).ok().map(Self::Slug)
        }
    }

    /// How Bencher's messages show this identifier for a resource kind, e.g.
    /// `Slug(ProjectSlug(Slug("p")))` or `Uuid(UserUuid(…))`.
    pub fn describe(&self, kind: &str) -> String {
        match self {
            Self::Uuid(u) => format!("Uuid({kind}Uuid({u}))"),
            Self::Slug(s) => format!("Slug({kind}Slug(Slug({:?})))", s.as_str()),
        }
    }
}

impl fmt::Debug for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Uuid(u) => write!(f, "Uuid({u})"),
            Self::Slug(s) => write!(f, "Slug({s:?})"),
        }
    }
}

impl<'de> Deserialize<'de> for ResourceId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Str(&s), &"a valid UUID or slug.")
        })
    }
}

impl utoipa::PartialSchema for ResourceId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("A UUID or a slug."))
            .into()
    }
}

impl utoipa::ToSchema for ResourceId {}

/// Parses a UUID read back from our own database (always lowercase hyphenated).
pub fn uuid_from_db(s: &str) -> Uuid {
    // Our own writes are the only source of these columns; a broken row is shown as nil
    // rather than taking the whole request down.
    Uuid::try_parse(s).unwrap_or(Uuid::nil())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_first_then_slug() {
        let u = "01a20181-d894-7702-893e-3095ab8aea19";
        assert!(matches!(ResourceId::parse(u), Some(ResourceId::Uuid(_))));
        assert!(matches!(
            ResourceId::parse(&u.to_uppercase()),
            Some(ResourceId::Uuid(_))
        ));
        assert!(ResourceId::parse("01a20181d894770289 3e3095ab8aea19").is_none());
        assert!(matches!(
            ResourceId::parse("alice"),
            Some(ResourceId::Slug(_))
        ));
        assert!(ResourceId::parse("Not_A_Slug").is_none());
    }

    #[test]
    fn describe_matches_bencher_debug() {
        let id = ResourceId::parse("no-such-project").unwrap();
        assert_eq!(
            id.describe("Project"),
            r#"Slug(ProjectSlug(Slug("no-such-project")))"#
        );
        let id = ResourceId::parse("00000000-0000-0000-0000-000000000000").unwrap();
        assert_eq!(
            id.describe("User"),
            "Uuid(UserUuid(00000000-0000-0000-0000-000000000000))"
        );
    }
}
