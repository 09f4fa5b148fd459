//! `trustops report`: inventory and compliance evidence from one plan, mapped to the OWASP
//! Non-Human Identities Top 10 (2025) and NIST CSF 2.0 — ownership and rotation coverage,
//! findings by owner and trust domain, exceptions and their expiry, the audit trail's status,
//! and expiries per week and owner as a chart. Markdown, or one self-contained HTML file (inline
//! CSS, SVG and a few lines of JS; no network), readable printed. [`Report::of`] computes the
//! figures; the templates (`report.md.j2`, `report.html.j2`) only lay them out.

use crate::model::{FindingCode, Model, Severity};
use crate::plan::Plan;

mod quantum;

pub use quantum::{Blocking, ClassCounts, Readiness};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Weeks of expiries the chart shows, from the report's instant.
pub const WEEKS: usize = 12;

/// What the audit trail looks like.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TrailStatus {
    /// Audit commits found.
    pub audit_commits: usize,
    /// Records found.
    pub records: usize,
    /// Violations `audit verify` found; `None` when it could not run (no allowed_signers).
    pub violations: Option<usize>,
    /// One line for the reader.
    pub summary: String,
}

/// A percentage with its parts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Coverage {
    /// Covered.
    pub covered: usize,
    /// Out of.
    pub total: usize,
    /// Rounded percentage (100 when there is nothing to cover).
    pub percent: u32,
}

impl Coverage {
    fn new(covered: usize, total: usize) -> Self {
        let percent = (covered * 100)
            .checked_div(total)
            .map_or(100, |p| u32::try_from(p).unwrap_or(100));
        Coverage {
            covered,
            total,
            percent,
        }
    }
}

/// Counts by severity.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    /// Critical.
    pub critical: usize,
    /// High.
    pub high: usize,
    /// Medium.
    pub medium: usize,
    /// Low.
    pub low: usize,
    /// All.
    pub total: usize,
}

impl Counts {
    fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
        }
        self.total += 1;
    }
}

/// One framework entry and the findings that evidence it.
#[derive(Clone, Debug, Serialize)]
pub struct Mapped {
    /// `NHI7:2025 Long-Lived Secrets`, `PR.AA-01`, ...
    pub reference: String,
    /// The finding codes mapped to it.
    pub codes: Vec<&'static str>,
    /// Active findings under it.
    pub findings: usize,
}

/// An exception, for the table.
#[derive(Clone, Debug, Serialize)]
pub struct ExceptionRow {
    /// Name.
    pub name: String,
    /// The rule it waives.
    pub rule: String,
    /// What it applies to.
    pub target: String,
    /// Who approved it.
    pub approved_by: String,
    /// When it expires.
    pub expires: String,
    /// Days left (negative: expired).
    pub days_left: i64,
    /// Findings it waives in this plan.
    pub waived: usize,
}

/// Rows of the expiry table shown; the plan holds the rest.
const EXPIRING_ROWS: usize = 100;

/// A declared credential and when it expires: what an auditor looks for first.
#[derive(Clone, Debug, Serialize)]
pub struct ExpiryRow {
    /// `identity/credential`.
    pub credential: String,
    /// Its owner.
    pub owner: String,
    /// Its policy.
    pub policy: String,
    /// When its certificate in use expires, `YYYY-MM-DD`.
    pub expires: String,
    /// Days left (negative: expired).
    pub days_left: i64,
}

/// One week of the chart.
#[derive(Clone, Debug, Serialize)]
pub struct Week {
    /// Its first day, `YYYY-MM-DD`.
    pub start: String,
    /// Expiries by owner, in owner order.
    pub by_owner: Vec<usize>,
    /// All expiries that week.
    pub total: usize,
}

/// Everything the report shows.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// When.
    pub generated_at: String,
    /// The declarations' commit.
    pub declarations_commit: Option<String>,
    /// Plan summary counts.
    pub summary: crate::plan::Summary,
    /// Discovered credentials accounted for: an identity declares them (or their key), or they
    /// are a declared issuer's CA; the rest are unmanaged.
    pub ownership: Coverage,
    /// Identities with an owner that can be reached.
    pub owned_identities: Coverage,
    /// Declared credentials trustops can rotate (an issuer is declared for them).
    pub rotation: Coverage,
    /// Declared credentials found, valid and not due for renewal.
    pub healthy: Coverage,
    /// Active findings by owner (`(unowned)` for the rest).
    pub by_owner: BTreeMap<String, Counts>,
    /// Active findings by trust domain.
    pub by_trust_domain: BTreeMap<String, Counts>,
    /// Active findings by code.
    pub by_code: Vec<(String, String, usize)>,
    /// OWASP NHI Top 10 entries.
    pub owasp: Vec<Mapped>,
    /// NIST CSF 2.0 subcategories.
    pub nist: Vec<Mapped>,
    /// Exceptions, soonest expiry first.
    pub exceptions: Vec<ExceptionRow>,
    /// The audit trail.
    pub trail: TrailStatus,
    /// Owners in the chart, in order.
    pub owners: Vec<String>,
    /// Expiries per week.
    pub weeks: Vec<Week>,
    /// Declared credentials already expired.
    pub expired: usize,
    /// Of those, by owner, in owner order (the chart's first column).
    pub expired_by_owner: Vec<usize>,
    /// Declared credentials by when their certificate in use expires, soonest (or longest
    /// expired) first, at most 100 (`EXPIRING_ROWS`).
    pub expiring: Vec<ExpiryRow>,
    /// How many more the plan holds.
    pub expiring_more: usize,
    /// Declared credentials whose certificate in use its CA has revoked.
    pub revoked: usize,
    /// Declared credentials expiring after the chart's last week.
    pub later: usize,
    /// The largest weekly total.
    pub peak: usize,
    /// The chart's geometry, for the SVG.
    pub chart: Chart,
    /// Post-quantum readiness.
    pub post_quantum: Readiness,
}

