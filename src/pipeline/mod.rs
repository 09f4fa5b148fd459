//! The pipeline: the one composition of the stages that the CLI, the demo and the controller
//! all call. Options in, outcome out; nothing here prints or reads the environment (the caller
//! reads it and passes what it found in), so one process can hold several configurations.
//!
//! ```text
//! load ─▶ inventory (discover, or saved inventories) ─▶ trail ─▶ reconcile ─▶ plan
//! plan file ─▶ lock ─▶ applied? ─▶ signed? ─▶ fresh? ─▶ justified? ─▶ apply ─▶ record
//! ```
//!
//! Entry points: [`plan()`] (and its parts [`load()`], [`inventory`], [`replan`]), [`apply()`]
//! (`apply.rs`: every check that decides whether a plan runs, under the apply lock). Problems
//! that do not stop a plan — an issuer's CA certificate that cannot be read, an audit trail
//! that cannot be read — come back as warnings, never swallowed.

mod apply;
mod inputs;

pub use apply::{Apply, apply, revoke};
pub use inputs::{discover, inventory, read_inventories};

use crate::discover::Inventory;
use crate::environment::Environment;
use crate::{load, plan as planner, reconcile};
use std::path::PathBuf;

/// What a pipeline run works on.
#[derive(Clone, Debug)]
pub struct Options {
    /// The governance repository's root (absolute).
    pub repo: PathBuf,
    /// The instant to evaluate at.
    pub now: jiff::Timestamp,
    /// Inventories saved by `discover --format json` to plan against, instead of discovering.
    pub inventories: Vec<PathBuf>,
    /// The audit branch (full ref), e.g. `refs/heads/trustops-audit`.
    pub audit_branch: String,
    /// The environment the caller read ([`Environment::from_process`] at the edge): variables
    /// declarations name, and `TRUSTOPS_CACHE_DIR`.
    pub env: Environment,
}

impl Options {
    /// Options for `repo` at `now`, live discovery, the default audit branch.
    pub fn new(repo: PathBuf, now: jiff::Timestamp) -> Options {
        Options {
            repo,
            now,
            inventories: Vec::new(),
            audit_branch: DEFAULT_AUDIT_BRANCH.to_owned(),
            env: Environment::default(),
        }
    }
}

/// Where audit commits go unless told otherwise.
pub const DEFAULT_AUDIT_BRANCH: &str = "refs/heads/trustops-audit";

/// A plan and what it was made from.
#[derive(Debug)]
pub struct Planned {
    /// The declarations (valid).
    pub loaded: load::Outcome,
    /// What was discovered (or read from saved inventories).
    pub inventory: Inventory,
    /// The plan.
    pub plan: planner::Plan,
    /// What the audit trail says was already done (read once, for the plan and its callers).
    pub trail: crate::audit::Trail,
    /// Problems that did not stop the plan, one line each.
    pub warnings: Vec<String>,
}

