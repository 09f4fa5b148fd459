//! Whose approval a change needs. [`Approvers`]: the owners of every identity it affects, in the base or the
//! head — for a policy, every identity under it; for an issuer, every identity whose policy or
//! credential lists it; for a source, every identity matching through it.
//! [`Trust`]: who approves changes to what is trusted, independently of those it affects.

use crate::load::incremental::Unread;
use crate::model::Model;
use std::collections::{BTreeMap, BTreeSet};

/// Owners by what they depend on, from both revisions.
#[derive(Clone, Debug, Default)]
pub struct Approvers {
    by_identity: BTreeMap<String, BTreeSet<String>>,
    by_policy: BTreeMap<String, BTreeSet<String>>,
    by_issuer: BTreeMap<String, BTreeSet<String>>,
    by_source: BTreeMap<String, BTreeSet<String>>,
}

impl Approvers {
    /// Indexes `base` and `head`, and the identities of files neither read (`unread`, the
    /// same in both).
    pub fn new(base: &Model, head: &Model, unread: &[Unread]) -> Self {
        let mut a = Approvers::default();
        for model in [base, head] {
            for identity in model.identities.values() {
                a.index(model, &Unread::of(identity));
            }
            for identity in unread {
                a.index(model, identity);
            }
        }
        a
    }

    fn index(&mut self, model: &Model, identity: &Unread) {
        let Some(owner) = identity.owner.clone() else {
            return;
        };
        let add = |map: &mut BTreeMap<String, BTreeSet<String>>, key: &str| {
            map.entry(key.to_owned()).or_default().insert(owner.clone());
        };
        add(&mut self.by_identity, &identity.name);
        for issuer in &identity.issuers {
            add(&mut self.by_issuer, issuer);
        }
        for source in &identity.sources {
            add(&mut self.by_source, source);
        }
        for policy in &identity.policies {
            add(&mut self.by_policy, policy);
            if let Some(p) = model.policies.get(policy) {
                for issuer in p.spec.issuers.iter().chain(&p.spec.allowed_issuers) {
                    add(&mut self.by_issuer, &issuer.value);
                }
            }
        }
    }

    /// Owners of the identity `name`.
    pub fn identity(&self, name: &str) -> BTreeSet<String> {
        self.by_identity.get(name).cloned().unwrap_or_default()
    }

    /// Owners of every identity under the policy `name`.
    pub fn policy(&self, name: &str) -> BTreeSet<String> {
        self.by_policy.get(name).cloned().unwrap_or_default()
    }

    /// Owners of every identity that may be issued by `name`.
    pub fn issuer(&self, name: &str) -> BTreeSet<String> {
        self.by_issuer.get(name).cloned().unwrap_or_default()
    }

    /// Owners of every identity matched through the source `name`.
    pub fn source(&self, name: &str) -> BTreeSet<String> {
        self.by_source.get(name).cloned().unwrap_or_default()
    }
}

/// Who approves trust changes, as the base revision declares it: `trustApprovers` in
/// `trustops.yaml`, and each policy's own `approvers`. The base's, so that a change cannot
/// name its own approvers.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trust {
    repository: BTreeSet<String>,
    by_policy: BTreeMap<String, BTreeSet<String>>,
}

impl Trust {
    pub(crate) fn new(base: super::Revision<'_>) -> Self {
        Trust {
            repository: base
                .config
                .trust_approvers
                .iter()
                .map(|o| o.value.clone())
                .collect(),
            by_policy: base
                .model
                .policies
                .iter()
                .filter(|(_, p)| !p.spec.approvers.is_empty())
                .map(|(name, p)| {
                    let owners = p.spec.approvers.iter().map(|o| o.value.clone()).collect();
                    (name.clone(), owners)
                })
                .collect(),
        }
    }

    /// The repository's trust approvers.
    pub(crate) fn repository(&self) -> &BTreeSet<String> {
        &self.repository
    }

    /// The approvers of changes to the policy `name`: its own, else the repository's.
    pub(crate) fn policy(&self, name: &str) -> &BTreeSet<String> {
        self.by_policy.get(name).unwrap_or(&self.repository)
    }
}
