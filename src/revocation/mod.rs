//! Revocation status: which discovered certificates their CA has revoked. A stage between
//! discovery and reconcile, run on live and saved inventories alike, at the instant planned.
//!
//! Each certificate is checked against every CRL it can be traced to: the HTTP(S)
//! distribution points it names, and the CRL of the declared issuer whose CA signed it
//! (`crl` on the Issuer, a local CA's `crlFile`, a cfssl server's `/api/v1/cfssl/crl`). Each
//! CRL is fetched once however many certificates name it, within a deadline and a size cap,
//! kept in the cache until its `nextUpdate`, and used only when the CA that signs it —
//! found among the discovered CA certificates and the local CAs' certificate files — verifies
//! it. A CRL that cannot be fetched, does not parse or verify, or is past its `nextUpdate` is
//! a problem the plan reports, never a silent "not revoked" (a stale CRL still proves what it
//! revokes: revocation is final).
//!
//! [`ocsp`] asks, for the certificates a policy with `ocsp: true` governs, the OCSP responder
//! each names, and believes only answers the CA (or a responder it delegated to) signed.

mod crl;
mod ocsp;

use crate::discover::{Credential, CredentialKind, Inventory, Time};
use crate::fast_map::{Map, Set};
use crate::model::Model;
use base64::Engine;
use crl::Crl;
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the check needs besides the inventory and the declarations.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    /// The instant the plan is made for.
    pub now: Timestamp,
    /// The governance repository (relative CRL files are under it).
    pub base: &'a Path,
    /// Where fetched CRLs are kept until their `nextUpdate`; none: fetch every time.
    pub cache: Option<PathBuf>,
    /// How long one fetch may wait to connect and for each read.
    pub timeout: Duration,
}

/// A certificate its CA has revoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revoked {
    /// When, as the CRL says.
    pub at: Time,
    /// The RFC 5280 reason (`keyCompromise`), when given.
    pub reason: Option<String>,
    /// The CRL that says so.
    pub source: String,
}

/// What the check found.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Revoked certificates, by SHA-256 fingerprint.
    pub revoked: BTreeMap<String, Revoked>,
    /// How many certificates were checked against at least one current, verified CRL.
    pub checked: usize,
    /// CRLs that could not be used, one sentence each.
    pub problems: Vec<String>,
}

/// Where a CRL is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    /// An `http(s)://` URL.
    Url(String),
    /// A file on this machine.
    File(PathBuf),
    /// The CRL trustops keeps for a local CA (`crlFile`): it records every revocation trustops
    /// made, so an absent file revokes nothing and a past nextUpdate proves nothing missing.
    LocalCa(PathBuf),
    /// A cfssl server's CRL endpoint (JSON with the CRL in base64), and its extra roots.
    Cfssl(String, Option<PathBuf>),
}

impl Place {
    /// The URL, or the file's path (relative to the repository when it is inside).
    fn show(&self, base: &Path) -> String {
        match self {
            Place::Url(url) | Place::Cfssl(url, _) => url.clone(),
            Place::File(path) | Place::LocalCa(path) => path
                .strip_prefix(base)
                .unwrap_or(path)
                .display()
                .to_string(),
        }
    }
}

