//! The command line: clap definitions, one file per subcommand, each turning its arguments
//! into a stage's plain options and printing the outcome. The only module that prints to the
//! terminal or uses `anyhow`; no business logic lives here.

mod apply;
mod audit;
mod completions;
mod controller;
mod demo;
mod diff;
mod discover;
mod metrics;
mod plan;
mod report;
mod revoke;
mod schema;
mod validate;

use crate::environment::Environment;
use crate::render;
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes, as in Terraform: 0 nothing to do, 1 error or invalid input, 2 changes pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Success, nothing pending.
    Ok = 0,
    /// An error, or invalid input.
    Error = 1,
    /// Success with changes pending (only with `--detailed-exitcode`).
    Pending = 2,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// `trustops --version`: the release and the commit it was built from (`build.rs`).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("TRUSTOPS_COMMIT"),
    ")"
);

/// Examples, exit codes and the environment, after the top-level help.
const AFTER_HELP: &str = "\
Examples:
  trustops validate                          check the declarations in this folder
  trustops plan --format markdown            findings and actions, as a pull-request comment
  trustops diff origin/main                  what a change means, and who must approve it
  trustops plan --out plan.json --signing-key ~/.ssh/trustops
  trustops apply plan.json                   carry it out, into a signed audit commit
  trustops demo                              all of it, on a generated governance repository

Exit codes:
  0  success (for plan and diff: whatever was found)
  1  an error: invalid declarations, a source that could not be read, a failed action, bad usage
  2  with --detailed-exitcode: success, and there are changes or actions

Environment:
  TRUSTOPS_SIGNING_KEY             the SSH private key that signs audit commits and plans
  TRUSTOPS_SIGNING_KEY_PASSPHRASE  its passphrase (--passphrase-env names another variable)
  TRUSTOPS_CACHE_DIR               where fetched CRLs, OCSP and ARI answers and what diff
                                   remembers of each file are kept (default: .git/trustops)
  TRUSTOPS_AUTHOR_EMAIL            the author of the controller's audit commits
  NO_COLOR, CLICOLOR_FORCE         colours off, or on when not a terminal";

/// GitOps for machine identities: owners, policies, certificates, keys and secrets declared as
/// YAML in a Git repository, checked and kept honest.
#[derive(Debug, Parser)]
#[command(name = "trustops", version = VERSION, max_term_width = 100, after_help = AFTER_HELP)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Flags every subcommand accepts.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// Root of the governance repository.
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    pub repo: PathBuf,
    /// The time to evaluate at, RFC 3339 (`2026-05-01T00:00:00Z`) or a date; default: now.
    #[arg(long, global = true, value_name = "TIME")]
    pub now: Option<String>,
    /// Colours: auto (when stdout is a terminal, or CLICOLOR_FORCE is set; never with
    /// NO_COLOR or CLICOLOR=0), always or never.
    #[arg(long, global = true, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
}

impl Global {
    /// Whether to colour what goes to stdout.
    pub fn color_stdout(&self) -> bool {
        match self.color.as_str() {
            "always" => true,
            "never" => false,
            _ => {
                let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
                if set("NO_COLOR").is_some() {
                    false
                } else if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                    true
                } else {
                    set("CLICOLOR").is_none_or(|v| v != "0")
                        && std::io::IsTerminal::is_terminal(&std::io::stdout())
                }
            }
        }
    }

    /// The pipeline's options for `--repo` at `--now`, planning against `inventories` when
    /// given, with audit commits on `branch` (a name or a full ref).
    pub(crate) fn pipeline(
        &self,
        inventories: &[PathBuf],
        branch: &str,
    ) -> anyhow::Result<crate::pipeline::Options> {
        Ok(crate::pipeline::Options {
            repo: std::path::absolute(&self.repo).unwrap_or_else(|_| self.repo.clone()),
            now: self.now()?,
            inventories: inventories.to_vec(),
            audit_branch: format!("refs/heads/{}", branch.trim_start_matches("refs/heads/")),
            env: Environment::from_process(),
        })
    }

    /// `--now`, or the clock. The only place trustops reads the clock.
    pub fn now(&self) -> anyhow::Result<jiff::Timestamp> {
        match &self.now {
            None => Ok(jiff::Timestamp::now()),
            Some(text) => text
                .parse::<crate::model::Expiry>()
                .map(|e| e.0)
                .map_err(|_| anyhow::anyhow!("--now `{text}`: expected an RFC 3339 time (2026-05-01T12:00:00Z) or a date (2026-05-01)")),
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check every declaration: schema, names, references, cycles and policy sanity.
    #[command(
        after_help = "Examples:\n  trustops validate                           every problem, with the file, line and field\n  trustops validate --format sarif > v.sarif  for code scanning\n  trustops --repo governance validate --format short\n\nExit codes: 0 valid (warnings allowed), 1 invalid or no declarations found."
    )]
    Validate(validate::Args),
    /// Inventory certificates, keys and secrets in the declared sources or given paths.
    #[command(
        after_help = "Examples:\n  trustops discover                            through the declared sources\n  trustops discover --path /etc/ssl/certs --format json > inventory.json\n  trustops plan --inventory inventory.json     plan from it elsewhere\n\nExit codes: 0, or 1 when no source could be read at all."
    )]
    Discover(discover::Args),
    /// Compare declared and discovered state: findings, and the actions that fix them.
    #[command(
        after_help = "Examples:\n  trustops plan                                findings and actions, summarised\n  trustops plan --format markdown --max-comment-chars 60000 > comment.md\n  trustops plan --out plan.json --signing-key ~/.ssh/trustops\n  trustops plan --inventory zone-a.json --inventory zone-b.json --format json\n\nExit codes: 0 planned, 1 error or a source that could not be read,\n2 with --detailed-exitcode when there are actions."
    )]
    Plan(plan::Args),
    /// What a change to the declarations means: risks and the owners who must approve it.
    #[command(
        after_help = "Examples:\n  trustops diff origin/main                    the work tree against the base branch\n  trustops diff HEAD~1 HEAD --format markdown  for a pull-request comment\n  trustops diff origin/main --codeowners       the approvals, as CODEOWNERS lines\n\nExit codes: 0 compared, 1 error or invalid head, 2 with --detailed-exitcode when the\nmeaning changed. TRUSTOPS_CACHE_DIR keeps what each file declares between runs."
    )]
    Diff(diff::Args),
    /// Carry out a saved plan through issuers and record it in a signed audit commit.
    #[command(
        after_help = "Examples:\n  trustops apply plan.json                     shows the plan, asks, then applies\n  trustops apply plan.json --auto-approve --signing-key ~/.ssh/trustops\n  trustops apply plan.json --approve rotate:payments-api/mtls\n\nExit codes: 0 applied (or nothing to do), 1 refused, failed or partly failed.\nThe key may be given in TRUSTOPS_SIGNING_KEY, its passphrase in\nTRUSTOPS_SIGNING_KEY_PASSPHRASE."
    )]
    Apply(apply::Args),
    /// Revoke a certificate now, with an RFC 5280 reason, through the issuer that issued it.
    #[command(
        after_help = "Examples:\n  trustops revoke payments-api/mtls --reason keyCompromise --signing-key ~/.ssh/trustops\n  trustops revoke 3f2a9c81 --reason superseded --signing-key ~/.ssh/trustops\n\nThe certificate: identity/credential, a fingerprint (or 8+ hex digits of one) or a serial.\n\nExit codes: 0 revoked, 1 refused or failed."
    )]
    Revoke(revoke::Args),
    /// The audit trail for auditors: log, verify, who-owned.
    Audit(audit::Args),
    /// Inventory and compliance evidence (OWASP NHI, NIST CSF) as Markdown or HTML.
    #[command(
        after_help = "Examples:\n  trustops report --format html --out report.html\n  trustops report --inventory inventory.json > report.md"
    )]
    Report(report::Args),
    /// Prometheus metrics: expiries with owner labels, findings, last plan and apply.
    #[command(
        after_help = "Examples:\n  trustops metrics --out /var/lib/node_exporter/trustops.prom\n  trustops metrics --compat x509-certificate-exporter   for its dashboards and alerts"
    )]
    Metrics(metrics::Args),
    /// Write the JSON Schemas of every kind (for editors and CI).
    Schema(schema::Args),
    /// Run continuously: sync, plan, apply what policy auto-approves, push, serve /metrics.
    Controller(controller::Args),
    /// Create a demo governance repository and run the pipeline on it.
    Demo(demo::Args),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions(completions::Args),
    /// Print the man pages (roff) of trustops and its subcommands.
    Man,
}

