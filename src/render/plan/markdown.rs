//! The pull-request comment: a minijinja template ([`DEFAULT_TEMPLATE`], replaceable with
//! `plan --template FILE`) rendered with the plan JSON as `plan` and the per-owner groups as
//! `owners` (where an adopt action's declaration is `yaml`). Each owner's actions and findings
//! sit in a collapsed `<details>` block. A comment longer than the forge accepts (GitHub:
//! 65,536 characters) is rendered again with fewer rows per table, then fewer owners, until it
//! fits; the template says how many were left out.

use super::{by_owner, target};
use crate::plan::{Action, Plan};
use crate::reconcile::Finding;
use std::io::{self, Write};

/// The default template (`src/render/plan/default.md.j2`).
pub const DEFAULT_TEMPLATE: &str = include_str!("default.md.j2");

pub(super) fn write(
    out: &mut dyn Write,
    plan: &Plan,
    template: Option<&str>,
    limit: Option<usize>,
) -> io::Result<()> {
    let mut env = minijinja::Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| io::Error::other(format!("markdown template: {e:#}")))?;
    env.set_syntax(syntax);
    env.add_filter("cell", cell);
    env.add_filter("target", |a: minijinja::Value| -> String {
        serde_json::to_value(&a)
            .ok()
            .and_then(|v| serde_json::from_value::<Action>(v).ok())
            .map(|a| target(&a))
            .unwrap_or_default()
    });
    let source = template.unwrap_or(DEFAULT_TEMPLATE);
    let fail = |e: minijinja::Error| io::Error::other(format!("markdown template: {e:#}"));
    env.add_template("plan.md", source).map_err(fail)?;
    let template = env.get_template("plan.md").map_err(fail)?;
    let plan_value = minijinja::Value::from(minijinja::value::Serde(plan));
    let owners = by_owner(plan);
    let waived: Vec<&Finding> = plan
        .findings
        .iter()
        .filter(|f| f.suppressed.is_some())
        .collect();
    let render = |keep: usize, owners_kept: usize| {
        let shown: Vec<Shown<'_>> = owners
            .iter()
            .take(owners_kept)
            .map(|g| Shown {
                name: &g.name,
                actions: g
                    .actions
                    .iter()
                    .take(keep)
                    .map(|&action| ShownAction {
                        action,
                        yaml: action.declaration(),
                    })
                    .collect(),
                findings: g.findings.iter().take(keep).copied().collect(),
                action_count: g.actions.len(),
                finding_count: g.findings.len(),
                more_actions: g.actions.len().saturating_sub(keep),
                more_findings: g.findings.len().saturating_sub(keep),
            })
            .collect();
        template
            .render(minijinja::context! {
                plan => plan_value.clone(),
                owners => minijinja::Value::from(minijinja::value::Serde(&shown)),
                more_owners => owners.len() - owners_kept.min(owners.len()),
                waived => minijinja::Value::from(minijinja::value::Serde(waived.iter().take(keep).collect::<Vec<_>>())),
                waived_count => waived.len(),
                more_waived => waived.len().saturating_sub(keep),
            })
            .map_err(fail)
    };
    let fits = |text: &str| limit.is_none_or(|limit| text.chars().count() <= limit);
    let rows: usize = owners
        .iter()
        .map(|g| g.actions.len() + g.findings.len())
        .sum::<usize>()
        + waived.len();
    let whole = match limit {
        // A plan with few rows is tried whole first; a big one would only be rendered to be
        // thrown away.
        Some(_) if rows > FEW_ROWS => None,
        _ => Some(render(usize::MAX, owners.len())?).filter(|t| fits(t)),
    };
    let text = match whole {
        Some(text) => text,
        None => {
            // Fewer rows per table until it fits (whole rows and blocks only, never a cut
            // inside a table or a code block), found by doubling then halving, so only small
            // comments are rendered; when even no rows do not fit, fewer owners. The plan
            // artifact has the rest.
            let most = owners
                .iter()
                .map(|g| g.actions.len().max(g.findings.len()))
                .chain([waived.len()])
                .max()
                .unwrap_or(0);
            let none = render(0, owners.len())?;
            if fits(&none) {
                let (mut good, mut text, mut bad) = (0, none, None);
                let mut k = 1;
                while good < most {
                    let candidate = render(k.min(most), owners.len())?;
                    if !fits(&candidate) {
                        bad = Some(k.min(most));
                        break;
                    }
                    (good, text) = (k.min(most), candidate);
                    k *= 2;
                }
                if let Some(mut hi) = bad {
                    while good + 1 < hi {
                        let mid = good + (hi - good) / 2;
                        let candidate = render(mid, owners.len())?;
                        if fits(&candidate) {
                            (good, text) = (mid, candidate);
                        } else {
                            hi = mid;
                        }
                    }
                }
                text
            } else {
                let (mut good, mut hi) = (0, owners.len());
                let mut text = render(0, 0)?;
                while good + 1 < hi {
                    let mid = good + (hi - good) / 2;
                    let candidate = render(0, mid)?;
                    if fits(&candidate) {
                        (good, text) = (mid, candidate);
                    } else {
                        hi = mid;
                    }
                }
                text
            }
        }
    };
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}

/// Up to this many table rows, a comment with a limit is first rendered whole.
const FEW_ROWS: usize = 2_000;

/// One owner's part of the comment, as the template sees it: the first rows of each table,
/// the whole counts, and how many rows were left out to fit the comment.
#[derive(serde::Serialize)]
struct Shown<'a> {
    name: &'a str,
    actions: Vec<ShownAction<'a>>,
    findings: Vec<&'a Finding>,
    action_count: usize,
    finding_count: usize,
    more_actions: usize,
    more_findings: usize,
}

/// An action as templates see it: its fields, and an adoption's declaration as `yaml`.
#[derive(serde::Serialize)]
struct ShownAction<'a> {
    #[serde(flatten)]
    action: &'a Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    yaml: Option<String>,
}

/// Text safe inside a Markdown table cell: pipes escaped, line breaks as `<br>`, HTML
/// brackets escaped.
pub(crate) fn cell(text: String) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('\n', "<br>")
}
