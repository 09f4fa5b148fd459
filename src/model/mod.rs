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
mod spanned;

pub use config::{RepoConfig, Smtp, SmtpTls, config_file_name};
pub use declaration::{API_VERSION, Declaration, Kind, KindSpec, Metadata, Origin};
pub use duration::Duration;
pub use exception::{ExceptionSpec, Expiry};
pub use finding_code::{FindingCode, Severity};
pub use identity::{Credential, CredentialType, Deploy, IdentitySpec, Match, split_reference};
pub use issuer::{Acme, Cfssl, ExecIssuer, Http01, IssuerKind, IssuerSpec, LocalCa};
pub use owner::{Contact, EscalationStep, OwnerSpec, OwnerType};
pub use policy::{
    Approval, KeyAlgorithm, KeyType, Notify, PolicySpec, RenewBefore, RenewalWindow, TRUST_DOMAINS,
};
pub use schedule::Schedule;
pub use source::{
    Endpoint, ExecSource, FilesSource, KubernetesSource, ScannerFormat, ScannerSource, SourceKind,
    SourceSpec, TlsSource,
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

impl Model {
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
