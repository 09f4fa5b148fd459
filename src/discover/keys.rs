//! Key facts: algorithm, size and public-key fingerprint from SubjectPublicKeyInfo, private
//! keys (PKCS#1, PKCS#8, SEC1) and OpenSSH keys. Only public facts leave this module; private
//! key bytes are read to find the public half and then dropped.

use super::inventory::{Credential, CredentialKind, sha256_hex};
use super::pq_keys;
use crate::der::{self, Tlv};

const RSA: &str = "1.2.840.113549.1.1.1";
const RSA_PSS: &str = "1.2.840.113549.1.1.10";
const EC: &str = "1.2.840.10045.2.1";
const ED25519: &str = "1.3.101.112";
const ED448: &str = "1.3.101.113";
const DSA: &str = "1.2.840.10040.4.1";

/// Named curves: OID, OpenSSL name, size in bits.
const CURVES: [(&str, &str, u32); 8] = [
    ("1.2.840.10045.3.1.7", "prime256v1", 256),
    ("1.3.132.0.34", "secp384r1", 384),
    ("1.3.132.0.35", "secp521r1", 521),
    ("1.3.132.0.33", "secp224r1", 224),
    ("1.3.132.0.10", "secp256k1", 256),
    ("1.2.840.10045.3.1.1", "prime192v1", 192),
    ("1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1", 256),
    ("1.3.36.3.3.2.8.1.1.11", "brainpoolP384r1", 384),
];

/// Algorithm, size and curve of a public key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct PublicKeyFacts {
    pub key_type: Option<String>,
    pub bits: Option<u32>,
    pub curve: Option<String>,
    /// A post-quantum parameter set, and its NIST security category.
    pub parameter_set: Option<&'static super::algorithms::ParameterSet>,
}

impl PublicKeyFacts {
    /// Puts the facts on `credential`.
    pub(super) fn fill(self, credential: &mut Credential) {
        credential.key_type = self.key_type.map(Into::into);
        credential.key_bits = self.bits;
        credential.curve = self.curve.map(Into::into);
        credential.parameter_set = self.parameter_set.map(|p| p.name.into());
        credential.security_category = self.parameter_set.map(|p| p.category);
    }
}

/// Facts of a SubjectPublicKeyInfo (DER).
pub(super) fn spki_facts(spki: &[u8]) -> PublicKeyFacts {
    let mut facts = PublicKeyFacts::default();
    let Some(seq) = der::read_all(spki) else {
        return facts;
    };
    let mut parts = der::children(seq.content);
    let (Some(alg), Some(key)) = (parts.next(), parts.next()) else {
        return facts;
    };
    let (oid, params) = der::algorithm(alg.content);
    let key_bytes = key.content.get(1..).unwrap_or_default(); // skip the unused-bits byte
    match oid.as_str() {
        RSA | RSA_PSS => {
            facts.key_type = Some("rsa".into());
            let modulus = der::read_all(key_bytes).and_then(|s| der::children(s.content).next());
            facts.bits = modulus.map(|n| der::integer_bits(n.content));
        }
        EC => {
            facts.key_type = Some("ec".into());
            let curve = params.and_then(|p| der::oid_string(p.content));
            if let Some((_, name, bits)) =
                CURVES.iter().find(|(o, _, _)| Some(*o) == curve.as_deref())
            {
                facts.curve = Some((*name).into());
                facts.bits = Some(*bits);
            } else if let Some(explicit) = params.filter(|p| p.tag == der::SEQUENCE) {
                // Explicit curve parameters: the size of the field prime, as OpenSSL reports.
                let field = der::children(explicit.content).nth(1);
                let prime = field.and_then(|f| der::children(f.content).nth(1));
                facts.bits = prime.map(|p| der::integer_bits(p.content));
            } else {
                facts.curve = curve;
            }
        }
        ED25519 => (facts.key_type, facts.bits) = (Some("ed25519".into()), Some(256)),
        ED448 => (facts.key_type, facts.bits) = (Some("ed448".into()), Some(456)),
        DSA => {
            facts.key_type = Some("dsa".into());
            let p = params.and_then(|p| der::children(p.content).next());
            facts.bits = p.map(|p| der::integer_bits(p.content));
        }
        other => match super::algorithms::parameter_set(other) {
            Some(set) => {
                facts.key_type = Some(set.key_type.into());
                facts.parameter_set = Some(set);
            }
            None => facts.key_type = Some(other.to_owned()),
        },
    }
    facts
}

