//! Plans for people and machines: a terminal summary like `terraform plan` (`text.rs`), a pull
//! request comment from a minijinja template users can replace (`markdown.rs`) and SARIF 2.1.0
//! results for code scanning (`sarif.rs`). The plan's JSON is its file
//! ([`crate::plan::file::write`]).

mod markdown;
pub(crate) use markdown::cell;
mod sarif;
mod text;

pub use markdown::DEFAULT_TEMPLATE;

use crate::plan::{Action, Plan};
use crate::reconcile::Finding;
use std::io::{self, Write};

/// Output formats for plans.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// A terminal summary (default).
    #[default]
    Text,
    /// A pull-request comment.
    Markdown,
    /// Findings as SARIF 2.1.0.
    Sarif,
}

/// How to render.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Colour the text output (a terminal, and `NO_COLOR` unset).
    pub color: bool,
    /// A minijinja template replacing the default Markdown one.
    pub template: Option<String>,
    /// The most characters the Markdown comment may have (GitHub takes 65,536): tables are
    /// cut to their first rows until it fits. `None`: no limit.
    pub max_chars: Option<usize>,
}

/// Writes `plan` in `format`.
pub fn write(
    out: &mut dyn Write,
    format: Format,
    plan: &Plan,
    options: &Options,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(out, plan, options.color),
        Format::Markdown => {
            markdown::write(out, plan, options.template.as_deref(), options.max_chars)
        }
        Format::Sarif => sarif::write(out, plan),
    }
}

/// The actions and active findings of one owner.
#[derive(Debug, serde::Serialize)]
struct OwnerGroup<'a> {
    /// The owner, or `unowned`.
    name: String,
    actions: Vec<&'a Action>,
    findings: Vec<&'a Finding>,
}

/// Owners in name order, `unowned` last; actions in plan order; active findings only.
fn by_owner(plan: &Plan) -> Vec<OwnerGroup<'_>> {
    let mut out: std::collections::BTreeMap<(bool, String), OwnerGroup<'_>> =
        std::collections::BTreeMap::new();
    for a in &plan.actions {
        entry(&mut out, &a.owner).actions.push(a);
    }
    for f in plan.findings.iter().filter(|f| f.suppressed.is_none()) {
        entry(&mut out, &f.owner).findings.push(f);
    }
    out.into_values().collect()
}

fn entry<'m, 'a>(
    map: &'m mut std::collections::BTreeMap<(bool, String), OwnerGroup<'a>>,
    owner: &Option<String>,
) -> &'m mut OwnerGroup<'a> {
    let name = owner.clone().unwrap_or_else(|| "unowned".to_owned());
    map.entry((owner.is_none(), name.clone()))
        .or_insert_with(|| OwnerGroup {
            name,
            actions: Vec::new(),
            findings: Vec::new(),
        })
}

/// What an action is about: `identity/credential`, or a fingerprint prefix.
fn target(a: &Action) -> String {
    match (&a.identity, &a.credential, &a.fingerprint) {
        (Some(i), Some(c), _) => format!("{i}/{c}"),
        (Some(i), None, _) => i.clone(),
        (None, _, Some(f)) => format!("sha256:{}", crate::discover::short(f, 12)),
        _ => String::new(),
    }
}

/// The steps of a rotation in one line: `issue (demo-ca) → deploy 2 files → verify → revoke`.
fn steps(a: &Action) -> String {
    use crate::plan::StepKind;
    let parts: Vec<String> = a
        .steps
        .iter()
        .map(|s| match s.step {
            StepKind::Issue => format!("issue {} via {}", s.target, s.issuers.join(" or ")),
            StepKind::Deploy => {
                let reload = if s.reload.is_empty() {
                    ""
                } else {
                    " and reload"
                };
                format!(
                    "deploy {} file{}{reload}",
                    s.files.len(),
                    plural(s.files.len())
                )
            }
            StepKind::Verify => format!("verify {}", s.target),
            StepKind::Revoke => format!(
                "revoke serial {} via {}",
                s.serial.as_deref().unwrap_or("?"),
                s.issuers.join(", ")
            ),
        })
        .collect();
    parts.join(" → ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
