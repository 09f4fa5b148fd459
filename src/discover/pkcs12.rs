//! PKCS#12 (`.p12`/`.pfx`) archives: the certificates and keys inside, decrypted with the
//! password the Source names. Supports what OpenSSL writes: PBES2 (PBKDF2 + AES/3DES, the
//! OpenSSL 3 default) and the legacy PKCS#12 PBE schemes (RC2-40 and 3DES with SHA-1).
//! Decrypted key bytes only pass through to find the public key; they are never kept.

use crate::der;
use aes::cipher::{BlockDecryptMut, InnerIvInit, KeyInit, KeyIvInit, block_padding::Pkcs7};

const DATA: &str = "1.2.840.113549.1.7.1";
const ENCRYPTED_DATA: &str = "1.2.840.113549.1.7.6";
const KEY_BAG: &str = "1.2.840.113549.1.12.10.1.1";
const SHROUDED_KEY_BAG: &str = "1.2.840.113549.1.12.10.1.2";
const CERT_BAG: &str = "1.2.840.113549.1.12.10.1.3";
const X509_CERT: &str = "1.2.840.113549.1.9.22.1";
const PBE_SHA1_RC2_40: &str = "1.2.840.113549.1.12.1.6";
const PBE_SHA1_3DES: &str = "1.2.840.113549.1.12.1.3";
const PBES2: &str = "1.2.840.113549.1.5.13";
const PBKDF2: &str = "1.2.840.113549.1.5.12";
const HMAC_SHA1: &str = "1.2.840.113549.2.7";
const HMAC_SHA256: &str = "1.2.840.113549.2.9";
const AES128_CBC: &str = "2.16.840.1.101.3.4.1.2";
const AES192_CBC: &str = "2.16.840.1.101.3.4.1.22";
const AES256_CBC: &str = "2.16.840.1.101.3.4.1.42";
const DES_EDE3_CBC: &str = "1.2.840.113549.3.7";

/// What an archive holds.
#[derive(Debug, Default)]
pub(super) struct Contents {
    /// Certificates (DER).
    pub certificates: Vec<Vec<u8>>,
    /// Private keys (PKCS#8 DER), decrypted.
    pub keys: Vec<Vec<u8>>,
    /// Parts that could not be opened, and why.
    pub problems: Vec<String>,
}

/// Opens a PFX with `password` (an absent password is tried as empty, as OpenSSL does).
pub(super) fn open(pfx: &[u8], password: Option<&str>) -> Result<Contents, String> {
    let malformed = || "malformed PKCS#12 archive".to_owned();
    let pfx = der::read_all(pfx).ok_or_else(malformed)?;
    let mut parts = der::children(pfx.content);
    let _version = parts.next().ok_or_else(malformed)?;
    let auth_safe = parts.next().ok_or_else(malformed)?;
    let safe = content_of(auth_safe.content, DATA)
        .ok_or("PKCS#12 archives signed with public keys are not supported")?;
    let password = password.unwrap_or("");
    // The MAC says whether the password is right before anything is decrypted: a wrong key
    // can decrypt to well-padded garbage (1 time in 256 with RC2-40).
    if let Some(mac) = parts.next() {
        check_mac(mac.content, &safe, password)?;
    }
    let safe = der::read_all(&safe).ok_or_else(malformed)?;
    let mut contents = Contents::default();
    for info in der::children(safe.content) {
        let mut fields = der::children(info.content);
        let kind = fields
            .next()
            .and_then(|o| der::oid_string(o.content))
            .unwrap_or_default();
        match kind.as_str() {
            DATA => match content_of(info.content, DATA) {
                Some(bags) => read_bags(&bags, password, &mut contents),
                None => contents.problems.push(malformed()),
            },
            ENCRYPTED_DATA => match encrypted_data(info.content, password) {
                Ok(bags) => read_bags(&bags, password, &mut contents),
                Err(e) => contents.problems.push(e),
            },
            other => contents
                .problems
                .push(format!("unsupported content {other}")),
        }
    }
    Ok(contents)
}

