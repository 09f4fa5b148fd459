//! Issuers: where new credentials come from, one file per kind behind the [`Issuer`] trait.
//!
//! The trait is rcgen's `SigningKey` idea applied to CAs: the smallest operation a local CA,
//! an ACME server, a CFSSL API and an exec plugin can all do — turn a [`Request`] into an
//! [`Issued`] credential. Private keys never reach an issuer: certificate requests carry the
//! public key and a CSR made where the key was generated (the deploy side).

mod acme;
mod cfssl;
mod crl;
pub mod exec;
mod local_ca;
mod vault;

pub use acme::{Acme, Solver};
pub use cfssl::Cfssl;
pub use exec::Exec;
pub use local_ca::LocalCa;
pub use vault::Vault;

pub use crate::remote::{Error, Retry};

use crate::model::{IssuerSpec, Spanned};
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::path::Path;

/// Public-key algorithms trustops generates keys for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256.
    EcP256,
    /// ECDSA on P-384.
    EcP384,
    /// Ed25519.
    Ed25519,
}

impl KeyAlgorithm {
    /// rcgen's algorithm for keys of this kind.
    pub fn rcgen(self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            KeyAlgorithm::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyAlgorithm::EcP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
        }
    }
}

/// A certificate to issue.
#[derive(Clone, Debug)]
pub struct CertificateRequest {
    /// `identity/credential`, for messages and records.
    pub target: String,
    /// Subject common name.
    pub common_name: Option<String>,
    /// DNS SANs.
    pub dns_names: Vec<String>,
    /// IP SANs.
    pub ip_addresses: Vec<std::net::IpAddr>,
    /// URI SANs: the workload identity (SPIFFE ID) first.
    pub uris: Vec<String>,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
    /// The subject's public key as rcgen holds it (the raw key, not SPKI).
    pub public_key: Vec<u8>,
    /// Its algorithm.
    pub key_algorithm: KeyAlgorithm,
    /// A PKCS#10 request signed by the subject key, PEM, for issuers that want one.
    pub csr_pem: String,
    /// The ACME Renewal Information CertID (RFC 9773) of the certificate this one replaces,
    /// sent as `replaces` on the new order by ACME CAs that advertise renewal information.
    pub replaces: Option<String>,
    /// An earlier, interrupted apply started this step with this key: the issuer may have
    /// signed for it already, and one that can look should hand that certificate back.
    pub resumed: bool,
}

/// A secret, API key or token to rotate.
#[derive(Clone, Debug)]
pub struct SecretRequest {
    /// The identity.
    pub identity: String,
    /// The credential's name.
    pub credential: String,
    /// `secret`, `api-key` or `token`.
    pub credential_type: String,
    /// The identity's workload URI, if declared.
    pub workload: Option<String>,
    /// The id the credential is matched by (`match.secretId`), e.g. `vault:secret/payments/db`.
    pub secret_id: Option<String>,
    /// How a generated value is made (the policy's `secretValue`).
    pub value: crate::model::SecretValue,
}

/// What to issue.
#[derive(Clone, Debug)]
pub enum Request {
    /// A certificate for a key generated where it is deployed.
    Certificate(CertificateRequest),
    /// A new secret value, stored by the issuer itself.
    Secret(SecretRequest),
}

/// What an issuer returns. Never a secret value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Issued {
    /// The certificate chain, leaf first, PEM.
    Certificate {
        /// Leaf, then intermediates.
        chain_pem: String,
    },
    /// Where the new secret value was stored, and facts about it.
    Secret {
        /// A reference to the new value (e.g. `vault:secret/payments/db#v7`).
        reference: String,
        /// Metadata the issuer reported (version, expiry, ...).
        metadata: BTreeMap<String, String>,
    },
}

/// Something that issues credentials.
pub trait Issuer {
    /// Issues what `request` asks for. `idempotency_key` is the same for every retry of the
    /// same step, so an issuer that can remember answers a retry without issuing again. `Err`
    /// says why, in one line, without secrets, and whether retrying may help.
    fn issue(&self, request: &Request, idempotency_key: &str) -> Result<Issued, Error>;

    /// Revokes a certificate this issuer issued, at `now`; says what was done. Issuers that
    /// cannot revoke say so.
    fn revoke(&self, what: &Revocation<'_>, now: jiff::Timestamp) -> Result<String, Error> {
        let _ = (what, now);
        Err(Error::permanent("this issuer cannot revoke certificates"))
    }
}

/// A certificate to revoke.
#[derive(Clone, Copy, Debug)]
pub struct Revocation<'a> {
    /// Its serial number, lowercase hex.
    pub serial: &'a str,
    /// The certificate itself (DER), when it is still at hand: ACME revokes by contents.
    pub certificate: Option<&'a [u8]>,
    /// The RFC 5280 reason code.
    pub reason: u8,
}

