//! The opt-in compatibility set (`metrics --compat x509-certificate-exporter`): the names and
//! labels of enix's x509-certificate-exporter (v4), so the Grafana dashboards and alert rules
//! written for it work on what trustops discovers. One series per certificate and place:
//! `x509_cert_not_before`, `x509_cert_not_after`, `x509_cert_expired` labelled `filename` and
//! `filepath` (files) or `secret_namespace`, `secret_name` and `secret_key` (Kubernetes
//! secrets), `serial_number` (decimal), `issuer_*` and `subject_*` (C, ST, L, O, OU, CN); and
//! per declared source `x509_source_up` and `x509_source_errors_total`.

use super::observed::Observed;
use super::{Family, labels};
use std::collections::BTreeSet;

/// The DN attributes the exporter labels, in its order.
const FIELDS: [&str; 6] = ["C", "ST", "L", "O", "OU", "CN"];

/// What it calls a trustops source.
const SOURCE_KIND: &str = "trustops";

/// The compatibility families of `observed`, evaluated at `now` (Unix time).
pub(super) fn families(observed: &Observed, now: i64) -> Vec<Family> {
    const NOT_BEFORE: &str = "x509_cert_not_before";
    const NOT_AFTER: &str = "x509_cert_not_after";
    const EXPIRED: &str = "x509_cert_expired";
    let mut not_before = Family::new(
        NOT_BEFORE,
        "gauge",
        "Unix timestamp of the certificate's NotBefore.",
    );
    let mut not_after = Family::new(
        NOT_AFTER,
        "gauge",
        "Unix timestamp of the certificate's NotAfter.",
    );
    let mut expired = Family::new(
        EXPIRED,
        "gauge",
        "1 if the certificate is expired, 0 otherwise.",
    );
    // The exporter's label set does not tell every place apart (two endpoints, say): one
    // series per distinct set, as a scrape must have.
    let mut seen = BTreeSet::new();
    for c in &observed.certificates {
        let (Some(start), Some(end)) = (c.not_before, c.not_after) else {
            continue;
        };
        let issuer = dn_fields(&c.issuer);
        let subject = dn_fields(&c.subject);
        // Decimal, as Go's `big.Int` prints it; empty when the serial is unknown.
        let serial = (!c.serial.is_empty())
            .then(|| crate::der::decimal(&c.serial))
            .flatten()
            .unwrap_or_default();
        for location in &c.locations {
            let mut pairs: Vec<(String, String)> = place(location)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            pairs.push(("serial_number".into(), serial.clone()));
            for (field, value) in FIELDS.iter().zip(&issuer) {
                pairs.push((format!("issuer_{field}"), value.clone()));
            }
            for (field, value) in FIELDS.iter().zip(&subject) {
                pairs.push((format!("subject_{field}"), value.clone()));
            }
            let borrowed: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let set = labels(&borrowed);
            if !seen.insert(set.clone()) {
                continue;
            }
            not_before.sample(NOT_BEFORE, &set, start);
            not_after.sample(NOT_AFTER, &set, end);
            expired.sample(EXPIRED, &set, u8::from(end <= now));
        }
    }
    const UP: &str = "x509_source_up";
    const ERRORS: &str = "x509_source_errors_total";
    let mut up = Family::new(UP, "gauge", "1 if the source could be read, 0 otherwise.");
    let mut errors = Family::new(
        ERRORS,
        "counter",
        "Errors emitted by sources, by reason code (counted per run: each run starts again).",
    );
    for (source, read) in &observed.sources {
        let set = labels(&[("source_kind", SOURCE_KIND), ("source_name", source)]);
        up.sample(UP, &set, u8::from(*read));
        let set = labels(&[
            ("source_kind", SOURCE_KIND),
            ("source_name", source),
            ("reason", "unreadable"),
        ]);
        errors.sample(ERRORS, &set, u8::from(!*read));
    }
    vec![not_before, not_after, expired, up, errors]
}

/// The exporter's location labels for a place: a Kubernetes secret's namespace, name and
/// key, else a file's name and path; endpoints and other stores have none.
fn place(location: &crate::discover::Location) -> Vec<(&'static str, String)> {
    if let Some((secret, key)) = location.object.as_deref().and_then(|o| o.rsplit_once(':'))
        && let Some((namespace, name)) = secret.split_once('/')
    {
        return vec![
            ("secret_namespace", namespace.to_owned()),
            ("secret_name", name.to_owned()),
            ("secret_key", key.to_owned()),
        ];
    }
    match &location.path {
        Some(path) if location.object.is_none() => vec![
            (
                "filename",
                path.rsplit('/').next().unwrap_or(path).to_owned(),
            ),
            ("filepath", path.to_string()),
        ],
        _ => Vec::new(),
    }
}

/// The first value of each of [`FIELDS`] in an RFC 4514 DN (empty when absent).
fn dn_fields(dn: &str) -> [String; 6] {
    let mut out: [String; 6] = Default::default();
    for (kind, value) in attributes(dn) {
        if let Some(i) = FIELDS.iter().position(|f| f.eq_ignore_ascii_case(&kind))
            && out[i].is_empty()
        {
            out[i] = value;
        }
    }
    out
}

/// The `type=value` pairs of an RFC 4514 DN, values unescaped (`\,`, `\2C`).
fn attributes(dn: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut bytes = Vec::new();
    let mut kind: Option<String> = None;
    let mut chars = dn.chars().peekable();
    let mut finish = |kind: &mut Option<String>, bytes: &mut Vec<u8>| {
        if let Some(k) = kind.take() {
            out.push((k, String::from_utf8_lossy(bytes).into_owned()));
        }
        bytes.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let first = chars.next();
                let hex = first
                    .zip(chars.peek().copied())
                    .and_then(|(a, b)| u8::from_str_radix(&format!("{a}{b}"), 16).ok());
                match (first, hex) {
                    (_, Some(byte)) => {
                        chars.next();
                        bytes.push(byte);
                    }
                    (Some(c), None) => {
                        let mut buf = [0; 4];
                        bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    (None, None) => {}
                }
            }
            '=' if kind.is_none() => {
                kind = Some(String::from_utf8_lossy(&bytes).trim().to_owned());
                bytes.clear();
            }
            ',' | '+' => finish(&mut kind, &mut bytes),
            c => {
                let mut buf = [0; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    finish(&mut kind, &mut bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dn_fields_are_read_and_unescaped() {
        let [c, st, l, o, ou, cn] =
            dn_fields("CN=web.example,OU=Ops+OU=Edge,O=Acme\\, Inc.,L=K\\C3\\B6ln,C=DE");
        assert_eq!(
            [c, st, l, o, ou, cn],
            ["DE", "", "Köln", "Acme, Inc.", "Ops", "web.example"].map(String::from)
        );
        assert_eq!(dn_fields("")[5], "");
        assert_eq!(
            dn_fields("2.5.4.3=#0C0161")[5],
            "",
            "hex-encoded values stay out"
        );
    }
}
