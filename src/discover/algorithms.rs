//! Post-quantum public-key algorithms by OID — ML-DSA (FIPS 204, RFC 9881), SLH-DSA (FIPS 205)
//! and ML-KEM (FIPS 203) parameter sets with their NIST security categories — and the
//! quantum-safety class of every key type trustops names.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A post-quantum parameter set, or a composite of one with a traditional algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParameterSet {
    /// The dotted OID (NIST's `2.16.840.1.101.3.4.*` arc; the IETF LAMPS composites'
    /// `1.3.6.1.5.5.7.6.*`).
    pub oid: &'static str,
    /// Its name, e.g. `ML-DSA-65` (as OpenSSL 3.5 names it) or `MLDSA65-ECDSA-P256-SHA512` (the
    /// composite drafts' `id-` names without the prefix).
    pub name: &'static str,
    /// The key type trustops records: `ml-dsa`, `slh-dsa`, `ml-kem`, `composite-ml-dsa` or
    /// `composite-ml-kem`.
    pub key_type: &'static str,
    /// NIST security category (1–5); a composite's is its post-quantum component's.
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

/// Every parameter set recognised: FIPS 203–205, and the composites of
/// draft-ietf-lamps-pq-composite-sigs and draft-ietf-lamps-pq-composite-kem (ML-DSA or ML-KEM
/// with RSA, ECDSA/ECDH, EdDSA or X25519/X448).
pub const PARAMETER_SETS: &[ParameterSet] = &[
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
    set(
        "1.3.6.1.5.5.7.6.37",
        "MLDSA44-RSA2048-PSS-SHA256",
        "composite-ml-dsa",
        2,
    ),
    set(
        "1.3.6.1.5.5.7.6.38",
        "MLDSA44-RSA2048-PKCS15-SHA256",
        "composite-ml-dsa",
        2,
    ),
    set(
        "1.3.6.1.5.5.7.6.39",
        "MLDSA44-Ed25519-SHA512",
        "composite-ml-dsa",
        2,
    ),
    set(
        "1.3.6.1.5.5.7.6.40",
        "MLDSA44-ECDSA-P256-SHA256",
        "composite-ml-dsa",
        2,
    ),
    set(
        "1.3.6.1.5.5.7.6.41",
        "MLDSA65-RSA3072-PSS-SHA512",
        "composite-ml-dsa",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.42",
        "MLDSA65-RSA3072-PKCS15-SHA512",
        "composite-ml-dsa",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.43",
        "MLDSA65-RSA4096-PSS-SHA512",
        "composite-ml-dsa",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.44",
        "MLDSA65-RSA4096-PKCS15-SHA512",
        "composite-ml-dsa",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.45",
        "MLDSA65-ECDSA-P256-SHA512",
        "composite-ml-dsa",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.46",
        "MLDSA65-ECDSA-P384-SHA512",
        "composite-ml-dsa",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.47",
        "MLDSA65-ECDSA-brainpoolP256r1-SHA512",
        "composite-ml-dsa",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.48",
        "MLDSA65-Ed25519-SHA512",
        "composite-ml-dsa",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.49",
        "MLDSA87-ECDSA-P384-SHA512",
        "composite-ml-dsa",
        5,
    ),
    set(
        "1.3.6.1.5.5.7.6.50",
        "MLDSA87-ECDSA-brainpoolP384r1-SHA512",
        "composite-ml-dsa",
        5,
    ),
    set(
        "1.3.6.1.5.5.7.6.51",
        "MLDSA87-Ed448-SHAKE256",
        "composite-ml-dsa",
        5,
    ),
    set(
        "1.3.6.1.5.5.7.6.52",
        "MLDSA87-RSA3072-PSS-SHA512",
        "composite-ml-dsa",
        5,
    ),
    set(
        "1.3.6.1.5.5.7.6.53",
        "MLDSA87-RSA4096-PSS-SHA512",
        "composite-ml-dsa",
        5,
    ),
    set(
        "1.3.6.1.5.5.7.6.54",
        "MLDSA87-ECDSA-P521-SHA512",
        "composite-ml-dsa",
        5,
    ),
    set(
        "1.3.6.1.5.5.7.6.55",
        "MLKEM768-RSA2048-SHA3-256",
        "composite-ml-kem",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.56",
        "MLKEM768-RSA3072-SHA3-256",
        "composite-ml-kem",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.57",
        "MLKEM768-RSA4096-SHA3-256",
        "composite-ml-kem",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.58",
        "MLKEM768-X25519-SHA3-256",
        "composite-ml-kem",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.59",
        "MLKEM768-ECDH-P256-SHA3-256",
        "composite-ml-kem",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.60",
        "MLKEM768-ECDH-P384-SHA3-256",
        "composite-ml-kem",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.61",
        "MLKEM768-ECDH-brainpoolP256r1-SHA3-256",
        "composite-ml-kem",
        3,
    ),
    set(
        "1.3.6.1.5.5.7.6.62",
        "MLKEM1024-RSA3072-SHA3-256",
        "composite-ml-kem",
        5,
    ),
    set(
        "1.3.6.1.5.5.7.6.63",
        "MLKEM1024-ECDH-P384-SHA3-256",
        "composite-ml-kem",
        5,
    ),
    set(
        "1.3.6.1.5.5.7.6.64",
        "MLKEM1024-ECDH-brainpoolP384r1-SHA3-256",
        "composite-ml-kem",
        5,
    ),
    set(
        "1.3.6.1.5.5.7.6.65",
        "MLKEM1024-X448-SHA3-256",
        "composite-ml-kem",
        5,
    ),
    set(
        "1.3.6.1.5.5.7.6.66",
        "MLKEM1024-ECDH-P521-SHA3-256",
        "composite-ml-kem",
        5,
    ),
];

