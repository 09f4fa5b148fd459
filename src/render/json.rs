//! The JSON form of a validation result, for scripts:
//!
//! ```json
//! {"format_version": 1, "valid": false,
//!  "summary": {"files": 3, "documents": 9, "errors": 1, "warnings": 0, "credentials": 4,
//!              "kinds": {"Owner": 1, "Policy": 2, ...}},
//!  "diagnostics": [{"severity": "error", "code": "unknown-reference",
//!                   "message": "spec.owner: no owner named \"pay\" (did you mean \"payments\"?)",
//!                   "field": "spec.owner",
//!                   "primary": {"path": "identities/api.yaml", "line": 7, "column": 10, "message": "unknown owner"},
//!                   "secondary": [...], "notes": [...]}]}
//! ```
//!
//! `line`/`column` are 1-based; paths are relative to the repository root.

use super::Summary;
use crate::diag::{Diagnostic, Severity};
use std::io::{self, Write};

pub(super) fn write(
    out: &mut dyn Write,
    diagnostics: &[Diagnostic],
    summary: &Summary,
) -> io::Result<()> {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let kinds: serde_json::Map<String, serde_json::Value> = summary
        .kinds
        .iter()
        .map(|(k, n)| (k.clone(), (*n).into()))
        .collect();
    let document = serde_json::json!({
        "format_version": 1,
        "valid": errors == 0,
        "summary": {
            "files": summary.files,
            "documents": summary.documents,
            "kinds": kinds,
            "credentials": summary.credentials,
            "errors": errors,
            "warnings": diagnostics.len() - errors,
        },
        "diagnostics": diagnostics,
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}
