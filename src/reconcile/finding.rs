//! A finding: one condition, about one identity, credential or discovered credential, with
//! the evidence behind it and the exception that suppresses it, if any.

use crate::model::{FindingCode, Severity};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Something wrong with the declared or discovered state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Unique within a plan and stable across plans of the same state:
    /// `code:identity/credential`, `code:identity`, or `code:` and a fingerprint prefix.
    pub id: String,
    /// The condition.
    pub code: FindingCode,
    /// How serious it is.
    pub severity: Severity,
    /// The identity concerned, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The identity's credential concerned, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// The identity's owner (or the best guess for an unmanaged credential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// SHA-256 of the discovered credential concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Where the discovered credential was found (a path, endpoint or object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The declaration concerned: file and line in the governance repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<Declared>,
    /// For a credential no identity declares: the Source declaration that discovered it, the
    /// place in the repository a reviewer (or code scanning) can point at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_by: Option<Declared>,
    /// One sentence for people.
    pub message: String,
    /// The facts behind it (`not_after`, `key_bits`, `expected`, ...), never secret values.
    #[serde(default, skip_serializing_if = "Evidence::is_empty")]
    pub evidence: Evidence,
    /// The active exception that waives it; a suppressed finding causes no action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Box<Suppression>>,
}

/// A position in the governance repository.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Declared {
    /// File, relative to the repository root.
    pub path: String,
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// 1-based column (0 when unknown).
    pub column: u32,
}

/// The framework references of a finding code, listed once per plan for every code its
/// findings have.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct References {
    /// OWASP Non-Human Identities Top 10 (2025) entries.
    pub owasp_nhi: Vec<String>,
    /// NIST Cybersecurity Framework 2.0 subcategories.
    pub nist_csf: Vec<String>,
}

impl References {
    /// The references of `code`.
    pub fn of(code: FindingCode) -> References {
        References {
            owasp_nhi: code.owasp_nhi().iter().map(|s| (*s).to_owned()).collect(),
            nist_csf: code.nist_csf().iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// The references of every code in `findings`, by code.
    pub fn of_all(findings: &[Finding]) -> BTreeMap<FindingCode, References> {
        let codes: std::collections::BTreeSet<FindingCode> =
            findings.iter().map(|f| f.code).collect();
        codes.into_iter().map(|c| (c, References::of(c))).collect()
    }
}

/// Which exception waived a finding.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Suppression {
    /// The Exception's name.
    pub exception: String,
    /// Why the risk was accepted.
    pub reason: String,
    /// Who accepted it.
    pub approved_by: String,
    /// When the waiver ends (RFC 3339).
    pub expires: String,
}

/// The facts behind a finding, by name, in name order; written as a JSON object. A short
/// sorted list: a `BTreeMap`'s first node alone takes 544 bytes, and 300,000 findings each
/// with a fact or two took 160 MB for them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence(Vec<(String, String)>);

impl Evidence {
    /// The fact `name`.
    pub fn get(&self, name: &str) -> Option<&String> {
        self.find(name).ok().map(|i| &self.0[i].1)
    }

    /// Sets the fact `name` to `value`.
    pub fn insert(&mut self, name: String, value: String) {
        *self.entry(name) = value;
    }

    /// The fact `name`, empty when it was not set.
    pub fn entry(&mut self, name: String) -> &mut String {
        let at = match self.find(&name) {
            Ok(at) => at,
            Err(at) => {
                self.0.reserve_exact(1);
                self.0.insert(at, (name, String::new()));
                at
            }
        };
        &mut self.0[at].1
    }

    /// No facts.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The facts, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name))
    }
}

impl Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, String>::deserialize(d)?;
        Ok(Evidence(map.into_iter().collect()))
    }
}

impl JsonSchema for Evidence {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        <BTreeMap<String, String>>::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <BTreeMap<String, String>>::json_schema(generator)
    }
}

impl Finding {
    /// A finding of `code` with its severity and references filled in.
    pub fn new(code: FindingCode, message: impl Into<String>) -> Self {
        Finding {
            code,
            severity: code.severity(),
            message: message.into(),
            ..Finding::default()
        }
    }

    /// Adds one piece of evidence.
    pub fn with(mut self, key: &str, value: impl ToString) -> Self {
        self.evidence.insert(key.to_owned(), value.to_string());
        self
    }

    /// `identity/credential`, `identity`, or the fingerprint: what the finding is about.
    pub fn target(&self) -> String {
        match (&self.identity, &self.credential, &self.fingerprint) {
            (Some(i), Some(c), _) => format!("{i}/{c}"),
            (Some(i), None, _) => i.clone(),
            (None, _, Some(f)) => f.chars().take(12).collect(),
            (None, _, None) => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_kept_and_written_in_name_order() {
        let mut f = Finding::new(FindingCode::Drift, "m")
            .with("zone", "eu")
            .with("not_after", "2026-06-01T00:00:00Z")
            .with("key_bits", 2048);
        f.evidence.entry("zone".into()).push_str("; us");
        f.evidence.insert("key_bits".into(), "4096".into());
        assert_eq!(f.evidence.get("key_bits").map(String::as_str), Some("4096"));
        assert_eq!(f.evidence.get("absent"), None);
        let json = serde_json::to_string(&f.evidence).unwrap();
        assert_eq!(
            json,
            r#"{"key_bits":"4096","not_after":"2026-06-01T00:00:00Z","zone":"eu; us"}"#
        );
        let back: Evidence = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f.evidence);
    }
}
