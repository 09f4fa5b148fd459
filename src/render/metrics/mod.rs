//! Prometheus text exposition (format 0.0.4) for a node-exporter textfile collector: when each
//! declared credential starts and stops being valid, labelled with its owner, policy and trust
//! domain; when every discovered certificate expires, by its place in the plan and owner (and
//! each unmanaged one on its own); findings by code, severity and owner; coverage counts;
//! whether each source could be read; when the last successful plan and apply ran; and, on
//! request, x509-certificate-exporter's names and labels. `promtool check metrics` accepts it.

mod observed;
mod x509_exporter;

pub use observed::{Certificate, Observed, State, observed};

use crate::model::FindingCode;
use crate::plan::Plan;
use std::fmt::Write as _;
use std::io::{self, Write};

/// What the metrics are computed from.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    /// The plan of this run.
    pub plan: &'a Plan,
    /// The certificates and sources behind it ([`observed()`]).
    pub observed: &'a Observed,
    /// When the last apply without a failed action finished, from the audit trail.
    pub last_apply: Option<jiff::Timestamp>,
    /// Also write x509-certificate-exporter's names and labels
    /// (`--compat x509-certificate-exporter`).
    pub x509_exporter: bool,
}

/// A label value escaped as the exposition format wants it.
pub(crate) fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// A metric family: its help, type and samples.
struct Family {
    text: String,
}

impl Family {
    fn new(name: &str, kind: &str, help: &str) -> Self {
        let mut text = String::new();
        let _ = writeln!(text, "# HELP {name} {help}");
        let _ = writeln!(text, "# TYPE {name} {kind}");
        Family { text }
    }

    fn sample(&mut self, name: &str, labels: &str, value: impl std::fmt::Display) {
        let _ = writeln!(self.text, "{name}{labels} {value}");
    }
}

