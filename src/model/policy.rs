//! `Policy`: the rules for one class of credentials (a trust domain).

use super::{Duration, Kind, KindSpec, Schedule, Spanned};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;

/// The trust domains trustops knows; others are allowed for custom classes.
pub const TRUST_DOMAINS: [&str; 6] = [
    "public-tls",
    "internal-mtls",
    "code-signing",
    "ssh",
    "api-key",
    "token",
];

/// Rules for a class of credentials: lifetimes, renewal, issuers, key strength, approval and
/// when rotations may happen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicySpec {
    /// What this policy is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The trust domain: `public-tls`, `internal-mtls`, `code-signing`, `ssh`, `api-key`,
    /// `token`, or a custom kebab-case name. Different domains get different controls.
    pub trust_domain: Spanned<String>,
    /// Longest lifetime a certificate may have (`notAfter - notBefore`), e.g. `90d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_validity: Option<Spanned<Duration>>,
    /// When to renew before expiry: a duration (`30d`) or a percentage of the lifetime
    /// (`33%`). Default: one third of the lifetime, as in cert-manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_before: Option<Spanned<RenewBefore>>,
    /// Issuers to use, in order of preference: the first is tried, then the next when it
    /// fails, so a CA outage does not block renewal. Credentials may override this list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issuers: Vec<Spanned<String>>,
    /// Issuers whose certificates are acceptable under this policy. Default: `issuers`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_issuers: Vec<Spanned<String>>,
    /// Allowed key algorithms with minimum sizes. The first entry is used for new keys.
    /// Default: any algorithm.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_algorithms: Vec<KeyAlgorithm>,
    /// Signature algorithms that must not be used, by OpenSSL name, e.g.
    /// `sha1WithRSAEncryption`, `md5WithRSAEncryption`, `ecdsa-with-SHA1`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbidden_signature_algorithms: Vec<Spanned<String>>,
    /// Oldest a secret, key or token may get since it was created or last rotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<Spanned<Duration>>,
    /// Every identity under this policy must declare its `workload` (e.g. a SPIFFE ID), so
    /// renewal is bound to the workload that uses the credential.
    #[serde(default)]
    pub require_workload: bool,
    /// Whether planned actions under this policy may be applied without a named approver.
    #[serde(default)]
    pub approval: Approval,
    /// When owners are told about upcoming expiries.
    #[serde(default)]
    pub notify: Notify,
    /// Windows when rotations may happen. Empty: any time. As in cert-manager, a renewal due
    /// inside a window (its closing instant included) runs when due, and one due outside every
    /// window runs at the next window start; see `missedWindow` for when that start has passed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renewal_windows: Vec<RenewalWindow>,
    /// What a rotation does when the window it was scheduled for has passed (the planner did
    /// not run then): `renew` now, as cert-manager does (default), or `wait` for the next
    /// window, unless the credential would expire first.
    #[serde(default, skip_serializing_if = "MissedWindow::is_default")]
    pub missed_window: MissedWindow,
    /// Owners who approve changes to this policy in `trustops diff`, instead of the
    /// repository's `trustApprovers` (as declared in the base revision).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<Spanned<String>>,
    /// How issuers that generate secret values (`vault`) make them. Default: 32 alphanumeric
    /// characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_value: Option<SecretValue>,
    /// Also ask the OCSP responder each certificate under this policy names (its Authority
    /// Information Access) whether it is revoked, besides its CRLs. Default: CRLs only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ocsp: bool,
    /// Revoke the old certificate once its replacement is deployed and verified.
    #[serde(default = "yes")]
    pub revoke_on_rotate: bool,
    /// A deadline for moving this trust domain's keys to post-quantum algorithms: from
    /// `warnFrom`, each key a quantum computer would break is a `quantum-vulnerable` finding,
    /// more severe as `requiredBy` nears (critical once passed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_quantum: Option<PostQuantum>,
}

/// A post-quantum migration deadline (e.g. NIST IR 8547: RSA and elliptic-curve signatures
/// deprecated after 2030, disallowed after 2035; CNSA 2.0 for national-security systems).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PostQuantum {
    /// When every key must be quantum-safe (ML-DSA, SLH-DSA, ML-KEM) or hybrid: a date or an
    /// RFC 3339 time.
    pub required_by: Spanned<super::Expiry>,
    /// From when quantum-vulnerable keys are reported. Default: now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_from: Option<Spanned<super::Expiry>>,
}

fn yes() -> bool {
    true
}

impl KindSpec for PolicySpec {
    const KIND: Kind = Kind::Policy;
    const DESCRIPTION: &'static str = "A Policy: lifetimes, renewal, issuers, key strength, approval and renewal windows for one trust domain.";
}

/// `renewBefore`: a fixed duration or a share of the certificate's lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenewBefore {
    /// Renew this long before `notAfter`.
    Duration(Duration),
    /// Renew when this percentage (1–99) of the lifetime is left.
    Percent(u8),
}

impl<'de> Deserialize<'de> for RenewBefore {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.trim().strip_suffix('%') {
            Some(number) => match number.trim().parse::<u8>() {
                Ok(p) if (1..=99).contains(&p) => Ok(RenewBefore::Percent(p)),
                _ => Err(serde::de::Error::custom(format!(
                    "invalid percentage `{text}`: expected a whole number from 1% to 99%"
                ))),
            },
            None => text
                .parse()
                .map(RenewBefore::Duration)
                .map_err(serde::de::Error::custom),
        }
    }
}

impl Serialize for RenewBefore {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RenewBefore::Duration(d) => d.serialize(s),
            RenewBefore::Percent(p) => s.collect_str(&format_args!("{p}%")),
        }
    }
}