/// Checks every certificate of `inventory` that names a CRL, or whose CA belongs to a
/// declared issuer that publishes one.
pub fn check(inventory: &Inventory, model: &Model, options: &Options<'_>) -> Outcome {
    let local = local_cas(model, options.base);
    let issuers = issuer_places(model, options.base, &local);
    // Certificates are grouped by what decides their CRLs (their distribution points and
    // issuer: a CA's certificates share both), and each group's places worked out once.
    type Key<'a> = (Option<&'a [crate::intern::Shared]>, Option<&'a str>);
    let mut groups: Map<Key<'_>, Vec<usize>> = Map::default();
    for (i, c) in inventory.credentials.iter().enumerate() {
        // A self-signed root is trusted or not; no CRL of its own can revoke it.
        if c.kind != CredentialKind::X509Certificate
            || c.serial.is_none()
            || c.issuer.as_deref() == c.subject.as_deref()
        {
            continue;
        }
        groups
            .entry((c.crl_urls.as_deref(), c.issuer.as_deref()))
            .or_default()
            .push(i);
    }
    let mut wanted: BTreeMap<Place, Vec<usize>> = BTreeMap::new();
    for ((urls, issuer), members) in groups {
        let mut places: BTreeSet<Place> = urls
            .into_iter()
            .flatten()
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
            .map(|u| Place::Url(u.to_string()))
            .collect();
        if let Some(issuer) = issuer {
            places.extend(issuers.get(issuer).into_iter().flatten().cloned());
        }
        for place in places {
            wanted.entry(place).or_default().extend(&members);
        }
    }
    // In inventory order, whichever groups they came from.
    let wanted = wanted.into_iter().map(|(place, mut members)| {
        members.sort_unstable();
        let certificates: Vec<&Credential> =
            members.iter().map(|&i| &inventory.credentials[i]).collect();
        (place, certificates)
    });
    let keys = ca_keys(inventory, &local);
    let mut out = Outcome::default();
    let mut checked: Set<&str> = Set::default();
    for (place, certificates) in wanted {
        if let Place::LocalCa(path) = &place
            && !path.exists()
        {
            continue;
        }
        let crl = match usable(&place, &keys, options) {
            Ok(crl) => crl,
            Err(why) => {
                out.problems.push(format!(
                    "revocation unknown for {} certificate(s) ({}): the CRL {} {why}",
                    certificates.len(),
                    names(&certificates),
                    place.show(options.base)
                ));
                continue;
            }
        };
        let current = crl.current_at(options.now) || matches!(place, Place::LocalCa(_));
        if !current {
            out.problems.push(format!(
                "revocation unknown for {} certificate(s) ({}): the CRL {} is stale, its next update was due {}; it still proves what it revokes",
                certificates.len(),
                names(&certificates),
                place.show(options.base),
                crl.next_update.map(|t| t.to_string()).unwrap_or_default()
            ));
        }
        for c in certificates {
            if c.issuer.as_deref() != Some(crl.issuer.as_str()) {
                continue;
            }
            if current {
                checked.insert(c.sha256.as_str());
            }
            let Some((at, reason)) = c.serial.as_deref().and_then(|s| crl.entries.get(s)) else {
                continue;
            };
            out.revoked.entry(c.sha256.clone()).or_insert(Revoked {
                at: Time(*at),
                reason: reason.and_then(reason_name).map(str::to_owned),
                source: place.show(options.base),
            });
        }
    }
    // A Vault PKI engine answers for what it issued: its own word that it revoked one.
    for c in &inventory.credentials {
        let Some(at) = c
            .metadata
            .get(crate::discover::VAULT_REVOKED)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        else {
            continue;
        };
        let Some(place) = c.locations.iter().find(|l| l.endpoint.is_some()) else {
            continue;
        };
        out.revoked.entry(c.sha256.clone()).or_insert(Revoked {
            at: Time(at),
            reason: None,
            source: format!(
                "{}/v1/{}",
                place.endpoint.as_deref().unwrap_or_default(),
                place.object.as_deref().unwrap_or_default()
            ),
        });
    }
    out.checked = checked.len();
    out
}

/// Asks the OCSP responder of each certificate in `wanted` (SHA-256 fingerprints) that names
/// one; a certificate whose CA's key is unknown, or whose responder cannot be asked or gives no
/// verified, current answer, is a problem.
pub fn ocsp(
    inventory: &Inventory,
    model: &Model,
    wanted: &BTreeSet<&str>,
    options: &Options<'_>,
) -> Outcome {
    let keys = ca_keys(inventory, &local_cas(model, options.base));
    let mut out = Outcome::default();
    for c in &inventory.credentials {
        if !wanted.contains(c.sha256.as_str()) {
            continue;
        }
        let (Some(url), Some(name), Some(serial), Some(issuer)) = (
            c.ocsp_urls.iter().flatten().next(),
            c.issuer_name_sha1.as_deref().and_then(unhex),
            c.serial.as_deref(),
            c.issuer.as_deref(),
        ) else {
            continue;
        };
        let who = c.subject.as_deref().unwrap_or(&c.sha256).to_owned();
        let candidates = keys.get(issuer).map_or(&[][..], Vec::as_slice);
        if candidates.is_empty() {
            out.problems.push(format!(
                "revocation unknown for {who}: the OCSP responder {url} cannot be asked, no certificate of its CA ({issuer}) was discovered or declared"
            ));
            continue;
        }
        let mut last = String::new();
        let answer = candidates.iter().find_map(|key| {
            let question = ocsp::Question {
                url,
                issuer_name_sha1: &name,
                issuer_key: key,
                serial,
            };
            ocsp::ask(&question, options.now, options.timeout)
                .map_err(|e| last = e)
                .ok()
        });
        match answer {
            Some(ocsp::Status::Good) => out.checked += 1,
            Some(ocsp::Status::Revoked(at, reason)) => {
                out.checked += 1;
                out.revoked.insert(
                    c.sha256.clone(),
                    Revoked {
                        at: Time(at),
                        reason: reason.and_then(reason_name).map(str::to_owned),
                        source: url.to_string(),
                    },
                );
            }
            None => out.problems.push(format!(
                "revocation unknown for {who}: the OCSP responder {url} {last}"
            )),
        }
    }
    out
}