/// Writes the metrics.
pub fn write(out: &mut dyn Write, inputs: &Inputs<'_>) -> io::Result<()> {
    let plan = inputs.plan;
    const NOT_AFTER: &str = "trustops_credential_not_after_timestamp_seconds";
    const NOT_BEFORE: &str = "trustops_credential_not_before_timestamp_seconds";
    let mut not_after = Family::new(
        NOT_AFTER,
        "gauge",
        "When the current form of a declared credential, or an unmanaged one, expires (Unix time).",
    );
    let mut not_before = Family::new(
        NOT_BEFORE,
        "gauge",
        "When the current form of a declared credential became valid or was last rotated (Unix time).",
    );
    for c in &plan.credentials {
        let Some(current) = &c.current else {
            continue;
        };
        let set = labels(&[
            ("identity", &c.identity),
            ("credential", &c.credential),
            ("type", &c.credential_type),
            ("owner", c.owner.as_deref().unwrap_or("")),
            ("policy", c.policy.as_deref().unwrap_or("")),
            ("trust_domain", c.trust_domain.as_deref().unwrap_or("")),
        ]);
        if let Some(t) = &current.not_after {
            not_after.sample(NOT_AFTER, &set, t.0.as_second());
        }
        if let Some(t) = &current.not_before {
            not_before.sample(NOT_BEFORE, &set, t.0.as_second());
        }
    }
    const UNMANAGED: &str = "trustops_unmanaged_credential_not_after_timestamp_seconds";
    let mut unmanaged = Family::new(
        UNMANAGED,
        "gauge",
        "When a discovered credential that no identity declares expires (Unix time).",
    );
    const CERTIFICATE: &str = "trustops_certificate_not_after_timestamp_seconds";
    let mut certificate = Family::new(
        CERTIFICATE,
        "gauge",
        "When each discovered certificate expires (Unix time), by its place in the plan (state: current, superseded, unmanaged, other) and owner.",
    );
    for c in &inputs.observed.certificates {
        let Some(end) = c.not_after else { continue };
        let location = c.locations.first().map(|l| l.display()).unwrap_or_default();
        if c.state == State::Unmanaged {
            let set = labels(&[
                ("fingerprint", &c.fingerprint),
                ("type", "x509-certificate"),
                ("subject", &c.subject),
                ("location", &location),
            ]);
            unmanaged.sample(UNMANAGED, &set, end);
        }
        let set = labels(&[
            ("fingerprint", &c.fingerprint),
            ("state", c.state.as_str()),
            ("credential", &c.declared_as),
            ("owner", &c.owner),
            ("subject", &c.subject),
            ("issuer", &c.issuer),
            ("serial", &c.serial),
            ("location", &location),
        ]);
        certificate.sample(CERTIFICATE, &set, end);
    }
    const SOURCE_UP: &str = "trustops_source_up";
    let mut source_up = Family::new(
        SOURCE_UP,
        "gauge",
        "Whether a declared source could be read for this plan.",
    );
    for (source, up) in &inputs.observed.sources {
        source_up.sample(SOURCE_UP, &labels(&[("source", source)]), u8::from(*up));
    }
    const QUANTUM: &str = "trustops_quantum_safety_credentials";
    let mut quantum = Family::new(
        QUANTUM,
        "gauge",
        "Discovered keys and certificates by quantum-safety class (vulnerable: RSA, elliptic curves, DSA; safe: ML-DSA, SLH-DSA, ML-KEM; hybrid; unknown) and owner.",
    );
    for ((class, owner), n) in &inputs.observed.quantum {
        quantum.sample(QUANTUM, &labels(&[("class", class), ("owner", owner)]), n);
    }
    const FINDINGS: &str = "trustops_findings";
    let mut findings = Family::new(
        FINDINGS,
        "gauge",
        "Findings not waived by an exception, by code, severity and owner (\"\": none).",
    );
    const SUPPRESSED: &str = "trustops_findings_suppressed";
    let mut suppressed = Family::new(
        SUPPRESSED,
        "gauge",
        "Findings waived by an exception, by code.",
    );
    for code in FindingCode::ALL {
        let of = plan.findings.iter().filter(|f| f.code == *code);
        let (waived, active): (Vec<_>, Vec<_>) = of.partition(|f| f.suppressed.is_some());
        let mut by_owner = std::collections::BTreeMap::<&str, usize>::new();
        for f in &active {
            *by_owner
                .entry(f.owner.as_deref().unwrap_or(""))
                .or_default() += 1;
        }
        if by_owner.is_empty() {
            by_owner.insert("", 0); // Every code has a sample, so `== 0` alerts can be written.
        }
        for (owner, n) in by_owner {
            findings.sample(
                FINDINGS,
                &labels(&[
                    ("code", code.as_str()),
                    ("severity", code.severity().as_str()),
                    ("owner", owner),
                ]),
                n,
            );
        }
        suppressed.sample(
            SUPPRESSED,
            &labels(&[("code", code.as_str())]),
            waived.len(),
        );
    }
    const CREDENTIALS: &str = "trustops_credentials";
    let mut credentials = Family::new(
        CREDENTIALS,
        "gauge",
        "Credentials by state: declared, discovered, matched, missing, unmanaged.",
    );
    let s = &plan.summary;
    for (state, n) in [
        ("declared", s.declared),
        ("discovered", s.discovered),
        ("matched", s.matched),
        ("missing", s.missing),
        ("unmanaged", s.unmanaged),
    ] {
        credentials.sample(CREDENTIALS, &labels(&[("state", state)]), n);
    }
    const PLAN_OK: &str = "trustops_plan_success";
    let mut plan_ok = Family::new(
        PLAN_OK,
        "gauge",
        "1 when every source could be read for this plan, else 0.",
    );
    plan_ok.sample(PLAN_OK, "", u8::from(!plan.errored));
    let mut families = vec![
        not_after,
        not_before,
        unmanaged,
        certificate,
        findings,
        suppressed,
        credentials,
        plan_ok,
        source_up,
        quantum,
    ];
    if !plan.errored {
        const LAST_PLAN: &str = "trustops_last_successful_plan_timestamp_seconds";
        let mut f = Family::new(
            LAST_PLAN,
            "gauge",
            "When the last successful plan ran (Unix time).",
        );
        f.sample(LAST_PLAN, "", plan.generated_at.0.as_second());
        families.push(f);
    }
    if let Some(at) = inputs.last_apply {
        const LAST_APPLY: &str = "trustops_last_successful_apply_timestamp_seconds";
        let mut f = Family::new(
            LAST_APPLY,
            "gauge",
            "When the last apply with no failed action finished, from the audit trail (Unix time).",
        );
        f.sample(LAST_APPLY, "", at.as_second());
        families.push(f);
    }
    if inputs.x509_exporter {
        families.extend(x509_exporter::families(
            inputs.observed,
            plan.generated_at.0.as_second(),
        ));
    }
    for family in families {
        out.write_all(family.text.as_bytes())?;
    }
    Ok(())
}
