//! OCSP (RFC 6960): asks the responder a certificate's Authority Information Access names
//! whether its CA revoked it, and believes the answer only when the CA itself, or a responder
//! certificate the CA signed for OCSP, signed it, and only while it is current.

use crate::der::{self, Tlv};
use jiff::Timestamp;
use x509_parser::prelude::{FromDer, SubjectPublicKeyInfo, X509Certificate};

/// SHA-1's AlgorithmIdentifier, as OCSP CertIDs use it.
const SHA1: [u8; 11] = [
    0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00,
];
/// id-pkix-ocsp-basic.
const BASIC: &str = "1.3.6.1.5.5.7.48.1.1";
const ENUMERATED: u8 = 0x0a;
const GENERALIZED_TIME: u8 = 0x18;
/// How far a responder's clock may run ahead of ours.
const SKEW_SECONDS: i64 = 300;

/// What a responder said about one certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    Good,
    /// When, and the RFC 5280 reason code if given.
    Revoked(Timestamp, Option<u8>),
}

/// What is needed to ask about a certificate.
pub(super) struct Question<'a> {
    /// The responder's URL.
    pub url: &'a str,
    /// SHA-1 of the certificate's issuer name (DER).
    pub issuer_name_sha1: &'a [u8],
    /// The issuing CA's SubjectPublicKeyInfo (DER).
    pub issuer_key: &'a [u8],
    /// The certificate's serial, lowercase hex.
    pub serial: &'a str,
}

/// Asks `question.url` and checks the answer.
pub(super) fn ask(
    question: &Question<'_>,
    now: Timestamp,
    timeout: std::time::Duration,
) -> Result<Status, String> {
    let (_, key) = SubjectPublicKeyInfo::from_der(question.issuer_key)
        .map_err(|_| "the CA's public key does not parse".to_owned())?;
    let key_sha1 = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        &key.subject_public_key.data,
    );
    let serial = serial_bytes(question.serial).ok_or("the serial is not hex")?;
    let cert_id = cert_id(question.issuer_name_sha1, key_sha1.as_ref(), &serial);
    let request = seq(&seq(&seq(&seq(&cert_id))));
    let sent = crate::http::Request {
        timeout,
        limit: 1 << 20,
        ..crate::http::Request::post(question.url, "application/ocsp-request", &request)
    };
    let body = match crate::http::send(&sent) {
        Ok((200, body)) => body,
        Ok((status, _)) => return Err(format!("answered HTTP {status}")),
        Err(e) => return Err(format!("cannot be asked: {e}")),
    };
    read_answer(&body, &cert_id, question.issuer_key, now)
}

fn seq(content: &[u8]) -> Vec<u8> {
    der::write(der::SEQUENCE, content)
}

/// A CertID: SHA-1, the issuer's name and key hashes, the serial.
fn cert_id(name_sha1: &[u8], key_sha1: &[u8], serial: &[u8]) -> Vec<u8> {
    let mut content = SHA1.to_vec();
    content.extend(der::write(der::OCTET_STRING, name_sha1));
    content.extend(der::write(der::OCTET_STRING, key_sha1));
    content.extend(der::write(der::INTEGER, serial));
    seq(&content)
}

