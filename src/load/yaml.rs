//! serde-saphyr settings (budgets against hostile YAML) and its errors as diagnostics.

use crate::diag::{Code, Diagnostic, SourceFile, Span};

/// Largest declaration file read. Real declaration files are kilobytes; this refuses huge
/// scalars and junk before the parser sees them.
pub(super) const MAX_FILE_BYTES: usize = 16 << 20;

/// Parser options: strict duplicate keys, no snippets (we render our own), and budgets per
/// document that refuse YAML bombs and deep nesting in well under a second.
pub(super) fn options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget());
    options.alias_limits.max_total_replayed_events = 100_000;
    options.alias_limits.max_alias_expansions_per_anchor = 1_000;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.with_snippet = false;
    options
}

/// The limits on one file (serde-saphyr's budget; `direct` stays under half of each).
pub(super) fn budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_reader_input_bytes = Some(MAX_FILE_BYTES);
    budget.max_depth = 64;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_nodes = 500_000;
    budget.max_events = 2_000_000;
    budget.max_total_scalar_bytes = 4 << 20;
    budget
}

/// A parser or deserialization error as a diagnostic at its position in `file`.
pub(super) fn diagnostic(
    file: &SourceFile,
    error: &serde_saphyr::Error,
    field: Option<String>,
) -> Diagnostic {
    let (message, structural) = match error.without_snippet() {
        serde_saphyr::Error::Message { msg, .. } => (msg.clone(), true),
        // Well-formed YAML of the wrong shape (a scalar where a list belongs).
        other @ serde_saphyr::Error::Unexpected { .. } => {
            (strip_position(&other.to_string()), true)
        }
        other => (strip_position(&other.to_string()), false),
    };
    let code = classify(&message, structural);
    let mut diagnostic = Diagnostic::error(code, message.clone());
    // serde names a missing field in the message only; put it in the path too.
    let missing = (code == Code::MissingField)
        .then(|| message.split('`').nth(1))
        .flatten();
    let field = match (field, missing) {
        (Some(path), Some(name)) => Some(format!("{path}.{name}")),
        (field, _) => field,
    };
    if let Some(field) = field {
        diagnostic = diagnostic.field(field);
    }
    let label = match code {
        Code::UnknownField => "unknown field",
        Code::MissingField => "required field missing in this mapping",
        Code::YamlLimit => "limit exceeded here",
        Code::YamlSyntax => "syntax error",
        _ => "invalid value",
    };
    if let Some(at) = error.location().filter(|l| l.line() > 0) {
        let line = u32::try_from(at.line()).unwrap_or(u32::MAX);
        let column = u32::try_from(at.column()).unwrap_or(u32::MAX);
        let range = file.token_range(line, column);
        let span = Span {
            line,
            column,
            offset: range.start,
            len: range.len(),
        };
        diagnostic = diagnostic.at(&file.path, span, label);
    }
    let (wrong, expected) = names_in(&message);
    if let Some(wrong) = wrong {
        diagnostic = diagnostic.suggest(&wrong, expected.iter().map(String::as_str));
    }
    diagnostic
}

fn classify(message: &str, structural: bool) -> Code {
    let lower = message.to_ascii_lowercase();
    if lower.contains("budget")
        || lower.contains("limit")
        || lower.contains("too large")
        || lower.contains("exceed")
    {
        Code::YamlLimit
    } else if lower.starts_with("unknown field") {
        Code::UnknownField
    } else if lower.starts_with("missing field") {
        Code::MissingField
    } else if structural || lower.starts_with("invalid") || lower.starts_with("unknown variant") {
        Code::InvalidValue
    } else {
        Code::YamlSyntax
    }
}

/// Drops serde-saphyr's trailing " at line N, column M" (we show positions ourselves).
fn strip_position(text: &str) -> String {
    if let Some(i) = text.rfind(" at line ") {
        let tail = &text[i + " at line ".len()..];
        let is_position = tail.split_once(", column ").is_some_and(|(l, c)| {
            !l.is_empty()
                && l.chars().all(|ch| ch.is_ascii_digit())
                && !c.is_empty()
                && c.chars().all(|ch| ch.is_ascii_digit())
        });
        if is_position {
            return text[..i].to_owned();
        }
    }
    text.to_owned()
}

/// From "unknown field `ownr`, expected one of `owner`, `policy`" (serde's wording, with or
/// without backticks around the expected names): the wrong name and the expected ones.
fn names_in(message: &str) -> (Option<String>, Vec<String>) {
    let wrong = message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("unknown"))
        .map(str::to_owned);
    let expected = message
        .split_once("expected one of ")
        .or_else(|| message.split_once("expected "))
        .map(|(_, rest)| {
            rest.split([',', ' '])
                .map(|s| s.trim_matches(|c: char| c == '`' || c == '.'))
                .filter(|s| {
                    !s.is_empty()
                        && *s != "or"
                        && s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                })
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if message.starts_with("unknown") {
        (wrong, expected)
    } else {
        (None, Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_from_serde_messages() {
        let (wrong, expected) = names_in("unknown field `ownr`, expected one of `owner`, `policy`");
        assert_eq!(wrong.as_deref(), Some("ownr"));
        assert_eq!(expected, ["owner", "policy"]);
        let (wrong, expected) =
            names_in("unknown variant `rsaa`, expected one of rsa, ec, ed25519");
        assert_eq!(wrong.as_deref(), Some("rsaa"));
        assert_eq!(expected, ["rsa", "ec", "ed25519"]);
        assert_eq!(names_in("invalid type: integer"), (None, vec![]));
    }

    #[test]
    fn strips_positions() {
        assert_eq!(strip_position("bad thing at line 3, column 4"), "bad thing");
        assert_eq!(strip_position("at line"), "at line");
    }
}