/// Why the pipeline could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The declarations have errors (their diagnostics are in the outcome).
    #[error("the declarations are invalid; fix them first (trustops validate shows each problem)")]
    Invalid(Box<load::Outcome>),
    /// The repository could not be read.
    #[error("cannot read the declarations in {repo}")]
    Load {
        /// The repository.
        repo: PathBuf,
        /// The cause.
        #[source]
        source: load::Error,
    },
    /// A source asked for is not declared.
    #[error("no source named \"{0}\" is declared")]
    UnknownSource(String),
    /// Nothing to discover.
    #[error(
        "no Source is declared in {0}; declare one, or use --path (discover) or --inventory (plan)"
    )]
    NoSource(PathBuf),
    /// A saved inventory cannot be used.
    #[error("{0}")]
    Inventory(String),
    /// The plan's inputs changed since it was made.
    #[error("the plan is stale: {0}; run trustops plan --out again")]
    Stale(String),
    /// The plan holds an action its inputs do not give.
    #[error(
        "the plan's action {0} is not what its inputs give: the plan was edited or made by another trustops; run trustops plan --out again (nothing was done)"
    )]
    Unjustified(String),
    /// The certificate to revoke cannot be named.
    #[error("{0} (nothing was done)")]
    Revoke(String),
    /// The plan was never written, so it has no digest for the journal and the audit record.
    #[error(
        "the plan has no digest: write it first (plan::file::write, as plan --out does); nothing was done"
    )]
    Unwritten,
    /// The plan's signature is missing where required, or not trusted.
    #[error("{0} (nothing was done)")]
    Signature(String),
    /// Git failed.
    #[error(transparent)]
    Git(#[from] crate::git::Error),
    /// Apply failed.
    #[error(transparent)]
    Apply(#[from] crate::apply::Error),
}

/// Loads the declarations of `options.repo`; invalid ones are an [`Error::Invalid`] holding
/// their diagnostics.
pub fn load(options: &Options) -> Result<load::Outcome, Error> {
    let loaded = load::load(&load::Options {
        repo: options.repo.clone(),
    })
    .map_err(|source| Error::Load {
        repo: options.repo.clone(),
        source,
    })?;
    if crate::diag::has_errors(&loaded.diagnostics) {
        return Err(Error::Invalid(Box::new(loaded)));
    }
    Ok(loaded)
}

/// Loads, takes the inventory, and plans at `options.now`.
pub fn plan(options: &Options) -> Result<Planned, Error> {
    let (loaded, inventory) = if options.inventories.is_empty() {
        let loaded = load(options)?;
        let inventory = inventory(options, &loaded.model)?;
        (loaded, inventory)
    } else {
        // Saved inventories do not depend on the declarations: the first file is read, hashed
        // and its envelope read (one core's work) while the declarations are parsed on every
        // core.
        let (loaded, first) = crate::parallel::join(
            || load(options),
            || inputs::read_file(&options.inventories[0]),
        );
        let loaded = loaded?;
        (
            loaded,
            inputs::parse_inventories(Some(first), &options.inventories)?,
        )
    };
    let mut warnings = Vec::new();
    let trail = trail(options, &mut warnings);
    let plan = replan(
        options,
        &loaded,
        &inventory,
        options.now,
        &trail,
        &mut warnings,
    );
    Ok(Planned {
        loaded,
        inventory,
        plan,
        trail,
        warnings,
    })
}

/// Where fetched data (CRLs) is kept between runs: `TRUSTOPS_CACHE_DIR`, else `.git/trustops`
/// of a repository in Git, else nowhere.
pub(crate) fn cache_dir(options: &Options) -> Option<PathBuf> {
    options
        .env
        .get("TRUSTOPS_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let git = options.repo.join(".git");
            git.is_dir().then(|| git.join("trustops"))
        })
}

/// What the audit trail on `options.audit_branch` says was already done (notices sent,
/// certificates issued, rotations). A repository root not in Git has none; one in Git whose
/// trail cannot be read is a warning, never a silent empty trail.
pub fn trail(options: &Options, warnings: &mut Vec<String>) -> crate::audit::Trail {
    let in_git = options.repo.join(".git").exists();
    match crate::audit::trail(&options.repo, &options.audit_branch) {
        Ok(trail) => trail,
        Err(_) if !in_git => crate::audit::Trail::default(),
        Err(e) => {
            warnings.push(format!(
                "the audit trail on {} cannot be read, so notices already sent and certificates already issued are not counted: {e}",
                options.audit_branch.trim_start_matches("refs/heads/")
            ));
            crate::audit::Trail::default()
        }
    }
}

/// Plans `inventory` against `loaded` at `now` with what `trail` says was done: the plan
/// [`plan()`] makes, from given inputs.
pub fn replan(
    options: &Options,
    loaded: &load::Outcome,
    inventory: &Inventory,
    now: jiff::Timestamp,
    trail: &crate::audit::Trail,
    warnings: &mut Vec<String>,
) -> planner::Plan {
    reconciled(
        options,
        loaded,
        inventory,
        now,
        trail,
        warnings,
        planner::plan,
    )
}