fn spki(algorithm: &[u8], public_key_bits: &[u8]) -> Vec<u8> {
    let mut content = der::write(der::SEQUENCE, algorithm);
    content.extend(der::write(der::BIT_STRING, public_key_bits));
    der::write(der::SEQUENCE, &content)
}

fn oid_tlv(dotted: &str) -> Vec<u8> {
    let parts: Vec<u64> = dotted.split('.').filter_map(|p| p.parse().ok()).collect();
    let mut body = vec![(parts[0] * 40 + parts[1]) as u8];
    for &part in &parts[2..] {
        let mut chunk = vec![(part & 0x7f) as u8];
        let mut rest = part >> 7;
        while rest > 0 {
            chunk.push(((rest & 0x7f) as u8) | 0x80);
            rest >>= 7;
        }
        chunk.reverse();
        body.extend(chunk);
    }
    der::write(der::OID, &body)
}

/// The SubjectPublicKeyInfo of an RSA key from `RSAPrivateKey` (PKCS#1) DER.
fn rsa_spki(pkcs1: &[u8]) -> Option<Vec<u8>> {
    let mut bits = vec![0u8];
    bits.extend(rsa_public_key(pkcs1)?);
    let mut alg = oid_tlv(RSA);
    alg.extend(der::write(der::NULL, &[]));
    Some(spki(&alg, &bits))
}

/// The `RSAPublicKey` (modulus and public exponent, DER) of an `RSAPrivateKey`.
pub(super) fn rsa_public_key(pkcs1: &[u8]) -> Option<Vec<u8>> {
    let seq = der::read_all(pkcs1)?;
    let mut parts = der::children(seq.content);
    let _version = parts.next()?;
    let (n, e) = (parts.next()?, parts.next()?);
    Some(der::write(der::SEQUENCE, &[n.raw, e.raw].concat()))
}

/// The SubjectPublicKeyInfo of an EC key from `ECPrivateKey` (SEC1) DER; the curve comes from
/// the key or, inside PKCS#8, from the algorithm parameters.
fn ec_spki(sec1: &[u8], curve: Option<&Tlv<'_>>) -> Option<Vec<u8>> {
    let seq = der::read_all(sec1)?;
    let mut curve_raw = curve.map(|c| c.raw.to_vec());
    for part in der::children(seq.content).filter(|p| p.tag == 0xa0) {
        curve_raw = der::read_all(part.content)
            .map(|t| t.raw.to_vec())
            .or(curve_raw)
    }
    let mut alg = oid_tlv(EC);
    alg.extend(curve_raw?);
    Some(spki(
        &alg,
        &[&[0], ec_public_point(sec1)?.as_slice()].concat(),
    ))
}

/// The public point an `ECPrivateKey` carries in its optional `[1] publicKey`; `None` when it
/// carries none (computing it is not done here).
pub(super) fn ec_public_point(sec1: &[u8]) -> Option<Vec<u8>> {
    let seq = der::read_all(sec1)?;
    let bits = der::children(seq.content)
        .find(|p| p.tag == 0xa1)
        .and_then(|p| der::read_all(p.content))
        .filter(|t| t.tag == der::BIT_STRING)?;
    bits.content.get(1..).map(<[u8]>::to_vec) // less the unused-bits byte
}

/// The SubjectPublicKeyInfo of an Ed25519 key from its 32-byte seed.
fn ed25519_spki(seed: &[u8]) -> Option<Vec<u8>> {
    let mut bits = vec![0u8];
    bits.extend(ed25519_public_key(seed)?);
    Some(spki(&oid_tlv(ED25519), &bits))
}

/// The 32-byte public key of an Ed25519 seed.
pub(super) fn ed25519_public_key(seed: &[u8]) -> Option<Vec<u8>> {
    use ring::signature::KeyPair;
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed).ok()?;
    Some(pair.public_key().as_ref().to_vec())
}

