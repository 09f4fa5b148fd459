//! Certificate facts from DER, with names in RFC 4514 form as `openssl x509 -nameopt RFC2253`
//! prints them (UTF-8 kept as is).

use super::inventory::{Credential, CredentialKind, Time, hex, sha256_hex};
use super::keys::spki_facts;
use crate::intern::Shared;
use base64::Engine;
use x509_parser::asn1_rs::ToDer;
use x509_parser::extensions::{
    AuthorityInfoAccess, AuthorityKeyIdentifier, BasicConstraints, CRLDistributionPoints,
    DistributionPointName, ExtendedKeyUsage, SubjectAlternativeName,
};
use x509_parser::nom::Parser;
use x509_parser::oid_registry::{
    OID_PKIX_ACCESS_DESCRIPTOR_OCSP, OID_PKIX_AUTHORITY_INFO_ACCESS,
    OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER, OID_X509_EXT_BASIC_CONSTRAINTS,
    OID_X509_EXT_CRL_DISTRIBUTION_POINTS, OID_X509_EXT_EXTENDED_KEY_USAGE,
    OID_X509_EXT_SUBJECT_ALT_NAME,
};
use x509_parser::prelude::{FromDer, GeneralName, X509CertificateParser, X509Name};

/// OpenSSL's short names for attribute types; others print as a dotted OID with `#` and the
/// hex DER of the value, as RFC 4514 says.
const ATTRIBUTES: [(&str, &str); 30] = [
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
    ("1.2.643.3.131.1.1", "INN"),
    ("1.2.643.100.1", "OGRN"),
    ("1.2.643.100.3", "SNILS"),
    ("1.2.643.100.5", "OGRNIP"),
    ("2.5.4.44", "generationQualifier"),
    ("2.5.4.45", "x500UniqueIdentifier"),
];

/// OpenSSL's names for signature algorithms (its long names where `x509 -text` uses them).
const SIGNATURES: [(&str, &str); 30] = [
    ("1.2.840.113549.1.1.2", "md2WithRSAEncryption"),
    ("1.2.840.113549.1.1.4", "md5WithRSAEncryption"),
    ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption"),
    ("1.2.840.113549.1.1.14", "sha224WithRSAEncryption"),
    ("1.2.840.113549.1.1.11", "sha256WithRSAEncryption"),
    ("1.2.840.113549.1.1.12", "sha384WithRSAEncryption"),
    ("1.2.840.113549.1.1.13", "sha512WithRSAEncryption"),
    ("1.2.840.113549.1.1.10", "rsassaPss"),
    ("1.3.14.3.2.29", "sha1WithRSA"),
    ("1.2.840.10040.4.3", "dsaWithSHA1"),
    ("2.16.840.1.101.3.4.3.1", "dsa_with_SHA224"),
    ("2.16.840.1.101.3.4.3.2", "dsa_with_SHA256"),
    ("1.2.840.10045.4.1", "ecdsa-with-SHA1"),
    ("1.2.840.10045.4.3.1", "ecdsa-with-SHA224"),
    ("1.2.840.10045.4.3.2", "ecdsa-with-SHA256"),
    ("1.2.840.10045.4.3.3", "ecdsa-with-SHA384"),
    ("1.2.840.10045.4.3.4", "ecdsa-with-SHA512"),
    ("2.16.840.1.101.3.4.3.9", "ecdsa_with_SHA3-224"),
    ("2.16.840.1.101.3.4.3.10", "ecdsa_with_SHA3-256"),
    ("2.16.840.1.101.3.4.3.11", "ecdsa_with_SHA3-384"),
    ("2.16.840.1.101.3.4.3.12", "ecdsa_with_SHA3-512"),
    ("2.16.840.1.101.3.4.3.13", "RSA-SHA3-224"),
    ("2.16.840.1.101.3.4.3.14", "RSA-SHA3-256"),
    ("2.16.840.1.101.3.4.3.15", "RSA-SHA3-384"),
    ("2.16.840.1.101.3.4.3.16", "RSA-SHA3-512"),
    ("1.3.101.112", "ED25519"),
    ("1.3.101.113", "ED448"),
    ("1.2.643.2.2.3", "GOST R 34.11-94 with GOST R 34.10-2001"),
    (
        "1.2.643.7.1.1.3.2",
        "GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit)",
    ),
    (
        "1.2.643.7.1.1.3.3",
        "GOST R 34.10-2012 with GOST R 34.11-2012 (512 bit)",
    ),
];