/// A positive INTEGER's content from lowercase hex.
fn serial_bytes(hex: &str) -> Option<Vec<u8>> {
    let padded = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    let mut bytes = (0..padded.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(padded.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    if bytes.first().is_none_or(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    Some(bytes)
}

/// The status an OCSPResponse gives the certificate of `cert_id`, once its signature verifies
/// with the CA's key (or a delegated responder's the CA signed) and it is current.
fn read_answer(
    body: &[u8],
    cert_id: &[u8],
    ca_key: &[u8],
    now: Timestamp,
) -> Result<Status, String> {
    let malformed = || "is not an OCSP answer".to_owned();
    let response = der::read_all(body).ok_or_else(malformed)?;
    let mut parts = der::children(response.content);
    let status = parts
        .next()
        .filter(|t| t.tag == ENUMERATED)
        .ok_or_else(malformed)?;
    match status.content {
        [0] => {}
        [1] => return Err("answered malformedRequest".into()),
        [2] => return Err("answered internalError".into()),
        [3] => return Err("answered tryLater".into()),
        [6] => return Err("answered unauthorized: it does not serve this CA".into()),
        _ => return Err(malformed()),
    }
    let bytes = parts
        .next()
        .filter(|t| t.tag == 0xa0)
        .and_then(|t| der::read_all(t.content))
        .ok_or_else(malformed)?;
    let mut bytes = der::children(bytes.content);
    let kind = bytes.next().and_then(|t| der::oid_string(t.content));
    if kind.as_deref() != Some(BASIC) {
        return Err("answered a response type other than basic".into());
    }
    let basic = bytes
        .next()
        .filter(|t| t.tag == der::OCTET_STRING)
        .and_then(|t| der::read_all(t.content))
        .ok_or_else(malformed)?;
    let mut basic = der::children(basic.content);
    let (Some(data), Some(algorithm), Some(signature)) = (basic.next(), basic.next(), basic.next())
    else {
        return Err(malformed());
    };
    let algorithm = der::children(algorithm.content)
        .next()
        .and_then(|o| der::oid_string(o.content))
        .ok_or_else(malformed)?;
    let signature = signature.content.get(1..).ok_or_else(malformed)?;
    let signers = signers(basic.next(), ca_key);
    if !signers
        .iter()
        .any(|key| crate::signature::verify(key, &algorithm, data.raw, signature).is_ok())
    {
        return Err(
            "signed its answer with a key neither the CA nor a responder it delegated to holds"
                .into(),
        );
    }
    single(data, cert_id, now)
}

/// Keys that may sign answers: the CA's, and those of responder certificates in the answer
/// that the CA signed with the OCSPSigning usage.
fn signers(certs: Option<Tlv<'_>>, ca_key: &[u8]) -> Vec<Vec<u8>> {
    let mut keys = vec![ca_key.to_vec()];
    let Some(list) = certs
        .filter(|t| t.tag == 0xa0)
        .and_then(|t| der::read_all(t.content))
    else {
        return keys;
    };
    for cert in der::children(list.content) {
        let Ok((_, parsed)) = X509Certificate::from_der(cert.raw) else {
            continue;
        };
        let delegated = parsed
            .extended_key_usage()
            .ok()
            .flatten()
            .is_some_and(|e| e.value.ocsp_signing);
        let algorithm = crate::signature::dotted(parsed.signature_algorithm.algorithm.as_bytes());
        let signed_by_ca = crate::signature::verify(
            ca_key,
            &algorithm,
            parsed.tbs_certificate.as_ref(),
            &parsed.signature_value.data,
        )
        .is_ok();
        if delegated && signed_by_ca {
            keys.push(parsed.public_key().raw.to_vec());
        }
    }
    keys
}

/// The SingleResponse about `cert_id` in ResponseData `data`.
fn single(data: Tlv<'_>, cert_id: &[u8], now: Timestamp) -> Result<Status, String> {
    let malformed = || "is not an OCSP answer".to_owned();
    let responses = der::children(data.content)
        .filter(|t| t.tag == der::SEQUENCE)
        .last()
        .ok_or_else(malformed)?;
    for response in der::children(responses.content) {
        let mut fields = der::children(response.content);
        let (Some(id), Some(status), Some(this_update)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(malformed());
        };
        if !same_cert(id, cert_id) {
            continue;
        }
        let this_update = time(this_update).ok_or_else(malformed)?;
        if this_update.as_second() > now.as_second() + SKEW_SECONDS {
            return Err(format!("answered from the future ({this_update})"));
        }
        let next_update = fields
            .next()
            .filter(|t| t.tag == 0xa0)
            .and_then(|t| der::read_all(t.content))
            .and_then(time);
        if let Some(next) = next_update
            && next < now
        {
            return Err(format!("answered stale news (next update was due {next})"));
        }
        return match status.tag {
            0x80 => Ok(Status::Good),
            0xa1 => {
                let mut info = der::children(status.content);
                let at = info.next().and_then(time).ok_or_else(malformed)?;
                let reason = info
                    .next()
                    .filter(|t| t.tag == 0xa0)
                    .and_then(|t| der::read_all(t.content))
                    .and_then(|e| e.content.first().copied());
                Ok(Status::Revoked(at, reason))
            }
            _ => Err("does not know the certificate".into()),
        };
    }
    Err("answered about other certificates only".into())
}

/// Whether the CertID `id` names the same certificate as ours (hashes and serial; the
/// algorithm's NULL parameters may be absent).
fn same_cert(id: Tlv<'_>, ours: &[u8]) -> bool {
    let Some(ours) = der::read_all(ours) else {
        return false;
    };
    let theirs: Vec<&[u8]> = der::children(id.content)
        .skip(1)
        .map(|t| t.content)
        .collect();
    let ours: Vec<&[u8]> = der::children(ours.content)
        .skip(1)
        .map(|t| t.content)
        .collect();
    theirs.len() == 3 && theirs == ours
}

/// A GeneralizedTime (`YYYYMMDDHHMMSS[.f]Z`).
fn time(t: Tlv<'_>) -> Option<Timestamp> {
    if t.tag != GENERALIZED_TIME {
        return None;
    }
    let text = std::str::from_utf8(t.content).ok()?;
    let digits = text.get(..14)?;
    let n = |range: std::ops::Range<usize>| digits.get(range)?.parse::<i16>().ok();
    let date = jiff::civil::date(
        n(0..4)?,
        i8::try_from(n(4..6)?).ok()?,
        i8::try_from(n(6..8)?).ok()?,
    );
    let time = jiff::civil::time(
        i8::try_from(n(8..10)?).ok()?,
        i8::try_from(n(10..12)?).ok()?,
        i8::try_from(n(12..14)?).ok()?,
        0,
    );
    if !text.ends_with('Z') {
        return None;
    }
    jiff::tz::TimeZone::UTC
        .to_timestamp(date.to_datetime(time))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_positive_integers() {
        assert_eq!(serial_bytes("1012"), Some(vec![0x10, 0x12]));
        assert_eq!(serial_bytes("abc"), Some(vec![0x0a, 0xbc]));
        assert_eq!(serial_bytes("ff"), Some(vec![0x00, 0xff]));
        assert_eq!(serial_bytes("xyz"), None);
    }

    #[test]
    fn garbage_is_no_answer() {
        let id = cert_id(&[1; 20], &[2; 20], &[1]);
        for body in [
            &b""[..],
            b"\x30\x03\x0a\x01\x00",
            b"\x30\x03\x0a\x01\x03",
            b"not der",
        ] {
            assert!(read_answer(body, &id, &[], Timestamp::UNIX_EPOCH).is_err());
        }
    }
}