/// A public key on its own: `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS#1),
/// identified by the SHA-256 of its SubjectPublicKeyInfo, as the certificates and private
/// keys that hold it are paired.
pub(super) fn public_key(label: &str, der_bytes: &[u8]) -> Result<Credential, String> {
    let spki = match label {
        "RSA PUBLIC KEY" => {
            der::read_all(der_bytes).ok_or("malformed RSA public key")?;
            let mut bits = vec![0u8];
            bits.extend_from_slice(der_bytes);
            let mut alg = oid_tlv(RSA);
            alg.extend(der::write(der::NULL, &[]));
            spki(&alg, &bits)
        }
        _ => {
            let parsed = der::read_all(der_bytes).filter(|t| t.tag == der::SEQUENCE);
            parsed.ok_or("malformed public key")?;
            der_bytes.to_vec()
        }
    };
    let sha = sha256_hex(&spki);
    let mut credential = Credential {
        kind: CredentialKind::PublicKey,
        sha256: sha.clone(),
        public_key_sha256: Some(sha.into()),
        format: Some(
            if label == "RSA PUBLIC KEY" {
                "pkcs1"
            } else {
                "spki"
            }
            .into(),
        ),
        ..Credential::default()
    };
    spki_facts(&spki).fill(&mut credential);
    Ok(credential)
}

/// A private key credential from a PEM block or DER. `label` is the PEM label (`PRIVATE KEY`,
/// `RSA PRIVATE KEY`, `EC PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`) or `DER`.
pub(super) fn private_key(
    label: &str,
    der_bytes: &[u8],
    encrypted: bool,
) -> Result<Credential, String> {
    if encrypted || label == "ENCRYPTED PRIVATE KEY" {
        // Without the passphrase only the container is known; it is identified by a hash of
        // the encrypted bytes, which reveals nothing.
        let format = if label == "ENCRYPTED PRIVATE KEY" {
            "pkcs8"
        } else {
            legacy_format(label)
        };
        return Ok(key_credential(
            None,
            Some(sha256_hex(der_bytes)),
            format,
            true,
        ));
    }
    let (spki, format) = match label {
        "RSA PRIVATE KEY" => (rsa_spki(der_bytes), "pkcs1"),
        "EC PRIVATE KEY" => (ec_spki(der_bytes, None), "sec1"),
        "PRIVATE KEY" | "DER" => match pkcs8_spki(der_bytes)? {
            Some(spki) => (Some(spki), "pkcs8"),
            None => return Ok(underived(der_bytes)),
        },
        "DSA PRIVATE KEY" => {
            return Err("DSA private keys are not inventoried; convert to PKCS#8".into());
        }
        other => return Err(format!("unsupported key block {other}")),
    };
    let spki = spki.ok_or_else(|| format!("malformed {format} private key"))?;
    let mut credential = key_credential(Some(&spki), None, format, false);
    if format == "pkcs8" {
        mark_encoding(&mut credential, der_bytes);
    }
    Ok(credential)
}

fn legacy_format(label: &str) -> &'static str {
    match label {
        "EC PRIVATE KEY" => "sec1",
        _ => "pkcs1",
    }
}

/// A PKCS#8 key whose public half cannot be derived here (DSA and Ed448 without an embedded
/// public key, some composites): algorithm and size from its parameters, identified by a
/// SHA-256 of its encoding (which reveals nothing about the key), so it cannot pair with a
/// certificate.
fn underived(pkcs8: &[u8]) -> Credential {
    let algorithm = der::read_all(pkcs8).and_then(|seq| der::children(seq.content).nth(1));
    let facts = algorithm
        .map(|alg| spki_facts(&spki(alg.content, &[0])))
        .unwrap_or_default();
    let mut credential = Credential {
        kind: CredentialKind::PrivateKey,
        sha256: sha256_hex(pkcs8),
        format: Some("pkcs8".into()),
        encrypted: Some(false),
        ..Credential::default()
    };
    facts.fill(&mut credential);
    mark_encoding(&mut credential, pkcs8);
    credential
}

/// Records how an ML-DSA or ML-KEM key is held in its PKCS#8 `privateKey` (`seed`,
/// `expanded` or `both`) as metadata `private_key_encoding`.
fn mark_encoding(credential: &mut Credential, pkcs8: &[u8]) {
    let set = credential
        .parameter_set
        .as_deref()
        .and_then(super::algorithms::by_name);
    let key = der::read_all(pkcs8).and_then(|seq| der::children(seq.content).nth(2));
    if let Some(encoding) = set
        .zip(key)
        .and_then(|(set, key)| pq_keys::encoding(set, key.content))
    {
        credential
            .metadata
            .insert("private_key_encoding".into(), encoding.into());
    }
}