/// One coloured segment of a stacked bar.
#[derive(Clone, Debug, Serialize)]
pub struct Bar {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Fill colour.
    pub color: &'static str,
    /// Tooltip.
    pub title: String,
}

/// The expiry chart laid out: stacked bars per week, one colour per owner.
#[derive(Clone, Debug, Serialize)]
pub struct Chart {
    /// Width of the drawing.
    pub width: u32,
    /// Height of the drawing.
    pub height: u32,
    /// The bottom of the bars.
    pub base: u32,
    /// Segments.
    pub bars: Vec<Bar>,
    /// Column labels: (x, text): `expired`, then each week's first day.
    pub labels: Vec<(u32, String)>,
    /// The y axis: (y, count) for 0 and round steps up to the peak, drawn with grid lines.
    pub ticks: Vec<(u32, usize)>,
    /// Each column's count above its bar, so it reads on paper: (x, y, count).
    pub totals: Vec<(u32, u32, usize)>,
    /// Legend: (colour, owner).
    pub legend: Vec<(&'static str, String)>,
}

const PALETTE: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

impl Chart {
    /// Stacked bars for the expired column and each week, scaled to `peak`.
    fn layout(owners: &[String], expired: &[usize], weeks: &[Week], peak: usize) -> Self {
        let (left, step, width, base, tall) = (40u32, 56u32, 40u32, 220u32, 180u32);
        let mut bars = Vec::new();
        let mut labels = Vec::new();
        let mut totals = Vec::new();
        let columns =
            std::iter::once(("expired".to_owned(), expired, "already expired".to_owned())).chain(
                weeks.iter().map(|w| {
                    (
                        w.start[5..].to_owned(),
                        w.by_owner.as_slice(),
                        format!("expiring the week of {}", w.start),
                    )
                }),
            );
        let scale = |count: usize| {
            u32::try_from(count * tall as usize / peak.max(1))
                .unwrap_or(tall)
                .max(2)
        };
        let mut count_columns = 0u32;
        for (n, (label, by_owner, when)) in columns.enumerate() {
            count_columns += 1;
            let x = left + u32::try_from(n).unwrap_or(0) * step;
            labels.push((x + width / 2, label));
            let mut top = base;
            for (o, count) in by_owner.iter().enumerate() {
                if *count == 0 {
                    continue;
                }
                let height = scale(*count);
                top = top.saturating_sub(height);
                bars.push(Bar {
                    x,
                    y: top,
                    width,
                    height,
                    color: PALETTE[o % PALETTE.len()],
                    title: format!("{}: {count} {when}", owners[o]),
                });
            }
            let total: usize = by_owner.iter().sum();
            if total > 0 {
                totals.push((x + width / 2, top.saturating_sub(4), total));
            }
        }
        Chart {
            width: left + count_columns * step + 10,
            height: base + 30,
            base,
            bars,
            labels,
            ticks: ticks(peak)
                .into_iter()
                .map(|t| {
                    (
                        base - if peak == 0 {
                            0
                        } else {
                            scale(t).min(tall) * u32::from(t > 0)
                        },
                        t,
                    )
                })
                .collect(),
            totals,
            legend: owners
                .iter()
                .enumerate()
                .map(|(o, name)| (PALETTE[o % PALETTE.len()], name.clone()))
                .collect(),
        }
    }
}

/// The y axis' counts: 0 and multiples of a round step (1, 2 or 5 × 10ⁿ) up to `peak`, about
/// four of them.
fn ticks(peak: usize) -> Vec<usize> {
    let mut step = 1;
    'found: for magnitude in [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000] {
        for unit in [1, 2, 5] {
            step = unit * magnitude;
            if peak / step <= 4 {
                break 'found;
            }
        }
    }
    (0..=peak / step).map(|n| n * step).collect()
}

