//! Plan: turn findings into ordered actions, and write the plan file `apply` takes.
//!
//! Entry point: [`plan`], a pure function of reconcile's input and result plus [`Options`]
//! (input digests, first notices already sent): rotation groups in dependency order
//! (`rotate.rs`), revocations of replaced certificates, escalations along owners' ladders
//! (`escalate.rs`), adoptions of unmanaged credentials (`adopt.rs`) and reviews for what needs
//! a person (`review.rs`). `file.rs` holds the digests and reads plan files back.

mod action;
mod adopt;
mod document;
mod escalate;
pub mod file;
mod review;
mod revoke;
mod rotate;

pub use action::{Action, ActionKind, Notice, Recipient, Step, StepKind};
pub use adopt::Adoption;
pub use document::{
    ActionCounts, CredentialState, FORMAT_VERSION, Facts, Inputs, Plan, SeverityCounts, Summary,
};

use crate::model::{self, Identity, Policy};
use crate::reconcile::{self, Finding, Reconciliation, Status};
use jiff::Timestamp;
use std::collections::BTreeMap;

/// What a plan records about its inputs, besides reconcile's.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Digests of the declarations and inventory (`file::inventory_sha256`, ...).
    pub inputs: Inputs,
    /// When each credential's owner was first told about its expiry
    /// (`identity/credential@sha256` → instant), from the audit trail
    /// ([`crate::audit::Trail::first_notices`]); the escalation ladder counts from there.
    pub first_notices: BTreeMap<String, Timestamp>,
    /// Whether `trustops.yaml` declares an SMTP relay: without one, e-mail contacts cannot be
    /// reached, and the plan says so next to each.
    pub mail_relay: bool,
}

/// What plan builders read.
struct Context<'a> {
    input: &'a reconcile::Input<'a>,
    rec: &'a Reconciliation,
    options: &'a Options,
    /// Unsuppressed findings by `(identity, credential)`.
    active: crate::fast_map::Map<(&'a str, &'a str), Vec<&'a Finding>>,
    /// The declared identities by name, hashed: planning looks one up several times per
    /// declared credential, and the model's ordered map costs a string comparison per level.
    identities: crate::fast_map::Map<&'a str, &'a Identity>,
}

impl<'a> Context<'a> {
    /// The declarations behind a status.
    fn spec(&self, status: &Status) -> Option<(&'a Identity, &'a model::Credential)> {
        let declared = self.declared(status)?;
        Some((declared.identity, declared.credential))
    }

    /// The declaration behind a status, with its effective policy.
    fn declared(&self, status: &Status) -> Option<model::Declared<'a>> {
        let identity = self.identity(&status.identity)?;
        let credential = identity
            .spec
            .credentials
            .iter()
            .find(|c| c.name.value == status.credential)?;
        Some(model::Declared::of(self.input.model, identity, credential))
    }

    /// The identity declared as `name`.
    fn identity(&self, name: &str) -> Option<&'a Identity> {
        self.identities.get(name).copied()
    }

    /// The effective policy of a status.
    fn policy(&self, status: &Status) -> Option<&'a Policy> {
        self.declared(status)?.policy
    }

    /// The issuers a credential is issued by: its own list, else its policy's.
    fn issuers(&self, status: &Status) -> Vec<String> {
        self.declared(status)
            .map(|d| d.issuers().iter().map(|i| i.value.clone()).collect())
            .unwrap_or_default()
    }

    /// The owner of an identity.
    fn owner_of(&self, identity: &str) -> Option<String> {
        self.identity(identity)?
            .spec
            .owner
            .as_ref()
            .map(|o| o.value.clone())
    }

    /// Unsuppressed findings about a declared credential.
    fn findings_of<'s>(&'s self, s: &'a Status) -> &'s [&'a Finding] {
        self.active
            .get(&(s.identity.as_str(), s.credential.as_str()))
            .map_or(&[], Vec::as_slice)
    }
}

/// Plans the actions that fix `rec`'s findings; the plan keeps them. Its digest is set when
/// it is written ([`file::write`]), from the bytes written.
pub fn plan(input: &reconcile::Input<'_>, rec: Reconciliation, options: &Options) -> Plan {
    let mut plan = with_findings_of(input, &rec, options);
    plan.findings = rec.findings;
    plan.references = reconcile::References::of_all(&plan.findings);
    plan.id = file::plan_id(&plan);
    plan
}

/// The plan `trustops revoke` applies: one action revoking the certificate `selector` names
/// (see [`revoke`](self)) for the RFC 5280 `reason`, approved by whoever runs it.
pub fn revocation(
    input: &reconcile::Input<'_>,
    rec: &Reconciliation,
    options: &Options,
    selector: &str,
    reason: &str,
) -> Result<Plan, String> {
    let cx = Context {
        input,
        rec,
        options,
        active: crate::fast_map::Map::default(),
        identities: identities(input.model),
    };
    let action = revoke::compromised(&cx, selector, reason)?;
    let mut plan = document::assemble(&cx, vec![action]);
    plan.id = file::plan_id(&plan).replacen("plan-", "revoke-", 1);
    plan.digest = file::digest(&plan);
    Ok(plan)
}

/// The plan, without the findings (moved in by [`plan`], not copied).
fn with_findings_of(input: &reconcile::Input<'_>, rec: &Reconciliation, options: &Options) -> Plan {
    let (active, identities) = crate::parallel::join(
        || {
            let mut active: crate::fast_map::Map<(&str, &str), Vec<&Finding>> =
                crate::fast_map::Map::default();
            for f in rec.findings.iter().filter(|f| f.suppressed.is_none()) {
                if f.identity.is_some() {
                    let key = (
                        f.identity.as_deref().unwrap_or_default(),
                        f.credential.as_deref().unwrap_or_default(),
                    );
                    active.entry(key).or_default().push(f);
                }
            }
            active
        },
        || identities(input.model),
    );
    let cx = Context {
        input,
        rec,
        options,
        active,
        identities,
    };
    let mut actions = Vec::new();
    let mut reviews = review::Reviews::default();
    rotate::plan(&cx, &mut actions, &mut reviews);
    revoke::plan(&cx, &mut actions, &mut reviews);
    escalate::plan(&cx, &mut actions);
    reviews.findings(&cx);
    actions.extend(reviews.finish());
    // Adoptions last: at scale they are most of the actions, and the list grows once, to
    // exactly its size, before they are made.
    adopt::plan(&cx, &mut actions);
    order(&mut actions, input.now);
    document::assemble(&cx, actions)
}

/// `model`'s identities by name.
fn identities(model: &model::Model) -> crate::fast_map::Map<&str, &Identity> {
    model
        .identities
        .iter()
        .map(|(name, identity)| (name.as_str(), identity))
        .collect()
}

/// Plan order: rotations first, what runs now before what waits, declared credentials before
/// unknown ones, then by id (rotation groups are already in dependency order inside).
fn order(actions: &mut [Action], now: Timestamp) {
    actions.sort_by(|a, b| {
        // Declared credentials before ones known only by fingerprint.
        let key = |x: &Action| {
            (
                x.kind,
                x.not_before.map(|t| t.0).filter(|t| *t > now),
                x.identity.is_none(),
            )
        };
        key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
    });
}
