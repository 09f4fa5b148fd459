//! Checks a signature made over DER (a CRL's, an OCSP answer's) with the signer's
//! SubjectPublicKeyInfo: RSA PKCS#1 v1.5 with SHA-1 to SHA-512, ECDSA on P-256 and P-384,
//! and Ed25519, through ring. Anything else is refused by name, never accepted.

use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::prelude::{FromDer, SubjectPublicKeyInfo};

const RSA: &str = "1.2.840.113549.1.1.1";
const EC: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";
const ED25519: &str = "1.3.101.112";

/// Whether `signature` over `message`, by `algorithm` (a signature algorithm's dotted OID),
/// verifies with the public key in `spki` (DER).
pub fn verify(
    spki: &[u8],
    algorithm: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let (_, key) = SubjectPublicKeyInfo::from_der(spki)
        .map_err(|_| "the signer's public key does not parse".to_owned())?;
    let key_type = dotted(key.algorithm.algorithm.as_bytes());
    let curve = key
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| dotted(o.as_bytes()));
    let chosen: &'static dyn VerificationAlgorithm =
        match (algorithm, key_type.as_str(), curve.as_deref()) {
            ("1.2.840.113549.1.1.5", RSA, _) => {
                &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY
            }
            ("1.2.840.113549.1.1.11", RSA, _) => &signature::RSA_PKCS1_2048_8192_SHA256,
            ("1.2.840.113549.1.1.12", RSA, _) => &signature::RSA_PKCS1_2048_8192_SHA384,
            ("1.2.840.113549.1.1.13", RSA, _) => &signature::RSA_PKCS1_2048_8192_SHA512,
            ("1.2.840.10045.4.3.2", EC, Some(P256)) => &signature::ECDSA_P256_SHA256_ASN1,
            ("1.2.840.10045.4.3.3", EC, Some(P256)) => &signature::ECDSA_P256_SHA384_ASN1,
            ("1.2.840.10045.4.3.2", EC, Some(P384)) => &signature::ECDSA_P384_SHA256_ASN1,
            ("1.2.840.10045.4.3.3", EC, Some(P384)) => &signature::ECDSA_P384_SHA384_ASN1,
            (ED25519, ED25519, _) => &signature::ED25519,
            _ => {
                return Err(format!(
                    "signature algorithm {algorithm} with a {key_type} key is not supported"
                ));
            }
        };
    UnparsedPublicKey::new(chosen, key.subject_public_key.data.as_ref())
        .verify(message, signature)
        .map_err(|_| "the signature does not verify".to_owned())
}

/// The dotted form of a DER-encoded OID's contents.
pub(crate) fn dotted(bytes: &[u8]) -> String {
    crate::discover::oid_string(bytes).unwrap_or_default()
}
