//! `trustops revoke CERTIFICATE --reason REASON`: revoke a compromised or retired certificate
//! now, through the declared issuer that issued it, as a one-action plan applied on the spot
//! (the same engine, journal and signed audit record as `apply`).

use super::apply::Approving;
use super::{Exit, Global};
use crate::apply::issuers;
use crate::plan;
use std::io::Write;

/// Arguments of `revoke`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The certificate: `identity/credential` (its current certificate), a SHA-256
    /// fingerprint (or a unique prefix of 8+ hex digits), or a serial number.
    #[arg(value_name = "CERTIFICATE")]
    certificate: String,
    /// The RFC 5280 reason: keyCompromise, cACompromise, affiliationChanged, superseded,
    /// cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise or unspecified.
    #[arg(long, value_parser = reason)]
    reason: String,
    #[command(flatten)]
    approving: Approving,
}

/// A reason name as RFC 5280 spells it, from any case or a code.
fn reason(text: &str) -> Result<String, String> {
    issuers::reason_code(text)
        .filter(|code| *code != 8)
        .map(|code| issuers::reason_name(code).to_owned())
        .ok_or_else(|| {
            let names: Vec<&str> = issuers::REASONS
                .iter()
                .filter(|(code, _)| *code != 8)
                .map(|(_, name)| *name)
                .collect();
            format!("expected one of {}", names.join(", "))
        })
}

pub(super) fn run(global: &Global, args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let now = global.now()?;
    let loaded = super::discover::load_valid(global)?;
    let base = std::path::absolute(&global.repo).unwrap_or_else(|_| global.repo.clone());
    // Under the lock: the certificate is found and revoked while no apply changes the estate.
    let lock = crate::apply::lock(&base, now)?;
    let inventory = super::discover::discover_sources(&loaded.model, &[], &base)?.inventory;
    let revocation = super::plan::reconciled(
        &loaded,
        &inventory,
        &base,
        now,
        Vec::new(),
        |input, rec, options| {
            plan::revocation(input, &rec, options, &args.certificate, &args.reason)
        },
    )
    .map_err(|e| anyhow::anyhow!("{e} (nothing was done)"))?;
    let approved: Vec<String> = revocation.actions.iter().map(|a| a.id.clone()).collect();
    super::apply::execute(
        global,
        &args.approving,
        &approved,
        (&revocation, &lock),
        &loaded,
        out,
    )
}
