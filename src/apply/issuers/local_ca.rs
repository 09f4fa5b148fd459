//! `localCa`: a CA whose certificate and key are PEM files (or the key an environment
//! variable) on the machine running trustops, signing with rcgen.

use super::{CertificateRequest, Issued, Issuer, Request, Revocation};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PublicKeyData, SanType};

/// A local CA, loaded.
pub struct LocalCa {
    issuer: rcgen::Issuer<'static, KeyPair>,
    cert_pem: String,
    crl: Option<std::path::PathBuf>,
}

impl LocalCa {
    /// The CA from its certificate and private key (PKCS#8 or SEC1 PEM).
    pub fn new(cert_pem: &str, key_pem: &str) -> Result<Self, String> {
        let key =
            KeyPair::from_pem(key_pem).map_err(|e| format!("the CA key cannot be read: {e}"))?;
        let issuer = rcgen::Issuer::from_ca_cert_pem(cert_pem, key)
            .map_err(|e| format!("the CA certificate cannot be read: {e}"))?;
        let first = pem_blocks(cert_pem).into_iter().next().unwrap_or_default();
        Ok(LocalCa {
            issuer,
            cert_pem: first,
            crl: None,
        })
    }

    /// Keeps the CA's revocation list at `crl` (its `crlFile`).
    pub fn with_crl(mut self, crl: Option<std::path::PathBuf>) -> Self {
        self.crl = crl;
        self
    }
}

/// The subject key as rcgen signs over it.
struct SubjectKey<'a>(&'a CertificateRequest);

impl PublicKeyData for SubjectKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.0.public_key
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.0.key_algorithm.rcgen()
    }
}

fn to_time(t: jiff::Timestamp) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t.as_second())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

impl Issuer for LocalCa {
    fn issue(&self, request: &Request, idempotency_key: &str) -> Result<Issued, super::Error> {
        // A local CA fails only on what it is given: nothing to wait for.
        self.sign(request, idempotency_key)
            .map_err(super::Error::permanent)
    }

    fn revoke(&self, what: &Revocation<'_>, now: jiff::Timestamp) -> Result<String, super::Error> {
        self.revoke_serial(what, now)
            .map_err(super::Error::permanent)
    }
}

impl LocalCa {
    fn sign(&self, request: &Request, _idempotency_key: &str) -> Result<Issued, String> {
        let Request::Certificate(r) = request else {
            return Err("a local CA issues certificates, not secrets".into());
        };
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        if let Some(cn) = r.common_name.as_ref().or(r.dns_names.first()) {
            name.push(DnType::CommonName, cn.as_str());
        }
        params.distinguished_name = name;
        for dns in &r.dns_names {
            let dns = dns
                .clone()
                .try_into()
                .map_err(|e| format!("DNS name {dns}: {e}"))?;
            params.subject_alt_names.push(SanType::DnsName(dns));
        }
        for ip in &r.ip_addresses {
            params.subject_alt_names.push(SanType::IpAddress(*ip));
        }
        for uri in &r.uris {
            let value = uri
                .clone()
                .try_into()
                .map_err(|e| format!("URI {uri}: {e}"))?;
            params.subject_alt_names.push(SanType::URI(value));
        }
        params.not_before = to_time(r.not_before);
        params.not_after = to_time(r.not_after);
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params
            .signed_by(&SubjectKey(r), &self.issuer)
            .map_err(|e| format!("signing failed: {e}"))?;
        Ok(Issued::Certificate {
            chain_pem: format!("{}{}", cert.pem(), self.cert_pem),
        })
    }

    fn revoke_serial(&self, what: &Revocation<'_>, now: jiff::Timestamp) -> Result<String, String> {
        let path = self
            .crl
            .as_deref()
            .ok_or("the local CA declares no crlFile to publish revocations in")?;
        let number = super::crl::revoke(path, &self.issuer, what.serial, what.reason, now)?;
        Ok(format!(
            "serial {} added to {} (CRL number {number}, {})",
            what.serial,
            path.display(),
            super::reason_name(what.reason)
        ))
    }
}

impl LocalCa {
    /// The revocation list this CA keeps, if it keeps one.
    pub fn crl(&self) -> Option<&std::path::Path> {
        self.crl.as_deref()
    }
}

/// The PEM blocks of `text`, each with its final newline.
fn pem_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with("-----BEGIN ") {
            current.clear();
        }
        current.push_str(line);
        current.push('\n');
        if line.starts_with("-----END ") {
            blocks.push(std::mem::take(&mut current));
        }
    }
    blocks
}
