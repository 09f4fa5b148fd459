//! The terminal summary: what was compared, findings by severity, then actions grouped by
//! owner with a sign per kind (`~` rotate, `-` revoke, `!` escalate, `+` adopt, `?` review),
//! and a closing count line, as `terraform plan` ends with "Plan: 1 to add, ...".

use super::{by_owner, plural, steps, target};
use crate::model::{Approval, Severity};
use crate::plan::{ActionKind, Plan};
use crate::render::paint::{BOLD, CYAN, DIM, GREEN, Paint, RED, YELLOW};
use std::io::{self, Write};

fn severity_style(s: Severity) -> String {
    match s {
        Severity::Critical => format!("{BOLD}{RED}"),
        Severity::High => RED.to_owned(),
        Severity::Medium => YELLOW.to_owned(),
        Severity::Low => DIM.to_owned(),
    }
}

fn sign(kind: ActionKind) -> (&'static str, &'static str) {
    match kind {
        ActionKind::Rotate => ("~", YELLOW),
        ActionKind::Revoke => ("-", RED),
        ActionKind::Escalate => ("!", RED),
        ActionKind::Adopt => ("+", GREEN),
        ActionKind::Review => ("?", CYAN),
    }
}

pub(super) fn write(out: &mut dyn Write, plan: &Plan, color: bool) -> io::Result<()> {
    let paint = Paint(color);
    let s = &plan.summary;
    let now = plan.generated_at.0;
    writeln!(
        out,
        "{} at {} ({})",
        paint.on(BOLD, "trustops plan"),
        now.strftime("%Y-%m-%d %H:%M UTC"),
        plan.id
    )?;
    writeln!(
        out,
        "Declared {} identit{} with {} credential{}; discovered {}: {} matched, {} missing, {} unmanaged.",
        s.identities,
        if s.identities == 1 { "y" } else { "ies" },
        s.declared,
        plural(s.declared),
        s.discovered,
        s.matched,
        s.missing,
        s.unmanaged
    )?;
    if plan.errored {
        writeln!(
            out,
            "{} some sources could not be read; findings may be incomplete:",
            paint.on(&format!("{BOLD}{RED}"), "Warning:")
        )?;
        for p in plan.problems.iter().filter(|p| p.source_failed.is_some()) {
            writeln!(out, "  {}: {}", p.location, p.message)?;
        }
    }
    writeln!(out)?;
    let f = &s.findings;
    writeln!(
        out,
        "{} {} critical, {} high, {} medium, {} low{}",
        paint.on(BOLD, "Findings:"),
        f.critical,
        f.high,
        f.medium,
        f.low,
        if s.suppressed > 0 {
            format!(" ({} suppressed by exceptions)", s.suppressed)
        } else {
            String::new()
        }
    )?;
    let width = plan
        .findings
        .iter()
        .map(|f| f.target().len())
        .max()
        .unwrap_or(0)
        .min(40);
    let open: Vec<&crate::reconcile::Finding> = plan
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .collect();
    let groups = capped(&open, |f| (f.severity, f.code.as_str()));
    if open.len() > ALL_UNDER {
        for ((severity, code), _, count) in &groups {
            let level = format!("{:<8}", severity.as_str());
            writeln!(
                out,
                "  {} {code:<29} {count:>7}",
                paint.on(&severity_style(*severity), &level)
            )?;
        }
        writeln!(
            out,
            "{}",
            paint.on(
                DIM,
                &format!("  The first {SHOWN} of each; every one: trustops plan --format json")
            )
        )?;
    }
    for ((_, code), shown, count) in &groups {
        for finding in shown {
            let level = format!("{:<8}", finding.severity.as_str());
            // What no identity declares has only a fingerprint for a name: say where it is.
            let place = match (&finding.identity, &finding.location) {
                (None, Some(location)) => format!(", in {location}"),
                _ => String::new(),
            };
            writeln!(
                out,
                "  {} {:<29} {:<width$}  {}{place}",
                paint.on(&severity_style(finding.severity), &level),
                finding.code.as_str(),
                finding.target(),
                finding.message
            )?;
        }
        more(out, &paint, *count, shown.len(), code)?;
    }
    let waived: Vec<&crate::reconcile::Finding> = plan
        .findings
        .iter()
        .filter(|f| f.suppressed.is_some())
        .collect();
    for (code, shown, count) in &capped(&waived, |f| f.code.as_str()) {
        for finding in shown {
            let Some(by) = &finding.suppressed else {
                continue;
            };
            let line = format!(
                "  waived   {:<29} {:<width$}  by exception {} until {}",
                finding.code.as_str(),
                finding.target(),
                by.exception,
                by.expires.get(..10).unwrap_or(&by.expires)
            );
            writeln!(out, "{}", paint.on(DIM, &line))?;
        }
        more(out, &paint, *count, shown.len(), &format!("waived {code}"))?;
    }
    writeln!(out)?;
    if plan.actions.is_empty() {
        writeln!(
            out,
            "{} the discovered state matches the declarations.",
            paint.on(&format!("{BOLD}{GREEN}"), "No changes.")
        )?;
        return Ok(());
    }
    writeln!(out, "{}", paint.on(BOLD, "Actions, by owner:"))?;
    for group in by_owner(plan).iter().filter(|g| !g.actions.is_empty()) {
        writeln!(out)?;
        writeln!(out, "{}", paint.on(BOLD, &group.name))?;
        let kinds = capped(&group.actions, |a| a.kind);
        if group.actions.len() > ALL_UNDER {
            let counts: Vec<String> = kinds
                .iter()
                .map(|(kind, _, count)| format!("{count} {}", kind.as_str()))
                .collect();
            writeln!(
                out,
                "  {}",
                paint.on(
                    DIM,
                    &format!("{}; the first {SHOWN} of each:", counts.join(", "))
                )
            )?;
        }
        for (kind, shown, count) in &kinds {
            for a in shown {
                action(out, &paint, a)?;
            }
            more(out, &paint, *count, shown.len(), kind.as_str())?;
        }
    }
    let c = &s.actions;
    writeln!(out)?;
    writeln!(
        out,
        "{} {} to rotate, {} to revoke, {} to escalate, {} to adopt, {} to review{}.",
        paint.on(BOLD, "Plan:"),
        c.rotate,
        c.revoke,
        c.escalate,
        c.adopt,
        c.review,
        if s.deferred > 0 {
            format!(
                " ({} wait for a window, an approver or a person)",
                s.deferred
            )
        } else {
            String::new()
        }
    )
}

