//! `trustops diff` output: text for a terminal, Markdown for a pull-request comment (with the
//! YAML diff of each changed document, collapsed), JSON, SARIF for code scanning, and a
//! CODEOWNERS fragment so the forge enforces the approvals each change needs.

use super::paint::Paint;
use crate::diff::{Change, Risk};
use crate::model::{Kind, Model};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// Version of the JSON document.
pub const FORMAT_VERSION: u32 = 1;

/// One side of a diff.
#[derive(Clone, Debug)]
pub struct Side<'a> {
    /// What the user named (`main`, `HEAD~1`, or `work tree`).
    pub revision: String,
    /// The commit it resolved to, if a commit.
    pub commit: Option<String>,
    /// Its declarations.
    pub model: &'a Model,
}

/// Everything a diff renderer reads.
#[derive(Clone, Debug)]
pub struct Report<'a> {
    /// The base revision.
    pub base: Side<'a>,
    /// The head revision.
    pub head: Side<'a>,
    /// The changes, riskiest first.
    pub changes: &'a [Change],
}

impl Report<'_> {
    fn count(&self, risk: Risk) -> usize {
        self.changes.iter().filter(|c| c.risk == risk).count()
    }

    /// Every owner whose approval some change needs.
    pub fn approvers(&self) -> BTreeSet<&str> {
        self.changes
            .iter()
            .flat_map(|c| c.approvers.iter().map(String::as_str))
            .collect()
    }

    fn headline(&self) -> String {
        format!(
            "{} change(s) from {} to {}: {} high, {} medium, {} low risk",
            self.changes.len(),
            self.base.revision,
            self.head.revision,
            self.count(Risk::High),
            self.count(Risk::Medium),
            self.count(Risk::Low)
        )
    }
}

fn approvers_of(c: &Change) -> String {
    let who = if c.approvers.is_empty() {
        "no owner".into()
    } else {
        c.approvers.iter().cloned().collect::<Vec<_>>().join(", ")
    };
    match &c.unapproved {
        Some(why) => format!("{who} — not independent: {why}"),
        None if c.trust && !c.affected.is_empty() => format!(
            "{who} (affects {})",
            c.affected.iter().cloned().collect::<Vec<_>>().join(", ")
        ),
        None => who,
    }
}

/// Text, one change per line; `color`: risks in colour.
pub fn text(out: &mut dyn Write, report: &Report<'_>, color: bool) -> io::Result<()> {
    use super::paint::{BOLD, DIM, RED, YELLOW};
    let paint = Paint(color);
    let headline = format!("trustops diff: {}", report.headline());
    writeln!(out, "{}", paint.on(BOLD, &headline))?;
    if report.changes.is_empty() {
        return writeln!(out, "No change in meaning.");
    }
    writeln!(out)?;
    for c in report.changes {
        writeln!(
            out,
            "  {} {:<22} {}/{}  {}",
            paint.on(
                match c.risk {
                    Risk::High => RED,
                    Risk::Medium => YELLOW,
                    Risk::Low => DIM,
                },
                &format!("{:<6}", c.risk.as_str())
            ),
            c.code,
            c.kind,
            c.name,
            c.message
        )?;
        writeln!(
            out,
            "         {}:{}  approval: {}",
            c.path,
            c.line,
            approvers_of(c)
        )?;
    }
    let approvers: Vec<&str> = report.approvers().into_iter().collect();
    if !approvers.is_empty() {
        writeln!(out)?;
        writeln!(out, "Approvals needed from: {}", approvers.join(", "))?;
    }
    Ok(())
}

