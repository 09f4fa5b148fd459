//! Findings as SARIF 2.1.0 results: a rule per finding code (with its OWASP NHI and NIST CSF
//! references as tags), each result at the declaring YAML line or, for credentials no
//! identity declares, at the discovered file. Waived findings carry a `suppressions` entry
//! naming the exception, so code scanning shows them as dismissed.

use crate::model::{FindingCode, Severity};
use crate::plan::Plan;
use crate::reconcile::Finding;
use serde_json::{Value, json};
use std::io::{self, Write};

pub(super) fn write(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    let rules: Vec<Value> = FindingCode::ALL
        .iter()
        .map(|c| {
            let tags: Vec<&str> = c.owasp_nhi().iter().chain(c.nist_csf()).copied().collect();
            let mut rule = crate::render::sarif::rule(
                c.as_str(),
                "Finding",
                c.description(),
                "docs/findings.md",
                format!("https://trustops.dev/docs/findings#{}", c.as_str()),
            );
            rule["defaultConfiguration"] = json!({"level": level(c.severity())});
            rule["properties"] = json!({"tags": tags});
            rule
        })
        .collect();
    let results = plan.findings.iter().map(result).collect();
    crate::render::sarif::document(out, rules, results)
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

fn result(f: &Finding) -> Value {
    let mut text = format!("{}: {}", f.target(), f.message);
    if let Some(location) = &f.location {
        text.push_str(&format!(" (found at {location})"));
    }
    let mut result = json!({
        "ruleId": f.code.as_str(),
        "ruleIndex": FindingCode::ALL.iter().position(|c| *c == f.code).unwrap_or(0),
        "level": level(f.severity),
        "message": {"text": text},
        "partialFingerprints": {"trustopsFinding/v1": f.id},
        "properties": {"severity": f.severity.as_str(), "evidence": f.evidence, "discovered": f.location},
    });
    // In the repository where possible (code scanning shows nothing else): the declaration,
    // else the Source declaration that found it, else the discovered file itself.
    let physical = match (f.declared.as_ref().or(f.found_by.as_ref()), &f.location) {
        (Some(at), _) => Some(crate::render::sarif::physical_location(
            &at.path, at.line, at.column,
        )),
        (None, Some(place)) => {
            // A discovered file; endpoints and objects have no file to point at.
            let path = place.split(['#', ' ']).next().unwrap_or(place);
            path.starts_with('/')
                .then(|| crate::render::sarif::physical_location(path, 0, 0))
        }
        (None, None) => None,
    };
    if let Some(physical) = physical {
        result["locations"] = json!([{"physicalLocation": physical}]);
    }
    if let Some(by) = &f.suppressed {
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!("exception {}: {} (approved by {}, until {})", by.exception, by.reason, by.approved_by, by.expires),
        }]);
    }
    result
}