impl JsonSchema for RenewBefore {
    fn schema_name() -> Cow<'static, str> {
        "RenewBefore".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": format!("({})|(^[0-9]{{1,2}}%$)", super::duration::PATTERN),
            "description": "A duration before expiry (`30d`) or a percentage of the lifetime (`33%`).",
            "examples": ["30d", "33%"]
        })
    }
}

/// An allowed key algorithm.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeyAlgorithm {
    /// The algorithm: `rsa`, `ec`, `ed25519`, `ed448`, `dsa`, `ml-dsa`, `slh-dsa`, `ml-kem`,
    /// `composite-ml-dsa` or `composite-ml-kem`.
    #[serde(rename = "type")]
    pub key_type: Spanned<KeyType>,
    /// Minimum size in bits: the RSA modulus, or the EC curve size (256, 384, 521).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<Spanned<u32>>,
}

/// Public-key algorithms, named as discovery reports them.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    /// RSA.
    Rsa,
    /// Elliptic curve (ECDSA) on a named curve.
    Ec,
    /// Ed25519.
    Ed25519,
    /// Ed448.
    Ed448,
    /// DSA (legacy).
    Dsa,
    /// ML-DSA (FIPS 204), any parameter set.
    #[serde(rename = "ml-dsa")]
    MlDsa,
    /// SLH-DSA (FIPS 205), any parameter set.
    #[serde(rename = "slh-dsa")]
    SlhDsa,
    /// ML-KEM (FIPS 203), any parameter set.
    #[serde(rename = "ml-kem")]
    MlKem,
    /// ML-DSA composed with RSA, ECDSA or EdDSA (draft-ietf-lamps-pq-composite-sigs).
    #[serde(rename = "composite-ml-dsa")]
    CompositeMlDsa,
    /// ML-KEM composed with RSA, ECDH or X25519/X448 (draft-ietf-lamps-pq-composite-kem).
    #[serde(rename = "composite-ml-kem")]
    CompositeMlKem,
}

/// Approval mode for planned actions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Approval {
    /// `apply --auto-approve` may carry out actions.
    #[default]
    Auto,
    /// Each action needs `apply --approve ACTION-ID` from a person.
    Manual,
}

/// A generated secret value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretValue {
    /// How many characters. Default: 32; at least 16.
    #[serde(default = "default_length")]
    pub length: u16,
    /// Which characters. Default: `alphanumeric`.
    #[serde(default)]
    pub alphabet: Alphabet,
}

fn default_length() -> u16 {
    32
}

impl Default for SecretValue {
    fn default() -> Self {
        SecretValue {
            length: default_length(),
            alphabet: Alphabet::default(),
        }
    }
}

/// The characters a generated secret is made of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Alphabet {
    /// `A-Z a-z 0-9`.
    #[default]
    Alphanumeric,
    /// `0-9 a-f`.
    Hex,
    /// `A-Z a-z 0-9 - _`.
    Base64url,
    /// Alphanumeric plus `!#%+-=?@^_~`.
    Symbols,
}

impl Alphabet {
    /// The characters.
    pub fn characters(self) -> &'static [u8] {
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        match self {
            Alphabet::Alphanumeric => ALNUM,
            Alphabet::Hex => b"0123456789abcdef",
            Alphabet::Base64url => {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            }
            Alphabet::Symbols => {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%+-=?@^_~"
            }
        }
    }
}

/// What a rotation does once the renewal window it was due in has passed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MissedWindow {
    /// Rotate at once, outside any window (cert-manager's behaviour): a missed window never
    /// delays a renewal that is already due.
    #[default]
    Renew,
    /// Rotate only inside a window: wait for the next one, unless the credential expires
    /// before it opens. Renewals then run up to a full window period later than due.
    Wait,
}

impl MissedWindow {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Notification thresholds before expiry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Notify {
    /// Tell the owner when this little time is left before expiry. Default: 30d, 15d, 2d.
    #[serde(default = "default_thresholds")]
    pub before_expiry: Vec<Spanned<Duration>>,
}

impl Default for Notify {
    fn default() -> Self {
        Self {
            before_expiry: default_thresholds(),
        }
    }
}

/// Lemur's defaults: 30, 15 and 2 days before expiry.
fn default_thresholds() -> Vec<Spanned<Duration>> {
    [30, 15, 2]
        .into_iter()
        .map(|d| Spanned::new(Duration::days(d)))
        .collect()
}

/// A recurring window in which rotations may run.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RenewalWindow {
    /// When the window opens, as a cron schedule, e.g. `0 2 * * SAT`.
    pub schedule: Spanned<Schedule>,
    /// How long the window stays open, e.g. `4h`.
    pub duration: Spanned<Duration>,
    /// IANA time zone for the schedule, e.g. `Europe/Berlin`. Default: `UTC`.
    #[serde(default = "utc")]
    pub time_zone: Spanned<String>,
}

impl RenewalWindow {
    /// The window's time zone (UTC when `timeZone` is not a known zone; `validate` refuses those).
    pub fn zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.time_zone.value).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    /// Whether the window is open at `at`, its closing instant included.
    pub fn is_open(&self, at: jiff::Timestamp) -> bool {
        let zone = self.zone();
        self.schedule
            .value
            .open_window(at, self.duration.value.seconds(), &zone)
            .is_some()
    }

    /// The first start of the window at or after `from`.
    pub fn first_start(&self, from: jiff::Timestamp) -> Option<jiff::Timestamp> {
        self.schedule.value.first_start(from, &self.zone())
    }

    /// How long the window stays open, in seconds.
    pub fn seconds(&self) -> i64 {
        i64::try_from(self.duration.value.seconds()).unwrap_or(i64::MAX)
    }
}

fn utc() -> Spanned<String> {
    Spanned::new("UTC".to_owned())
}
