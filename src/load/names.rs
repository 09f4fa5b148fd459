//! Names: lowercase DNS-style, like Kubernetes object names.

use crate::diag::{Code, Diagnostic};
use crate::model::Spanned;

/// True when `name` is 1–253 characters of `a-z`, `0-9`, `-` and `.`, starting and ending
/// with a letter or digit.
pub(super) fn is_valid(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (1..=253).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && edge(name.chars().next())
        && edge(name.chars().last())
}

/// Reports an invalid name at `field`; returns whether it was valid.
pub(super) fn check(
    path: &str,
    field: &str,
    name: &Spanned<String>,
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    if is_valid(&name.value) {
        return true;
    }
    let mut d = Diagnostic::error(Code::InvalidName, format!("invalid name \"{}\"", name.value))
        .field(field)
        .at(path, name.span, "not a lowercase DNS-style name")
        .note("names use a-z, 0-9, `-` and `.`, start and end with a letter or digit, and are at most 253 characters");
    let lower = name.value.to_ascii_lowercase().replace(['_', ' '], "-");
    if is_valid(&lower) {
        d = d.note(format!("did you mean `{lower}`?"));
    }
    diagnostics.push(d);
    false
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn accepts_dns_style_names_only() {
        for ok in ["a", "payments-api", "db.password", "x1"] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "Payments", "a_b", "a b", &"a".repeat(254)] {
            assert!(!is_valid(bad), "{bad}");
        }
    }
}