/// Parses `args`, runs the subcommand, prints any error once, and returns the exit code.
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are successes; usage errors are errors (1), never "pending" (2).
            return if e.use_stderr() {
                Exit::Error
            } else {
                Exit::Ok
            }
            .into();
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    // Every command reads --now the same way, so a time one refuses none accepts.
    let result = cli.global.now().and_then(|_| match cli.command {
        Command::Validate(args) => validate::run(&cli.global, &args, &mut out),
        Command::Discover(args) => discover::run(&cli.global, &args, &mut out),
        Command::Plan(args) => plan::run(&cli.global, &args, &mut out),
        Command::Diff(args) => diff::run(&cli.global, &args, &mut out),
        Command::Apply(args) => apply::run(&cli.global, &args, &mut out),
        Command::Revoke(args) => revoke::run(&cli.global, &args, &mut out),
        Command::Audit(args) => audit::run(&cli.global, &args, &mut out),
        Command::Report(args) => report::run(&cli.global, &args, &mut out),
        Command::Metrics(args) => metrics::run(&cli.global, &args, &mut out),
        Command::Schema(args) => schema::run(&args, &mut out),
        Command::Controller(args) => controller::run(&cli.global, &args, &mut out),
        Command::Demo(args) => demo::run(&cli.global, &args, &mut out),
        Command::Completions(args) => completions::completions(&args, &mut out),
        Command::Man => completions::man(&mut out),
    });
    let _ = out.flush();
    match result {
        Ok(exit) => exit.into(),
        Err(e) if is_broken_pipe(&e) => Exit::Ok.into(),
        Err(e) => {
            #[allow(clippy::print_stderr, reason = "main reports the error once, here")]
            {
                eprintln!("error: {e:#}");
            }
            Exit::Error.into()
        }
    }
}

/// A pipeline error for the terminal: invalid declarations are printed first, one line each
/// (as `validate --format short` prints them), on stderr.
fn failed(error: crate::pipeline::Error) -> anyhow::Error {
    if let crate::pipeline::Error::Invalid(loaded) = &error {
        let summary = validate::summary(loaded);
        let _ = render::diagnostics(
            &mut std::io::stderr().lock(),
            render::Format::Short,
            &loaded.files,
            &loaded.diagnostics,
            &summary,
            false,
        );
    }
    error.into()
}

/// Leaves `value` to the process's exit rather than freeing it. A command's last use of an
/// estate's declarations, inventory or plan is followed by the exit, which returns their memory
/// at once; freeing a million credentials piece by piece first takes seconds of both cores.
fn leave<T>(value: T) {
    std::mem::forget(value);
}

/// Problems that did not stop the pipeline, on stderr.
fn warn(warnings: &[String]) {
    for warning in warnings {
        #[allow(
            clippy::print_stderr,
            reason = "warnings for the person running trustops"
        )]
        {
            eprintln!("warning: {warning}");
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
