//! The stable codes of findings, the rules an Exception can waive. Each is mapped to the OWASP
//! Non-Human Identities Top 10 (2025) and NIST CSF 2.0 so reports double as evidence.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;

macro_rules! finding_codes {
    ($($variant:ident = $name:literal, $severity:ident : $description:literal, owasp [$($owasp:literal),*], nist [$($nist:literal),*];)*) => {
        /// A kind of finding: one condition, one stable kebab-case name.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum FindingCode {
            #[default]
            $(#[doc = $description] $variant,)*
        }

        impl FindingCode {
            /// Every code, in documentation order.
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$variant,)*];
            const NAMES: &'static [&'static str] = &[$($name,)*];

            /// The stable kebab-case name.
            pub fn as_str(self) -> &'static str {
                match self { $(FindingCode::$variant => $name,)* }
            }

            /// What the finding means.
            pub fn description(self) -> &'static str {
                match self { $(FindingCode::$variant => $description,)* }
            }

            /// How serious the condition is, before any exception.
            pub fn severity(self) -> Severity {
                match self { $(FindingCode::$variant => Severity::$severity,)* }
            }

            /// OWASP Non-Human Identities Top 10 (2025) entries it evidences.
            pub fn owasp_nhi(self) -> &'static [&'static str] {
                match self { $(FindingCode::$variant => &[$($owasp),*],)* }
            }

            /// NIST Cybersecurity Framework 2.0 subcategories it evidences.
            pub fn nist_csf(self) -> &'static [&'static str] {
                match self { $(FindingCode::$variant => &[$($nist),*],)* }
            }

            /// The code named `name`.
            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|c| c.as_str() == name)
            }
        }
    };
}

finding_codes! {
    Unmanaged = "unmanaged", High: "A discovered credential that no identity declares: nobody owns it.",
        owasp ["NHI1:2025 Improper Offboarding"], nist ["ID.AM-02", "PR.AA-01"];
    Missing = "missing", High: "A declared credential that discovery did not find.",
        owasp ["NHI1:2025 Improper Offboarding"], nist ["ID.AM-02"];
    Expired = "expired", Critical: "A certificate past its notAfter, or a secret past its expiry.",
        owasp ["NHI7:2025 Long-Lived Secrets"], nist ["PR.AA-01", "PR.DS-02"];
    Revoked = "revoked", Critical: "A certificate its CA has revoked, still in use.",
        owasp ["NHI4:2025 Insecure Authentication"], nist ["PR.AA-01", "DE.CM-09", "RS.MI-02"];
    RenewalDue = "renewal-due", Medium: "A certificate inside its renewBefore window.",
        owasp ["NHI7:2025 Long-Lived Secrets"], nist ["PR.AA-01"];
    ValidityExceedsPolicy = "validity-exceeds-policy", Medium: "A certificate's lifetime is longer than the policy's maxValidity.",
        owasp ["NHI7:2025 Long-Lived Secrets"], nist ["PR.AA-01", "GV.PO-01"];
    WeakKey = "weak-key", High: "A key algorithm or size the policy does not allow.",
        owasp ["NHI4:2025 Insecure Authentication"], nist ["PR.DS-02"];
    ForbiddenSignatureAlgorithm = "forbidden-signature-algorithm", High: "A certificate signed with an algorithm the policy forbids.",
        owasp ["NHI4:2025 Insecure Authentication"], nist ["PR.DS-02"];
    ClientAuthOnPublicTls = "client-auth-on-public-tls", Medium: "A public TLS certificate that still carries the clientAuth extended key usage, which public CAs are dropping: client authentication built on it breaks at a renewal.",
        owasp ["NHI3:2025 Vulnerable Third-Party NHI"], nist ["ID.RA-01", "PR.PS-01"];
    IssuerNotAllowed = "issuer-not-allowed", High: "A certificate from an issuer the policy does not allow.",
        owasp ["NHI3:2025 Vulnerable Third-Party NHI"], nist ["GV.SC-05", "PR.AA-01"];
    OwnerMissing = "owner-missing", Medium: "An identity with no owner, or an owner nobody can reach.",
        owasp ["NHI1:2025 Improper Offboarding"], nist ["GV.RR-02", "ID.AM-02"];
    SecretTooOld = "secret-too-old", Medium: "A secret, key or token older than the policy's maxAge.",
        owasp ["NHI7:2025 Long-Lived Secrets"], nist ["PR.AA-01"];
    Drift = "drift", Medium: "A credential whose SANs, subject, issuer or key type differ from its declaration.",
        owasp ["NHI6:2025 Insecure Cloud Deployment Configurations"], nist ["PR.PS-01", "DE.CM-09"];
    ExceptionExpired = "exception-expired", Medium: "An exception past its expiry date; it no longer suppresses anything.",
        owasp [], nist ["GV.RM-04", "ID.RA-07"];
    DependentsOutOfSync = "dependents-out-of-sync", High: "A dependent secret older than the certificate it rotates with.",
        owasp ["NHI7:2025 Long-Lived Secrets"], nist ["PR.AA-01"];
    SharedCredential = "shared-credential", Medium: "One credential used by several identities.",
        owasp ["NHI9:2025 NHI Reuse"], nist ["PR.AA-01", "PR.AA-05"];
    OrphanPrivateKey = "orphan-private-key", High: "A private key with no certificate, or found outside the credential's declared locations.",
        owasp ["NHI2:2025 Secret Leakage"], nist ["PR.DS-01"];
    QuantumVulnerable = "quantum-vulnerable", Medium: "A key a quantum computer would break (RSA, elliptic curves, DSA) under a policy with a post-quantum deadline; more severe as the deadline nears.",
        owasp ["NHI4:2025 Insecure Authentication"], nist ["ID.RA-01", "PR.DS-02", "GV.RM-04"];
}

/// How serious a finding is. SARIF maps critical and high to `error`, medium to `warning`,
/// low to `note`.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Breaks something now (an expired certificate).
    Critical,
    /// A real risk to fix soon.
    High,
    /// Needs attention within the normal cycle.
    Medium,
    /// Informational.
    #[default]
    Low,
}

impl Severity {
    /// All severities, most serious first.
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FindingCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FindingCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        FindingCode::parse(&name)
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, FindingCode::NAMES))
    }
}

impl JsonSchema for FindingCode {
    fn schema_name() -> Cow<'static, str> {
        "FindingCode".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "enum": FindingCode::NAMES,
            "description": "A finding code."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::FindingCode;
    use std::collections::BTreeSet;

    #[test]
    fn codes_are_unique_and_documented() {
        let names: BTreeSet<_> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), FindingCode::ALL.len());
        let docs = include_str!("../../docs/findings.md");
        for code in FindingCode::ALL {
            assert!(
                docs.contains(&format!("| `{code}` | {} |", code.severity().as_str())),
                "{code} or its severity missing from docs/findings.md"
            );
            assert!(
                !code.nist_csf().is_empty(),
                "{code} has no NIST CSF reference"
            );
        }
    }
}
