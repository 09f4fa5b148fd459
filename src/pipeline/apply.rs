//! Applying a plan file, and revoking on the spot: every check that decides whether a plan may
//! run is made under the apply lock — already applied, signed as the repository requires,
//! fresh (its inputs unchanged), justified (each rotation and revocation is what apply's own
//! rediscovery gives) — then the plan is carried out and recorded.

use super::{Error, Options};
use crate::apply::{self, journal::Journal};
use crate::git::{self, Author, Signer};
use crate::plan::{self as planner, ActionKind, Plan};

/// Who applies, and how the audit commit is made.
#[derive(Debug)]
pub struct Apply<'a> {
    /// Ids of `approval: manual` actions approved.
    pub approved: Vec<String>,
    /// Who approved (a CI actor, a Git identity).
    pub approver: String,
    /// Author and committer of the audit commit.
    pub author: Author,
    /// The key that signs it.
    pub signer: &'a Signer,
    /// Raised: stop between actions ([`apply::Options::stop`]).
    pub stop: Option<&'a std::sync::atomic::AtomicBool>,
}

/// Carries out the plan file `plan` as `how` says, after the checks, under the lock.
pub fn apply(options: &Options, plan: &Plan, how: &Apply<'_>) -> Result<apply::Outcome, Error> {
    if plan.digest.is_empty() {
        return Err(Error::Unwritten);
    }
    let lock = apply::lock(&options.repo, options.now)?;
    let branch = &options.audit_branch;
    apply::settle(&options.repo, branch, &plan.id, &lock)?;
    apply::refuse_applied(&options.repo, branch, plan)?;
    let loaded = super::load(options)?;
    check_signature(options, plan, &loaded)?;
    let git_dir = git::git_dir(&options.repo)?;
    if !Journal::exists(&git_dir, &plan.id) {
        let inventory = refuse_stale(options, plan, &loaded)?;
        refuse_unjustified(options, plan, &loaded, &inventory)?;
    }
    run(options, plan, how, &loaded, &lock)
}

/// Revokes the certificate `selector` names (see [`planner::revocation`]) for `reason`: a
/// one-action plan made, shown to `confirm` (false: nothing is done) and applied under one hold
/// of the lock. Returns the plan and what was done.
pub fn revoke(
    options: &Options,
    selector: &str,
    reason: &str,
    how: &Apply<'_>,
    confirm: &mut dyn FnMut(&Plan) -> bool,
) -> Result<(Plan, apply::Outcome), Error> {
    let lock = apply::lock(&options.repo, options.now)?;
    let loaded = super::load(options)?;
    let inventory = super::inventory(options, &loaded.model)?;
    let mut warnings = Vec::new();
    let trail = super::trail(options, &mut warnings);
    let revocation = super::reconciled(
        options,
        &loaded,
        &inventory,
        options.now,
        &trail,
        &mut warnings,
        |input, rec, planning| planner::revocation(input, &rec, planning, selector, reason),
    )
    .map_err(Error::Revoke)?;
    if !confirm(&revocation) {
        return Err(Error::Revoke("revocation cancelled".into()));
    }
    let how = Apply {
        approved: revocation.actions.iter().map(|a| a.id.clone()).collect(),
        approver: how.approver.clone(),
        author: how.author.clone(),
        signer: how.signer,
        stop: how.stop,
    };
    let outcome = run(options, &revocation, &how, &loaded, &lock)?;
    Ok((revocation, outcome))
}

fn run(
    options: &Options,
    plan: &Plan,
    how: &Apply<'_>,
    loaded: &crate::load::Outcome,
    lock: &apply::journal::Lock,
) -> Result<apply::Outcome, Error> {
    let apply_options = apply::Options {
        repo: options.repo.clone(),
        model: &loaded.model,
        now: options.now,
        approved: how.approved.clone(),
        approver: how.approver.clone(),
        branch: options.audit_branch.clone(),
        author: how.author.clone(),
        signer: Some(how.signer),
        smtp: loaded.config.smtp.as_ref(),
        env: &options.env,
        stop: how.stop,
    };
    let outcome = apply::apply(&apply_options, plan, lock)?;
    // What was just revoked is not in the CRLs kept from before: fetch them afresh next time.
    crate::revocation::forget(super::cache_dir(options).as_deref());
    Ok(outcome)
}

