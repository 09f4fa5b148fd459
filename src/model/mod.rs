//! The declared state: the six kinds a governance repository declares, as plain serde types.
//!
//! Every kind is a Kubernetes-style document:
//!
//! ```yaml
//! apiVersion: trustops.dev/v1alpha1
//! kind: Identity            # Owner | Policy | Issuer | Source | Identity | Exception
//! metadata: {name: payments-api, labels: {env: prod}}
//! spec: { ... }
//! ```
//!
//! Types here only describe and parse; they do no I/O and check nothing across documents
//! ([`crate::load`] does). Doc comments become the descriptions of the JSON Schemas in
//! `schemas/` ([`schema`]), so they are written for users.

mod config;
mod declaration;
mod duration;
mod exception;
mod finding_code;
mod identity;
mod issuer;
mod owner;
mod policy;
pub mod schedule;
pub mod schema;
mod source;
pub(crate) mod spanned;

pub use config::{RepoConfig, Smtp, SmtpTls, config_file_name};
pub use declaration::{API_VERSION, Declaration, Kind, KindSpec, Metadata, Origin};
pub use duration::Duration;
pub use exception::{ExceptionSpec, Expiry};
pub use finding_code::{FindingCode, Severity};
pub use identity::{Credential, CredentialType, Deploy, IdentitySpec, Match, split_reference};
pub use issuer::{Acme, Cfssl, ExecIssuer, Http01, IssuerKind, IssuerSpec, LocalCa, VaultIssuer};
pub use owner::{Contact, EscalationStep, OwnerSpec, OwnerType};
pub use policy::{
    Alphabet, Approval, KeyAlgorithm, KeyType, MissedWindow, Notify, PolicySpec, PostQuantum,
    RenewBefore, RenewalWindow, SecretValue, TRUST_DOMAINS,
};
pub use schedule::Schedule;
pub use source::{
    Endpoint, ExecSource, FilesSource, KubernetesSource, ScannerFormat, ScannerSource, SourceKind,
    SourceSpec, TlsSource, VaultAppRole, VaultAuth, VaultKubernetes, VaultKv, VaultSource,
};
pub use spanned::Spanned;

use std::collections::BTreeMap;

/// A declared owner.
pub type Owner = Declaration<OwnerSpec>;
/// A declared policy.
pub type Policy = Declaration<PolicySpec>;
/// A declared issuer.
pub type Issuer = Declaration<IssuerSpec>;
/// A declared discovery source.
pub type Source = Declaration<SourceSpec>;
/// A declared identity.
pub type Identity = Declaration<IdentitySpec>;
/// A declared policy exception.
pub type Exception = Declaration<ExceptionSpec>;

/// Everything a governance repository declares, by kind and name.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Owners by name.
    pub owners: BTreeMap<String, Owner>,
    /// Policies by name.
    pub policies: BTreeMap<String, Policy>,
    /// Issuers by name.
    pub issuers: BTreeMap<String, Issuer>,
    /// Sources by name.
    pub sources: BTreeMap<String, Source>,
    /// Identities by name.
    pub identities: BTreeMap<String, Identity>,
    /// Exceptions by name.
    pub exceptions: BTreeMap<String, Exception>,
}

/// A declared credential with its identity and its effective policy (the credential's own,
/// else the identity's): the one lookup from a credential to what governs it.
#[derive(Clone, Copy, Debug)]
pub struct Declared<'a> {
    /// The identity that declares it.
    pub identity: &'a Identity,
    /// The credential.
    pub credential: &'a Credential,
    /// The effective policy's name, as written (`None`: neither names one).
    pub policy_name: Option<&'a Spanned<String>>,
    /// The effective policy (`None` also when the name refers to no declared policy).
    pub policy: Option<&'a Policy>,
}

impl<'a> Declared<'a> {
    /// `credential` of `identity`, with its effective policy in `model`.
    pub fn of(model: &'a Model, identity: &'a Identity, credential: &'a Credential) -> Self {
        let policy_name = credential.policy.as_ref().or(identity.spec.policy.as_ref());
        Declared {
            identity,
            credential,
            policy_name,
            policy: policy_name.and_then(|name| model.policies.get(&name.value)),
        }
    }

    /// `identity/credential`.
    pub fn target(&self) -> String {
        format!("{}/{}", self.identity.name(), self.credential.name.value)
    }

    /// The issuers it is issued by: its own list, else its policy's (empty: none).
    pub fn issuers(&self) -> &'a [Spanned<String>] {
        match (&self.credential.issuers, self.policy) {
            (own, _) if !own.is_empty() => own,
            (_, Some(policy)) => &policy.spec.issuers,
            _ => &[],
        }
    }
}

impl Model {
    /// Every declared credential with its effective policy, in identity-name then declaration
    /// order.
    pub fn declared(&self) -> impl Iterator<Item = Declared<'_>> {
        self.identities.values().flat_map(move |identity| {
            identity
                .spec
                .credentials
                .iter()
                .map(move |credential| Declared::of(self, identity, credential))
        })
    }

    /// The declared credential `credential` of `identity`, with its effective policy.
    pub fn credential(&self, identity: &str, credential: &str) -> Option<Declared<'_>> {
        let identity = self.identities.get(identity)?;
        let credential = identity
            .spec
            .credentials
            .iter()
            .find(|c| c.name.value == credential)?;
        Some(Declared::of(self, identity, credential))
    }

    /// How many declarations of each kind, in [`Kind::ALL`] order.
    pub fn counts(&self) -> [(Kind, usize); 6] {
        [
            (Kind::Owner, self.owners.len()),
            (Kind::Policy, self.policies.len()),
            (Kind::Issuer, self.issuers.len()),
            (Kind::Source, self.sources.len()),
            (Kind::Identity, self.identities.len()),
            (Kind::Exception, self.exceptions.len()),
        ]
    }

    /// Names declared for `kind`.
    pub fn names(&self, kind: Kind) -> Vec<&str> {
        fn keys<T>(m: &BTreeMap<String, T>) -> Vec<&str> {
            m.keys().map(String::as_str).collect()
        }
        match kind {
            Kind::Owner => keys(&self.owners),
            Kind::Policy => keys(&self.policies),
            Kind::Issuer => keys(&self.issuers),
            Kind::Source => keys(&self.sources),
            Kind::Identity => keys(&self.identities),
            Kind::Exception => keys(&self.exceptions),
        }
    }

    /// Number of declared credentials over all identities.
    pub fn credential_count(&self) -> usize {
        self.identities
            .values()
            .map(|i| i.spec.credentials.len())
            .sum()
    }
}
