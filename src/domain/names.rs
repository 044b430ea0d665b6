//! Validated strings: parsed once during deserialization, so handlers only see valid values.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, de};
use utoipa::ToSchema;

/// The longest name or slug Bencher accepts, in UTF-8 bytes.
pub const MAX_LEN: usize = 64;

/// The longest value any validated string may have (a JWT is the longest: ours are under
/// 1 KiB). A longer one is refused, and is not repeated in the error.
pub const MAX_ECHO: usize = 4_096;

/// The longest email address, in bytes (SMTP's limit).
pub const MAX_EMAIL: usize = 254;

/// The longest `search` text of a list query, in bytes.
pub const MAX_SEARCH: usize = 256;

/// Non-empty, at most 64 bytes, and no leading or trailing (Unicode) whitespace.
fn is_valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_LEN && s.trim() == s
}

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident, $check:expr, $what:literal) => {
        string_newtype!($(#[$doc])* $name, $check, $what, str::to_owned);
    };
    ($(#[$doc:meta])* $name:ident, $check:expr, $what:literal, $normalize:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, ToSchema)]
        #[schema(value_type = String)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks `s` and wraps it, or says why it is not valid.
            pub fn parse(s: &str) -> Result<Self, String> {
                let check: fn(&str) -> bool = $check;
                let normalize: fn(&str) -> String = $normalize;
                if s.len() > MAX_ECHO {
                    // Longer than any valid value, and too long to repeat back.
                    return Err(format!(
                        concat!("Failed to validate ", $what, ": a value of {} bytes"),
                        s.len()
                    ));
                }
                let s = normalize(s);
                if check(&s) {
                    Ok(Self(s))
                } else {
                    Err(format!(concat!("Failed to validate ", $what, ": {}"), s))
                }
            }

            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The validated text, owned.
            pub fn into_string(self) -> String {
                self.0
            }

            /// Wraps a value read back from our own database, where it was validated on write.
            pub fn from_db(s: String) -> Self {
                Self(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&s).map_err(de::Error::custom)
            }
        }
    };
}

string_newtype!(
    /// A key, token, organization or project name (Bencher's `ResourceName`).
    ResourceName,
    is_valid_name,
    "resource name string"
);

string_newtype!(
    /// A person's name: a `ResourceName` made only of letters, digits, spaces and `,.-'`.
    UserName,
    |s| is_valid_name(s)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | ',' | '.' | '-' | '\'')),
    "user name"
);

string_newtype!(
    /// A URL slug: lowercase ASCII letters and digits in runs joined by single hyphens.
    Slug,
    is_valid_slug,
    "slug"
);

string_newtype!(
    /// An email address, lowercased: at most 254 bytes, as SMTP allows.
    Email,
    |s| s.len() <= MAX_EMAIL && email_address::EmailAddress::is_valid(s),
    "email",
    str::to_lowercase
);

string_newtype!(
    /// A JSON Web Token in its compact form: three base64url segments.
    Jwt,
    is_jwt_shaped,
    "JWT (JSON Web Token)"
);

string_newtype!(
    /// The text of a list's `search` parameter: at most 256 bytes.
    Search,
    |s| s.len() <= MAX_SEARCH,
    "search"
);

