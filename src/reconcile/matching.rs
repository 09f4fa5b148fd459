//! Match declared credentials to discovered ones: each declared credential gets its current
//! credential (the newest valid one), its superseded ones, and every discovered credential
//! learns who claims it. Candidates come from the [`Index`] by the most selective rule; every
//! rule set must then hold.

use super::index::{Index, Positions};
use crate::discover::{Credential, CredentialKind, Glob, Inventory};
use crate::model::{self, CredentialType, Match};
use jiff::Timestamp;
use std::collections::HashMap;
use std::path::Path;

pub(super) use crate::model::Declared;

/// Every declared credential, in identity-name then declaration order.
pub(super) fn declared(model: &model::Model) -> Vec<Declared<'_>> {
    let mut all = Vec::with_capacity(model.credential_count());
    all.extend(model.declared());
    all
}

/// For each inventory position, the declared credentials (positions in `declared`) that
/// match it: one slot per discovered credential, no map.
#[derive(Debug, Default)]
pub(super) struct Claims(Vec<Option<Positions>>);

impl Claims {
    /// Whether any declared credential matches position `i`.
    pub(super) fn is_claimed(&self, i: usize) -> bool {
        self.0.get(i).is_some_and(Option::is_some)
    }

    /// Every claimed position with its claimants.
    pub(super) fn iter(&self) -> impl Iterator<Item = (usize, &[usize])> {
        self.0
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i, c.as_ref()?.as_slice())))
    }
}

/// What one declared credential matched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Matched {
    /// The credential in use: the newest valid certificate, the newest secret.
    pub current: Option<usize>,
    /// Other discovered forms of the same key (an SSH public key and its private key).
    pub copies: Vec<usize>,
    /// Older credentials that also match (renewed certificates still lying around).
    pub superseded: Vec<usize>,
}

/// Matches every declared credential; returns the matches (in `declared` order) and, for each
/// claimed inventory position, the declared credentials that claim it.
pub(super) fn match_all(
    declared: &[Declared<'_>],
    inventory: &Inventory,
    index: &Index<'_>,
    base: &Path,
    now: Timestamp,
) -> (Vec<Matched>, Claims) {
    let parts = crate::parallel::ranges(declared.len(), |range| {
        let mut matches = Vec::with_capacity(range.len());
        let mut pairs = Vec::new();
        for d in range {
            let decl = &declared[d];
            let rule = &decl.credential.match_rule.value;
            let wanted = decl.credential.credential_type.value;
            let location = rule.location.as_deref().map(|l| location_glob(base, l));
            let found: Vec<usize> = candidates(rule, location.as_ref(), index)
                .into_iter()
                .filter(|&i| {
                    let c = &inventory.credentials[i];
                    kind_fits(wanted, c) && holds(rule, location.as_ref(), c)
                })
                .collect();
            pairs.extend(found.iter().map(|&i| (i, d)));
            matches.push(split(found, &inventory.credentials, now));
        }
        (matches, pairs)
    });
    let mut claims = Claims(vec![None; inventory.credentials.len()]);
    let mut matches = Vec::with_capacity(declared.len());
    for (part, pairs) in parts {
        matches.extend(part);
        for (i, d) in pairs {
            match &mut claims.0[i] {
                Some(by) => by.push(d),
                slot => *slot = Some(Positions::One([d])),
            }
        }
    }
    (matches, claims)
}

/// Candidate positions: the shortest list among the indexed rules.
fn candidates(rule: &Match, location: Option<&Glob>, index: &Index<'_>) -> Vec<usize> {
    fn get<'m, S: std::hash::BuildHasher>(
        map: &'m HashMap<&str, Positions, S>,
        key: &str,
    ) -> &'m [usize] {
        map.get(key).map_or(&[], Positions::as_slice)
    }
    let mut lists: Vec<&[usize]> = Vec::new();
    if let Some(fp) = &rule.fingerprint {
        lists.push(get(&index.by_sha256, &normalize_fingerprint(&fp.value)));
    }
    if let Some(id) = &rule.secret_id {
        lists.push(get(&index.by_secret_id, id));
    }
    if let Some(uri) = &rule.uri {
        lists.push(get(&index.by_uri, uri));
    }
    for name in &rule.dns_names {
        lists.push(
            index
                .by_dns
                .get(name.to_ascii_lowercase().as_str())
                .map_or(&[], Positions::as_slice),
        );
    }
    if let Some(subject) = &rule.subject {
        lists.push(get(&index.by_subject, subject));
    }
    if let Some(issuer) = &rule.issuer {
        lists.push(get(&index.by_issuer, issuer));
    }
    if let (Some(source), true) = (&rule.source, lists.is_empty()) {
        lists.push(get(&index.by_source, &source.value));
    }
    if let Some(shortest) = lists.into_iter().min_by_key(|l| l.len()) {
        return shortest.to_vec();
    }
    // Only a location (with no source: a source list would have been returned above).
    match (location, rule.location.as_deref()) {
        (Some(glob), Some(place)) => {
            let mut found: Vec<usize> = index.under(&glob.prefix()).collect();
            found.extend(get(&index.by_place, place));
            found.sort_unstable();
            found.dedup();
            found
        }
        // An empty rule (rejected by validate) matches nothing rather than everything.
        _ => Vec::new(),
    }
}