/// Lines per group (findings of one code, actions of one kind for one owner) once a plan is
/// too big to list whole: a terminal stays readable at 100,000 identities.
const SHOWN: usize = 10;

/// Up to this many findings, or actions of one owner, every one is listed.
const ALL_UNDER: usize = 60;

/// `items` grouped by `key` in order of first appearance: each key, the items shown (all of
/// them when there are at most [`ALL_UNDER`] items, else the first [`SHOWN`]) and the count.
fn capped<'a, T, K: PartialEq>(
    items: &'a [T],
    key: impl Fn(&T) -> K,
) -> Vec<(K, Vec<&'a T>, usize)> {
    let limit = if items.len() > ALL_UNDER {
        SHOWN
    } else {
        usize::MAX
    };
    let mut groups: Vec<(K, Vec<&'a T>, usize)> = Vec::new();
    for item in items {
        let k = key(item);
        let at = match groups.iter().position(|(g, _, _)| *g == k) {
            Some(at) => at,
            None => {
                groups.push((k, Vec::new(), 0));
                groups.len() - 1
            }
        };
        let (_, shown, count) = &mut groups[at];
        *count += 1;
        if shown.len() < limit {
            shown.push(item);
        }
    }
    groups
}

/// "… 410 more expired", when some of a group were not shown.
fn more(
    out: &mut dyn Write,
    paint: &Paint,
    count: usize,
    shown: usize,
    what: &str,
) -> io::Result<()> {
    if count > shown {
        writeln!(
            out,
            "  {}",
            paint.on(DIM, &format!("… {} more {what}", count - shown))
        )?;
    }
    Ok(())
}

/// One action: its line, then its steps, recipients, schedule, approval and declaration.
fn action(out: &mut dyn Write, paint: &Paint, a: &crate::plan::Action) -> io::Result<()> {
    let (mark, style) = sign(a.kind);
    writeln!(
        out,
        "  {} {:<9}{:<28} {}",
        paint.on(style, mark),
        a.kind.as_str(),
        target(a),
        a.summary
    )?;
    if a.kind == ActionKind::Rotate {
        writeln!(out, "      {}", paint.on(DIM, &steps(a)))?;
    }
    if let Some(notice) = &a.notice {
        let who: Vec<String> = notice
            .recipients
            .iter()
            .map(|r| {
                let how = r
                    .email
                    .clone()
                    .or_else(|| r.webhook_env.as_ref().map(|e| format!("webhook ${e}")))
                    .unwrap_or_default();
                let how = match &r.unreachable {
                    Some(why) => format!("{how} (cannot be reached: {why})"),
                    None => how,
                };
                if r.step > 0 {
                    format!("{how} (step {})", r.step)
                } else {
                    how
                }
            })
            .collect();
        writeln!(
            out,
            "      {}",
            paint.on(DIM, &format!("to {}", who.join(", ")))
        )?;
    }
    if let Some(when) = &a.schedule {
        writeln!(out, "      {}", paint.on(DIM, when))?;
    }
    if a.approval == Approval::Manual && a.kind != ActionKind::Review {
        let how = if a.kind == ActionKind::Adopt {
            "commit the declaration below to adopt it".to_owned()
        } else {
            format!("needs approval: trustops apply --approve {}", a.id)
        };
        writeln!(out, "      {}", paint.on(YELLOW, &how))?;
    }
    if let Some(declaration) = a.declaration() {
        for line in declaration.lines() {
            writeln!(out, "      {}", paint.on(GREEN, line))?;
        }
    }
    Ok(())
}
