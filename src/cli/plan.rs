//! `trustops plan`: discover (or read saved inventories), reconcile, plan, and print or save
//! the plan.

use super::{Exit, Global};
use crate::discover::{self, CredentialKind, Inventory};
use crate::render::plan::{self as render_plan, Format};
use crate::{plan, reconcile, render};
use anyhow::{Context as _, bail};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `plan`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Plan against inventories saved by `discover --format json` (one per zone, host group or
    /// cluster; repeatable) instead of discovering live. They are merged by fingerprint.
    #[arg(long, value_name = "FILE")]
    inventory: Vec<PathBuf>,
    /// Output format: text (a summary), markdown (a PR comment), json (the plan) or sarif
    /// (findings for code scanning).
    #[arg(long, default_value = "text", value_parser = ["text", "markdown", "json", "sarif"])]
    format: String,
    /// Write the plan file that `apply` takes (JSON) to FILE as well.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Markdown template (minijinja) replacing the default PR comment.
    #[arg(long, value_name = "FILE")]
    template: Option<PathBuf>,
    /// Exit 2 when actions are pending, 0 when there are none, 1 on errors (Terraform's
    /// convention).
    #[arg(long)]
    detailed_exitcode: bool,
    /// Sign the plan file (--out) with this SSH key, or the one in $TRUSTOPS_SIGNING_KEY, so
    /// `apply` knows it comes from a holder of a key `allowed_signers` allows.
    #[command(flatten)]
    signing: super::apply::Signing,
}

pub(super) fn run(global: &Global, args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let now = global.now()?;
    let template = match &args.template {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the template {}", path.display()))?,
        ),
        None => None,
    };
    let (_, mut planned) = planned(global, &args.inventory, now)?;
    if let Some(path) = &args.out {
        if let Some(signer) = args.signing.signer()? {
            let payload = plan::file::signed_payload(&planned);
            planned.signature = Some(signer.sign_as(&payload, plan::file::SIGNATURE_NAMESPACE)?);
        }
        crate::durable::write(path, &plan::file::to_json(&planned), 0o644)
            .with_context(|| format!("cannot write the plan to {}", path.display()))?;
    }
    let format = match args.format.as_str() {
        "markdown" => Format::Markdown,
        "json" => Format::Json,
        "sarif" => Format::Sarif,
        _ => Format::Text,
    };
    let render_options = render_plan::Options {
        color: global.color_stdout(),
        template,
    };
    render::plan::write(out, format, &planned, &render_options)?;
    Ok(if planned.errored {
        Exit::Error
    } else if args.detailed_exitcode && !planned.actions.is_empty() {
        Exit::Pending
    } else {
        Exit::Ok
    })
}

/// The valid declarations of `--repo`, and their plan at `now` against live discovery or the
/// saved `inventories` (what `plan`, `report` and `metrics` start from).
pub(super) fn planned(
    global: &Global,
    inventories: &[PathBuf],
    now: jiff::Timestamp,
) -> anyhow::Result<(crate::load::Outcome, plan::Plan)> {
    let loaded = super::discover::load_valid(global)?;
    let base = std::path::absolute(&global.repo).unwrap_or_else(|_| global.repo.clone());
    let inventory = if inventories.is_empty() {
        super::discover::discover_sources(&loaded.model, &[], &base)?.inventory
    } else {
        read_inventories(inventories)?
    };
    let names = inventories
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let plan = build(&loaded, &inventory, &base, now, names);
    Ok((loaded, plan))
}

/// Reconciles `inventory` with the loaded declarations at `now` and plans.
pub(super) fn build(
    loaded: &crate::load::Outcome,
    inventory: &Inventory,
    base: &Path,
    now: jiff::Timestamp,
    inventories: Vec<String>,
) -> plan::Plan {
    reconciled(loaded, inventory, base, now, inventories, plan::plan)
}

/// Reconciles `inventory` with the loaded declarations at `now`, with what the audit trail
/// says was already done, and hands the result to `then` (a planner).
pub(super) fn reconciled<T>(
    loaded: &crate::load::Outcome,
    inventory: &Inventory,
    base: &Path,
    now: jiff::Timestamp,
    inventories: Vec<String>,
    then: impl FnOnce(&reconcile::Input<'_>, reconcile::Reconciliation, &plan::Options) -> T,
) -> T {
    let issuer_subjects = issuer_subjects(&loaded.model, base);
    // What was already done counts: notices sent and certificates issued (none without a trail).
    let trail = crate::audit::trail(base, "refs/heads/trustops-audit").unwrap_or_default();
    let input = reconcile::Input {
        model: &loaded.model,
        inventory,
        now,
        base,
        issuer_subjects: &issuer_subjects,
        issued_by: &trail.issued_by,
    };
    let reconciled = reconcile::reconcile(&input);
    let options = plan::Options {
        inputs: plan::Inputs {
            declarations_commit: crate::git::head_commit(base),
            declarations_sha256: plan::file::declarations_sha256(&loaded.files),
            inventory_sha256: plan::file::inventory_sha256(inventory),
            inventories,
        },
        first_notices: trail.first_notices,
    };
    then(&input, reconciled, &options)
}

/// Reads and merges saved inventories; any unreadable one stops the plan.
pub(super) fn read_inventories(paths: &[PathBuf]) -> anyhow::Result<Inventory> {
    let mut all = Vec::with_capacity(paths.len());
    for path in paths {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the inventory {}", path.display()))?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let inventory: Inventory = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let inner = e.inner();
            anyhow::anyhow!(
                "{}:{}:{}: not an inventory from `trustops discover --format json`: {}: {inner}",
                path.display(),
                inner.line(),
                inner.column(),
                e.path()
            )
        })?;
        if inventory.format_version != discover::inventory::FORMAT_VERSION {
            bail!(
                "{}: inventory format_version {} is not supported (this trustops reads {})",
                path.display(),
                inventory.format_version,
                discover::inventory::FORMAT_VERSION
            );
        }
        all.push(inventory);
    }
    Ok(discover::merge(all))
}

/// Subjects of each issuer's CA certificates: its `caSubjects`, and a local CA's certificate
/// file. A CA file that cannot be read, for an issuer without `caSubjects`, is reported on
/// stderr; the issuer then counts as unknown (its certificates are not checked against
/// `allowedIssuers`).
fn issuer_subjects(model: &crate::model::Model, base: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (name, issuer) in &model.issuers {
        let mut subjects = issuer.spec.ca_subjects.clone();
        if let Some(ca) = &issuer.spec.local_ca {
            let path = reconcile::resolve(base, &ca.cert_file.value);
            let found = discover::discover(
                &discover::Options {
                    paths: vec![path.clone()],
                    ..discover::Options::default()
                },
                &discover::Context::new(base.to_owned()),
            );
            let certificates: Vec<String> = found
                .inventory
                .credentials
                .iter()
                .filter(|c| c.kind == CredentialKind::X509Certificate)
                .filter_map(|c| c.subject.clone())
                .collect();
            if certificates.is_empty() && subjects.is_empty() {
                #[allow(clippy::print_stderr, reason = "a warning for the person running plan")]
                {
                    eprintln!(
                        "warning: issuer {name}: no CA certificate in {}; its certificates are not checked against allowedIssuers",
                        path.display()
                    );
                }
            }
            subjects.extend(certificates);
        }
        out.insert(name.clone(), subjects);
    }
    out
}