/// The OCTET STRING inside `ContentInfo { contentType, [0] EXPLICIT OCTET STRING }`.
fn content_of(info: &[u8], expected: &str) -> Option<Vec<u8>> {
    let mut fields = der::children(info);
    let kind = fields.next().and_then(|o| der::oid_string(o.content))?;
    if kind != expected {
        return None;
    }
    let explicit = fields.next().filter(|t| t.tag == 0xa0)?;
    octets(der::read_all(explicit.content)?)
}

/// An OCTET STRING's bytes, primitive or constructed (BER-style chunks, as some tools write).
fn octets(tlv: der::Tlv<'_>) -> Option<Vec<u8>> {
    match tlv.tag {
        der::OCTET_STRING | 0x80 => Some(tlv.content.to_vec()),
        0x24 | 0xa0 => Some(
            der::children(tlv.content)
                .flat_map(|c| c.content.to_vec())
                .collect(),
        ),
        _ => None,
    }
}

fn encrypted_data(info: &[u8], password: &str) -> Result<Vec<u8>, String> {
    let malformed = || "malformed encrypted PKCS#12 content".to_owned();
    let explicit = der::children(info)
        .nth(1)
        .filter(|t| t.tag == 0xa0)
        .ok_or_else(malformed)?;
    let data = der::read_all(explicit.content).ok_or_else(malformed)?;
    let encrypted_info = der::children(data.content).nth(1).ok_or_else(malformed)?;
    let mut fields = der::children(encrypted_info.content);
    let _type = fields.next();
    let algorithm = fields.next().ok_or_else(malformed)?;
    let payload = fields.next().and_then(octets).ok_or_else(malformed)?;
    decrypt(algorithm.content, &payload, password)
}

fn read_bags(bags: &[u8], password: &str, contents: &mut Contents) {
    let Some(seq) = der::read_all(bags) else {
        contents.problems.push("malformed PKCS#12 bag list".into());
        return;
    };
    for bag in der::children(seq.content) {
        let mut fields = der::children(bag.content);
        let kind = fields
            .next()
            .and_then(|o| der::oid_string(o.content))
            .unwrap_or_default();
        let Some(value) = fields
            .next()
            .filter(|t| t.tag == 0xa0)
            .and_then(|v| der::read_all(v.content))
        else {
            continue;
        };
        match kind.as_str() {
            CERT_BAG => {
                let mut cert = der::children(value.content);
                let is_x509 = cert
                    .next()
                    .and_then(|o| der::oid_string(o.content))
                    .is_some_and(|o| o == X509_CERT);
                let der_bytes = cert
                    .next()
                    .filter(|t| t.tag == 0xa0)
                    .and_then(|t| der::read_all(t.content))
                    .and_then(octets);
                match der_bytes.filter(|_| is_x509) {
                    Some(bytes) => contents.certificates.push(bytes),
                    None => contents
                        .problems
                        .push("a certificate bag that is not X.509".into()),
                }
            }
            KEY_BAG => contents.keys.push(value.raw.to_vec()),
            SHROUDED_KEY_BAG => {
                let mut parts = der::children(value.content);
                let (Some(algorithm), Some(payload)) =
                    (parts.next(), parts.next().and_then(octets))
                else {
                    contents.problems.push("malformed encrypted key bag".into());
                    continue;
                };
                match decrypt(algorithm.content, &payload, password) {
                    Ok(key) => contents.keys.push(key),
                    Err(e) => contents.problems.push(e),
                }
            }
            _ => {}
        }
    }
}