impl Report {
    /// Computes the report from a plan, its declarations and the trail's status.
    pub fn of(
        plan: &Plan,
        model: &Model,
        inventory: &crate::discover::Inventory,
        trail: TrailStatus,
    ) -> Self {
        let now = plan.generated_at.0;
        let active: Vec<&crate::reconcile::Finding> = plan
            .findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .collect();
        let domain_of: BTreeMap<(String, String), String> = plan
            .credentials
            .iter()
            .map(|c| {
                (
                    (c.identity.clone(), c.credential.clone()),
                    c.trust_domain.clone().unwrap_or_else(|| "(none)".into()),
                )
            })
            .collect();
        let mut by_owner: BTreeMap<String, Counts> = BTreeMap::new();
        let mut by_trust_domain: BTreeMap<String, Counts> = BTreeMap::new();
        let mut by_code: BTreeMap<FindingCode, usize> = BTreeMap::new();
        for f in &active {
            by_owner
                .entry(f.owner.clone().unwrap_or_else(|| "(unowned)".into()))
                .or_default()
                .add(f.severity);
            let domain = match (&f.identity, &f.credential) {
                (Some(i), Some(c)) => domain_of.get(&(i.clone(), c.clone())).cloned(),
                _ => None,
            };
            by_trust_domain
                .entry(domain.unwrap_or_else(|| "(undeclared)".into()))
                .or_default()
                .add(f.severity);
            *by_code.entry(f.code).or_default() += 1;
        }
        let mapped = |refs: fn(FindingCode) -> &'static [&'static str]| {
            let mut out: BTreeMap<&'static str, Mapped> = BTreeMap::new();
            for code in FindingCode::ALL {
                for reference in refs(*code) {
                    let entry = out.entry(reference).or_insert_with(|| Mapped {
                        reference: (*reference).to_owned(),
                        codes: Vec::new(),
                        findings: 0,
                    });
                    entry.codes.push(code.as_str());
                    entry.findings += by_code.get(code).copied().unwrap_or(0);
                }
            }
            out.into_values().collect::<Vec<_>>()
        };
        let unreachable_owners = active
            .iter()
            .filter(|f| f.code == FindingCode::OwnerMissing)
            .filter_map(|f| f.identity.as_deref())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let identities = model.identities.len();
        let rotatable = model.declared().filter(|d| !d.issuers().is_empty()).count();
        let unhealthy: std::collections::BTreeSet<(&str, &str)> = active
            .iter()
            .filter(|f| {
                matches!(
                    f.code,
                    FindingCode::Missing
                        | FindingCode::Revoked
                        | FindingCode::Expired
                        | FindingCode::RenewalDue
                )
            })
            .filter_map(|f| Some((f.identity.as_deref()?, f.credential.as_deref()?)))
            .collect();
        let declared = plan.summary.declared;
        let mut exceptions: Vec<ExceptionRow> = model
            .exceptions
            .values()
            .map(|e| {
                let target = [
                    e.spec.identity.as_ref().map(|v| v.value.clone()),
                    e.spec.credential.as_ref().map(|v| v.value.clone()),
                    e.spec.fingerprint.as_ref().map(|v| v.value.clone()),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("/");
                ExceptionRow {
                    name: e.name().to_owned(),
                    rule: e.spec.rule.value.as_str().to_owned(),
                    target,
                    approved_by: e.spec.approved_by.value.clone(),
                    expires: e.spec.expires.value.0.strftime("%Y-%m-%d").to_string(),
                    days_left: (e.spec.expires.value.0.as_second() - now.as_second())
                        .div_euclid(86_400),
                    waived: plan
                        .findings
                        .iter()
                        .filter(|f| {
                            f.suppressed
                                .as_ref()
                                .is_some_and(|s| s.exception == e.name())
                        })
                        .count(),
                }
            })
            .collect();
        exceptions.sort_by_key(|e| e.days_left);
        let (owners, weeks, expired_by_owner, later) = chart(plan, now);
        let expired: usize = expired_by_owner.iter().sum();
        let peak = weeks
            .iter()
            .map(|w| w.total)
            .max()
            .unwrap_or(0)
            .max(expired);
        let chart = Chart::layout(&owners, &expired_by_owner, &weeks, peak);
        let mut expiring: Vec<ExpiryRow> = plan
            .credentials
            .iter()
            .filter_map(|c| {
                let not_after = c.current.as_ref()?.not_after?.0;
                Some(ExpiryRow {
                    credential: format!("{}/{}", c.identity, c.credential),
                    owner: c.owner.clone().unwrap_or_else(|| "(unowned)".into()),
                    policy: c.policy.clone().unwrap_or_default(),
                    expires: not_after.strftime("%Y-%m-%d").to_string(),
                    days_left: (not_after.as_second() - now.as_second()).div_euclid(86_400),
                })
            })
            .collect();
        expiring.sort_by(|a, b| (a.days_left, &a.credential).cmp(&(b.days_left, &b.credential)));
        let expiring_more = expiring.len().saturating_sub(EXPIRING_ROWS);
        expiring.truncate(EXPIRING_ROWS);
        Report {
            generated_at: now.strftime("%Y-%m-%d %H:%M UTC").to_string(),
            declarations_commit: plan.inputs.declarations_commit.clone(),
            summary: plan.summary.clone(),
            ownership: Coverage::new(
                plan.summary
                    .discovered
                    .saturating_sub(plan.summary.unmanaged),
                plan.summary.discovered,
            ),
            owned_identities: Coverage::new(identities - unreachable_owners, identities),
            rotation: Coverage::new(rotatable, declared),
            healthy: Coverage::new(declared.saturating_sub(unhealthy.len()), declared),
            by_owner,
            by_trust_domain,
            by_code: by_code
                .iter()
                .map(|(c, n)| (c.as_str().to_owned(), c.severity().as_str().to_owned(), *n))
                .collect(),
            owasp: mapped(FindingCode::owasp_nhi),
            nist: mapped(FindingCode::nist_csf),
            exceptions,
            trail,
            owners,
            weeks,
            expired,
            expired_by_owner,
            expiring,
            expiring_more,
            revoked: active
                .iter()
                .filter(|f| f.code == FindingCode::Revoked)
                .count(),
            later,
            peak,
            chart,
            post_quantum: quantum::readiness(plan, inventory),
        }
    }
}

