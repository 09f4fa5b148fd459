//! The demo's CA and host certificates, minted relative to `now`.

use super::{Error, write};
use jiff::Timestamp;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData, SanType, SignatureAlgorithm,
};
use std::path::Path;

/// A certificate the demo planted, and the condition it demonstrates.
#[derive(Clone, Debug)]
pub struct Planted {
    /// Path under `pki/`.
    pub file: String,
    /// Its DNS name.
    pub dns_name: String,
    /// Its notAfter (none for a key).
    pub not_after: Option<Timestamp>,
    /// What it is there to show ("healthy", "expires in 3 days", ...).
    pub condition: &'static str,
}

#[derive(Clone, Copy, PartialEq)]
enum Key {
    /// A fresh P-256 key, written beside the certificate.
    Ec,
    /// The fixed RSA-1024 public key below; no private key is written.
    WeakRsa,
}

struct Host {
    file: &'static str,
    dns: &'static str,
    /// More DNS names than the identity declares (drift).
    extra_dns: &'static [&'static str],
    spiffe: Option<&'static str>,
    /// notBefore, days before now.
    issued: i64,
    /// notAfter, days after now (negative: already expired).
    expires: i64,
    key: Key,
    /// Self-signed instead of issued by the demo CA.
    rogue: bool,
    condition: &'static str,
}

const HOSTS: [Host; 7] = [
    Host {
        file: "hosts/payments/payments-api.pem",
        dns: "payments-api.payments.svc",
        extra_dns: &[],
        spiffe: Some("spiffe://demo.trustops.dev/ns/payments/sa/payments-api"),
        issued: 2,
        expires: 28,
        key: Key::Ec,
        rogue: false,
        condition: "healthy",
    },
    Host {
        file: "hosts/payments/ledger.pem",
        dns: "ledger.payments.svc",
        extra_dns: &[],
        spiffe: Some("spiffe://demo.trustops.dev/ns/payments/sa/ledger"),
        issued: 27,
        expires: 3,
        key: Key::Ec,
        rogue: false,
        condition: "expires in 3 days",
    },
    Host {
        file: "hosts/web/www.pem",
        dns: "www.demo.example",
        extra_dns: &["www2.demo.example"],
        spiffe: None,
        issued: 30,
        expires: 60,
        key: Key::Ec,
        rogue: false,
        condition: "drift: carries www2.demo.example, which is not declared",
    },
    Host {
        file: "hosts/web/checkout.pem",
        dns: "checkout.demo.example",
        extra_dns: &[],
        spiffe: None,
        issued: 85,
        expires: 5,
        key: Key::Ec,
        rogue: false,
        condition: "expires in 5 days",
    },
    Host {
        file: "hosts/web/billing.pem",
        dns: "billing.demo.example",
        extra_dns: &[],
        spiffe: None,
        issued: 92,
        expires: -2,
        key: Key::Ec,
        rogue: false,
        condition: "expired 2 days ago",
    },
    Host {
        file: "hosts/data/analytics.pem",
        dns: "analytics.demo.example",
        extra_dns: &[],
        spiffe: None,
        issued: 10,
        expires: 80,
        key: Key::WeakRsa,
        rogue: false,
        condition: "weak key: RSA-1024",
    },
    Host {
        file: "hosts/shadow-it/grafana.pem",
        dns: "grafana.demo.example",
        extra_dns: &[],
        spiffe: None,
        issued: 100,
        expires: 265,
        key: Key::Ec,
        rogue: true,
        condition: "rogue: self-signed, declared by no identity",
    },
];

/// A 1024-bit RSA public key (PKCS#1 `RSAPublicKey`, DER). ring, which rcgen uses, cannot
/// generate RSA keys, so the demo's deliberately weak certificate is minted over this fixed
/// public key; its private key was never kept.
const WEAK_RSA_1024: &str = "30818902818100ea4b50a2b9232314782be6cd48cf7f3c60eead27cea00efe65c0b6c34cbc8052a7b529e63add41bb5cf0f2c2f0d4c19d1614427979d641f82e803c7070d62edddf7e33455277ce08a6742abbd8eb8bb94b7206928098ecdedc1070e058761c55399ed61999f0ad855ee123d8541bf381cdd2ff1ba3826986e318b7dda192f3f70203010001";

