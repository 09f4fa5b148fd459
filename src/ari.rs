//! ACME Renewal Information (RFC 9773): for certificates from a declared `acme` issuer whose
//! directory advertises `renewalInfo`, the window the CA suggests renewing in, and one instant
//! inside it. A stage beside revocation, between discovery and reconcile.
//!
//! The instant is uniformly distributed over the window, as RFC 9773 §4.2 asks, but fixed per
//! certificate (drawn from its CertID), so every plan, apply and controller cycle agrees. A
//! window is kept, bound to the CertID it was fetched for, until the Retry-After the CA sent
//! (clamped to one hour … seven days) — a new certificate has a new CertID, so a window is never
//! reused after a rotation (cert-manager#8993). A directory or window that cannot be fetched
//! falls back to the policy's renewal instant, with a warning.

use crate::discover::{CredentialKind, Inventory, Time};
use crate::model::Model;
use base64::Engine;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the check needs besides the inventory and the declarations.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    /// The instant planned for.
    pub now: Timestamp,
    /// The governance repository (relative `caFile`s are under it).
    pub base: &'a Path,
    /// Where windows are kept until the CA's Retry-After; none: fetch every time.
    pub cache: Option<PathBuf>,
    /// The deadline of each request.
    pub timeout: std::time::Duration,
    /// Issuer names by certificate fingerprint, as the audit trail records them.
    pub issued_by: &'a BTreeMap<String, String>,
    /// CA subjects by issuer name.
    pub issuer_subjects: &'a BTreeMap<String, Vec<String>>,
}

/// The renewal window a CA suggests for one certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggested {
    /// The certificate's ARI CertID (`base64url(AKI).base64url(serial)`).
    pub cert_id: String,
    /// When the suggested window opens.
    pub start: Time,
    /// When it closes.
    pub end: Time,
    /// The renewal instant chosen inside it.
    pub instant: Time,
    /// Why the window is what it is, when the CA says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// The declared issuer that suggested it.
    pub issuer: String,
}

/// What the check found.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Suggested windows, by certificate fingerprint.
    pub suggested: BTreeMap<String, Suggested>,
    /// What could not be asked, one sentence each.
    pub problems: Vec<String>,
}

/// A kept window: what was suggested, and until when it may be reused.
#[derive(Serialize, Deserialize)]
struct Kept {
    suggested: Suggested,
    until: Time,
}

/// Asks each declared ACME issuer that advertises `renewalInfo` about the certificates it
/// issued (by the audit trail, or its CA subjects).
pub fn check(inventory: &Inventory, model: &Model, options: &Options<'_>) -> Outcome {
    let mut out = Outcome::default();
    let mut directories: BTreeMap<&str, Option<String>> = BTreeMap::new();
    for c in &inventory.credentials {
        if c.kind != CredentialKind::X509Certificate {
            continue;
        }
        let Some(name) = issuer_of(c, model, options) else {
            continue;
        };
        let Some(acme) = model.issuers.get(name).and_then(|i| i.spec.acme.as_ref()) else {
            continue;
        };
        let roots = acme
            .ca_file
            .as_ref()
            .map(|f| crate::reconcile::resolve(options.base, &f.value));
        let url = directories.entry(name).or_insert_with(|| {
            match renewal_info_url(&acme.directory_url.value, roots.as_deref(), options) {
                Ok(url) => url,
                Err(e) => {
                    out.problems.push(format!(
                        "renewal information of issuer {name} unavailable, its policies' renewal instants apply: the directory {e}"
                    ));
                    None
                }
            }
        });
        let Some(url) = url.clone() else { continue };
        let Some(cert_id) = cert_id(c.authority_key_id.as_deref(), c.serial.as_deref()) else {
            continue;
        };
        match window(&url, &cert_id, name, roots.as_deref(), options) {
            Ok(suggested) => {
                out.suggested.insert(c.sha256.clone(), suggested);
            }
            Err(e) => out.problems.push(format!(
                "renewal information for {} from issuer {name} unavailable, its policy's renewal instant applies: {e}",
                c.subject.as_deref().unwrap_or(&c.sha256)
            )),
        }
    }
    out
}