impl Outcome {
    /// Adds what `other` found; a revocation already known stays as first found.
    pub fn merge(&mut self, other: Outcome) {
        for (sha256, revoked) in other.revoked {
            self.revoked.entry(sha256).or_insert(revoked);
        }
        self.checked += other.checked;
        self.problems.extend(other.problems);
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Drops the CRLs kept in `cache`: after trustops revokes something, the kept lists, current
/// as they are, do not say so yet.
pub fn forget(cache: Option<&Path>) {
    if let Some(dir) = cache {
        // Nothing kept, or nothing removable: either way the next plan fetches.
        let _ = std::fs::remove_dir_all(dir.join("crl"));
    }
}

/// The RFC 5280 name of a reason code.
fn reason_name(code: u8) -> Option<&'static str> {
    crate::apply::issuers::REASONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// A few of `certificates` by subject, for a message.
fn names(certificates: &[&Credential]) -> String {
    let mut shown: Vec<String> = certificates
        .iter()
        .take(3)
        .map(|c| {
            c.subject
                .as_deref()
                .unwrap_or_else(|| crate::discover::short(&c.sha256, 12))
                .to_owned()
        })
        .collect();
    if certificates.len() > 3 {
        shown.push(format!("{} more", certificates.len() - 3));
    }
    shown.join("; ")
}

/// The CRLs declared issuers publish, by the subject of each CA that signs for them.
fn issuer_places(
    model: &Model,
    base: &Path,
    local: &BTreeMap<&str, Vec<Credential>>,
) -> BTreeMap<String, Vec<Place>> {
    let mut out: BTreeMap<String, Vec<Place>> = BTreeMap::new();
    for (name, issuer) in &model.issuers {
        let spec = &issuer.spec;
        let mut places = Vec::new();
        if let Some(crl) = &spec.crl {
            places.push(place(base, &crl.value));
        }
        if let Some(file) = spec.local_ca.as_ref().and_then(|ca| ca.crl_file.as_ref()) {
            places.push(Place::LocalCa(crate::reconcile::resolve(base, &file.value)));
        }
        if let Some(cfssl) = &spec.cfssl {
            places.push(Place::Cfssl(
                format!("{}/api/v1/cfssl/crl", cfssl.url.value.trim_end_matches('/')),
                cfssl
                    .ca_file
                    .as_ref()
                    .map(|f| crate::reconcile::resolve(base, &f.value)),
            ));
        }
        let mut subjects = spec.ca_subjects.clone();
        subjects.extend(
            local
                .get(name.as_str())
                .into_iter()
                .flatten()
                .filter_map(|c| c.subject.as_deref().map(str::to_owned)),
        );
        for subject in subjects {
            out.entry(subject)
                .or_default()
                .extend(places.iter().cloned());
        }
    }
    out
}

fn place(base: &Path, text: &str) -> Place {
    if text.starts_with("http://") || text.starts_with("https://") {
        Place::Url(text.to_owned())
    } else {
        Place::File(crate::reconcile::resolve(base, text))
    }
}

/// The certificates in each declared local CA's certificate file, by issuer name: read once
/// per check.
fn local_cas<'m>(model: &'m Model, base: &Path) -> BTreeMap<&'m str, Vec<Credential>> {
    model
        .issuers
        .iter()
        .filter_map(|(name, i)| {
            let ca = i.spec.local_ca.as_ref()?;
            Some((
                name.as_str(),
                local_ca_certificates(base, &ca.cert_file.value),
            ))
        })
        .collect()
}

