//! Post-quantum public-key algorithms by OID — ML-DSA (FIPS 204, RFC 9881), SLH-DSA (FIPS 205)
//! and ML-KEM (FIPS 203) parameter sets with their NIST security categories — and the
//! quantum-safety class of every key type trustops names.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A post-quantum parameter set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParameterSet {
    /// The dotted OID (NIST's `2.16.840.1.101.3.4.*` arc).
    pub oid: &'static str,
    /// Its name, e.g. `ML-DSA-65` (as OpenSSL 3.5 names it).
    pub name: &'static str,
    /// The key type trustops records: `ml-dsa`, `slh-dsa` or `ml-kem`.
    pub key_type: &'static str,
    /// NIST security category (1–5).
    pub category: u8,
}

const fn set(
    oid: &'static str,
    name: &'static str,
    key_type: &'static str,
    category: u8,
) -> ParameterSet {
    ParameterSet {
        oid,
        name,
        key_type,
        category,
    }
}

/// Every parameter set recognised.
pub const PARAMETER_SETS: [ParameterSet; 18] = [
    set("2.16.840.1.101.3.4.3.17", "ML-DSA-44", "ml-dsa", 2),
    set("2.16.840.1.101.3.4.3.18", "ML-DSA-65", "ml-dsa", 3),
    set("2.16.840.1.101.3.4.3.19", "ML-DSA-87", "ml-dsa", 5),
    set("2.16.840.1.101.3.4.3.20", "SLH-DSA-SHA2-128s", "slh-dsa", 1),
    set("2.16.840.1.101.3.4.3.21", "SLH-DSA-SHA2-128f", "slh-dsa", 1),
    set("2.16.840.1.101.3.4.3.22", "SLH-DSA-SHA2-192s", "slh-dsa", 3),
    set("2.16.840.1.101.3.4.3.23", "SLH-DSA-SHA2-192f", "slh-dsa", 3),
    set("2.16.840.1.101.3.4.3.24", "SLH-DSA-SHA2-256s", "slh-dsa", 5),
    set("2.16.840.1.101.3.4.3.25", "SLH-DSA-SHA2-256f", "slh-dsa", 5),
    set(
        "2.16.840.1.101.3.4.3.26",
        "SLH-DSA-SHAKE-128s",
        "slh-dsa",
        1,
    ),
    set(
        "2.16.840.1.101.3.4.3.27",
        "SLH-DSA-SHAKE-128f",
        "slh-dsa",
        1,
    ),
    set(
        "2.16.840.1.101.3.4.3.28",
        "SLH-DSA-SHAKE-192s",
        "slh-dsa",
        3,
    ),
    set(
        "2.16.840.1.101.3.4.3.29",
        "SLH-DSA-SHAKE-192f",
        "slh-dsa",
        3,
    ),
    set(
        "2.16.840.1.101.3.4.3.30",
        "SLH-DSA-SHAKE-256s",
        "slh-dsa",
        5,
    ),
    set(
        "2.16.840.1.101.3.4.3.31",
        "SLH-DSA-SHAKE-256f",
        "slh-dsa",
        5,
    ),
    set("2.16.840.1.101.3.4.4.1", "ML-KEM-512", "ml-kem", 1),
    set("2.16.840.1.101.3.4.4.2", "ML-KEM-768", "ml-kem", 3),
    set("2.16.840.1.101.3.4.4.3", "ML-KEM-1024", "ml-kem", 5),
];

/// The parameter set an OID names.
pub fn parameter_set(oid: &str) -> Option<&'static ParameterSet> {
    PARAMETER_SETS.iter().find(|p| p.oid == oid)
}

/// Whether a key resists a cryptographically relevant quantum computer.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum QuantumSafety {
    /// Broken by Shor's algorithm: RSA, elliptic curves (ECDSA, EdDSA, ECDH), DSA, DH.
    Vulnerable,
    /// A NIST post-quantum algorithm: ML-DSA, SLH-DSA, ML-KEM.
    Safe,
    /// A composite of a post-quantum and a classical algorithm.
    Hybrid,
}

impl QuantumSafety {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            QuantumSafety::Vulnerable => "vulnerable",
            QuantumSafety::Safe => "safe",
            QuantumSafety::Hybrid => "hybrid",
        }
    }

    /// The class of a key type as trustops records it; `None` for what it cannot tell (an
    /// unknown OID) and for what has no public key (symmetric secrets, tokens).
    pub fn of_key_type(key_type: &str) -> Option<QuantumSafety> {
        match key_type {
            "rsa" | "ec" | "ed25519" | "ed448" | "dsa" | "dh" | "x25519" | "x448" => {
                Some(QuantumSafety::Vulnerable)
            }
            "ml-dsa" | "slh-dsa" | "ml-kem" => Some(QuantumSafety::Safe),
            // SSH names its key types its own way.
            t if t.starts_with("ssh-rsa") || t.starts_with("ecdsa-") || t.starts_with("ssh-ed") => {
                Some(QuantumSafety::Vulnerable)
            }
            t if t.starts_with("composite-") => Some(QuantumSafety::Hybrid),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_sets_are_named_with_their_category() {
        let ml_dsa_65 = parameter_set("2.16.840.1.101.3.4.3.18").map(|p| (p.name, p.category));
        assert_eq!(ml_dsa_65, Some(("ML-DSA-65", 3)));
        assert_eq!(parameter_set("1.2.840.113549.1.1.1"), None);
        // OIDs are unique.
        let mut oids: Vec<&str> = PARAMETER_SETS.iter().map(|p| p.oid).collect();
        oids.sort_unstable();
        oids.dedup();
        assert_eq!(oids.len(), PARAMETER_SETS.len());
    }

    #[test]
    fn classes() {
        assert_eq!(
            QuantumSafety::of_key_type("ec"),
            Some(QuantumSafety::Vulnerable)
        );
        assert_eq!(
            QuantumSafety::of_key_type("ml-dsa"),
            Some(QuantumSafety::Safe)
        );
        assert_eq!(QuantumSafety::of_key_type("1.2.3.4"), None);
    }
}
