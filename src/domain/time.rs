//! Date-times on the wire: RFC 3339 with `Z`, fractional seconds only when non-zero.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

/// A UTC instant as Bencher prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ToSchema)]
#[schema(value_type = String, format = DateTime)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// Reads a stored Unix-seconds value. Out-of-range values clamp to the epoch.
    pub fn from_secs(secs: i64) -> Self {
        Self(Utc.timestamp_opt(secs, 0).single().unwrap_or_default())
    }

    /// The stored form: whole Unix seconds (the sub-second part is dropped).
    pub fn secs(self) -> i64 {
        self.0.timestamp()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

/// `now + ttl` seconds, keeping `now`'s sub-second part (as the 201 bodies show it).
pub fn add_secs(now: DateTime<Utc>, ttl: u32) -> DateTime<Utc> {
    now.checked_add_signed(chrono::TimeDelta::seconds(i64::from(ttl)))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_chrono_auto_si() {
        let t = Timestamp::from_secs(1_795_321_616);
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-11-22T04:26:56Z\""
        );
        let nanos = Utc.timestamp_opt(1_795_321_616, 532_660_694).unwrap();
        assert_eq!(
            serde_json::to_string(&Timestamp(nanos)).unwrap(),
            "\"2026-11-22T04:26:56.532660694Z\""
        );
        let later = Timestamp(add_secs(nanos, u32::MAX));
        assert_eq!(
            serde_json::to_string(&later).unwrap(),
            "\"2162-12-29T10:55:11.532660694Z\""
        );
        assert_eq!(later.secs(), 6_090_288_911);
    }
}
