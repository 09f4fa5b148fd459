//! `trustops diff BASE [HEAD]`: what a change to the declarations means, for the reviewer of a
//! pull request — read straight from Git (no checkout), the head defaulting to the work tree.

use super::{Exit, Global};
use crate::render::diff::{self as render_diff, Report, Side};
use crate::{diff, git, load};
use anyhow::Context as _;
use std::io::Write;

/// Arguments of `diff`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The base revision: a branch, tag or commit, anything `git rev-parse` takes
    /// (`origin/main`, `HEAD~1`).
    #[arg(value_name = "BASE")]
    base: String,
    /// The head revision; default: the work tree, uncommitted changes included.
    #[arg(value_name = "HEAD")]
    head: Option<String>,
    /// Output format: text, markdown (a PR comment with each document's YAML diff), json or
    /// sarif (code scanning).
    #[arg(long, default_value = "text", value_parser = ["text", "markdown", "json", "sarif"])]
    format: String,
    /// Print a CODEOWNERS fragment (each changed file and the owners who must approve it)
    /// instead.
    #[arg(long)]
    codeowners: bool,
    /// Exit 2 when the declarations' meaning changed, 0 when not, 1 on errors.
    #[arg(long)]
    detailed_exitcode: bool,
    /// The most characters the Markdown comment may have: the riskiest changes that fit, then
    /// how many more. GitHub refuses comments over 65,536 characters; GitLab takes 1,000,000.
    /// 0: no limit.
    #[arg(long, value_name = "CHARS", default_value_t = 60_000)]
    max_comment_chars: usize,
}

pub(super) fn run(global: &Global, args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let repo = std::path::absolute(&global.repo).unwrap_or_else(|_| global.repo.clone());
    let head_name = args.head.clone().unwrap_or_else(|| "work tree".to_owned());
    // Most changes touch a few files: compare just those (and what the identities of the
    // others depend on) when that gives the whole answer; otherwise load both revisions in
    // full.
    let head = match &args.head {
        Some(rev) => load::incremental::Head::Revision(rev.clone()),
        None => load::incremental::Head::WorkTree,
    };
    let env = crate::environment::Environment::from_process();
    let cache = env.get("TRUSTOPS_CACHE_DIR").map(std::path::Path::new);
    let pair = load::incremental::pair(&repo, &args.base, &head, cache)
        .with_context(|| format!("cannot read revision {}", args.base))?;
    if let Some(pair) = pair {
        // A trust change (a policy, issuer, source or exception) affects identities in files
        // not read: what they depend on is remembered per blob, so they count without a parse.
        let changes = diff::diff_partial(
            diff::Revision::of(&pair.base),
            diff::Revision::of(&pair.head),
            &pair.unread,
        );
        let report = Report {
            base: Side {
                revision: args.base.clone(),
                commit: Some(pair.base_commit.clone()),
                model: &pair.base.model,
            },
            head: Side {
                revision: head_name,
                commit: pair.head_commit.clone(),
                model: &pair.head.model,
            },
            changes: &changes,
        };
        return render(args, &report, global.color_stdout(), out);
    }
    let (base_commit, base) = revision(&repo, &args.base)?;
    let (head_commit, head) = match &args.head {
        Some(rev) => {
            let (commit, loaded) = revision(&repo, rev)?;
            (Some(commit), loaded)
        }
        None => {
            let loaded = load::load(&load::Options { repo: repo.clone() })
                .with_context(|| format!("cannot read the work tree {}", repo.display()))?;
            let loaded =
                super::discover::valid(loaded, "the work tree's declarations are invalid")?;
            (None, loaded)
        }
    };
    let changes = diff::diff(diff::Revision::of(&base), diff::Revision::of(&head));
    let report = Report {
        base: Side {
            revision: args.base.clone(),
            commit: Some(base_commit),
            model: &base.model,
        },
        head: Side {
            revision: head_name,
            commit: head_commit,
            model: &head.model,
        },
        changes: &changes,
    };
    render(args, &report, global.color_stdout(), out)
}

/// Prints `report` as asked; the exit code.
fn render(
    args: &Args,
    report: &Report<'_>,
    color: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    if args.codeowners {
        render_diff::codeowners(out, report)?;
    } else {
        match args.format.as_str() {
            "markdown" => {
                render_diff::markdown(out, report, Some(args.max_comment_chars).filter(|n| *n > 0))?
            }
            "json" => render_diff::json(out, report)?,
            "sarif" => render_diff::sarif(out, report)?,
            _ => render_diff::text(out, report, color)?,
        }
    }
    Ok(if args.detailed_exitcode && !report.changes.is_empty() {
        Exit::Pending
    } else {
        Exit::Ok
    })
}

/// The declarations at `rev`, read from Git without a checkout, and its commit.
fn revision(repo: &std::path::Path, rev: &str) -> anyhow::Result<(String, load::Outcome)> {
    let (commit, files) = git::tree_files(repo, rev, load::MAX_FILE_BYTES)
        .with_context(|| format!("cannot read revision {rev}"))?;
    let loaded = load::from_tree(files);
    let loaded = super::discover::valid(loaded, &format!("the declarations at {rev} are invalid"))?;
    Ok((commit, loaded))
}