/// Reconciles `inventory` with the declarations at `now`, with what the audit `trail` says was
/// already done (notices sent, certificates issued), and hands the result to `then` (a
/// planner: [`planner::plan`], or a one-action revocation).
#[allow(clippy::too_many_arguments)] // Plain inputs of one pure stage; a struct would only rename them.
pub fn reconciled<T>(
    options: &Options,
    loaded: &load::Outcome,
    inventory: &Inventory,
    now: jiff::Timestamp,
    trail: &crate::audit::Trail,
    warnings: &mut Vec<String>,
    then: impl FnOnce(&reconcile::Input<'_>, reconcile::Reconciliation, &planner::Options) -> T,
) -> T {
    // The inventory's digest serializes every credential: a second or two at a million, done
    // beside the revocation checks and reconciliation rather than after them.
    std::thread::scope(|scope| {
        let digest = scope.spawn(|| planner::file::inventory_sha256(inventory));
        // 46 MB of declarations at 100,000 identities: hashed beside reconcile, not after it.
        let declarations = scope.spawn(|| planner::file::declarations_sha256(&loaded.files));
        let base = &options.repo;
        let issuer_subjects = inputs::issuer_subjects(&loaded.model, base, warnings);
        let checking = crate::revocation::Options {
            now,
            base,
            cache: cache_dir(options),
            timeout: std::time::Duration::from_secs(10),
        };
        let mut revocation = crate::revocation::check(inventory, &loaded.model, &checking);
        let renewal_info = crate::ari::check(
            inventory,
            &loaded.model,
            &crate::ari::Options {
                now,
                base,
                cache: checking.cache.clone(),
                timeout: checking.timeout,
                issued_by: &trail.issued_by,
                issuer_subjects: &issuer_subjects,
            },
        );
        warnings.extend(renewal_info.problems.iter().cloned());
        static NONE: std::collections::BTreeMap<String, crate::revocation::Revoked> =
            std::collections::BTreeMap::new();
        let template = reconcile::Input {
            model: &loaded.model,
            inventory,
            now,
            base,
            issuer_subjects: &issuer_subjects,
            issued_by: &trail.issued_by,
            revoked: &NONE,
            renewal_info: &renewal_info.suggested,
        };
        let mut reconciled = reconcile::reconcile(&reconcile::Input {
            revoked: &revocation.revoked,
            ..template
        });
        // OCSP is asked only about certificates in use under a policy that wants it, which only
        // matching tells: reconcile again when a responder says more than the CRLs did.
        let asked: std::collections::BTreeSet<&str> = reconciled
            .statuses
            .iter()
            .filter(|s| {
                s.policy
                    .as_ref()
                    .and_then(|p| loaded.model.policies.get(p))
                    .is_some_and(|p| p.spec.ocsp)
            })
            .filter_map(|s| Some(inventory.credentials.get(s.current?)?.sha256.as_str()))
            .collect();
        if !asked.is_empty() {
            let answers = crate::revocation::ocsp(inventory, &loaded.model, &asked, &checking);
            let more = answers
                .revoked
                .keys()
                .any(|k| !revocation.revoked.contains_key(k));
            revocation.merge(answers);
            if more {
                reconciled = reconcile::reconcile(&reconcile::Input {
                    revoked: &revocation.revoked,
                    ..template
                });
            }
        }
        warnings.extend(revocation.problems.iter().cloned());
        let input = reconcile::Input {
            revoked: &revocation.revoked,
            ..template
        };
        warnings.extend(reconcile::idle_exceptions(&input, &reconciled.findings));
        warnings.extend(reconcile::long_lived_exceptions(&input));
        warnings.extend(reconcile::public_tls::warnings(&input, &reconciled));
        let planning = planner::Options {
            inputs: planner::Inputs {
                declarations_commit: crate::git::head_commit(base),
                declarations_sha256: declarations
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
                inventory_sha256: digest
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
                inventories: options
                    .inventories
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
            },
            first_notices: trail.first_notices.clone(),
            mail_relay: loaded.config.smtp.is_some(),
        };
        then(&input, reconciled, &planning)
    })
}