/// The certificates in a local CA's certificate file.
fn local_ca_certificates(base: &Path, file: &str) -> Vec<Credential> {
    let path = crate::reconcile::resolve(base, file);
    crate::discover::discover(
        &crate::discover::Options {
            paths: vec![path],
            ..crate::discover::Options::default()
        },
        &crate::discover::Context::new(base.to_owned()),
    )
    .inventory
    .credentials
    .into_iter()
    .filter(|c| c.kind == CredentialKind::X509Certificate)
    .collect()
}

/// Public keys (SPKI DER) of the CA certificates discovered and of the local CAs, by subject.
fn ca_keys(
    inventory: &Inventory,
    local: &BTreeMap<&str, Vec<Credential>>,
) -> BTreeMap<String, Vec<Vec<u8>>> {
    let mut out: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    for c in inventory.credentials.iter().chain(local.values().flatten()) {
        if let (Some(subject), Some(key)) = (&c.subject, &c.public_key)
            && let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&**key)
        {
            out.entry(subject.to_string()).or_default().push(der);
        }
    }
    out
}

/// The CRL at `place`, verified by its CA: from the cache while current, else fetched (and
/// cached).
fn usable(
    place: &Place,
    keys: &BTreeMap<String, Vec<Vec<u8>>>,
    options: &Options<'_>,
) -> Result<Crl, String> {
    let cached = cache_path(place, options);
    if let Some(path) = &cached
        && let Ok(bytes) = std::fs::read(path)
        && let Ok(crl) = Crl::parse(&bytes)
        && crl.current_at(options.now)
        && verify(&crl, keys).is_ok()
    {
        return Ok(crl);
    }
    let bytes = fetch(place, options)?;
    let crl = Crl::parse(&bytes).map_err(|e| format!("is {e}"))?;
    verify(&crl, keys)?;
    if let Some(path) = &cached {
        // A cache that cannot be written only costs a fetch next time.
        let _ = path
            .parent()
            .map(std::fs::create_dir_all)
            .map(|_| crate::durable::write(path, &bytes, 0o644));
    }
    Ok(crl)
}

fn cache_path(place: &Place, options: &Options<'_>) -> Option<PathBuf> {
    match place {
        Place::Url(url) | Place::Cfssl(url, _) => options.cache.as_ref().map(|dir| {
            dir.join("crl").join(format!(
                "{}.crl",
                crate::discover::sha256_hex(url.as_bytes())
            ))
        }),
        Place::File(_) | Place::LocalCa(_) => None,
    }
}

/// Whether one of the keys of the CRL issuer's CA certificates verifies `crl`.
fn verify(crl: &Crl, keys: &BTreeMap<String, Vec<Vec<u8>>>) -> Result<(), String> {
    let candidates = keys.get(&crl.issuer).map_or(&[][..], Vec::as_slice);
    if candidates.is_empty() {
        return Err(format!(
            "cannot be verified: no certificate of its CA ({}) was discovered or declared",
            crl.issuer
        ));
    }
    let mut why = String::new();
    for key in candidates {
        match crl.signed_by(key) {
            Ok(()) => return Ok(()),
            Err(e) => why = e,
        }
    }
    Err(format!(
        "does not verify with the key of its CA ({}): {why}",
        crl.issuer
    ))
}

/// The bytes at `place`.
fn fetch(place: &Place, options: &Options<'_>) -> Result<Vec<u8>, String> {
    let get = |url: &str, roots: Option<&Path>| {
        let request = crate::http::Request {
            timeout: options.timeout,
            extra_roots: roots,
            ..crate::http::Request::get(url)
        };
        match crate::http::send(&request) {
            Ok((200, body)) => Ok(body),
            Ok((status, _)) => Err(format!("cannot be fetched: HTTP {status}")),
            Err(e) => Err(format!("cannot be fetched: {e}")),
        }
    };
    match place {
        Place::Url(url) => get(url, None),
        Place::File(path) | Place::LocalCa(path) => {
            std::fs::read(path).map_err(|e| format!("cannot be read: {}", e.kind()))
        }
        Place::Cfssl(url, roots) => {
            let body = get(url, roots.as_deref())?;
            let answer: serde_json::Value =
                serde_json::from_slice(&body).map_err(|_| "is not cfssl's JSON answer")?;
            let text = answer["result"]
                .as_str()
                .ok_or("is not cfssl's JSON answer")?;
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| "is not base64 in cfssl's answer".to_owned())
        }
    }
}