/// RFC 5280 reason code `superseded`: the certificate a rotation replaced.
pub const SUPERSEDED: u8 = 4;

/// The RFC 5280 reason codes (`CRLReason`), by the names RFC 5280 gives them; 7 is unused.
pub const REASONS: [(u8, &str); 10] = [
    (0, "unspecified"),
    (1, "keyCompromise"),
    (2, "cACompromise"),
    (3, "affiliationChanged"),
    (4, "superseded"),
    (5, "cessationOfOperation"),
    (6, "certificateHold"),
    (8, "removeFromCRL"),
    (9, "privilegeWithdrawn"),
    (10, "aACompromise"),
];

/// The certificate with SHA-256 `fingerprint` (lowercase hex) among the PEM `contents`.
pub fn find_certificate<'a>(
    contents: impl IntoIterator<Item = &'a [u8]>,
    fingerprint: &str,
) -> Option<Vec<u8>> {
    contents.into_iter().find_map(|bytes| {
        crate::discover::pem_certificates(bytes)
            .into_iter()
            .find(|der| crate::discover::sha256_hex(der) == fingerprint)
    })
}

/// The code of the RFC 5280 reason `name` (any case), or of a code given as a number.
pub fn reason_code(name: &str) -> Option<u8> {
    REASONS
        .iter()
        .find(|(code, known)| known.eq_ignore_ascii_case(name) || code.to_string() == name)
        .map(|(code, _)| *code)
}

/// The RFC 5280 name of reason `code`.
pub fn reason_name(code: u8) -> &'static str {
    REASONS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("unknown", |(_, name)| name)
}

/// The issuer declared as `spec`, with paths resolved against `base`. The one place that maps
/// a declared issuer type to its implementation.
pub fn for_spec(
    name: &str,
    spec: &IssuerSpec,
    base: &Path,
    env: &crate::environment::Environment,
) -> Result<Box<dyn Issuer>, String> {
    if let Some(ca) = &spec.local_ca {
        let key = match (&ca.key_file, &ca.key_env) {
            (Some(file), _) => read(base, file)?,
            (None, Some(var)) => env
                .require(&var.value, &format!("issuer {name}: the CA key"))?
                .to_owned(),
            (None, None) => return Err(format!("issuer {name}: localCa needs keyFile or keyEnv")),
        };
        let cert = read(base, &ca.cert_file)?;
        let crl = ca
            .crl_file
            .as_ref()
            .map(|f| crate::reconcile::resolve(base, &f.value));
        return LocalCa::new(&cert, &key).map(|ca| Box::new(ca.with_crl(crl)) as Box<dyn Issuer>);
    }
    if let Some(exec) = &spec.exec {
        return Ok(Box::new(Exec {
            name: name.to_owned(),
            argv: exec.command.value.clone(),
            dir: base.to_owned(),
            timeout: exec
                .timeout
                .map_or(std::time::Duration::from_secs(60), |t| {
                    std::time::Duration::from_secs(t.seconds())
                }),
        }));
    }
    if let Some(cfssl) = &spec.cfssl {
        return Ok(Box::new(Cfssl {
            name: name.to_owned(),
            url: cfssl.url.value.trim_end_matches('/').to_owned(),
            profile: cfssl.profile.clone(),
            label: cfssl.label.clone(),
            ca_file: cfssl
                .ca_file
                .as_ref()
                .map(|f| crate::reconcile::resolve(base, &f.value)),
        }));
    }
    if let Some(acme) = &spec.acme {
        let resolve = |file: &Spanned<String>| crate::reconcile::resolve(base, &file.value);
        let http01 = acme.http01.as_ref();
        return Ok(Box::new(Acme {
            name: name.to_owned(),
            directory_url: acme.directory_url.value.clone(),
            email: acme.email.clone(),
            account_key_file: resolve(&acme.account_key_file),
            ca_file: acme.ca_file.as_ref().map(resolve),
            solver: Solver {
                listen: http01
                    .and_then(|h| h.listen.as_ref())
                    .map(|l| l.value.clone()),
                webroot: http01.and_then(|h| h.webroot.as_ref()).map(resolve),
                dns01_command: acme.dns01_command.clone(),
                dir: base.to_owned(),
            },
        }));
    }
    if let Some(vault) = &spec.vault {
        return Ok(Box::new(Vault {
            name: name.to_owned(),
            spec: vault.clone(),
            env: env.clone(),
            base: base.to_owned(),
        }));
    }
    Err(format!(
        "issuer {name}: no issuer type is set (localCa, acme, cfssl, exec or vault)"
    ))
}

/// Reads a declared file, resolved against `base`.
fn read(base: &Path, file: &Spanned<String>) -> Result<String, String> {
    let path = crate::reconcile::resolve(base, &file.value);
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
