//! Real CAs as issuers, each against the real server on loopback — ACME (pebble), the CFSSL CA
//! API (cfssl serve) and the local CA's CRL — with revocation at the end of a rotation, by
//! `trustops revoke`, and the fallback when a CA is down.

mod acme;
mod ari;
mod cfssl;
mod local_ca;
mod vault;

use crate::apply::crash::{ok, sh, trustops};
use std::path::Path;

/// The first apply of the estate.
pub(super) const T0: &str = "2026-05-01T12:00:00Z";
/// Apply without asking, signed with the estate's audit key.
pub(super) const APPLY: [&str; 3] = ["--auto-approve", "--signing-key", "audit-key"];

/// The serial (lowercase hex) and end of validity of the deployed certificate.
pub(super) fn deployed(dir: &Path) -> (String, jiff::Timestamp) {
    let text = sh(
        dir,
        "openssl",
        &[
            "x509",
            "-in",
            "deployed/db.pem",
            "-noout",
            "-serial",
            "-enddate",
            "-dateopt",
            "iso_8601",
        ],
    );
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .trim()
            .to_owned()
    };
    let serial = field("serial=").to_ascii_lowercase();
    let serial = serial.trim_start_matches('0').to_owned();
    let end = field("notAfter=").replace(' ', "T");
    (serial, end.parse().unwrap())
}

/// `plan --out` then `apply` at `now`; what apply printed.
pub(super) fn plan_and_apply(dir: &Path, now: &str) -> String {
    ok(&trustops(dir, now, &["plan", "--out", "plan.json"]));
    ok(&trustops(
        dir,
        now,
        &[&["apply", "plan.json"][..], &APPLY].concat(),
    ))
}

/// Renews the deployed certificate five days before it expires (whatever lifetime the CA
/// gave it); the serials before and after.
pub(super) fn renew(dir: &Path) -> (String, String) {
    let (before, not_after) = deployed(dir);
    let t1 = (not_after - jiff::SignedDuration::from_hours(5 * 24)).to_string();
    let stdout = plan_and_apply(dir, &t1);
    assert!(stdout.contains("applied rotate:db-svc/tls"), "{stdout}");
    let (after, _) = deployed(dir);
    assert_ne!(before, after, "a new certificate is deployed");
    (before, after)
}

/// `trustops revoke CERTIFICATE --reason REASON` at [`T0`]; what it printed.
pub(super) fn revoke(dir: &Path, certificate: &str, reason: &str) -> String {
    ok(&trustops(
        dir,
        T0,
        &[&["revoke", certificate, "--reason", reason][..], &APPLY].concat(),
    ))
}

/// The audit record of the last `trustops revoke` (a one-action plan `revoke-…`).
pub(super) fn revocation_record(dir: &Path) -> String {
    crate::apply::crash::record_where(dir, |files| {
        files.rfind(|f| f.contains("/revoke-") && f.contains("-revoke-"))
    })
}