/// Expiries of declared credentials per week for [`WEEKS`] weeks from `now`, by owner; and how
/// many have expired already.
fn chart(plan: &Plan, now: jiff::Timestamp) -> (Vec<String>, Vec<Week>, Vec<usize>, usize) {
    let mut owners: Vec<String> = plan
        .credentials
        .iter()
        .map(|c| c.owner.clone().unwrap_or_else(|| "(unowned)".into()))
        .collect();
    owners.sort();
    owners.dedup();
    let week = 7 * 86_400;
    let mut weeks: Vec<Week> = (0..WEEKS)
        .map(|n| Week {
            start: jiff::Timestamp::from_second(now.as_second() + (n as i64) * week)
                .unwrap_or(now)
                .strftime("%Y-%m-%d")
                .to_string(),
            by_owner: vec![0; owners.len()],
            total: 0,
        })
        .collect();
    let mut expired = vec![0; owners.len()];
    let mut later = 0;
    for c in &plan.credentials {
        let Some(not_after) = c.current.as_ref().and_then(|f| f.not_after.as_ref()) else {
            continue;
        };
        let left = not_after.0.as_second() - now.as_second();
        let owner = c.owner.clone().unwrap_or_else(|| "(unowned)".into());
        if left < 0 {
            if let Some(o) = owners.iter().position(|x| *x == owner) {
                expired[o] += 1;
            }
            continue;
        }
        let n = usize::try_from(left / week).unwrap_or(usize::MAX);
        if n >= WEEKS {
            later += 1;
            continue;
        }
        if let (Some(w), Some(o)) = (weeks.get_mut(n), owners.iter().position(|x| *x == owner)) {
            w.by_owner[o] += 1;
            w.total += 1;
        }
    }
    (owners, weeks, expired, later)
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Markdown.
    Markdown,
    /// One self-contained HTML file.
    Html,
}

/// Renders `report`.
pub fn write(out: &mut dyn Write, format: Format, report: &Report) -> io::Result<()> {
    let mut env = minijinja::Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| io::Error::other(format!("report template: {e:#}")))?;
    env.set_syntax(syntax);
    env.add_filter("cell", super::plan::cell);
    let fail = |e: minijinja::Error| io::Error::other(format!("report template: {e:#}"));
    let (name, source) = match format {
        Format::Markdown => ("report.md", include_str!("report.md.j2")),
        Format::Html => ("report.html", include_str!("report.html.j2")),
    };
    env.add_template(name, source).map_err(fail)?;
    let text = env
        .get_template(name)
        .and_then(|t| {
            t.render(minijinja::context! {
                r => minijinja::Value::from(minijinja::value::Serde(report)),
                version => env!("CARGO_PKG_VERSION"),
            })
        })
        .map_err(fail)?;
    out.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_y_axis_counts_in_round_steps() {
        assert_eq!(super::ticks(0), [0]);
        assert_eq!(super::ticks(4), [0, 1, 2, 3, 4]);
        assert_eq!(super::ticks(11), [0, 5, 10]);
        assert_eq!(super::ticks(100), [0, 50, 100]);
        assert_eq!(super::ticks(1_999), [0, 500, 1_000, 1_500]);
    }
}
