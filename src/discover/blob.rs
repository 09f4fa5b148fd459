//! One file's bytes → the certificates and keys in it: PEM (bundles, keys, junk between
//! blocks), DER certificates and keys, PKCS#7/P7B bundles, OpenSSH private and public keys.

use super::inventory::{Collector, Credential, Location};
use super::{keys, pem, pkcs12, x509};
use crate::der;

const SIGNED_DATA: &str = "1.2.840.113549.1.7.2";

/// What a scan saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Seen {
    /// Certificates or keys (or broken ones, reported as problems).
    Something,
    /// Nothing that looks like a certificate or key.
    Nothing,
}

/// Scans `bytes` found at `place` (a file, or an object; its index is set here) into `out`.
/// `password` opens PKCS#12 archives.
pub(super) fn scan(
    bytes: &[u8],
    place: &Location,
    password: Option<&str>,
    out: &mut Collector,
) -> Seen {
    let mut index: u32 = 0;
    let mut add = |result: Result<Credential, String>, out: &mut Collector| {
        match result {
            Ok(mut credential) => {
                credential.locations.push(Location {
                    index: Some(index),
                    ..place.clone()
                });
                out.add(credential);
            }
            Err(message) => out.problem(place.display(), format!("entry {index}: {message}")),
        }
        index = index.saturating_add(1);
    };
    if contains(bytes, b"-----BEGIN ") {
        for block in pem::blocks(bytes) {
            let block = match block {
                Ok(block) => block,
                Err(message) => {
                    add(Err(message), out);
                    continue;
                }
            };
            match block.label.as_str() {
                "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                    add(x509::certificate(&block.der), out)
                }
                "PKCS7" | "PKCS #7 SIGNED DATA" => match pkcs7_certificates(&block.der) {
                    Some(certs) => certs
                        .into_iter()
                        .for_each(|c| add(x509::certificate(c), out)),
                    None => add(Err("malformed PKCS#7 bundle".into()), out),
                },
                "OPENSSH PRIVATE KEY" => add(
                    ssh_key::PrivateKey::from_bytes(&block.der)
                        .map_err(|e| format!("malformed OpenSSH private key: {e}"))
                        .and_then(|k| keys::openssh_private(&k)),
                    out,
                ),
                label if label.ends_with("PRIVATE KEY") => {
                    add(keys::private_key(label, &block.der, block.encrypted), out)
                }
                "PUBLIC KEY" | "RSA PUBLIC KEY" => {
                    add(keys::public_key(&block.label, &block.der), out)
                }
                // Not credentials: requests, revocation lists, parameters.
                "CERTIFICATE REQUEST"
                | "NEW CERTIFICATE REQUEST"
                | "X509 CRL"
                | "DH PARAMETERS"
                | "EC PARAMETERS" => {}
                other => add(Err(format!("unknown PEM block {other}")), out),
            }
        }
        return Seen::Something;
    }
    if let Some(text) = ssh_public_text(bytes) {
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            add(keys::openssh_public(line), out);
        }
        return Seen::Something;
    }
    if bytes.first() != Some(&der::SEQUENCE) || der::read_all(bytes).is_none() {
        return Seen::Nothing;
    }
    match x509::certificate(bytes) {
        Ok(credential) => add(Ok(credential), out),
        Err(message) if certificate_shaped(bytes) => add(Err(message), out),
        Err(_) => {
            if let Some(certs) = pkcs7_certificates(bytes) {
                certs
                    .into_iter()
                    .for_each(|c| add(x509::certificate(c), out));
            } else if is_pkcs12(bytes) {
                match pkcs12::open(bytes, password) {
                    Ok(contents) => {
                        for cert in &contents.certificates {
                            add(x509::certificate(cert), out);
                        }
                        for key in &contents.keys {
                            let key = keys::private_key("DER", key, false).map(|mut k| {
                                k.format = Some("pkcs12".into());
                                k
                            });
                            add(key, out);
                        }
                        for problem in contents.problems {
                            add(Err(problem), out);
                        }
                    }
                    Err(e) => add(Err(e), out),
                }
            } else if let Ok(key) = keys::private_key("DER", bytes, false) {
                add(Ok(key), out);
            } else {
                // CRLs, requests, OCSP responses and other DER: not credentials.
                return Seen::Nothing;
            }
        }
    }
    Seen::Something
}

/// `SEQUENCE { TBSCertificate, AlgorithmIdentifier, BIT STRING }` whose TBS starts like a
/// certificate's (`[0] version` then a serial, or a v1 serial, algorithm, issuer and validity),
/// not like a CRL's or a request's.
fn certificate_shaped(bytes: &[u8]) -> bool {
    let Some(outer) = der::read_all(bytes) else {
        return false;
    };
    let parts: Vec<_> = der::children(outer.content).map(|t| t.tag).collect();
    if parts != [der::SEQUENCE, der::SEQUENCE, der::BIT_STRING] {
        return false;
    }
    let Some(tbs) = der::children(outer.content).next() else {
        return false;
    };
    let tags: Vec<u8> = der::children(tbs.content).take(5).map(|t| t.tag).collect();
    matches!(
        tags.as_slice(),
        [0xa0, der::INTEGER, ..]
            | [
                der::INTEGER,
                der::SEQUENCE,
                der::SEQUENCE,
                der::SEQUENCE,
                der::SEQUENCE
            ]
    )
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// The text of an OpenSSH public key file or `authorized_keys`, when it looks like one.
fn ssh_public_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let prefixes = ["ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"];
    prefixes
        .iter()
        .any(|p| first.starts_with(p))
        .then_some(text)
}

/// The certificates of a PKCS#7 SignedData (a `.p7b`/`.p7c` bundle), or `None` when `bytes`
/// is not one.
pub(super) fn pkcs7_certificates(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    let info = der::read_all(bytes).filter(|t| t.tag == der::SEQUENCE)?;
    let mut parts = der::children(info.content);
    let oid = parts.next().filter(|o| o.tag == der::OID)?;
    if der::oid_string(oid.content)? != SIGNED_DATA {
        return None;
    }
    let explicit = parts.next().filter(|t| t.tag == 0xa0)?;
    let signed = der::read_all(explicit.content).filter(|t| t.tag == der::SEQUENCE)?;
    let certificates = der::children(signed.content).find(|t| t.tag == 0xa0);
    Some(
        certificates
            .map(|set| {
                der::children(set.content)
                    .filter(|c| c.tag == der::SEQUENCE)
                    .map(|c| c.raw)
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// PFX: `SEQUENCE { INTEGER 3, ContentInfo, … }`.
fn is_pkcs12(bytes: &[u8]) -> bool {
    der::read_all(bytes)
        .and_then(|seq| der::children(seq.content).next())
        .is_some_and(|v| v.tag == der::INTEGER && v.content == [3])
}