/// The glob of a `match.location`: relative patterns start at the repository, except those
/// that begin with `**`, which mean "anywhere" — discovered files live outside the repository,
/// and `**/keys/signer.key` must find them wherever they are.
fn location_glob(base: &Path, pattern: &str) -> Glob {
    if pattern.starts_with("**") {
        Glob::new(Path::new("/"), pattern)
    } else {
        Glob::new(base, pattern)
    }
}

/// A fingerprint as the inventory writes it: lowercase hex, no `sha256:` prefix or colons.
pub(super) fn normalize_fingerprint(text: &str) -> String {
    let text = text.trim();
    let text = text
        .strip_prefix("sha256:")
        .or_else(|| text.strip_prefix("SHA256:"))
        .unwrap_or(text);
    text.chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether a discovered credential can be the declared type.
fn kind_fits(wanted: CredentialType, c: &Credential) -> bool {
    match wanted {
        CredentialType::X509Certificate => c.kind == CredentialKind::X509Certificate,
        CredentialType::PrivateKey => c.kind == CredentialKind::PrivateKey,
        CredentialType::SshKey => {
            c.kind == CredentialKind::SshPublicKey
                || (c.kind == CredentialKind::PrivateKey && c.format.as_deref() == Some("openssh"))
        }
        // Stores and scanners disagree on what to call a value; the declaration decides.
        CredentialType::Secret | CredentialType::ApiKey | CredentialType::Token => matches!(
            c.kind,
            CredentialKind::Secret | CredentialKind::ApiKey | CredentialKind::Token
        ),
    }
}

/// One condition of a `match` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Rule {
    Fingerprint,
    SecretId,
    Uri,
    DnsNames,
    Subject,
    Issuer,
    Source,
    Location,
}

impl Rule {
    pub(super) const ALL: [Rule; 8] = [
        Rule::Fingerprint,
        Rule::SecretId,
        Rule::Uri,
        Rule::DnsNames,
        Rule::Subject,
        Rule::Issuer,
        Rule::Source,
        Rule::Location,
    ];