/// Markdown for a pull-request comment.
pub fn markdown(
    out: &mut dyn Write,
    report: &Report<'_>,
    max_chars: Option<usize>,
) -> io::Result<()> {
    let mut head = format!("### trustops diff\n\n{}.\n\n", report.headline());
    if report.changes.is_empty() {
        return out.write_all(head.as_bytes());
    }
    head.push_str("| Risk | Change | Declaration | What | Approval |\n|---|---|---|---|---|\n");
    let rows: Vec<String> = report
        .changes
        .iter()
        .map(|c| {
            format!(
                "| {} | `{}` | {} `{}` ([{}:{}]({})) | {} | {} |\n",
                match c.risk {
                    Risk::High => "**high**",
                    Risk::Medium => "medium",
                    Risk::Low => "low",
                },
                c.code,
                c.kind,
                c.name,
                c.path,
                c.line,
                c.path,
                cell(&c.message),
                cell(&approvers_of(c))
            )
        })
        .collect();
    let approvers: Vec<&str> = report.approvers().into_iter().collect();
    let approvals = if approvers.is_empty() {
        String::new()
    } else {
        format!("\nApprovals needed from: {}.\n", approvers.join(", "))
    };
    let mut blocks = Vec::new();
    let mut documents = BTreeSet::new();
    for c in report.changes {
        let Some(kind) = Kind::parse(c.kind) else {
            continue;
        };
        if !documents.insert((kind, c.name.clone())) {
            continue;
        }
        let before = document(report.base.model, kind, &c.name).unwrap_or_default();
        let after = document(report.head.model, kind, &c.name).unwrap_or_default();
        let diff = similar::TextDiff::from_lines(&before, &after)
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("a/{} {}", kind, c.name),
                &format!("b/{} {}", kind, c.name),
            )
            .to_string();
        if diff.is_empty() {
            continue;
        }
        blocks.push(format!(
            "\n<details><summary>{} <code>{}</code> ({})</summary>\n\n```diff\n{}```\n</details>\n",
            kind, c.name, c.path, diff
        ));
    }
    // Within the limit (a forge refuses longer comments): every row that fits, riskiest first,
    // then every diff block that fits; whole rows and blocks only, and a line saying how many
    // were left out.
    let length = |text: &str| text.chars().count();
    let limit = max_chars.unwrap_or(usize::MAX);
    let reserve = 200 + length(&approvals);
    let mut text = head;
    let mut used = length(&text);
    let mut shown = 0;
    for row in &rows {
        let n = length(row);
        if used + n + reserve > limit {
            break;
        }
        text.push_str(row);
        used += n;
        shown += 1;
    }
    if shown < rows.len() {
        let line = format!(
            "\n… and {} more change{}: `trustops diff --format json` lists every one.\n",
            rows.len() - shown,
            if rows.len() - shown == 1 { "" } else { "s" }
        );
        used += length(&line);
        text.push_str(&line);
    }
    text.push_str(&approvals);
    used += length(&approvals);
    let mut left_out = 0;
    for block in &blocks {
        let n = length(block);
        if left_out == 0 && used + n + 100 <= limit {
            text.push_str(block);
            used += n;
        } else {
            left_out += 1;
        }
    }
    if left_out > 0 {
        text.push_str(&format!(
            "\n{left_out} more declaration diff{} left out to fit the comment.\n",
            if left_out == 1 { "" } else { "s" }
        ));
    }
    out.write_all(text.as_bytes())
}

/// A table cell: no pipes or line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The declaration of `kind` named `name` as YAML, as the loader understood it.
fn document(model: &Model, kind: Kind, name: &str) -> Option<String> {
    let yaml = |value: Result<String, serde_saphyr::ser::Error>| value.ok();
    match kind {
        Kind::Owner => model
            .owners
            .get(name)
            .and_then(|d| yaml(serde_saphyr::to_string(d))),
        Kind::Policy => model
            .policies
            .get(name)
            .and_then(|d| yaml(serde_saphyr::to_string(d))),
        Kind::Issuer => model
            .issuers
            .get(name)
            .and_then(|d| yaml(serde_saphyr::to_string(d))),
        Kind::Source => model
            .sources
            .get(name)
            .and_then(|d| yaml(serde_saphyr::to_string(d))),
        Kind::Identity => model
            .identities
            .get(name)
            .and_then(|d| yaml(serde_saphyr::to_string(d))),
        Kind::Exception => model
            .exceptions
            .get(name)
            .and_then(|d| yaml(serde_saphyr::to_string(d))),
    }
}