/// Checks a signed plan's signature against the committed `allowed_signers` (as `audit verify`
/// trusts it); refuses an unsigned plan where `trustops.yaml` requires signed plans.
fn check_signature(
    options: &Options,
    plan: &Plan,
    loaded: &crate::load::Outcome,
) -> Result<(), Error> {
    let Some(armored) = &plan.signature else {
        if loaded.config.require_signed_plans {
            return Err(Error::Signature(
                "the plan is not signed and trustops.yaml requires signed plans: run trustops plan --out FILE --signing-key KEY".into(),
            ));
        }
        return Ok(());
    };
    let signers =
        crate::audit::signers::from_history(&options.repo, &options.audit_branch, "HEAD")?;
    let allowed = signers.current().ok_or_else(|| {
        Error::Signature(
            "the plan is signed, but no allowed_signers is committed to check it with".into(),
        )
    })?;
    let signed = git::Signed {
        armored: armored.clone(),
        payload: planner::file::signed_payload(plan),
    };
    allowed
        .check_as(
            &signed,
            plan.generated_at.0.as_second(),
            planner::file::SIGNATURE_NAMESPACE,
            &[planner::file::SIGNATURE_NAMESPACE, "git"],
        )
        .map_err(|why| Error::Signature(format!("the plan's signature is not trusted: {why}")))?;
    Ok(())
}

/// Refuses a plan whose inputs changed, saying which; returns what discovery finds now.
fn refuse_stale(
    options: &Options,
    plan: &Plan,
    loaded: &crate::load::Outcome,
) -> Result<crate::discover::Inventory, Error> {
    let declarations = planner::file::declarations_sha256(&loaded.files);
    if declarations != plan.inputs.declarations_sha256 {
        let commit = git::head_commit(&options.repo);
        return Err(Error::Stale(format!(
            "the declarations changed since it was made (plan: {}, now: {})",
            plan.inputs
                .declarations_commit
                .as_deref()
                .unwrap_or("uncommitted files"),
            commit.as_deref().unwrap_or("uncommitted files"),
        )));
    }
    let saved: Vec<std::path::PathBuf> = plan
        .inputs
        .inventories
        .iter()
        .map(std::path::PathBuf::from)
        .collect();
    let inventory = if saved.is_empty() {
        super::inventory(options, &loaded.model)?
    } else {
        super::read_inventories(&saved)?
    };
    if planner::file::inventory_sha256(&inventory) != plan.inputs.inventory_sha256 {
        return Err(Error::Stale(format!(
            "what discovery finds changed since it was made ({})",
            if saved.is_empty() {
                "the declared sources".to_owned()
            } else {
                plan.inputs.inventories.join(", ")
            }
        )));
    }
    Ok(inventory)
}

/// Refuses a plan with a rotation or revocation its own inputs do not give: the plan is made
/// again, at its instant, from what this apply discovered, and each such action must be there
/// unchanged (a revoke serial swapped for a live certificate's, a rotation aimed at another
/// target, are refused even when the digest was recomputed).
fn refuse_unjustified(
    options: &Options,
    plan: &Plan,
    loaded: &crate::load::Outcome,
    inventory: &crate::discover::Inventory,
) -> Result<(), Error> {
    let mut same = options.clone();
    same.inventories = plan
        .inputs
        .inventories
        .iter()
        .map(std::path::PathBuf::from)
        .collect();
    let mut warnings = Vec::new();
    let trail = super::trail(&same, &mut warnings);
    let derived = super::replan(
        &same,
        loaded,
        inventory,
        plan.generated_at.0,
        &trail,
        &mut warnings,
    );
    for action in &plan.actions {
        if !matches!(action.kind, ActionKind::Rotate | ActionKind::Revoke) {
            continue;
        }
        let justified = derived.actions.iter().any(|d| {
            d.id == action.id && serde_json::to_value(d).ok() == serde_json::to_value(action).ok()
        });
        if !justified {
            return Err(Error::Unjustified(action.id.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_never_written_has_no_digest_and_is_refused_before_anything_is_touched() {
        let (signer, _) = crate::git::Signer::generate("audit@example.com").unwrap();
        let how = Apply {
            approved: Vec::new(),
            approver: "test".into(),
            author: Author {
                name: "test".into(),
                email: "audit@example.com".into(),
                time: 0,
            },
            signer: &signer,
            stop: None,
        };
        // No repository there: the refusal comes before the lock or any read.
        let options = Options::new("/nonexistent/repo".into(), jiff::Timestamp::UNIX_EPOCH);
        let unwritten = Plan::default();
        assert!(matches!(
            apply(&options, &unwritten, &how),
            Err(Error::Unwritten)
        ));
    }
}
