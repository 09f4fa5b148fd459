//! Indexes over the inventory, so each declared credential finds its candidates by its most
//! selective rule instead of scanning everything: matching stays O(declared + discovered).

use crate::discover::{Credential, Inventory};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Positions in `Inventory::credentials`, by the facts match rules name.
#[derive(Debug, Default)]
pub(super) struct Index<'a> {
    pub by_sha256: HashMap<&'a str, Vec<usize>>,
    pub by_uri: HashMap<&'a str, Vec<usize>>,
    /// Lowercased DNS names.
    pub by_dns: HashMap<String, Vec<usize>>,
    pub by_subject: HashMap<&'a str, Vec<usize>>,
    pub by_issuer: HashMap<&'a str, Vec<usize>>,
    pub by_secret_id: HashMap<&'a str, Vec<usize>>,
    pub by_source: HashMap<&'a str, Vec<usize>>,
    /// File paths, sorted, so a glob's literal prefix is a range.
    pub by_path: BTreeMap<&'a str, Vec<usize>>,
    /// Endpoints (`host:port`) and store objects (`namespace/name`).
    pub by_place: HashMap<&'a str, Vec<usize>>,
    /// Certificates by the SHA-256 of their public key, to pair keys with them.
    pub certificates_by_key: HashMap<&'a str, Vec<usize>>,
    /// Issuer DNs of discovered certificates: a CA certificate named here sits in a chain.
    pub issuers_seen: HashSet<&'a str>,
}

fn add<'a>(map: &mut HashMap<&'a str, Vec<usize>>, key: &'a str, i: usize) {
    let list = map.entry(key).or_default();
    if list.last() != Some(&i) {
        list.push(i);
    }
}

impl<'a> Index<'a> {
    pub(super) fn new(inventory: &'a Inventory) -> Self {
        let mut index = Index::default();
        for (i, c) in inventory.credentials.iter().enumerate() {
            index.insert(i, c);
        }
        index
    }

    fn insert(&mut self, i: usize, c: &'a Credential) {
        add(&mut self.by_sha256, &c.sha256, i);
        for uri in c.uris.iter().flatten() {
            add(&mut self.by_uri, uri, i);
        }
        for name in c.dns_names.iter().flatten() {
            let list = self.by_dns.entry(name.to_ascii_lowercase()).or_default();
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
        if let Some(subject) = &c.subject {
            add(&mut self.by_subject, subject, i);
        }
        if let Some(issuer) = &c.issuer {
            add(&mut self.by_issuer, issuer, i);
            if c.subject.as_deref() != Some(issuer) {
                self.issuers_seen.insert(issuer);
            }
        }
        if let Some(id) = &c.id {
            add(&mut self.by_secret_id, id, i);
        }
        if c.kind == crate::discover::CredentialKind::X509Certificate
            && let Some(key) = &c.public_key_sha256
        {
            add(&mut self.certificates_by_key, key, i);
        }
        for location in &c.locations {
            add(&mut self.by_source, &location.source, i);
            if let Some(path) = &location.path {
                let list = self.by_path.entry(path).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
            for place in [&location.endpoint, &location.object].into_iter().flatten() {
                add(&mut self.by_place, place, i);
            }
        }
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
            .flat_map(|(_, list)| list.iter().copied())
    }
}
