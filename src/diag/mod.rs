//! Diagnostics: one type for every problem found in user input.
//!
//! A [`Diagnostic`] says what is wrong with a declaration, where (file, line, column and field
//! path) and what was expected. It is data: [`crate::render`] turns it into text, JSON or SARIF,
//! always from the same fields. Errors that stop trustops from running (I/O, Git) are each
//! module's own `Error` type instead.

mod code;
mod files;

pub use code::Code;
pub use files::{Files, SourceFile};

use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; the declarations are still valid.
    Warning,
    /// The declarations are invalid.
    Error,
}

/// A position in a source file: 1-based line and column, and the byte range when known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    /// 1-based line; 0 when unknown.
    pub line: u32,
    /// 1-based column (in characters); 0 when unknown.
    pub column: u32,
    /// Byte offset of the start in the file.
    #[serde(skip)]
    pub offset: usize,
    /// Length in bytes (0 for a point).
    #[serde(skip)]
    pub len: usize,
}

/// A place in a file with a short remark about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    /// Path of the file, relative to the repository root, with `/` separators.
    pub path: String,
    /// Where in the file.
    #[serde(flatten)]
    pub span: Span,
    /// What is at this place ("expected a duration", "first defined here").
    pub message: String,
}

/// One problem with the input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable kebab-case code.
    pub code: Code,
    /// What is wrong, in one sentence, starting with the field path when there is one.
    pub message: String,
    /// Dotted field path inside the document, e.g. `spec.credentials[1].rotateWith`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Where the problem is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<Label>,
    /// Other places that explain it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secondary: Vec<Label>,
    /// Hints: "did you mean ...", what is accepted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error with `code` and `message` and no location yet.
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            field: None,
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A warning with `code` and `message`.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, message)
        }
    }

    /// Sets the field path and prefixes the message with it.
    #[must_use]
    pub fn field(mut self, field: impl Into<String>) -> Self {
        let field = field.into();
        self.message = format!("{field}: {}", self.message);
        self.field = Some(field);
        self
    }

    /// Sets the primary location.
    #[must_use]
    pub fn at(mut self, path: &str, span: Span, label: impl Into<String>) -> Self {
        self.primary = Some(Label {
            path: path.to_owned(),
            span,
            message: label.into(),
        });
        self
    }

    /// Adds a secondary location.
    #[must_use]
    pub fn also(mut self, path: &str, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push(Label {
            path: path.to_owned(),
            span,
            message: label.into(),
        });
        self
    }

    /// Adds a note.
    #[must_use]
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Appends `(did you mean "x"?)` to the message when one of `candidates` is close to
    /// `wrong`, so even the one-line form carries the hint.
    #[must_use]
    pub fn suggest<'a>(
        mut self,
        wrong: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        if let Some(best) = did_you_mean(wrong, candidates) {
            self.message = format!("{} (did you mean \"{best}\"?)", self.message);
        }
        self
    }
}

/// The candidate closest to `wrong`, if it is close enough to be a typo: an edit distance
/// under 3, the same ignoring case, or a high Jaro-Winkler similarity (which catches a
/// shortened name such as `db-pass` for `db-password`).
pub fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|c| *c != wrong)
        .map(|c| {
            let close = c.eq_ignore_ascii_case(wrong)
                || (strsim::levenshtein(wrong, c) < 3 && c.len() > 2)
                || strsim::jaro_winkler(wrong, c) >= 0.9;
            (close, strsim::jaro_winkler(wrong, c), c)
        })
        .filter(|(close, _, _)| *close)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(_, _, c)| c)
}

/// True when any diagnostic is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["db-password", "tls", "api-token"];
        assert_eq!(did_you_mean("db-pass", names), Some("db-password"));
        assert_eq!(did_you_mean("db-passwrd", names), Some("db-password"));
        assert_eq!(did_you_mean("TLS", names), Some("tls"));
        assert_eq!(did_you_mean("zzz", names), None);
    }
}
