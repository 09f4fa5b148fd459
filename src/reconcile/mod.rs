//! Reconcile: compare the declared state with the discovered state at one instant and say
//! what is wrong, as [`Finding`]s with stable codes.
//!
//! Entry point: [`reconcile`], a pure function of its [`Input`] (the model, the inventory, the
//! time and the subjects of the declared issuers' CA certificates): no I/O, no clock. It
//! matches each declared credential to discovered ones through indexes (`index.rs`), evaluates
//! the policies (`checks.rs`), and applies active exceptions (`exceptions.rs`). Ordering the
//! work that fixes the findings is [`crate::plan`]'s job.

mod checks;
mod exceptions;
mod finding;
mod index;
mod matching;
pub mod public_tls;
pub mod renewal;

pub use checks::{drift::common_name, human};
pub use exceptions::idle as idle_exceptions;
pub use exceptions::long_lived as long_lived_exceptions;
pub use finding::{Declared, Evidence, Finding, References, Suppression};

use crate::discover::Inventory;
use crate::model::Model;
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// What reconcile compares.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The declarations (validated).
    pub model: &'a Model,
    /// What discovery found, possibly merged from several inventories.
    pub inventory: &'a Inventory,
    /// The instant to evaluate at.
    pub now: Timestamp,
    /// The repository root, to resolve the relative paths declarations use (no I/O).
    pub base: &'a std::path::Path,
    /// Subject DNs of the CA certificates behind each declared issuer (its `caSubjects`, plus
    /// the subject of a local CA's certificate file), by issuer name.
    pub issuer_subjects: &'a BTreeMap<String, Vec<String>>,
    /// The issuer of each certificate the audit trail says trustops deployed, by SHA-256
    /// ([`crate::audit::Trail::issued_by`]).
    pub issued_by: &'a BTreeMap<String, String>,
    /// Certificates their CA has revoked, by SHA-256 ([`crate::revocation::check`]).
    pub revoked: &'a BTreeMap<String, crate::revocation::Revoked>,
    /// Renewal windows ACME CAs suggest, by SHA-256 ([`crate::ari::check`]).
    pub renewal_info: &'a BTreeMap<String, crate::ari::Suggested>,
}

/// The state of one declared credential.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// The identity.
    pub identity: String,
    /// The credential's name.
    pub credential: String,
    /// Position of the current credential in the inventory, when one matched.
    pub current: Option<usize>,
    /// Other discovered forms of the same key.
    pub copies: Vec<usize>,
    /// Older matches, by inventory position.
    pub superseded: Vec<usize>,
    /// The effective policy's name.
    pub policy: Option<String>,
}

impl Status {
    /// `identity/credential`.
    pub fn target(&self) -> String {
        format!("{}/{}", self.identity, self.credential)
    }
}

/// What reconcile found.
#[derive(Clone, Debug, Default)]
pub struct Reconciliation {
    /// Every declared credential, in identity-name then declaration order.
    pub statuses: Vec<Status>,
    /// Inventory positions of credentials no identity declares (the candidates for adoption).
    pub unmanaged: Vec<usize>,
    /// The declared issuers by the subjects of their CA certificates.
    pub issuers: Issuers,
    /// Every finding, suppressed ones included, most serious first.
    pub findings: Vec<Finding>,
}

/// Compares `input.model` with `input.inventory` at `input.now`.
pub fn reconcile(input: &Input<'_>) -> Reconciliation {
    let declared = matching::declared(input.model);
    let needs = index::Needs::of(&declared, input.base);
    let index = index::Index::new(input.inventory, &needs);
    let (matches, claims) =
        matching::match_all(&declared, input.inventory, &index, input.base, input.now);
    let issuers = Issuers::new(input.issuer_subjects, input.issued_by);
    let context = checks::Context::new(
        input,
        &index,
        &declared,
        &matches,
        &claims,
        &issuers,
        &needs.key_files,
    );
    let mut findings = Vec::new();
    let unmanaged = context.run(&mut findings);
    exceptions::expired(input, &mut findings);
    exceptions::suppress(input, &mut findings);
    found_by(input, &index, &mut findings);
    // The index's maps (millions of entries at scale) are freed beside the sort, not after it.
    crate::parallel::join(move || drop(index), || finish(&mut findings));
    // Built by appending parts, the list has up to twice the room it needs; the plan keeps it.
    findings.shrink_to_fit();
    let mut statuses = Vec::new();
    crate::parallel::extend(&mut statuses, declared.len().min(matches.len()), |i| {
        let (d, m) = (&declared[i], &matches[i]);
        Status {
            identity: d.identity.name().to_owned(),
            credential: d.credential.name.value.clone(),
            current: m.current,
            copies: m.copies.clone(),
            superseded: m.superseded.clone(),
            policy: d.policy.map(|p| p.name().to_owned()),
        }
    });
    Reconciliation {
        statuses,
        unmanaged,
        issuers,
        findings,
    }
}

/// Declared issuers, found by the subject DN of their CA certificates.
#[derive(Clone, Debug, Default)]
pub struct Issuers {
    by_subject: HashMap<String, Vec<String>>,
    by_fingerprint: HashMap<String, String>,
}