/// Checks `MacData { DigestInfo { algorithm, digest }, macSalt, iterations }` over the
/// authenticated content (RFC 7292 §4 and appendix B, HMAC keyed by the PKCS#12 KDF).
fn check_mac(mac_data: &[u8], content: &[u8], password: &str) -> Result<(), String> {
    let malformed = || "malformed PKCS#12 MAC".to_owned();
    let mut fields = der::children(mac_data);
    let digest_info = fields.next().ok_or_else(malformed)?;
    let salt = fields
        .next()
        .filter(|s| s.tag == der::OCTET_STRING)
        .ok_or_else(malformed)?
        .content;
    let iterations = fields.next().map_or(Ok(1), |i| integer(i.content))?;
    let mut info = der::children(digest_info.content);
    let (oid, _) = der::algorithm(info.next().ok_or_else(malformed)?.content);
    let expected = info.next().ok_or_else(malformed)?.content;
    let (digest, hmac) = match oid.as_str() {
        "1.3.14.3.2.26" => (
            &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        ),
        "2.16.840.1.101.3.4.2.1" => (&ring::digest::SHA256, ring::hmac::HMAC_SHA256),
        "2.16.840.1.101.3.4.2.2" => (&ring::digest::SHA384, ring::hmac::HMAC_SHA384),
        "2.16.840.1.101.3.4.2.3" => (&ring::digest::SHA512, ring::hmac::HMAC_SHA512),
        other => return Err(format!("unsupported PKCS#12 MAC digest {other}")),
    };
    let key = pkcs12_kdf(digest, password, salt, iterations, 3, digest.output_len());
    ring::hmac::verify(&ring::hmac::Key::new(hmac, &key), content, expected).map_err(|_| {
        "wrong or missing password (pkcs12PasswordEnv on the Source; --pkcs12-password-env with --path): the archive's MAC does not match".to_owned()
    })
}