    /// The field's name under `match:`.
    pub(super) fn field(self) -> &'static str {
        match self {
            Rule::Fingerprint => "fingerprint",
            Rule::SecretId => "secretId",
            Rule::Uri => "uri",
            Rule::DnsNames => "dnsNames",
            Rule::Subject => "subject",
            Rule::Issuer => "issuer",
            Rule::Source => "source",
            Rule::Location => "location",
        }
    }

    /// Whether the condition singles a credential out (a DNS name does, a source does not).
    pub(super) fn identifies(self) -> bool {
        !matches!(self, Rule::Source | Rule::Issuer)
    }

    /// Whether `rule` sets this condition.
    pub(super) fn is_set(self, rule: &Match) -> bool {
        match self {
            Rule::Fingerprint => rule.fingerprint.is_some(),
            Rule::SecretId => rule.secret_id.is_some(),
            Rule::Uri => rule.uri.is_some(),
            Rule::DnsNames => !rule.dns_names.is_empty(),
            Rule::Subject => rule.subject.is_some(),
            Rule::Issuer => rule.issuer.is_some(),
            Rule::Source => rule.source.is_some(),
            Rule::Location => rule.location.is_some(),
        }
    }

    /// Whether this condition holds for `c`; `None` when the rule does not set it.
    fn check(self, rule: &Match, location: Option<&Glob>, c: &Credential) -> Option<bool> {
        let same =
            |want: &str, have: Option<&str>| have.is_some_and(|v| v.eq_ignore_ascii_case(want));
        match self {
            Rule::Fingerprint => rule
                .fingerprint
                .as_ref()
                .map(|f| c.sha256 == normalize_fingerprint(&f.value)),
            Rule::SecretId => rule
                .secret_id
                .as_deref()
                .map(|s| c.id.as_deref() == Some(s)),
            Rule::Uri => rule
                .uri
                .as_deref()
                .map(|u| c.uris.iter().flatten().any(|v| v == u)),
            Rule::DnsNames => (!rule.dns_names.is_empty()).then(|| {
                rule.dns_names.iter().all(|n| {
                    c.dns_names
                        .iter()
                        .flatten()
                        .any(|v| v.eq_ignore_ascii_case(n))
                })
            }),
            Rule::Subject => rule
                .subject
                .as_deref()
                .map(|s| same(s, c.subject.as_deref())),
            Rule::Issuer => rule.issuer.as_deref().map(|s| same(s, c.issuer.as_deref())),
            Rule::Source => rule
                .source
                .as_ref()
                .map(|s| c.locations.iter().any(|l| *l.source == *s.value)),
            Rule::Location => match (location, rule.location.as_deref()) {
                (Some(glob), Some(place)) => Some(c.locations.iter().any(|l| {
                    l.endpoint.as_deref() == Some(place)
                        || l.object.as_deref() == Some(place)
                        || l.path.as_deref().is_some_and(|p| glob.matches_path(p))
                })),
                _ => None,
            },
        }
    }
}

/// Whether every rule that is set holds for `c`.
fn holds(rule: &Match, location: Option<&Glob>, c: &Credential) -> bool {
    Rule::ALL
        .iter()
        .all(|r| r.check(rule, location, c) != Some(false))
}

/// The discovered credential that comes closest to a declared one that matched nothing.
#[derive(Debug)]
pub(super) struct Nearest {
    /// Its inventory position.
    pub position: usize,
    /// Whether it is of the declared type.
    pub kind_fits: bool,
    /// The conditions it meets and those it fails.
    pub held: Vec<Rule>,
    pub failed: Vec<Rule>,
}

/// Whether `c` carries some, not all, of the rule's DNS names.
fn partial_dns(rule: &Match, c: &Credential) -> bool {
    rule.dns_names.iter().any(|n| {
        c.dns_names
            .iter()
            .flatten()
            .any(|v| v.eq_ignore_ascii_case(n))
    })
}

/// How many credentials a search for the nearest may read when no indexed value is shared.
const NEAREST_SCAN: usize = 100_000;

