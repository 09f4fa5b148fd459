//! Indexes over the inventory, so each declared credential finds its candidates by its most
//! selective rule instead of scanning everything: matching stays O(declared + discovered).
//! Only the indexes some declared rule needs are built ([`Needs`]).

use super::matching::Declared;
use crate::discover::{CredentialKind, Inventory};
use crate::fast_map::{Map, Set};
use std::collections::{BTreeMap, HashMap};

/// Which indexes the declarations use.
#[derive(Clone, Debug, Default)]
pub(super) struct Needs {
    uri: bool,
    dns: bool,
    subject: bool,
    issuer: bool,
    secret_id: bool,
    /// A rule with `source` and no other indexed field: the source's list is the candidates.
    source: bool,
    /// A rule with only `location`: file paths must be range-searchable.
    location: bool,
    /// Each declared credential's deploy key files, resolved (in `declared` order).
    pub key_files: Vec<Vec<String>>,
}

impl Needs {
    pub(super) fn of(declared: &[Declared<'_>], base: &std::path::Path) -> Self {
        let mut needs = Needs::default();
        for d in declared {
            let rule = &d.credential.match_rule.value;
            needs.uri |= rule.uri.is_some();
            needs.dns |= !rule.dns_names.is_empty();
            needs.subject |= rule.subject.is_some();
            needs.issuer |= rule.issuer.is_some();
            needs.secret_id |= rule.secret_id.is_some();
            let indexed = rule.uri.is_some()
                || !rule.dns_names.is_empty()
                || rule.subject.is_some()
                || rule.issuer.is_some()
                || rule.secret_id.is_some()
                || rule.fingerprint.is_some();
            needs.source |= rule.source.is_some() && !indexed;
            needs.location |= rule.location.is_some() && !indexed && rule.source.is_none();
            let keys = d
                .credential
                .deploy
                .iter()
                .filter_map(|t| t.key_file.as_ref());
            needs.key_files.push(
                keys.map(|k| {
                    super::resolve(base, &k.value)
                        .to_string_lossy()
                        .into_owned()
                })
                .collect(),
            );
        }
        needs
    }
}

/// Inventory positions under one key: most keys (fingerprints, DNS names) have one, so it is
/// kept inline rather than in a one-element `Vec`.
#[derive(Clone, Debug)]
pub(super) enum Positions {
    /// One position.
    One([usize; 1]),
    /// Several, in inventory order.
    Many(Vec<usize>),
}

impl Positions {
    pub(super) fn push(&mut self, i: usize) {
        match self {
            Positions::One([first]) if *first != i => *self = Positions::Many(vec![*first, i]),
            Positions::One(_) => {}
            Positions::Many(list) => {
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
    }

    /// The positions.
    pub(super) fn as_slice(&self) -> &[usize] {
        match self {
            Positions::One(one) => one,
            Positions::Many(list) => list,
        }
    }
}

type ByText<'a> = Map<&'a str, Positions>;

/// Positions in `Inventory::credentials`, by the facts match rules name.
#[derive(Debug, Default)]
pub(super) struct Index<'a> {
    pub by_sha256: ByText<'a>,
    pub by_uri: ByText<'a>,
    /// Lowercased DNS names (borrowed when already lowercase, as nearly all are).
    pub by_dns: Map<std::borrow::Cow<'a, str>, Positions>,
    pub by_subject: ByText<'a>,
    pub by_issuer: ByText<'a>,
    pub by_secret_id: ByText<'a>,
    pub by_source: ByText<'a>,
    /// File paths, sorted, so a glob's literal prefix is a range (location-only rules), and
    /// the declared files that are checked.
    pub by_path: BTreeMap<&'a str, Positions>,
    /// Endpoints (`host:port`) and store objects (`namespace/name`).
    pub by_place: ByText<'a>,
    /// Public keys (SHA-256) that some certificate carries, to pair keys with them.
    pub certified_keys: Set<&'a str>,
    /// Issuer DNs of discovered certificates: a CA certificate named here sits in a chain.
    pub issuers_seen: Set<&'a str>,
}

fn add<K, S>(map: &mut HashMap<K, Positions, S>, key: K, i: usize)
where
    K: std::hash::Hash + Eq,
    S: std::hash::BuildHasher,
{
    match map.entry(key) {
        std::collections::hash_map::Entry::Occupied(mut seen) => seen.get_mut().push(i),
        std::collections::hash_map::Entry::Vacant(slot) => {
            slot.insert(Positions::One([i]));
        }
    }
}

/// `name` lowercased, borrowed when it already is.
fn lower(name: &str) -> std::borrow::Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(name.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

impl<'a> Index<'a> {
    /// Builds the indexes `needs` asks for, the fingerprint ones and the others at once.
    pub(super) fn new(inventory: &'a Inventory, needs: &Needs) -> Self {
        // Four parts, each taken by whichever core is free, so that the cores end together
        // (three fixed parts left one core alone for 0.3 s at a million credentials).
        let parts = crate::parallel::each_taken(vec![0, 1, 2, 3], |part| match part {
            0 => Self::by_digest(inventory),
            1 => Self::by_names(inventory, needs, true),
            2 => Self::by_names(inventory, needs, false),
            _ => Self::by_places(inventory, needs),
        });
        let mut parts = parts.into_iter();
        let mut next = || parts.next().unwrap_or_default();
        let (mut index, dns, names, places) = (next(), next(), next(), next());
        index.by_dns = dns.by_dns;
        index.by_uri = names.by_uri;
        index.by_subject = names.by_subject;
        index.by_issuer = names.by_issuer;
        index.by_secret_id = names.by_secret_id;
        index.by_source = places.by_source;
        index.by_path = places.by_path;
        index.by_place = places.by_place;
        index
    }

    /// Fingerprints, certified public keys, and the issuers seen.
    fn by_digest(inventory: &'a Inventory) -> Self {
        let mut index = Index::default();
        index.by_sha256.reserve(inventory.credentials.len());
        index.certified_keys.reserve(inventory.credentials.len());
        let mut last_issuer: Option<&str> = None;
        for (i, c) in inventory.credentials.iter().enumerate() {
            add(&mut index.by_sha256, c.sha256.as_str(), i);
            if let Some(issuer) = c.issuer.as_deref()
                && c.subject.as_deref() != Some(issuer)
                && last_issuer != Some(issuer)
            {
                index.issuers_seen.insert(issuer);
                last_issuer = Some(issuer);
            }
            if c.kind == CredentialKind::X509Certificate
                && let Some(key) = &c.public_key_sha256
            {
                index.certified_keys.insert(key);
            }
        }
        index
    }

    /// The names match rules name, as far as `needs` asks: DNS names (`dns`), else URIs,
    /// subjects, issuers and secret ids.
    fn by_names(inventory: &'a Inventory, needs: &Needs, dns: bool) -> Self {
        let mut index = Index::default();
        if dns {
            if needs.dns {
                // About one name per certificate: grown once, not doubled twenty times.
                index.by_dns.reserve(inventory.credentials.len());
                for (i, c) in inventory.credentials.iter().enumerate() {
                    for name in c.dns_names.iter().flatten() {
                        add(&mut index.by_dns, lower(name), i);
                    }
                }
            }
            return index;
        }
        for (i, c) in inventory.credentials.iter().enumerate() {
            if needs.uri {
                for uri in c.uris.iter().flatten() {
                    add(&mut index.by_uri, uri.as_str(), i);
                }
            }
            if needs.subject
                && let Some(subject) = &c.subject
            {
                add(&mut index.by_subject, subject, i);
            }
            if needs.issuer
                && let Some(issuer) = &c.issuer
            {
                add(&mut index.by_issuer, issuer, i);
            }
            if needs.secret_id
                && let Some(id) = &c.id
            {
                add(&mut index.by_secret_id, id, i);
            }
        }
        index
    }

    /// The places match rules name (Sources, file paths, endpoints and store objects) and the
    /// declared key files that are checked, as far as `needs` asks.
    fn by_places(inventory: &'a Inventory, needs: &Needs) -> Self {
        let mut index = Index::default();
        let checked: Set<&str> = needs
            .key_files
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        for (i, c) in inventory.credentials.iter().enumerate() {
            for location in &c.locations {
                if needs.source {
                    add(&mut index.by_source, &location.source, i);
                }
                if let Some(path) = &location.path
                    && (needs.location || checked.contains(&**path))
                {
                    match index.by_path.entry(path) {
                        std::collections::btree_map::Entry::Occupied(mut seen) => {
                            seen.get_mut().push(i);
                        }
                        std::collections::btree_map::Entry::Vacant(slot) => {
                            slot.insert(Positions::One([i]));
                        }
                    }
                }
                if needs.location {
                    for place in [&location.endpoint, &location.object].into_iter().flatten() {
                        add(&mut index.by_place, place, i);
                    }
                }
            }
        }
        index
    }

    /// Credentials with a file path starting with `prefix`.
    pub(super) fn under(&self, prefix: &str) -> impl Iterator<Item = usize> + '_ {
        let owned = prefix.to_owned();
        self.by_path
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(move |(path, _)| path.starts_with(owned.as_str()))
            .flat_map(|(_, list)| list.as_slice().iter().copied())
    }
}
