//! Plan: turn findings into ordered actions, and write the plan file `apply` takes.
//!
//! Entry point: [`plan`], a pure function of reconcile's input and result plus [`Options`]
//! (input digests, first notices already sent): rotation groups in dependency order
//! ([`rotate`]), revocations of replaced certificates, escalations along owners' ladders
//! ([`escalate`]), adoptions of unmanaged credentials ([`adopt`]) and reviews for what needs
//! a person ([`review`]). [`file`] holds the digests and reads plan files back.

mod action;
mod adopt;
mod document;
mod escalate;
pub mod file;
mod review;
mod rotate;

pub use action::{Action, ActionKind, Notice, Recipient, Step, StepKind};
pub use document::{
    ActionCounts, CredentialState, FORMAT_VERSION, Facts, Inputs, Plan, SeverityCounts, Summary,
};

use crate::discover::Time;
use crate::model::{self, FindingCode, Identity, Policy, Severity};
use crate::reconcile::{self, Finding, Reconciliation, Status};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};

/// What a plan records about its inputs, besides reconcile's.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Digests of the declarations and inventory (`file::inventory_sha256`, ...).
    pub inputs: Inputs,
    /// When each credential's owner was first told about its expiry (`identity/credential` →
    /// instant), from the audit trail; the escalation ladder counts from there.
    pub first_notices: BTreeMap<String, Timestamp>,
}

/// What plan builders read.
struct Context<'a> {
    input: &'a reconcile::Input<'a>,
    rec: &'a Reconciliation,
    options: &'a Options,
    /// Unsuppressed findings by `(identity, credential)`.
    active: HashMap<(&'a str, &'a str), Vec<&'a Finding>>,
}

impl<'a> Context<'a> {
    /// The declarations behind a status.
    fn spec(&self, status: &Status) -> Option<(&'a Identity, &'a model::Credential)> {
        let identity = self.input.model.identities.get(&status.identity)?;
        let credential = identity
            .spec
            .credentials
            .iter()
            .find(|c| c.name.value == status.credential)?;
        Some((identity, credential))
    }

    /// The effective policy of a status.
    fn policy(&self, status: &Status) -> Option<&'a Policy> {
        status
            .policy
            .as_ref()
            .and_then(|p| self.input.model.policies.get(p))
    }

    /// The owner of an identity.
    fn owner_of(&self, identity: &str) -> Option<String> {
        self.input
            .model
            .identities
            .get(identity)?
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

/// Plans the actions that fix `rec`'s findings; the plan keeps them.
pub fn plan(input: &reconcile::Input<'_>, rec: Reconciliation, options: &Options) -> Plan {
    let mut plan = with_findings_of(input, &rec, options);
    plan.findings = rec.findings;
    plan.id = file::plan_id(&plan);
    plan.digest = file::digest(&plan);
    plan
}

/// The plan, without the findings (moved in by [`plan`], not copied).
fn with_findings_of(input: &reconcile::Input<'_>, rec: &Reconciliation, options: &Options) -> Plan {
    let mut active: HashMap<(&str, &str), Vec<&Finding>> = HashMap::new();
    for f in rec.findings.iter().filter(|f| f.suppressed.is_none()) {
        if f.identity.is_some() {
            let key = (
                f.identity.as_deref().unwrap_or_default(),
                f.credential.as_deref().unwrap_or_default(),
            );
            active.entry(key).or_default().push(f);
        }
    }
    let cx = Context {
        input,
        rec,
        options,
        active,
    };
    let mut actions = Vec::new();
    let mut reviews = review::Reviews::default();
    rotate::plan(&cx, &mut actions, &mut reviews);
    rotate::revocations(&cx, &mut actions, &mut reviews);
    escalate::plan(&cx, &mut actions);
    adopt::plan(&cx, &mut actions);
    reviews.findings(&cx);
    actions.extend(reviews.finish());
    order(&mut actions, input.now);
    assemble(&cx, actions)
}

/// Plan order: what runs now before what waits, rotations first, then by id (rotation groups
/// are already in dependency order inside).
fn order(actions: &mut [Action], now: Timestamp) {
    actions.sort_by(|a, b| {
        let key = |x: &Action| (x.kind, x.not_before.map(|t| t.0).filter(|t| *t > now));
        key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
    });
}

fn assemble(cx: &Context<'_>, actions: Vec<Action>) -> Plan {
    let input = cx.input;
    let rec = cx.rec;
    let inventory = &input.inventory.credentials;
    let parts = crate::parallel::ranges(rec.statuses.len(), |range| {
        rec.statuses[range]
            .iter()
            .map(|s| {
                let policy = cx.policy(s);
                CredentialState {
                    identity: s.identity.clone(),
                    credential: s.credential.clone(),
                    credential_type: cx
                        .spec(s)
                        .map(|(_, c)| c.credential_type.value.as_str().to_owned())
                        .unwrap_or_default(),
                    owner: cx.owner_of(&s.identity),
                    policy: s.policy.clone(),
                    trust_domain: policy.map(|p| p.spec.trust_domain.value.clone()),
                    current: s.current.map(|i| Facts::of(&inventory[i])),
                    superseded: s
                        .superseded
                        .iter()
                        .map(|&i| Facts::of(&inventory[i]))
                        .collect(),
                }
            })
            .collect::<Vec<_>>()
    });
    let credentials: Vec<CredentialState> = parts.into_iter().flatten().collect();
    let mut severities = SeverityCounts::default();
    let mut suppressed = 0;
    for f in &rec.findings {
        if f.suppressed.is_some() {
            suppressed += 1;
            continue;
        }
        *match f.severity {
            Severity::Critical => &mut severities.critical,
            Severity::High => &mut severities.high,
            Severity::Medium => &mut severities.medium,
            Severity::Low => &mut severities.low,
        } += 1;
    }
    let mut counts = ActionCounts::default();
    for a in &actions {
        *match a.kind {
            ActionKind::Rotate => &mut counts.rotate,
            ActionKind::Revoke => &mut counts.revoke,
            ActionKind::Escalate => &mut counts.escalate,
            ActionKind::Adopt => &mut counts.adopt,
            ActionKind::Review => &mut counts.review,
        } += 1;
    }
    let errored = !file::failed_sources(input.inventory).is_empty();
    let deferred = actions.iter().filter(|a| a.deferred(input.now)).count();
    let matched = rec.statuses.iter().filter(|s| s.current.is_some()).count();
    let summary = Summary {
        identities: input.model.identities.len(),
        declared: rec.statuses.len(),
        discovered: inventory.len(),
        matched,
        missing: rec.statuses.len() - matched,
        unmanaged: rec
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::Unmanaged)
            .count(),
        findings: severities,
        suppressed,
        actions: counts,
        deferred,
    };
    let applyable = !errored
        && actions.iter().any(|a| {
            matches!(
                a.kind,
                ActionKind::Rotate | ActionKind::Revoke | ActionKind::Escalate
            )
        });
    Plan {
        format_version: FORMAT_VERSION,
        id: String::new(),
        generated_at: Time(input.now),
        trustops_version: env!("CARGO_PKG_VERSION").to_owned(),
        inputs: cx.options.inputs.clone(),
        applyable,
        complete: !errored && deferred == 0,
        errored,
        summary,
        credentials,
        findings: Vec::new(),
        actions,
        problems: input.inventory.diagnostics.clone(),
        digest: String::new(),
    }
}