impl ParameterSet {
    /// The parameter set's identifier within its family, as CycloneDX's
    /// `parameterSetIdentifier` wants it: `65` for ML-DSA-65, `128s` for SLH-DSA-SHA2-128s, and
    /// for a composite its post-quantum component's (`65` for MLDSA65-ECDSA-P256-SHA512).
    pub fn identifier(&self) -> &'static str {
        match self
            .name
            .strip_prefix("MLDSA")
            .or(self.name.strip_prefix("MLKEM"))
        {
            Some(rest) => rest.split('-').next().unwrap_or(rest),
            None => self.name.rsplit('-').next().unwrap_or(self.name),
        }
    }

    /// For a composite, the traditional algorithm beside its post-quantum one, e.g.
    /// `ECDSA-P256` or `RSA2048-PSS`.
    pub fn traditional(&self) -> Option<&'static str> {
        let rest = self
            .name
            .strip_prefix("MLDSA")
            .or(self.name.strip_prefix("MLKEM"))?;
        let (_, traditional) = rest.split_once('-')?;
        // Less the hash or combiner at the end: SHA256, SHA512, SHAKE256 or SHA3-256.
        let traditional = traditional.strip_suffix("-SHA3-256").unwrap_or(traditional);
        Some(match traditional.rsplit_once('-') {
            Some((t, hash)) if hash.starts_with("SHA") => t,
            _ => traditional,
        })
    }
}

/// The parameter set an OID names.
pub fn parameter_set(oid: &str) -> Option<&'static ParameterSet> {
    PARAMETER_SETS.iter().find(|p| p.oid == oid)
}

/// The parameter set of that name.
pub fn by_name(name: &str) -> Option<&'static ParameterSet> {
    PARAMETER_SETS.iter().find(|p| p.name == name)
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
            "composite-ml-dsa" | "composite-ml-kem" => Some(QuantumSafety::Hybrid),
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
        let composite = parameter_set("1.3.6.1.5.5.7.6.45").unwrap();
        assert_eq!(
            (composite.name, composite.category, composite.identifier()),
            ("MLDSA65-ECDSA-P256-SHA512", 3, "65")
        );
        assert_eq!(composite.traditional(), Some("ECDSA-P256"));
        let kem = parameter_set("1.3.6.1.5.5.7.6.58").unwrap();
        assert_eq!(
            (kem.identifier(), kem.traditional()),
            ("768", Some("X25519"))
        );
        let slh = parameter_set("2.16.840.1.101.3.4.3.21").unwrap();
        assert_eq!((slh.identifier(), slh.traditional()), ("128f", None));
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
        assert_eq!(
            QuantumSafety::of_key_type("composite-ml-dsa"),
            Some(QuantumSafety::Hybrid)
        );
        assert_eq!(QuantumSafety::of_key_type("1.2.3.4"), None);
    }
}
