//! SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.
//!
//! One run, tool `trustops`, a rule per diagnostic code (all codes, so rule indexes are stable),
//! one result per diagnostic with a physical location (`artifactLocation.uri` relative to the
//! repository root, `uriBaseId` `%SRCROOT%`, 1-based `region`), secondary labels as
//! `relatedLocations`. See <https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>.

use crate::diag::{Code, Diagnostic, Label, Severity};
use serde_json::{Value, json};
use std::io::{self, Write};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub(super) fn write(out: &mut dyn Write, diagnostics: &[Diagnostic]) -> io::Result<()> {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "name": c.as_str(),
                "shortDescription": {"text": c.description()},
                "helpUri": format!("https://trustops.dev/docs/diagnostics#{}", c.as_str()),
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics.iter().map(result).collect();
    document(out, rules, results)
}

/// Writes a SARIF log with one run of trustops, its `rules` and `results`.
pub(super) fn document(
    out: &mut dyn Write,
    rules: Vec<Value>,
    results: Vec<Value>,
) -> io::Result<()> {
    let document = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "trustops",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://trustops.dev",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

fn result(d: &Diagnostic) -> Value {
    let mut result = json!({
        "ruleId": d.code.as_str(),
        "ruleIndex": Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0),
        "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "message": {"text": message(d)},
    });
    if let Some(primary) = &d.primary {
        result["locations"] = json!([location(primary, None)]);
    }
    if !d.secondary.is_empty() {
        let related: Vec<Value> = d
            .secondary
            .iter()
            .enumerate()
            .map(|(i, l)| location(l, Some(i)))
            .collect();
        result["relatedLocations"] = json!(related);
    }
    result
}

fn message(d: &Diagnostic) -> String {
    let mut text = d.message.clone();
    for note in &d.notes {
        text.push('\n');
        text.push_str(note);
    }
    text
}

fn location(label: &Label, id: Option<usize>) -> Value {
    let mut location = json!({
        "physicalLocation": physical_location(&label.path, label.span.line, label.span.column),
        "message": {"text": label.message},
    });
    if let Some(id) = id {
        location["id"] = json!(id);
    }
    location
}

/// A `physicalLocation`: `path` relative to the repository root (`%SRCROOT%`), or an absolute
/// path as a `file://` URI; a region when the line is known.
pub(super) fn physical_location(path: &str, line: u32, column: u32) -> Value {
    let artifact = if path.starts_with('/') {
        json!({"uri": format!("file://{}", uri_path(path))})
    } else {
        json!({"uri": uri_path(path), "uriBaseId": "%SRCROOT%"})
    };
    let mut physical = json!({"artifactLocation": artifact});
    if line > 0 {
        physical["region"] = json!({"startLine": line, "startColumn": column.max(1)});
    }
    physical
}

/// Percent-encodes what a URI path cannot hold (spaces, `%`, `#`, `?`, non-ASCII).
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~:@!$&'()*+,;=".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
