//! Turn results into bytes for people and machines: text (with source snippets), one line per
//! problem, JSON and SARIF 2.1.0. Every format reads the same [`Diagnostic`] fields; nothing
//! is parsed back from text. Renderers write to the writer they are given and do nothing else.

pub mod cyclonedx;
pub mod diff;
mod inventory;
mod json;
pub mod metrics;
mod paint;
pub mod plan;
pub mod report;
mod sarif;
mod text;

pub use inventory::json as inventory_json;
pub use inventory::json_from as inventory_json_from;
pub use inventory::table as inventory_table;

use crate::diag::{Diagnostic, Files};
use std::io::{self, Write};

/// Output formats for diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Rich text with source snippets, like rustc (default).
    #[default]
    Text,
    /// One line per problem: `path:line:col: severity[code]: message`.
    Short,
    /// A JSON document: `format_version`, `valid`, `summary` and `diagnostics` (see `render/json.rs`).
    Json,
    /// SARIF 2.1.0, for code-scanning annotations on pull requests.
    Sarif,
}

/// What was checked, for the summary line and JSON.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// trustops documents read.
    pub documents: usize,
    /// Declarations by kind name, in kind order.
    pub kinds: Vec<(String, usize)>,
    /// Declared credentials.
    pub credentials: usize,
}

/// Writes `diagnostics` in `format`; `color`: ANSI colours in the text format.
pub fn diagnostics(
    out: &mut dyn Write,
    format: Format,
    files: &Files,
    diagnostics: &[Diagnostic],
    summary: &Summary,
    color: bool,
) -> io::Result<()> {
    match format {
        Format::Text => text::rich(out, files, diagnostics, summary, color),
        Format::Short => text::short(out, diagnostics, summary),
        Format::Json => json::write(out, diagnostics, summary),
        Format::Sarif => sarif::write(out, diagnostics),
    }
}
