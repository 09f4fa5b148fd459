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
    let options = global.pipeline(&[], args.approving.branch())?;
    crate::git::git_dir(&options.repo)
        .map_err(|e| anyhow::anyhow!("audit records go to Git: {e}"))?;
    let signer = super::apply::signer(&args.approving)?;
    let how = args.approving.how(&options, &signer, &[]);
    let auto = args.approving.auto_approve();
    let mut refused = None;
    let mut confirm = |plan: &plan::Plan| {
        if auto {
            return true;
        }
        match super::apply::confirm(plan, global, out) {
            Ok(()) => true,
            Err(e) => {
                refused = Some(e);
                false
            }
        }
    };
    let result = crate::pipeline::revoke(
        &options,
        &args.certificate,
        &args.reason,
        &how,
        &mut confirm,
    );
    if let Some(e) = refused {
        return Err(e);
    }
    let (revocation, outcome) = result.map_err(super::failed)?;
    super::apply::report(
        &args.approving,
        &options,
        &revocation,
        &outcome,
        &signer,
        global,
        out,
    )
}
