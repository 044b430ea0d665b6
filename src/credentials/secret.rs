//! API keys: `<prefix>` + 30 random alphanumerics, stored only as their SHA-256.

use std::fmt;

use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How many random characters follow the prefix.
pub const KEY_RANDOM_LEN: usize = 30;
const CHARSET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The two kinds of API key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// `bencher_user_…`: acts as its user.
    User,
    /// `bencher_run_…`: acts on its project only.
    Project,
}

impl KeyKind {
    /// The prefix every key of this kind starts with.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::User => "bencher_user_",
            Self::Project => "bencher_run_",
        }
    }
}

/// A plaintext key. Its `Debug` never shows the secret.
pub struct PlainKey(String);

impl fmt::Debug for PlainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainKey(<redacted>)")
    }
}

impl PlainKey {
    /// A fresh key: each character drawn uniformly from 62 by the thread's CSPRNG.
    pub fn generate(kind: KeyKind) -> Self {
        let mut rng = rand::thread_rng();
        let mut key = String::with_capacity(kind.prefix().len() + KEY_RANDOM_LEN);
        key.push_str(kind.prefix());
        for _ in 0..KEY_RANDOM_LEN {
            key.push(char::from(CHARSET[rng.gen_range(0..CHARSET.len())]));
        }
        Self(key)
    }

    /// Accepts `s` if it is a well-formed key of `kind`.
    pub fn parse(kind: KeyKind, s: &str) -> Option<Self> {
        let body = s.strip_prefix(kind.prefix())?;
        (body.len() == KEY_RANDOM_LEN && body.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| Self(s.to_owned()))
    }

    /// The hash that is stored and looked up.
    pub fn hash(&self) -> KeyHash {
        KeyHash::of(&self.0)
    }

    /// The plaintext, for the one response that shows it.
    pub fn into_exposed(self) -> String {
        self.0
    }
}

/// A lowercase-hex SHA-256 of a whole key, prefix included. Its `Debug` is redacted too.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyHash(String);

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash(<redacted>)")
    }
}

impl KeyHash {
    /// Hashes a key string.
    pub fn of(key: &str) -> Self {
        let digest = Sha256::digest(key.as_bytes());
        let mut hex = String::with_capacity(64);
        for b in digest {
            hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            hex.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
        }
        Self(hex)
    }

    /// The hex text, for the indexed lookup.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares with a stored hash in constant time.
    pub fn matches(&self, stored: &str) -> bool {
        self.0.as_bytes().ct_eq(stored.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed_and_distinct() {
        let a = PlainKey::generate(KeyKind::User);
        let b = PlainKey::generate(KeyKind::User);
        assert_ne!(a.hash(), b.hash());
        let s = a.into_exposed();
        assert_eq!(s.len(), 43);
        assert!(PlainKey::parse(KeyKind::User, &s).is_some());
        assert!(PlainKey::parse(KeyKind::Project, &s).is_none());
        let p = PlainKey::generate(KeyKind::Project).into_exposed();
        assert_eq!(p.len(), 42);
        assert!(p.starts_with("bencher_run_"));
    }

    #[test]
    fn hash_matches_bencher_capture() {
        // Key and hash from the contract's live capture.
        let h = KeyHash::of("bencher_user_cyCzHOoi778Pb6RzYHlxGZ05iEWvEJ");
        assert_eq!(
            h.as_str(),
            "e5292327f47372283ffb43a19906fadab7fdb90091f360d2f0a099bb44749a14"
        );
        assert!(h.matches("e5292327f47372283ffb43a19906fadab7fdb90091f360d2f0a099bb44749a14"));
        assert!(!h.matches("e5292327f47372283ffb43a19906fadab7fdb90091f360d2f0a099bb44749a15"));
        assert_eq!(format!("{h:?}"), "KeyHash(<redacted>)");
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(PlainKey::parse(KeyKind::User, "bencher_user_AAAAAAAAAAAA").is_none());
        let bad = format!("bencher_user_{}", "-".repeat(30));
        assert!(PlainKey::parse(KeyKind::User, &bad).is_none());
    }

    #[test]
    fn characters_are_spread_over_the_alphabet() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let k = PlainKey::generate(KeyKind::Project).into_exposed();
            seen.extend(k["bencher_run_".len()..].chars());
        }
        assert_eq!(seen.len(), 62);
    }
}