struct RsaPublicKey(Vec<u8>);

impl PublicKeyData for RsaPublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .filter_map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// `now` moved by whole days (of 24 hours: timestamps have no calendar).
fn shift(now: Timestamp, days: i64) -> Timestamp {
    Timestamp::from_second(now.as_second().saturating_add(days.saturating_mul(86_400)))
        .unwrap_or(now)
}

fn at(now: Timestamp, days: i64) -> time::OffsetDateTime {
    let t = shift(now, days);
    time::OffsetDateTime::from_unix_timestamp(t.as_second())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Mints the CA and every host certificate into `pki`.
pub(super) fn mint(pki: &Path, now: Timestamp) -> Result<Vec<Planted>, Error> {
    let mint_err = |name: &str| {
        let name = name.to_owned();
        move |source| Error::Mint { name, source }
    };
    let ca_key = KeyPair::generate().map_err(mint_err("CA key"))?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name = name("trustops demo CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = at(now, -1);
    ca.not_after = at(now, 3650);
    let ca_cert = ca.self_signed(&ca_key).map_err(mint_err("CA"))?;
    write(&pki.join("ca/ca.pem"), ca_cert.pem().as_bytes(), 0o644)?;
    write(
        &pki.join("ca/ca.key"),
        ca_key.serialize_pem().as_bytes(),
        0o600,
    )?;
    let issuer = Issuer::new(ca, ca_key);

    let mut planted = Vec::new();
    for host in &HOSTS {
        let names = std::iter::once(host.dns).chain(host.extra_dns.iter().copied());
        let mut params = CertificateParams::new(names.map(str::to_owned).collect::<Vec<_>>())
            .map_err(mint_err(host.dns))?;
        params.distinguished_name = name(host.dns);
        if let Some(uri) = host.spiffe {
            let uri = uri.try_into().map_err(mint_err(host.dns))?;
            params.subject_alt_names.push(SanType::URI(uri));
        }
        params.not_before = at(now, -host.issued);
        params.not_after = at(now, host.expires);
        let cert = match (host.key, host.rogue) {
            (Key::WeakRsa, _) => params.signed_by(&RsaPublicKey(hex(WEAK_RSA_1024)), &issuer),
            (Key::Ec, rogue) => {
                let key = KeyPair::generate().map_err(mint_err(host.dns))?;
                let key_file = host.file.replace(".pem", ".key");
                write(&pki.join(&key_file), key.serialize_pem().as_bytes(), 0o600)?;
                if rogue {
                    params.self_signed(&key)
                } else {
                    params.signed_by(&key, &issuer)
                }
            }
        }
        .map_err(mint_err(host.dns))?;
        let mut pem = cert.pem();
        if !host.rogue {
            pem.push_str(&ca_cert.pem());
        }
        write(&pki.join(host.file), pem.as_bytes(), 0o644)?;
        planted.push(Planted {
            file: host.file.to_owned(),
            dns_name: host.dns.to_owned(),
            not_after: Some(shift(now, host.expires)),
            condition: host.condition,
        });
    }
    // A key left behind with no certificate: a finding of its own.
    let stray = KeyPair::generate().map_err(mint_err("stray key"))?;
    write(
        &pki.join(STRAY_KEY),
        stray.serialize_pem().as_bytes(),
        0o600,
    )?;
    planted.push(Planted {
        file: STRAY_KEY.to_owned(),
        dns_name: String::new(),
        not_after: None,
        condition: "a private key with no certificate",
    });
    Ok(planted)
}

/// Where the demo leaves a key with no certificate.
const STRAY_KEY: &str = "hosts/web/old-www.key";

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "trustops demo");
    dn.push(DnType::CommonName, common_name);
    dn
}