impl Issuers {
    /// From each issuer's CA subjects (see [`Input::issuer_subjects`]) and the certificates
    /// the audit trail says each issued ([`Input::issued_by`]).
    pub fn new(
        subjects: &BTreeMap<String, Vec<String>>,
        issued_by: &BTreeMap<String, String>,
    ) -> Self {
        let mut by_subject: HashMap<String, Vec<String>> = HashMap::new();
        for (issuer, dns) in subjects {
            for dn in dns {
                by_subject
                    .entry(dn.to_ascii_lowercase())
                    .or_default()
                    .push(issuer.clone());
            }
        }
        let by_fingerprint = issued_by
            .iter()
            .map(|(sha, issuer)| (sha.clone(), issuer.clone()))
            .collect();
        Issuers {
            by_subject,
            by_fingerprint,
        }
    }

    /// The declared issuers whose CA certificates carry `dn` as subject.
    pub fn named(&self, dn: &str) -> &[String] {
        self.by_subject
            .get(&dn.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// The declared issuers that could have issued certificate `c`: the one the audit trail
    /// names, else those whose CA subject is its issuer.
    pub fn of(&self, c: &crate::discover::Credential) -> &[String] {
        if let Some(issuer) = self.by_fingerprint.get(&c.sha256) {
            return std::slice::from_ref(issuer);
        }
        match (&c.kind, &c.issuer) {
            (crate::discover::CredentialKind::X509Certificate, Some(dn)) => self.named(dn),
            _ => &[],
        }
    }
}

/// What a finding is about, for ordering: its identity, else its fingerprint.
fn who(f: &Finding) -> Option<&str> {
    f.identity.as_deref().or(f.fingerprint.as_deref())
}

/// Gives every finding a unique id and sorts: most serious first, then by code and target.
/// Points each finding about a credential no identity declares at the Source declaration
/// that discovered it (the source of its first location).
fn found_by(input: &Input<'_>, index: &index::Index<'_>, findings: &mut [Finding]) {
    crate::parallel::each_mut(findings, |_, f| {
        if f.declared.is_some() {
            return;
        }
        let source = f
            .fingerprint
            .as_deref()
            .and_then(|fp| index.by_sha256.get(fp))
            .and_then(|at| at.as_slice().first())
            .and_then(|&i| input.inventory.credentials[i].locations.first())
            .and_then(|l| input.model.sources.get(&*l.source));
        if let Some(source) = source {
            f.found_by = Some(finding::Declared {
                path: source.origin.path.clone(),
                line: source.origin.span.line,
                column: source.origin.span.column,
            });
        }
    });
}

fn finish(findings: &mut [Finding]) {
    let order = |a: &Finding, b: &Finding| {
        (a.severity, a.code)
            .cmp(&(b.severity, b.code))
            .then_with(|| who(a).cmp(&who(b)))
            .then_with(|| a.credential.cmp(&b.credential))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
            .then_with(|| a.location.cmp(&b.location))
    };
    // At scale each half is sorted on its own core; the stable sort of the whole then finds
    // two sorted runs and merges them in one pass (the order is the same as one sort's).
    if findings.len() >= 2 * crate::parallel::MIN_PER_THREAD {
        let (first, second) = findings.split_at_mut(findings.len() / 2);
        crate::parallel::join(|| first.sort_by(order), || second.sort_by(order));
    }
    findings.sort_by(order);
    crate::parallel::each_mut(findings, |_, f| {
        if f.id.is_empty() {
            f.id = format!("{}:{}", f.code, f.target());
        }
    });
    let mut count: crate::fast_map::Map<&str, usize> = crate::fast_map::Map::default();
    count.reserve(findings.len());
    for f in findings.iter() {
        *count.entry(f.id.as_str()).or_default() += 1;
    }
    let repeated: crate::fast_map::Set<String> = count
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(id, _)| id.to_owned())
        .collect();
    let mut seen: crate::fast_map::Map<String, usize> = crate::fast_map::Map::default();
    for f in findings.iter_mut().filter(|f| repeated.contains(&f.id)) {
        let n = seen.entry(f.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            f.id = format!("{}#{n}", f.id);
        }
    }
}

/// `PathBuf` of a declared path, resolved against the repository root and normalized the way
/// discovery reports paths.
pub fn resolve(base: &std::path::Path, path: &str) -> PathBuf {
    crate::discover::Glob::new(base, path).root
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FindingCode, Severity};

    #[test]
    fn findings_sorted_on_two_cores_are_in_the_order_of_one_stable_sort() {
        // Enough to be sorted in halves; many ties, so stability shows in `message`.
        let severities = [
            Severity::Low,
            Severity::Critical,
            Severity::Medium,
            Severity::High,
        ];
        let made: Vec<Finding> = (0..20_000_usize)
            .map(|i| Finding {
                id: format!("f{}", i % 9_000),
                code: FindingCode::ALL[i % 5],
                severity: severities[i % 4],
                identity: Some(format!("svc-{}", (i * 7) % 13)),
                message: format!("{i:05}"),
                ..Finding::default()
            })
            .collect();
        let mut expected = made.clone();
        expected.sort_by(|a, b| {
            (a.severity, a.code)
                .cmp(&(b.severity, b.code))
                .then_with(|| who(a).cmp(&who(b)))
        });
        let mut findings = made;
        finish(&mut findings);
        let messages =
            |list: &[Finding]| list.iter().map(|f| f.message.clone()).collect::<Vec<_>>();
        assert_eq!(messages(&findings), messages(&expected));
        // Ids repeated in the list are told apart.
        let ids: std::collections::HashSet<&str> = findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids.len(), findings.len());
    }
}
