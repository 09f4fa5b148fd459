//! One certificate revocation list, parsed (PEM or DER) and checked: who signed it, until when
//! it is current, and which serials it revokes, when and why.

use jiff::Timestamp;
use std::collections::HashMap;

/// A parsed CRL.
#[derive(Clone, Debug)]
pub(super) struct Crl {
    /// The issuer's DN, RFC 4514, as the inventory writes certificate issuers.
    pub issuer: String,
    /// When the next one is due; past it, an absent serial proves nothing.
    pub next_update: Option<Timestamp>,
    /// Revoked serials (lowercase hex, as the inventory writes them): when, and the RFC 5280
    /// reason code if given.
    pub entries: HashMap<String, (Timestamp, Option<u8>)>,
    /// The signed part, its algorithm (dotted OID) and the signature.
    signed: Vec<u8>,
    algorithm: String,
    signature: Vec<u8>,
}

impl Crl {
    /// Parses a CRL from PEM (`X509 CRL`) or DER bytes.
    pub(super) fn parse(bytes: &[u8]) -> Result<Crl, String> {
        let der = match x509_parser::pem::parse_x509_pem(bytes) {
            Ok((_, pem)) if pem.label == "X509 CRL" => pem.contents,
            Ok((_, pem)) => return Err(format!("a PEM {} block, not a CRL", pem.label)),
            Err(_) => bytes.to_vec(),
        };
        let (_, crl) =
            x509_parser::parse_x509_crl(&der).map_err(|_| "not a valid CRL".to_owned())?;
        let at = |t: x509_parser::time::ASN1Time| {
            Timestamp::from_second(t.timestamp()).unwrap_or(Timestamp::UNIX_EPOCH)
        };
        let tbs = &crl.tbs_cert_list;
        let entries = crl
            .iter_revoked_certificates()
            .map(|r| {
                (
                    crate::discover::serial_hex(r.raw_serial()),
                    (at(r.revocation_date), r.reason_code().map(|(_, c)| c.0)),
                )
            })
            .collect();
        Ok(Crl {
            issuer: crate::discover::rfc4514(&tbs.issuer),
            next_update: tbs.next_update.map(at),
            entries,
            signed: tbs.as_ref().to_vec(),
            algorithm: crate::signature::dotted(crl.signature_algorithm.algorithm.as_bytes()),
            signature: crl.signature_value.data.to_vec(),
        })
    }

    /// Whether the CA whose public key is `spki` (DER) signed it.
    pub(super) fn signed_by(&self, spki: &[u8]) -> Result<(), String> {
        crate::signature::verify(spki, &self.algorithm, &self.signed, &self.signature)
    }

    /// Whether it was still current at `now`.
    pub(super) fn current_at(&self, now: Timestamp) -> bool {
        self.next_update.is_none_or(|next| now <= next)
    }
}