/// The slug rule: `slug == slugify(slug)` and at most 64 bytes, i.e. runs of lowercase ASCII
/// letters and digits joined by single hyphens. Checked without building the slug: every
/// request with a slug in its path runs this.
pub fn is_valid_slug(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_LEN
        && bytes.split(|&b| b == b'-').all(|run| {
            !run.is_empty()
                && run
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Turns any text into a slug as Bencher does (the `slug` crate): transliterated to ASCII,
/// lowercase alphanumeric runs joined by single hyphens.
pub fn slugify(s: &str) -> String {
    slug::slugify(s)
}

/// The slug Bencher makes from a name: slugified, cut to the length limit (and slugified
/// again, so it cannot end in a hyphen); `None` when nothing is left (a name of only
/// punctuation), where Bencher falls back to a random slug.
pub fn slug_from_name(name: &str) -> Option<Slug> {
    let slug = slugify(name);
    let slug = if slug.len() > MAX_LEN {
        slugify(&slug[..MAX_LEN])
    } else {
        slug
    };
    (!slug.is_empty()).then_some(Slug(slug))
}

/// The length of the random part Bencher adds to a taken slug (and uses alone when a name
/// gives no slug).
pub const SUFFIX_LEN: usize = 8;

/// `base` with `-suffix` appended, `base` cut first so that the whole fits the length limit.
pub fn slug_with_suffix(base: &Slug, suffix: &str) -> Slug {
    let keep = MAX_LEN.saturating_sub(suffix.len() + 1);
    let head = if base.0.len() > keep {
        slugify(&base.0[..keep])
    } else {
        base.0.clone()
    };
    Slug(format!("{head}-{suffix}"))
}

/// A slug of its own made of a random suffix (already of slug form).
pub fn slug_of_suffix(suffix: &str) -> Slug {
    Slug(suffix.to_owned())
}

/// `s` with every control character (CR, LF, ESC, …) written as a visible escape such as
/// `\n` or `\u{1b}`, for text that a person reads in a log or a terminal: a name can then
/// neither start a line of its own nor send the terminal a command.
pub fn escape_control(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn is_jwt_shaped(s: &str) -> bool {
    use base64::Engine as _;
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .is_ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_name_counts_bytes_not_chars() {
        assert!(ResourceName::parse(&"a".repeat(64)).is_ok());
        assert!(ResourceName::parse(&"a".repeat(65)).is_err());
        assert!(ResourceName::parse(&"é".repeat(32)).is_ok());
        assert!(ResourceName::parse(&"é".repeat(33)).is_err());
    }

    #[test]
    fn resource_name_rejects_outer_whitespace_only() {
        assert!(ResourceName::parse("").is_err());
        assert!(ResourceName::parse(" x").is_err());
        assert!(ResourceName::parse("\u{a0}x").is_err());
        assert!(ResourceName::parse("\tx").is_err());
        assert!(ResourceName::parse("a\tb").is_ok());
        assert!(ResourceName::parse("ünïcödé ✓ name").is_ok());
        assert_eq!(
            ResourceName::parse(" x").unwrap_err(),
            "Failed to validate resource name string:  x"
        );
    }

    #[test]
    fn slugs() {
        assert!(is_valid_slug("my-project"));
        assert!(is_valid_slug("a1"));
        assert!(!is_valid_slug("My-Project"));
        assert!(!is_valid_slug("a--b"));
        assert!(!is_valid_slug("-a"));
        assert!(!is_valid_slug("Not_A_Slug"));
        assert_eq!(slugify("Alice Admin"), "alice-admin");
        assert!(!is_valid_slug(""));
        assert!(!is_valid_slug("a-"));
        assert!(!is_valid_slug(&"a".repeat(65)));
        assert!(slug_from_name("!!!").is_none());
        let long = Slug::parse(&"a".repeat(64)).unwrap();
        assert_eq!(slug_with_suffix(&long, "xyz").as_str().len(), 64);
    }

    #[test]
    fn slugs_are_made_as_bencher_makes_them() {
        let cases = [
            ("Café Zürich", Some("cafe-zurich")),
            ("Ünïcödé Straße", Some("unicode-strasse")),
            ("数据", Some("shu-ju")),
            ("🚀 Launch", Some("rocket-launch")),
            ("Crème brûlée 🍮!", Some("creme-brulee-custard")),
            ("  --Hello,   World--  ", Some("hello-world")),
            ("!!!", None),
            ("...", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(
                slug_from_name(name).as_ref().map(Slug::as_str),
                want,
                "{name:?}"
            );
        }
        // Over-long names are cut to 64 bytes, never ending in a hyphen.
        let long = format!("{} tail", "word ".repeat(20));
        let slug = slug_from_name(&long).unwrap();
        assert!(slug.as_str().len() <= MAX_LEN);
        assert!(is_valid_slug(slug.as_str()), "{slug:?}");
        assert_eq!(slug.as_str(), slugify(&"word-".repeat(13)[..64]));
        // A suffix after a base that would be too long: the base is cut and re-slugified.
        let base = Slug::parse(&format!("{}-b", "a".repeat(54))).unwrap();
        let suffixed = slug_with_suffix(&base, "0abc1234");
        assert_eq!(suffixed.as_str(), format!("{}-0abc1234", "a".repeat(54)));
        assert!(is_valid_slug(suffixed.as_str()));
    }

    #[test]
    fn a_valid_slug_here_is_a_valid_slug_for_bencher() {
        // Bencher's rule: at most 64 bytes, non-empty, and `slug == slugify(slug)`.
        let bencher = |s: &str| !s.is_empty() && s.len() <= MAX_LEN && s == slug::slugify(s);
        for s in [
            "a",
            "my-project",
            "2nd",
            "a-b-c",
            "Café",
            "café",
            "a--b",
            "-a",
            "a-",
            "a_b",
            "A",
            "é",
            "ß",
            "数据",
            "shu-ju",
            "a b",
            "",
        ] {
            assert_eq!(is_valid_slug(s), bencher(s), "{s:?}");
        }
        assert_eq!(is_valid_slug(&"a".repeat(64)), bencher(&"a".repeat(64)));
        assert_eq!(is_valid_slug(&"a".repeat(65)), bencher(&"a".repeat(65)));
    }

    #[test]
    fn the_slug_check_agrees_with_slugify_on_every_short_string() {
        // Every string of up to five characters over an alphabet with each kind of
        // character the rule treats differently (lowercase, uppercase, digit, hyphen,
        // other ASCII, non-ASCII).
        let alphabet = ['a', 'Z', '7', '-', '_', ' ', 'é'];
        let mut strings = vec![String::new()];
        let mut checked = 0;
        for _ in 0..5 {
            let mut longer = Vec::new();
            for s in &strings {
                for c in alphabet {
                    let mut t = s.clone();
                    t.push(c);
                    assert_eq!(is_valid_slug(&t), slugify(&t) == t, "{t:?}");
                    checked += 1;
                    longer.push(t);
                }
            }
            strings = longer;
        }
        assert_eq!(checked, 7 + 49 + 343 + 2401 + 16807);
    }

    #[test]
    fn user_names_and_emails() {
        assert!(UserName::parse("Alice O'Neil-Smith, Jr.").is_ok());
        assert!(UserName::parse("Alice_").is_err());
        assert!(Email::parse("Alice@Example.com").unwrap().as_str() == "alice@example.com");
        assert!(Email::parse("not-an-email").is_err());
    }

    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(escape_control("plain ünï ✓"), "plain ünï ✓");
        assert_eq!(
            escape_control("Zed\nConfirmation Token: x"),
            "Zed\\nConfirmation Token: x"
        );
        assert_eq!(escape_control("\u{1b}[2Jgone\r"), "\\u{1b}[2Jgone\\r");
        assert_eq!(escape_control("a\u{9b}b\u{7f}"), "a\\u{9b}b\\u{7f}");
    }

    #[test]
    fn jwt_shape() {
        assert!(Jwt::parse("eyJh.eyJz.c2ln").is_ok());
        assert!(Jwt::parse("garbage").is_err());
        assert!(Jwt::parse("a.b.").is_err());
        assert!(Jwt::parse("a.b.c.d").is_err());
        assert!(Jwt::parse("a=.b.c").is_err());
    }
}
