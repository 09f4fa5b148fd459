//! `trustops discover`: facts agree with openssl on certificates nobody here wrote, every key
//! encoding pairs with its certificate, bundles and junk are handled, secrets never leak.
//! One file per source; shared helpers here.

mod corpora;
mod exec;
mod files;
mod kubernetes;
mod scanner;
mod tls;
mod vault;

use crate::support::Test;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

#[track_caller]
pub fn openssl(args: &[&str], dir: &Path) -> String {
    let (ok, text) = crate::support::tool("openssl", args, dir);
    assert!(ok, "openssl {args:?}: {text}");
    text
}

/// The diagnostics of an inventory as `file-name: message` lines.
pub fn problems(found: &Value) -> Vec<String> {
    found["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}: {}",
                d["location"].as_str().unwrap().rsplit('/').next().unwrap(),
                d["message"].as_str().unwrap()
            )
        })
        .collect()
}

pub fn inventory(test: &Test, path: &Path) -> Value {
    let out = Test::new()
        .args(&[
            "discover",
            "--format",
            "json",
            "--path",
            &path.to_string_lossy(),
        ])
        .run()
        .status(0);
    let _ = test;
    serde_json::from_str(&out.stdout).unwrap()
}

/// What openssl says about the (first) certificate in `file`, in the inventory's vocabulary;
/// `None` when `openssl x509` cannot read it.
pub fn openssl_facts(file: &str, dir: &Path) -> Option<serde_json::Map<String, Value>> {
    let bytes = std::fs::read(dir.join(file)).unwrap_or_default();
    let form = if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        "PEM"
    } else {
        "DER"
    };
    let out = Command::new("openssl")
        .args([
            "x509",
            "-in",
            file,
            "-inform",
            form,
            "-noout",
            "-nameopt",
            "RFC2253,-esc_msb",
            "-fingerprint",
            "-sha256",
            "-serial",
            "-subject",
            "-issuer",
            "-startdate",
            "-enddate",
            "-text",
        ])
        .current_dir(dir)
        .output()
        .expect("openssl is needed: apt-get install openssl (ci/check.sh does)");
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut facts = serde_json::Map::new();
    // openssl prints "Bad time value" for dates it cannot read; those are not compared.
    let date = |v: &str| {
        let t = jiff::fmt::strtime::parse(
            "%b %e %H:%M:%S %Y GMT",
            v.split_whitespace().collect::<Vec<_>>().join(" "),
        )
        .ok()?;
        let zoned = t
            .to_datetime()
            .ok()?
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()?;
        Some(Value::from(
            zoned.timestamp().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ))
    };
    let mut lines = text.lines().peekable();
    let mut sig_seen = false;
    while let Some(line) = lines.next() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("sha256 Fingerprint=") {
            facts.insert("sha256".into(), v.replace(':', "").to_lowercase().into());
        } else if let Some(v) = t.strip_prefix("serial=") {
            let v = v.to_lowercase();
            let (sign, digits) = v.strip_prefix('-').map_or(("", v.as_str()), |d| ("-", d));
            let digits = digits.trim_start_matches('0');
            facts.insert(
                "serial".into(),
                format!("{sign}{}", if digits.is_empty() { "0" } else { digits }).into(),
            );
        } else if let Some(v) = t.strip_prefix("subject=") {
            facts.insert("subject".into(), v.into());
        } else if let Some(v) = t.strip_prefix("issuer=") {
            facts.insert("issuer".into(), v.into());
        } else if let Some(v) = t.strip_prefix("notBefore=") {
            if let Some(d) = date(v) {
                facts.insert("not_before".into(), d);
            }
        } else if let Some(v) = t.strip_prefix("notAfter=") {
            if let Some(d) = date(v) {
                facts.insert("not_after".into(), d);
            }
        } else if let Some(v) = t
            .strip_prefix("Signature Algorithm: ")
            .filter(|_| !sig_seen)
        {
            sig_seen = true;
            facts.insert("signature_algorithm".into(), v.into());
        } else if t.contains("Public-Key: (") {
            let bits: u64 = t
                .split('(')
                .nth(1)
                .and_then(|b| b.split(' ').next())
                .and_then(|b| b.parse().ok())
                .unwrap();
            facts.insert("key_bits".into(), bits.into());
        } else if t == "CA:TRUE" || t.starts_with("CA:TRUE,") {
            facts.insert("is_ca".into(), true.into());
        } else if t.starts_with("X509v3 Subject Alternative Name") {
            let sans = lines.next().unwrap_or_default().trim().to_owned();
            let (mut dns, mut ips) = (Vec::new(), Vec::new());
            for san in sans.split(", ") {
                if let Some(d) = san.strip_prefix("DNS:") {
                    dns.push(d.to_owned());
                } else if let Some(ip) = san.strip_prefix("IP Address:") {
                    ips.push(
                        ip.parse::<std::net::IpAddr>()
                            .map(|i| i.to_string())
                            .unwrap_or(ip.to_owned()),
                    );
                }
            }
            dns.sort();
            ips.sort();
            facts.insert("dns_names".into(), dns.into());
            facts.insert("ip_addresses".into(), ips.into());
        }
    }
    facts.entry("is_ca").or_insert(false.into());
    Some(facts)
}

/// Discovers `dir` and checks, for every file `openssl x509` can read (PEM or DER), that our
/// entry for its certificate has openssl's facts, or that we reported the file as malformed.
/// Returns how many certificates were compared.
pub fn agrees_with_openssl(dir: &Path) -> usize {
    let found = inventory(&Test::new(), dir);
    let credentials = found["credentials"].as_array().unwrap();
    let by_sha: std::collections::BTreeMap<&str, &Value> = credentials
        .iter()
        .map(|c| (c["sha256"].as_str().unwrap(), c))
        .collect();
    let reported: Vec<&str> = found["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["location"].as_str().unwrap())
        .collect();
    // One openssl run per file (PEM when it has PEM markers, else DER), on every core.
    let files: Vec<String> = walk(dir)
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = files.len().div_ceil(threads).max(1);
    let results: Vec<(String, Option<serde_json::Map<String, Value>>)> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = files
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|f| (f.clone(), openssl_facts(f, dir)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
    let mut compared = 0;
    for (file, expected) in results {
        let Some(expected) = expected else { continue };
        let Some(ours) = by_sha.get(expected["sha256"].as_str().unwrap()) else {
            assert!(
                reported.contains(&file.as_str()),
                "{file}: openssl reads it, trustops neither inventoried nor reported it"
            );
            continue;
        };
        for (key, value) in &expected {
            assert_eq!(&ours[key.as_str()], value, "{file}: {key}");
        }
        compared += 1;
    }
    compared
}

pub fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}