/// The declared ACME issuer of a certificate: the one the audit trail says issued it, else
/// the one one of whose CA subjects is its issuer.
fn issuer_of<'m>(
    c: &crate::discover::Credential,
    model: &'m Model,
    options: &Options<'_>,
) -> Option<&'m str> {
    let acme = |name: &str| {
        model
            .issuers
            .get_key_value(name)
            .filter(|(_, i)| i.spec.acme.is_some())
            .map(|(n, _)| n.as_str())
    };
    if let Some(name) = options.issued_by.get(&c.sha256)
        && let Some(found) = acme(name)
    {
        return Some(found);
    }
    let issuer = c.issuer.as_deref()?;
    options
        .issuer_subjects
        .iter()
        .filter(|(_, subjects)| subjects.iter().any(|s| s == issuer))
        .find_map(|(name, _)| acme(name))
}

/// The CertID of RFC 9773 §4.1: base64url of the AKI keyIdentifier and of the serial's DER
/// content (a leading zero byte when its high bit is set).
pub fn cert_id(authority_key_id: Option<&str>, serial: Option<&str>) -> Option<String> {
    let aki = unhex(authority_key_id?)?;
    let serial = serial_der(serial?)?;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    Some(format!("{}.{}", b64.encode(aki), b64.encode(serial)))
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 == 1 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A positive INTEGER's DER content from lowercase hex.
pub(crate) fn serial_der(hex: &str) -> Option<Vec<u8>> {
    let padded = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    let mut bytes = unhex(&padded)?;
    if bytes.first().is_none_or(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    Some(bytes)
}

/// The `renewalInfo` URL the directory advertises, if any.
fn renewal_info_url(
    directory: &str,
    roots: Option<&Path>,
    options: &Options<'_>,
) -> Result<Option<String>, String> {
    let request = crate::http::Request {
        timeout: options.timeout,
        extra_roots: roots,
        limit: 1 << 20,
        ..crate::http::Request::get(directory)
    };
    let answer = crate::http::exchange(&request).map_err(|e| format!("cannot be read: {e}"))?;
    if answer.status != 200 {
        return Err(format!("answered HTTP {}", answer.status));
    }
    let json: serde_json::Value =
        serde_json::from_slice(&answer.body).map_err(|_| "is not JSON".to_owned())?;
    Ok(json["renewalInfo"].as_str().map(str::to_owned))
}

/// The window for `cert_id`: kept, while the CA's Retry-After has not passed, else fetched.
fn window(
    url: &str,
    cert_id: &str,
    issuer: &str,
    roots: Option<&Path>,
    options: &Options<'_>,
) -> Result<Suggested, String> {
    let kept_at = options.cache.as_ref().map(|dir| {
        dir.join("ari").join(format!(
            "{}.json",
            crate::discover::sha256_hex(format!("{url}/{cert_id}").as_bytes())
        ))
    });
    if let Some(path) = &kept_at
        && let Ok(bytes) = std::fs::read(path)
        && let Ok(kept) = serde_json::from_slice::<Kept>(&bytes)
        && kept.suggested.cert_id == cert_id
        && options.now < kept.until.0
    {
        return Ok(kept.suggested);
    }
    let target = format!("{}/{cert_id}", url.trim_end_matches('/'));
    let request = crate::http::Request {
        timeout: options.timeout,
        extra_roots: roots,
        limit: 1 << 20,
        ..crate::http::Request::get(&target)
    };
    let answer = crate::http::exchange(&request).map_err(|e| format!("cannot be read: {e}"))?;
    if answer.status != 200 {
        return Err(format!("{target} answered HTTP {}", answer.status));
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        suggested_window: Window,
        #[serde(rename = "explanationURL")]
        explanation_url: Option<String>,
    }
    #[derive(Deserialize)]
    struct Window {
        start: Time,
        end: Time,
    }
    let parsed: Answer = serde_json::from_slice(&answer.body)
        .map_err(|_| format!("{target} is not a renewal information answer"))?;
    let (start, end) = (
        parsed.suggested_window.start.0,
        parsed.suggested_window.end.0,
    );
    if end <= start {
        return Err(format!(
            "{target} suggests a window that ends before it starts"
        ));
    }
    let suggested = Suggested {
        cert_id: cert_id.to_owned(),
        start: Time(start),
        end: Time(end),
        instant: Time(instant_in(start, end, cert_id)),
        explanation: parsed.explanation_url,
        issuer: issuer.to_owned(),
    };
    if let Some(path) = &kept_at {
        let until = Time(retry_after(answer.header("retry-after"), options.now));
        let kept = Kept {
            suggested: suggested.clone(),
            until,
        };
        if let (Some(dir), Ok(bytes)) = (path.parent(), serde_json::to_vec(&kept)) {
            // A cache that cannot be written only costs a fetch next time.
            let _ = std::fs::create_dir_all(dir);
            let _ = crate::durable::write(path, &bytes, 0o644);
        }
    }
    Ok(suggested)
}

/// Until when a window may be reused: the Retry-After (seconds, or an HTTP date), clamped to
/// one hour … seven days from `now`; absent or unreadable: one day.
fn retry_after(value: Option<&str>, now: Timestamp) -> Timestamp {
    const HOUR: i64 = 3600;
    let seconds = value
        .and_then(|v| {
            v.trim().parse::<i64>().ok().or_else(|| {
                jiff::fmt::rfc2822::parse(v.trim())
                    .ok()
                    .map(|z| z.timestamp().as_second() - now.as_second())
            })
        })
        .unwrap_or(24 * HOUR)
        .clamp(HOUR, 7 * 24 * HOUR);
    Timestamp::from_second(now.as_second() + seconds).unwrap_or(now)
}

/// An instant uniformly spread over `[start, end)`, fixed by `cert_id`.
fn instant_in(start: Timestamp, end: Timestamp, cert_id: &str) -> Timestamp {
    let span = u64::try_from(end.as_second() - start.as_second())
        .unwrap_or(1)
        .max(1);
    let digest = ring::digest::digest(&ring::digest::SHA256, cert_id.as_bytes());
    let mut eight = [0u8; 8];
    eight.copy_from_slice(&digest.as_ref()[..8]);
    let offset = i64::try_from(u64::from_be_bytes(eight) % span).unwrap_or(0);
    Timestamp::from_second(start.as_second() + offset).unwrap_or(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cert_ids_follow_rfc_9773() {
        // RFC 9773 §4.1's example: AKI 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4
        // and serial 00:87:65:43:21.
        assert_eq!(
            cert_id(
                Some("69885b6b87464041e1b37b847ba0ae2cde01c8d4"),
                Some("87654321")
            )
            .as_deref(),
            Some("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
        );
        assert_eq!(cert_id(None, Some("01")), None);
        assert_eq!(cert_id(Some("zz"), Some("01")), None);
    }

    #[test]
    fn retry_after_is_clamped_and_the_instant_stays_inside_the_window() {
        let now: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let hours = |t: Timestamp| (t.as_second() - now.as_second()) / 3600;
        assert_eq!(hours(retry_after(Some("60"), now)), 1);
        assert_eq!(hours(retry_after(Some("21600"), now)), 6);
        assert_eq!(hours(retry_after(Some("9999999"), now)), 7 * 24);
        assert_eq!(hours(retry_after(None, now)), 24);
        let end: Timestamp = "2026-06-03T00:00:00Z".parse().unwrap();
        for id in ["a.b", "c.d", "e.f", "g.h"] {
            let t = instant_in(now, end, id);
            assert!(now <= t && t < end);
            assert_eq!(t, instant_in(now, end, id), "fixed per certificate");
        }
    }
}
