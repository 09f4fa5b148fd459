//! `Exception`: an approved, expiring waiver of one rule for one identity or credential.

use super::{FindingCode, Kind, KindSpec, Spanned};
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;

/// A risk acceptance: the named finding is suppressed for the target until `expires`. An
/// expired exception suppresses nothing and is itself a finding.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExceptionSpec {
    /// The Identity the waiver applies to. Set this or `fingerprint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Spanned<String>>,
    /// One credential of that identity; default: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<Spanned<String>>,
    /// A discovered credential's SHA-256 fingerprint, for credentials no identity declares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Spanned<String>>,
    /// The finding code waived, e.g. `weak-key`.
    pub rule: Spanned<FindingCode>,
    /// Why the risk is accepted.
    pub reason: Spanned<String>,
    /// Who accepted it (name or e-mail).
    pub approved_by: Spanned<String>,
    /// When the waiver ends: a date (`2026-03-01`, meaning 00:00 UTC that day) or an RFC 3339
    /// timestamp. Mandatory: exceptions never last forever.
    pub expires: Spanned<Expiry>,
    /// A ticket or change-request reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

impl KindSpec for ExceptionSpec {
    const KIND: Kind = Kind::Exception;
    const DESCRIPTION: &'static str = "An Exception: an approved, expiring waiver of one finding for an identity, credential or fingerprint.";
}

/// The instant an exception ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expiry(pub Timestamp);

impl std::str::FromStr for Expiry {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(ts) = text.parse::<Timestamp>() {
            return Ok(Expiry(ts));
        }
        text.parse::<jiff::civil::Date>()
            .ok()
            .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
            .map(|z| Expiry(z.timestamp()))
            .ok_or_else(|| {
                format!("invalid expiry `{text}`: expected a date (2026-03-01) or an RFC 3339 timestamp (2026-03-01T12:00:00Z)")
            })
    }
}

impl<'de> Deserialize<'de> for Expiry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for Expiry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl JsonSchema for Expiry {
    fn schema_name() -> Cow<'static, str> {
        "Expiry".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A date (YYYY-MM-DD, 00:00 UTC) or an RFC 3339 timestamp.",
            "examples": ["2026-03-01", "2026-03-01T12:00:00Z"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Expiry;

    #[test]
    fn parses_dates_and_timestamps() {
        let day: Expiry = "2026-03-01".parse().unwrap();
        assert_eq!(day.0.to_string(), "2026-03-01T00:00:00Z");
        let ts: Expiry = "2026-03-01T12:30:00+02:00".parse().unwrap();
        assert_eq!(ts.0.to_string(), "2026-03-01T10:30:00Z");
        assert!("next year".parse::<Expiry>().is_err());
        assert!("2026-02-30".parse::<Expiry>().is_err());
    }
}