/// The JSON document (`format_version` 1).
pub fn json(out: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    let side = |s: &Side<'_>| json!({"revision": s.revision, "commit": s.commit});
    let document = json!({
        "format_version": FORMAT_VERSION,
        "base": side(&report.base),
        "head": side(&report.head),
        "summary": {
            "changes": report.changes.len(),
            "high": report.count(Risk::High),
            "medium": report.count(Risk::Medium),
            "low": report.count(Risk::Low),
        },
        "approvers": report.approvers(),
        "changes": report.changes,
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

/// SARIF: one result per change, high risk as errors, medium as warnings, low as notes.
pub fn sarif(out: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    let codes: BTreeSet<&str> = report.changes.iter().map(|c| c.code).collect();
    let codes: Vec<&str> = codes.into_iter().collect();
    let rules = codes
        .iter()
        .map(|code| {
            super::sarif::rule(
                code,
                "Change",
                &format!("A declaration change of kind {code}, with its risk and approvers"),
                "docs/review.md",
                format!("https://trustops.dev/docs/diff#{code}"),
            )
        })
        .collect();
    let results = report
        .changes
        .iter()
        .map(|c| {
            json!({
                "ruleId": c.code,
                "ruleIndex": codes.iter().position(|x| *x == c.code).unwrap_or(0),
                "level": match c.risk { Risk::High => "error", Risk::Medium => "warning", Risk::Low => "note" },
                "message": {"text": format!("{} (approval: {})", c.message, approvers_of(c))},
                "locations": [{"physicalLocation": super::sarif::physical_location(&c.path, c.line, 1)}],
                "partialFingerprints": {"trustopsChange/v1": super::sarif::fingerprint(&[
                    c.code, c.kind, &c.name, c.field.as_deref().unwrap_or_default(),
                ])},
                "properties": {"risk": c.risk.as_str(), "approvers": c.approvers, "trust": c.trust, "affected": c.affected},
            })
        })
        .collect();
    super::sarif::document(out, rules, results)
}

/// A CODEOWNERS fragment: each changed file with the owners whose approval its changes need.
/// An owner is written as its `trustops.dev/codeowners` annotation (`@org/team`), else its
/// contacts' e-mail addresses, else its name as a team handle.
pub fn codeowners(out: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    // CODEOWNERS lets any one listed owner approve a file: a file with a trust change lists
    // only the trust approvers, or a beneficiary could approve it alone.
    let trusted: BTreeSet<&str> = report
        .changes
        .iter()
        .filter(|c| c.trust)
        .map(|c| c.path.as_str())
        .collect();
    let mut by_file: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for c in report.changes {
        let handles = by_file.entry(c.path.as_str()).or_default();
        if trusted.contains(c.path.as_str()) && !c.trust {
            continue;
        }
        for owner in &c.approvers {
            handles.extend(handles_of(report, owner));
        }
    }
    writeln!(
        out,
        "# trustops diff {}..{}: approvals the declaration changes need",
        report.base.revision, report.head.revision
    )?;
    for (path, handles) in by_file {
        if handles.is_empty() {
            continue;
        }
        let handles: Vec<String> = handles.into_iter().collect();
        writeln!(out, "/{} {}", path.replace(' ', "\\ "), handles.join(" "))?;
    }
    Ok(())
}

fn handles_of(report: &Report<'_>, owner: &str) -> Vec<String> {
    let declared = report
        .head
        .model
        .owners
        .get(owner)
        .or_else(|| report.base.model.owners.get(owner));
    let Some(declared) = declared else {
        return vec![format!("@{owner}")];
    };
    if let Some(handles) = declared.metadata.annotations.get("trustops.dev/codeowners") {
        return handles.split_whitespace().map(str::to_owned).collect();
    }
    let emails: Vec<String> = declared
        .spec
        .contacts
        .iter()
        .filter_map(|c| c.email.as_ref().map(|e| e.value.clone()))
        .collect();
    if emails.is_empty() {
        vec![format!("@{owner}")]
    } else {
        emails
    }
}