/// Decrypts with the scheme an AlgorithmIdentifier (its content) names.
fn decrypt(algorithm: &[u8], data: &[u8], password: &str) -> Result<Vec<u8>, String> {
    let (oid, params) = der::algorithm(algorithm);
    let params = params.ok_or("encryption parameters missing")?;
    let wrong = || {
        "cannot decrypt: wrong or missing password (pkcs12PasswordEnv on the Source; --pkcs12-password-env with --path) or a damaged file".to_owned()
    };
    match oid.as_str() {
        PBE_SHA1_RC2_40 | PBE_SHA1_3DES => {
            let mut p = der::children(params.content);
            let salt = p.next().ok_or("PBE salt missing")?.content;
            let iterations = integer(p.next().ok_or("PBE iterations missing")?.content)?;
            if oid == PBE_SHA1_RC2_40 {
                let key = pkcs12_kdf(
                    &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
                    password,
                    salt,
                    iterations,
                    1,
                    5,
                );
                let iv = pkcs12_kdf(
                    &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
                    password,
                    salt,
                    iterations,
                    2,
                    8,
                );
                let cipher = rc2::Rc2::new_with_eff_key_len(&key, 40);
                cbc::Decryptor::<rc2::Rc2>::inner_iv_slice_init(cipher, &iv)
                    .map_err(|_| wrong())?
                    .decrypt_padded_vec_mut::<Pkcs7>(data)
                    .map_err(|_| wrong())
            } else {
                let key = pkcs12_kdf(
                    &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
                    password,
                    salt,
                    iterations,
                    1,
                    24,
                );
                let iv = pkcs12_kdf(
                    &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
                    password,
                    salt,
                    iterations,
                    2,
                    8,
                );
                cbc_decrypt::<des::TdesEde3>(&key, &iv, data).ok_or_else(wrong)
            }
        }
        PBES2 => {
            let mut p = der::children(params.content);
            let kdf = p.next().ok_or("PBES2 key derivation missing")?;
            let scheme = p.next().ok_or("PBES2 encryption scheme missing")?;
            let mut kdf_fields = der::children(kdf.content);
            if kdf_fields
                .next()
                .and_then(|o| der::oid_string(o.content))
                .as_deref()
                != Some(PBKDF2)
            {
                return Err(
                    "PBES2 with a key derivation other than PBKDF2 is not supported".into(),
                );
            }
            let kdf_params = kdf_fields.next().ok_or("PBKDF2 parameters missing")?;
            let mut kp = der::children(kdf_params.content);
            let salt = kp.next().ok_or("PBKDF2 salt missing")?.content;
            let iterations = integer(kp.next().ok_or("PBKDF2 iterations missing")?.content)?;
            let mut prf = HMAC_SHA1.to_owned();
            for field in kp {
                if field.tag == der::SEQUENCE {
                    prf = der::children(field.content)
                        .next()
                        .and_then(|o| der::oid_string(o.content))
                        .unwrap_or(prf);
                }
            }
            let mut s = der::children(scheme.content);
            let cipher = s
                .next()
                .and_then(|o| der::oid_string(o.content))
                .unwrap_or_default();
            let iv = s.next().ok_or("cipher IV missing")?.content;
            let key_len = match cipher.as_str() {
                AES128_CBC => 16,
                AES192_CBC | DES_EDE3_CBC => 24,
                AES256_CBC => 32,
                other => return Err(format!("unsupported PKCS#12 cipher {other}")),
            };
            let algorithm = match prf.as_str() {
                HMAC_SHA1 => ring::pbkdf2::PBKDF2_HMAC_SHA1,
                HMAC_SHA256 => ring::pbkdf2::PBKDF2_HMAC_SHA256,
                other => return Err(format!("unsupported PBKDF2 hash {other}")),
            };
            let rounds =
                std::num::NonZeroU32::new(iterations).ok_or("PBKDF2 with zero iterations")?;
            let mut key = vec![0u8; key_len];
            ring::pbkdf2::derive(algorithm, rounds, salt, password.as_bytes(), &mut key);
            let plain = match cipher.as_str() {
                AES128_CBC => cbc_decrypt::<aes::Aes128>(&key, iv, data),
                AES192_CBC => cbc_decrypt::<aes::Aes192>(&key, iv, data),
                AES256_CBC => cbc_decrypt::<aes::Aes256>(&key, iv, data),
                _ => cbc_decrypt::<des::TdesEde3>(&key, iv, data),
            };
            plain.ok_or_else(wrong)
        }
        other => Err(format!("unsupported PKCS#12 encryption {other}")),
    }
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>>
where
    C: BlockDecryptMut + aes::cipher::BlockCipher + KeyInit,
{
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .ok()?
        .decrypt_padded_vec_mut::<Pkcs7>(data)
        .ok()
}

fn integer(content: &[u8]) -> Result<u32, String> {
    if content.is_empty() || content.len() > 5 {
        return Err("iteration count out of range".into());
    }
    let value = content
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    u32::try_from(value)
        .ok()
        .filter(|v| *v <= 10_000_000)
        .ok_or_else(|| "iteration count out of range".into())
}

/// RFC 7292 appendix B.2 key derivation (SHA-1 for the legacy ciphers; the MAC's digest for
/// the MAC key).
fn pkcs12_kdf(
    digest: &'static ring::digest::Algorithm,
    password: &str,
    salt: &[u8],
    iterations: u32,
    id: u8,
    length: usize,
) -> Vec<u8> {
    let v = digest.block_len();
    let hash = |data: &[u8]| ring::digest::digest(digest, data).as_ref().to_vec();
    // The password as a BMPString with a terminating zero (an empty password is just the zero).
    let mut pass: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    pass.extend([0, 0]);
    let fill = |src: &[u8]| -> Vec<u8> {
        if src.is_empty() {
            return Vec::new();
        }
        let len = v * src.len().div_ceil(v);
        src.iter().copied().cycle().take(len).collect()
    };
    let mut i: Vec<u8> = fill(salt);
    i.extend(fill(&pass));
    let d = vec![id; v];
    let mut out = Vec::with_capacity(length);
    while out.len() < length {
        let mut a = hash(&[d.as_slice(), i.as_slice()].concat());
        for _ in 1..iterations {
            a = hash(&a);
        }
        out.extend_from_slice(&a);
        let b: Vec<u8> = a.iter().copied().cycle().take(v).collect();
        for block in i.chunks_mut(v) {
            // block = (block + b + 1) mod 2^(8V)
            let mut carry = 1u16;
            for (x, y) in block.iter_mut().zip(&b).rev() {
                let sum = u16::from(*x) + u16::from(*y) + carry;
                *x = sum as u8;
                carry = sum >> 8;
            }
        }
    }
    out.truncate(length);
    out
}