/// Facts of one certificate.
pub(super) fn certificate(der: &[u8]) -> Result<Credential, String> {
    // Extensions are parsed only for the two facts needed (SANs, CA flag): deep-parsing all
    // of them costs more than the rest of the certificate.
    let (_, cert) = X509CertificateParser::new()
        .with_deep_parse_extensions(false)
        .parse(der)
        .map_err(|e| format!("not a valid X.509 certificate: {e}"))?;
    let serial = serial_hex(cert.raw_serial());
    let (mut dns, mut ips, mut uris) = (Vec::new(), Vec::new(), Vec::new());
    // The first occurrence of each extension, as OpenSSL reads a certificate that repeats one
    // (x509-parser refuses duplicates outright).
    let first = |wanted| {
        cert.extensions()
            .iter()
            .find(|e| e.oid == wanted)
            .map(|e| e.value)
    };
    let san =
        first(OID_X509_EXT_SUBJECT_ALT_NAME).and_then(|v| SubjectAlternativeName::from_der(v).ok());
    if let Some((_, san)) = san {
        for name in &san.general_names {
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
    // The algorithm named inside the signed part, as `openssl x509 -text` shows first; it
    // equals the outer one in every well-formed certificate.
    let sig_oid = &cert.tbs_certificate.signature.algorithm;
    let signature = signature_name(&oid(sig_oid), || {
        x509_parser::objects::oid_registry()
            .get(sig_oid)
            .map(|e| e.sn().to_owned())
    });
    let is_ca = first(OID_X509_EXT_BASIC_CONSTRAINTS)
        .and_then(|v| BasicConstraints::from_der(v).ok())
        .is_some_and(|(_, b)| b.ca);
    let extended_key_usage = first(OID_X509_EXT_EXTENDED_KEY_USAGE)
        .and_then(|v| ExtendedKeyUsage::from_der(v).ok())
        .map(|(_, eku)| usages(&eku).into());
    let uri = |name: &GeneralName<'_>| match name {
        GeneralName::URI(u) => Some(Shared::from(*u)),
        _ => None,
    };
    let crl_urls: Vec<Shared> = first(OID_X509_EXT_CRL_DISTRIBUTION_POINTS)
        .and_then(|v| CRLDistributionPoints::from_der(v).ok())
        .map(|(_, points)| {
            points
                .iter()
                .filter_map(|p| match &p.distribution_point {
                    Some(DistributionPointName::FullName(names)) => Some(names),
                    _ => None,
                })
                .flatten()
                .filter_map(uri)
                .collect()
        })
        .unwrap_or_default();
    let ocsp_urls: Vec<Shared> = first(OID_PKIX_AUTHORITY_INFO_ACCESS)
        .and_then(|v| AuthorityInfoAccess::from_der(v).ok())
        .map(|(_, aia)| {
            aia.accessdescs
                .iter()
                .filter(|d| d.access_method == OID_PKIX_ACCESS_DESCRIPTOR_OCSP)
                .filter_map(|d| uri(&d.access_location))
                .collect()
        })
        .unwrap_or_default();
    let authority_key_id = first(OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER)
        .and_then(|v| AuthorityKeyIdentifier::from_der(v).ok())
        .and_then(|(_, aki)| aki.key_identifier.map(|k| hex(k.0)));
    let some = |list: Vec<Shared>| (!list.is_empty()).then(|| list.into());
    let mut credential = Credential {
        kind: CredentialKind::X509Certificate,
        sha256: sha256_hex(der),
        serial: Some(serial.into()),
        subject: Some(rfc4514(cert.subject()).into()),
        issuer: Some(rfc4514(cert.issuer()).into()),
        not_before: Some(Time::from_unix(cert.validity().not_before.timestamp())),
        not_after: Some(Time::from_unix(cert.validity().not_after.timestamp())),
        dns_names: Some(dns.into()),
        ip_addresses: Some(ips.into()),
        uris: Some(uris.into()),
        signature_algorithm: Some(signature.into()),
        is_ca: Some(is_ca),
        public_key_sha256: Some(sha256_hex(spki).into()),
        extended_key_usage,
        crl_urls: some(crl_urls),
        issuer_name_sha1: (!ocsp_urls.is_empty()).then(|| {
            hex(ring::digest::digest(
                &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
                cert.issuer().as_raw(),
            )
            .as_ref())
            .into()
        }),
        ocsp_urls: some(ocsp_urls),
        authority_key_id: authority_key_id.map(Into::into),
        public_key: is_ca.then(|| {
            base64::engine::general_purpose::STANDARD
                .encode(spki)
                .into()
        }),
        ..Credential::default()
    };
    key.fill(&mut credential);
    Ok(credential)
}

/// Extended key usages by their RFC 5280 names; others as dotted OIDs.
fn usages(eku: &ExtendedKeyUsage<'_>) -> Vec<Shared> {
    let named = [
        (eku.any, "anyExtendedKeyUsage"),
        (eku.server_auth, "serverAuth"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ];
    named
        .into_iter()
        .filter(|(set, _)| *set)
        .map(|(_, name)| Shared::from(name))
        .chain(eku.other.iter().map(|o| oid(o).into()))
        .collect()
}

/// The dotted form of an OID.
fn oid(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    crate::der::oid_string(oid.as_bytes()).unwrap_or_default()
}

/// OpenSSL's name (a post-quantum parameter set's, as OpenSSL 3.5 names it), else the
/// registry's, else the dotted OID.
fn signature_name(oid: &str, registry: impl FnOnce() -> Option<String>) -> String {
    SIGNATURES
        .iter()
        .find(|(o, _)| *o == oid)
        .map(|(_, name)| (*name).to_owned())
        .or_else(|| super::algorithms::parameter_set(oid).map(|p| p.name.to_owned()))
        .or_else(registry)
        .unwrap_or_else(|| oid.to_owned())
}

/// A serial as lowercase hex without leading zeros; negative serials (invalid, but found in
/// the wild) as `-` and their magnitude, as OpenSSL prints them.
pub(crate) fn serial_hex(raw: &[u8]) -> String {
    let negative = raw.first().is_some_and(|b| b & 0x80 != 0);
    let magnitude: Vec<u8> = if negative {
        // Two's complement: invert and add one.
        let mut bytes: Vec<u8> = raw.iter().map(|b| !b).collect();
        for b in bytes.iter_mut().rev() {
            let (sum, carry) = b.overflowing_add(1);
            *b = sum;
            if !carry {
                break;
            }
        }
        bytes
    } else {
        raw.to_vec()
    };
    let digits = hex(&magnitude);
    let digits = match digits.trim_start_matches('0') {
        "" => "0",
        d => d,
    };
    if negative {
        format!("-{digits}")
    } else {
        digits.to_owned()
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
pub(crate) fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = oid(atv.attr_type());
                    let value = atv.attr_value();
                    let name = ATTRIBUTES
                        .iter()
                        .find(|(o, _)| *o == oid)
                        .map_or(oid.as_str(), |(_, n)| n);
                    let text = value.tag().0;
                    if ATTRIBUTES.iter().any(|(o, _)| *o == oid) && STRING_TAGS.contains(&text) {
                        format!("{name}={}", escape(&decode(text, value.data)))
                    } else {
                        // RFC 4514 §2.4: the DER of the value in hex (upper case, as OpenSSL).
                        let der = value.to_der_vec().unwrap_or_default();
                        format!("{name}=#{}", hex(&der).to_ascii_uppercase())
                    }
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// ASN.1 string types printed as text: UTF8, Numeric, Printable, T61, Videotex, IA5, Graphic,
/// Visible, General, Universal, BMP.
const STRING_TAGS: [u32; 11] = [12, 18, 19, 20, 21, 22, 25, 26, 27, 28, 30];

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
    fn serials_like_openssl() {
        use super::serial_hex;
        assert_eq!(serial_hex(&[0x00, 0x0a, 0x1b]), "a1b");
        assert_eq!(serial_hex(&[0x00]), "0");
        assert_eq!(serial_hex(&[0xfb, 0xce, 0x99, 0x6c, 0x13]), "-4316693ed");
    }

    #[test]
    fn escapes_like_openssl() {
        assert_eq!(escape("Acme, Inc."), "Acme\\, Inc.");
        assert_eq!(escape("#1 "), "\\#1\\ ");
        assert_eq!(escape("a\u{1}b"), "a\\01b");
        assert_eq!(escape("Müller"), "Müller");
    }
}
