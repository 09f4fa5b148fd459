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

/// The most results GitHub code scanning accepts in one run.
const MAX_RESULTS: usize = 25_000;

/// The rule of the result saying how many were left out of a run.
const LEFT_OUT: &str = "results-left-out";

pub(super) fn write(out: &mut dyn Write, diagnostics: &[Diagnostic]) -> io::Result<()> {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            rule(
                c.as_str(),
                "Diagnostic",
                c.description(),
                "docs/diagnostics.md",
                format!("https://trustops.dev/docs/diagnostics#{}", c.as_str()),
            )
        })
        .collect();
    let results: Vec<Value> = diagnostics.iter().map(result).collect();
    document(out, rules, results)
}

/// A rule as code scanning wants one: the kebab-case `id`, a PascalCase `name` ending in its
/// `kind` (`Finding`, `Diagnostic`, `Change`; SARIF1001: not the id), short and full descriptions, and help as text and Markdown pointing at the page
/// of this repository's docs that explains it (GitHub Advanced Security requires both, GH2012).
pub(super) fn rule(id: &str, kind: &str, description: &str, docs: &str, help_uri: String) -> Value {
    let mut name: String = id
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    // `Expired` alone would equal `expired` but for case: `ExpiredFinding`.
    name.push_str(kind);
    let sentence = format!("{}.", description.trim_end_matches('.'));
    json!({
        "id": id,
        "name": name,
        "shortDescription": {"text": sentence},
        "fullDescription": {"text": format!("{sentence} (trustops `{id}`)")},
        "help": {
            "text": format!("{sentence} See {docs} (`{id}`) in the trustops documentation."),
            "markdown": format!("{sentence}\n\nSee [`{id}`]({help_uri}) in `{docs}` of the trustops documentation."),
        },
        "helpUri": help_uri,
    })
}

/// A stable fingerprint for a result that has no identity of its own: SHA-256 of its parts.
pub(super) fn fingerprint(parts: &[&str]) -> String {
    crate::discover::sha256_hex(parts.join("\0").as_bytes())
}

/// Writes a SARIF log with one run of trustops, its `rules` and `results`.
pub(super) fn document(
    out: &mut dyn Write,
    mut rules: Vec<Value>,
    mut results: Vec<Value>,
) -> io::Result<()> {
    // GitHub code scanning rejects a run of more than 25,000 results: the first ones (the most
    // severe come first) and one, under a rule of its own, that says how many more the JSON
    // output has (at the first result's place: code scanning wants a location).
    if results.len() > MAX_RESULTS {
        let left = results.len() - (MAX_RESULTS - 1);
        results.truncate(MAX_RESULTS - 1);
        let mut more = results[0].clone();
        more["ruleId"] = json!(LEFT_OUT);
        more["ruleIndex"] = json!(rules.len());
        rules.push(rule(
            LEFT_OUT,
            "Note",
            "More results than code scanning takes in one run; the JSON output lists every one",
            "docs/plan.md",
            "https://trustops.dev/docs/plan#sarif".to_owned(),
        ));
        more["message"] = json!({"text": format!(
            "{left} more results are not shown here (code scanning takes {MAX_RESULTS} per run); the JSON output lists every one"
        )});
        more["level"] = json!("note");
        if let Some(map) = more.as_object_mut() {
            map.remove("suppressions");
            map.remove("relatedLocations");
        }
        more["partialFingerprints"] = json!({"trustopsSummary/v1": "more-results"});
        more["properties"] = json!({"left_out": left});
        results.push(more);
    }
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
    let place = d
        .primary
        .as_ref()
        .map(|l| l.path.as_str())
        .unwrap_or_default();
    let mut result = json!({
        "ruleId": d.code.as_str(),
        "ruleIndex": Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0),
        "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "message": {"text": message(d)},
        // Stable across edits that move the line: the code, the file, the field and message.
        "partialFingerprints": {"trustopsDiagnostic/v1": fingerprint(&[
            d.code.as_str(),
            place,
            d.field.as_deref().unwrap_or_default(),
            &d.message,
        ])},
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
    // A region always (SARIF2017): the first line when the line is not known.
    json!({
        "artifactLocation": artifact,
        "region": {"startLine": line.max(1), "startColumn": column.max(1)},
    })
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
