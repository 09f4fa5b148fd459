//! Certificate facts from DER, with names in RFC 4514 form as `openssl x509 -nameopt RFC2253`
//! prints them (UTF-8 kept as is).

use super::inventory::{Credential, CredentialKind, Time, hex, sha256_hex};
use super::keys::spki_facts;
use x509_parser::asn1_rs::ToDer;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate, X509Name};

/// OpenSSL's short names for attribute types; others print as a dotted OID with `#` and the
/// hex DER of the value, as RFC 4514 says.
const ATTRIBUTES: [(&str, &str); 24] = [
    ("2.5.4.3", "CN"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.9", "street"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("0.9.2342.19200300.100.1.1", "UID"),
    ("1.2.840.113549.1.9.1", "emailAddress"),
    ("2.5.4.5", "serialNumber"),
    ("2.5.4.4", "SN"),
    ("2.5.4.42", "GN"),
    ("2.5.4.12", "title"),
    ("2.5.4.43", "initials"),
    ("2.5.4.41", "name"),
    ("2.5.4.46", "dnQualifier"),
    ("2.5.4.65", "pseudonym"),
    ("2.5.4.15", "businessCategory"),
    ("2.5.4.17", "postalCode"),
    ("2.5.4.97", "organizationIdentifier"),
    ("1.3.6.1.4.1.311.60.2.1.1", "jurisdictionL"),
    ("1.3.6.1.4.1.311.60.2.1.2", "jurisdictionST"),
    ("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC"),
];

/// Facts of one certificate.
pub(super) fn certificate(der: &[u8]) -> Result<Credential, String> {
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| format!("not a valid X.509 certificate: {e}"))?;
    let registry = x509_parser::objects::oid_registry();
    let serial = cert
        .raw_serial()
        .iter()
        .skip_while(|b| **b == 0)
        .copied()
        .collect::<Vec<_>>();
    let serial = match hex(&serial).trim_start_matches('0') {
        "" => "0".to_owned(),
        s => s.to_owned(),
    };
    let (mut dns, mut ips, mut uris) = (Vec::new(), Vec::new(), Vec::new());
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => dns.push((*d).to_owned()),
                GeneralName::URI(u) => uris.push((*u).to_owned()),
                GeneralName::IPAddress(bytes) => ips.push(ip(bytes)),
                _ => {}
            }
        }
    }
    for list in [&mut dns, &mut ips, &mut uris] {
        list.sort();
        list.dedup();
    }
    let spki = cert.public_key().raw;
    let key = spki_facts(spki);
    let sig_oid = &cert.signature_algorithm.algorithm;
    let signature = signature_name(
        &sig_oid.to_id_string(),
        registry.get(sig_oid).map(|e| e.sn()),
    );
    let is_ca = cert
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|b| b.value.ca);
    Ok(Credential {
        kind: CredentialKind::X509Certificate,
        sha256: sha256_hex(der),
        serial: Some(serial),
        subject: Some(rfc4514(cert.subject())),
        issuer: Some(rfc4514(cert.issuer())),
        not_before: Some(Time::from_unix(cert.validity().not_before.timestamp())),
        not_after: Some(Time::from_unix(cert.validity().not_after.timestamp())),
        dns_names: Some(dns),
        ip_addresses: Some(ips),
        uris: Some(uris),
        key_type: key.key_type,
        key_bits: key.bits,
        curve: key.curve,
        signature_algorithm: Some(signature),
        is_ca: Some(is_ca),
        public_key_sha256: Some(sha256_hex(spki)),
        ..Credential::default()
    })
}

/// OpenSSL's names where the registry differs.
fn signature_name(oid: &str, registry: Option<&str>) -> String {
    match oid {
        "1.3.101.112" => "ED25519".into(),
        "1.3.101.113" => "ED448".into(),
        "1.2.840.113549.1.1.10" => "rsassaPss".into(),
        _ => registry.map_or_else(|| oid.to_owned(), str::to_owned),
    }
}

fn ip(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(octets).to_string()
        }
        _ => format!("#{}", hex(bytes)),
    }
}

/// RFC 4514: RDNs last to first, `,` between RDNs, `+` inside one.
pub(super) fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    let value = atv.attr_value();
                    match ATTRIBUTES.iter().find(|(o, _)| *o == oid) {
                        Some((_, short)) => {
                            format!("{short}={}", escape(&decode(value.tag().0, value.data)))
                        }
                        None => format!("{oid}=#{}", hex(&value.to_der_vec().unwrap_or_default())),
                    }
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// A directory string's text by its ASN.1 type; T61 and unknown types as Latin-1.
fn decode(tag: u32, data: &[u8]) -> String {
    match tag {
        30 => {
            let units: Vec<u16> = data
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        28 => data
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .filter_map(char::from_u32)
            .collect(),
        12 | 19 | 22 | 26 => String::from_utf8_lossy(data).into_owned(),
        _ => data.iter().map(|b| char::from(*b)).collect(),
    }
}

/// RFC 2253 escaping as OpenSSL does it: `,+"\<>;` anywhere, `#` or space first, space last,
/// control characters as `\XX`.
fn escape(value: &str) -> String {
    let count = value.chars().count();
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i + 1 == count => out.push_str("\\ "),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\{:02X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_like_openssl() {
        assert_eq!(escape("Acme, Inc."), "Acme\\, Inc.");
        assert_eq!(escape("#1 "), "\\#1\\ ");
        assert_eq!(escape("a\u{1}b"), "a\\01b");
        assert_eq!(escape("Müller"), "Müller");
    }
}
