//! The local CA's certificate revocation list: read the current one (if any), add a serial,
//! sign the next one with a higher CRL number, and replace the file atomically. `openssl crl
//! -CAfile CA -verify` accepts what is written.

use jiff::Timestamp;
use rcgen::{
    CertificateRevocationListParams, KeyIdMethod, KeyPair, RevocationReason, RevokedCertParams,
    SerialNumber,
};
use std::path::Path;

/// How long a CRL is valid until the next one is due.
const NEXT_UPDATE_DAYS: i64 = 7;

fn to_time(t: Timestamp) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t.as_second())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Adds `serial` (hex) to the CRL at `path`, signed by `issuer`; returns the new CRL number.
pub(super) fn revoke(
    path: &Path,
    issuer: &rcgen::Issuer<'_, KeyPair>,
    serial_hex: &str,
    reason: u8,
    now: Timestamp,
) -> Result<u64, String> {
    let serial =
        decode_hex(serial_hex).ok_or_else(|| format!("serial {serial_hex:?} is not hex"))?;
    let (mut revoked, number) = match std::fs::read(path) {
        Ok(bytes) => current(&bytes).map_err(|e| format!("{}: {e}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Vec::new(), 0),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    if !revoked
        .iter()
        .any(|r: &RevokedCertParams| r.serial_number.as_ref() == serial.as_slice())
    {
        revoked.push(RevokedCertParams {
            serial_number: SerialNumber::from_slice(&serial),
            revocation_time: to_time(now),
            reason_code: Some(reason_of(reason)),
            invalidity_date: None,
        });
    }
    let next = number + 1;
    let params = CertificateRevocationListParams {
        this_update: to_time(now),
        next_update: to_time(
            Timestamp::from_second(now.as_second() + NEXT_UPDATE_DAYS * 86_400).unwrap_or(now),
        ),
        crl_number: SerialNumber::from(next),
        issuing_distribution_point: None,
        revoked_certs: revoked,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let crl = params
        .signed_by(issuer)
        .map_err(|e| format!("cannot sign the CRL: {e}"))?;
    let pem = crl
        .pem()
        .map_err(|e| format!("cannot encode the CRL: {e}"))?;
    crate::durable::write(path, pem.as_bytes(), 0o644)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(next)
}

/// The entries and number of an existing CRL (PEM or DER).
fn current(bytes: &[u8]) -> Result<(Vec<RevokedCertParams>, u64), String> {
    let der = match x509_parser::pem::parse_x509_pem(bytes) {
        Ok((_, pem)) => pem.contents,
        Err(_) => bytes.to_vec(),
    };
    let (_, crl) = x509_parser::parse_x509_crl(&der).map_err(|e| format!("not a CRL: {e}"))?;
    let number = crl
        .crl_number()
        .map(|n| n.to_bytes_be())
        .map(|b| {
            b.iter()
                .rev()
                .take(8)
                .rev()
                .fold(0u64, |acc, x| (acc << 8) | u64::from(*x))
        })
        .unwrap_or(0);
    let revoked = crl
        .iter_revoked_certificates()
        .map(|r| RevokedCertParams {
            serial_number: SerialNumber::from_slice(r.raw_serial()),
            revocation_time: time::OffsetDateTime::from_unix_timestamp(
                r.revocation_date.timestamp(),
            )
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
            reason_code: r.reason_code().map(|(_, code)| reason_of(code.0)),
            invalidity_date: None,
        })
        .collect();
    Ok((revoked, number))
}

/// An RFC 5280 reason code (unknown codes become `unspecified`).
fn reason_of(code: u8) -> RevocationReason {
    match code {
        1 => RevocationReason::KeyCompromise,
        2 => RevocationReason::CaCompromise,
        3 => RevocationReason::AffiliationChanged,
        4 => RevocationReason::Superseded,
        5 => RevocationReason::CessationOfOperation,
        6 => RevocationReason::CertificateHold,
        8 => RevocationReason::RemoveFromCrl,
        9 => RevocationReason::PrivilegeWithdrawn,
        10 => RevocationReason::AaCompromise,
        _ => RevocationReason::Unspecified,
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    let padded = if text.len() % 2 == 1 {
        format!("0{text}")
    } else {
        text.to_owned()
    };
    (0..padded.len() / 2)
        .map(|i| u8::from_str_radix(padded.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}