/// From PKCS#8 `PrivateKeyInfo`: the public key, or `Ok(None)` for algorithms whose public
/// half cannot be derived here (Ed448 and DSA without an embedded public key, some
/// composites).
fn pkcs8_spki(pkcs8: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let seq = der::read_all(pkcs8).ok_or("not a PKCS#8 private key")?;
    let mut parts = der::children(seq.content);
    let _version = parts
        .next()
        .filter(|v| v.tag == der::INTEGER)
        .ok_or("not a PKCS#8 private key")?;
    let alg = parts
        .next()
        .filter(|a| a.tag == der::SEQUENCE)
        .ok_or("not a PKCS#8 private key")?;
    let key = parts
        .next()
        .filter(|k| k.tag == der::OCTET_STRING)
        .ok_or("not a PKCS#8 private key")?;
    let embedded_public = parts.find(|p| p.tag == 0x81).map(|p| p.content.to_vec());
    let (oid, params) = der::algorithm(alg.content);
    Ok(match oid.as_str() {
        RSA | RSA_PSS => rsa_spki(key.content),
        EC => ec_spki(key.content, params.as_ref()),
        ED25519 => der::read_all(key.content).and_then(|seed| ed25519_spki(seed.content)),
        ED448 | DSA => embedded_public.map(|p| spki(alg.content, &p)),
        other => match super::algorithms::parameter_set(other) {
            Some(set) => pq_keys::public_key(set, key.content)?
                .map(|public| spki(alg.content, &[&[0], public.as_slice()].concat())),
            None => return Err(format!("unsupported private key algorithm {other}")),
        },
    })
}

fn key_credential(
    spki: Option<&[u8]>,
    fallback_id: Option<String>,
    format: &str,
    encrypted: bool,
) -> Credential {
    let public = spki.map(sha256_hex);
    let mut credential = Credential {
        kind: CredentialKind::PrivateKey,
        sha256: public.clone().or(fallback_id).unwrap_or_default(),
        public_key_sha256: public.map(Into::into),
        format: Some(format.into()),
        encrypted: Some(encrypted),
        ..Credential::default()
    };
    spki.map(spki_facts)
        .unwrap_or_default()
        .fill(&mut credential);
    credential
}

/// An OpenSSH private key: its public half is stored in clear, even when the key is encrypted.
pub(super) fn openssh_private(key: &ssh_key::PrivateKey) -> Result<Credential, String> {
    let mut credential = ssh_credential(key.public_key(), CredentialKind::PrivateKey)?;
    credential.format = Some("openssh".into());
    credential.encrypted = Some(key.is_encrypted());
    Ok(credential)
}

/// An OpenSSH public key line (`ssh-ed25519 AAAA… comment`).
pub(super) fn openssh_public(line: &str) -> Result<Credential, String> {
    let key = ssh_key::PublicKey::from_openssh(line.trim())
        .map_err(|e| format!("malformed OpenSSH public key: {e}"))?;
    ssh_credential(&key, CredentialKind::SshPublicKey)
}

fn ssh_credential(key: &ssh_key::PublicKey, kind: CredentialKind) -> Result<Credential, String> {
    use ssh_key::public::KeyData;
    let blob = key
        .to_bytes()
        .map_err(|e| format!("cannot encode SSH key: {e}"))?;
    let (key_type, bits, curve) = match key.key_data() {
        KeyData::Rsa(rsa) => ("rsa", Some(der::integer_bits(rsa.n.as_bytes())), None),
        KeyData::Ed25519(_) => ("ed25519", Some(256), None),
        KeyData::Ecdsa(ec) => {
            let (name, bits) = match ec.curve() {
                ssh_key::EcdsaCurve::NistP256 => ("prime256v1", 256),
                ssh_key::EcdsaCurve::NistP384 => ("secp384r1", 384),
                ssh_key::EcdsaCurve::NistP521 => ("secp521r1", 521),
            };
            ("ec", Some(bits), Some(name.to_owned()))
        }
        KeyData::Dsa(dsa) => ("dsa", Some(der::integer_bits(dsa.p.as_bytes())), None),
        // Security-key (sk-*) and other rare algorithms: known by fingerprint only.
        _ => ("other", None, None),
    };
    let sha = sha256_hex(&blob);
    Ok(Credential {
        kind,
        sha256: sha.clone(),
        key_type: Some(key_type.into()),
        key_bits: bits,
        curve: curve.map(Into::into),
        public_key_sha256: Some(sha.into()),
        ssh_fingerprint: Some(key.fingerprint(ssh_key::HashAlg::Sha256).to_string().into()),
        ..Credential::default()
    })
}