/// The credential closest to `decl`'s match rule: among those sharing an indexed value with
/// it (a DNS name, subject, source ...), or, in a small inventory, all of them, the one that
/// meets the most conditions, of the declared type first.
pub(super) fn nearest(
    decl: &Declared<'_>,
    inventory: &Inventory,
    index: &Index<'_>,
    base: &Path,
) -> Option<Nearest> {
    let rule = &decl.credential.match_rule.value;
    let location = rule.location.as_deref().map(|l| location_glob(base, l));
    let mut candidates: Vec<usize> = Vec::new();
    let mut extend = |list: Option<&Positions>| {
        candidates.extend(list.map_or(&[][..], Positions::as_slice));
    };
    if let Some(fp) = &rule.fingerprint {
        extend(
            index
                .by_sha256
                .get(normalize_fingerprint(&fp.value).as_str()),
        );
    }
    for (value, map) in [
        (&rule.secret_id, &index.by_secret_id),
        (&rule.uri, &index.by_uri),
        (&rule.subject, &index.by_subject),
        (&rule.issuer, &index.by_issuer),
    ] {
        extend(value.as_deref().and_then(|v| map.get(v)));
    }
    for name in &rule.dns_names {
        extend(index.by_dns.get(name.to_ascii_lowercase().as_str()));
    }
    extend(
        rule.source
            .as_ref()
            .and_then(|s| index.by_source.get(s.value.as_str())),
    );
    if let Some(glob) = &location {
        candidates.extend(index.under(&glob.prefix()));
    }
    candidates.sort_unstable();
    candidates.dedup();
    if candidates.is_empty() && inventory.credentials.len() <= NEAREST_SCAN {
        candidates = (0..inventory.credentials.len()).collect();
    }
    let wanted = decl.credential.credential_type.value;
    candidates
        .into_iter()
        .map(|i| {
            let c = &inventory.credentials[i];
            let (mut held, mut failed) = (Vec::new(), Vec::new());
            for r in Rule::ALL {
                match r.check(rule, location.as_ref(), c) {
                    Some(true) => held.push(r),
                    Some(false) => failed.push(r),
                    None => {}
                }
            }
            Nearest {
                position: i,
                kind_fits: kind_fits(wanted, c),
                held,
                failed,
            }
        })
        // Sharing only a source or an issuer with thousands of others says nothing.
        .filter(|n| {
            n.held.iter().any(|r| r.identifies())
                || partial_dns(rule, &inventory.credentials[n.position])
        })
        .max_by_key(|n| (n.held.len(), n.kind_fits, std::cmp::Reverse(n.position)))
}

/// Picks the current credential among matches; the rest are copies of it or superseded.
fn split(found: Vec<usize>, all: &[Credential], now: Timestamp) -> Matched {
    let Some(&current) = found.iter().max_by_key(|&&i| freshness(&all[i], now)) else {
        return Matched::default();
    };
    fn key(c: &Credential) -> &str {
        c.public_key_sha256.as_deref().unwrap_or(&c.sha256)
    }
    let current_key = key(&all[current]);
    let mut matched = Matched {
        current: Some(current),
        ..Matched::default()
    };
    for i in found.into_iter().filter(|&i| i != current) {
        let same_key = all[i].kind != CredentialKind::X509Certificate
            && all[current].kind != CredentialKind::X509Certificate
            && key(&all[i]) == current_key;
        if same_key {
            matched.copies.push(i);
        } else {
            matched.superseded.push(i);
        }
    }
    matched
}

/// Orders matches: valid certificates first, then the newest (notBefore, then notAfter);
/// secrets by when they were last rotated.
fn freshness(c: &Credential, now: Timestamp) -> (bool, Option<Timestamp>, Option<Timestamp>, &str) {
    let valid = match (c.not_before, c.not_after) {
        (Some(nb), Some(na)) => nb.0 <= now && now <= na.0,
        _ => true,
    };
    let born = c.not_before.or(c.last_rotated).or(c.created).map(|t| t.0);
    (valid, born, c.not_after.map(|t| t.0), &c.sha256)
}
