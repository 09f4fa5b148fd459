//! Text for people: codespan-reporting's rich style (snippet, labels, notes) or its short
//! one-line style, then a summary line.

use super::Summary;
use crate::diag::{Diagnostic, Files, Severity};
use codespan_reporting::diagnostic::{Diagnostic as Report, Label, LabelStyle, Severity as Level};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config, DisplayStyle};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

pub(super) fn rich(
    out: &mut dyn Write,
    files: &Files,
    diagnostics: &[Diagnostic],
    summary: &Summary,
    color: bool,
) -> io::Result<()> {
    emit(out, files, diagnostics, DisplayStyle::Rich, color)?;
    write_summary(out, diagnostics, summary)
}

pub(super) fn short(
    out: &mut dyn Write,
    diagnostics: &[Diagnostic],
    summary: &Summary,
) -> io::Result<()> {
    for d in diagnostics {
        let severity = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &d.primary {
            Some(l) if l.span.line > 0 => {
                write!(out, "{}:{}:{}: ", l.path, l.span.line, l.span.column)?
            }
            Some(l) => write!(out, "{}: ", l.path)?,
            None => {}
        }
        writeln!(out, "{severity}[{}]: {}", d.code, d.message)?;
    }
    write_summary(out, diagnostics, summary)
}

fn emit(
    out: &mut dyn Write,
    files: &Files,
    diagnostics: &[Diagnostic],
    style: DisplayStyle,
    color: bool,
) -> io::Result<()> {
    // Only the files a diagnostic points into: a valid estate of 100,000 identities copied
    // and indexed 40 MB of YAML here to print one line.
    let cited: BTreeSet<&str> = diagnostics
        .iter()
        .flat_map(|d| d.primary.iter().chain(&d.secondary))
        .map(|l| l.path.as_str())
        .collect();
    let mut store = SimpleFiles::new();
    let mut ids = BTreeMap::new();
    for file in files.iter().filter(|f| cited.contains(f.path.as_str())) {
        ids.insert(
            file.path.as_str(),
            store.add(file.path.clone(), file.text.clone()),
        );
    }
    let config = Config {
        display_style: style,
        ..Config::default()
    };
    for d in diagnostics {
        let mut report = match d.severity {
            Severity::Error => Report::new(Level::Error),
            Severity::Warning => Report::new(Level::Warning),
        }
        .with_code(d.code.as_str())
        .with_message(&d.message)
        .with_notes(d.notes.clone());
        let labels = d
            .primary
            .iter()
            .map(|l| (LabelStyle::Primary, l))
            .chain(d.secondary.iter().map(|l| (LabelStyle::Secondary, l)));
        let mut unplaced = Vec::new();
        for (style, label) in labels {
            match (ids.get(label.path.as_str()), files.get(&label.path)) {
                (Some(&id), Some(file)) if label.span.line > 0 => {
                    let range = if label.span.len > 0
                        && label.span.offset + label.span.len <= file.text.len()
                        && file.text.is_char_boundary(label.span.offset)
                    {
                        label.span.offset..label.span.offset + label.span.len
                    } else {
                        file.token_range(label.span.line, label.span.column)
                    };
                    report
                        .labels
                        .push(Label::new(style, id, range).with_message(&label.message));
                }
                _ => unplaced.push(format!("in {}: {}", label.path, label.message)),
            }
        }
        report.notes.extend(unplaced);
        let mut buffer = Vec::new();
        if color {
            let mut ansi = term::termcolor::Ansi::new(&mut buffer);
            term::emit_to_write_style(&mut ansi, &config, &store, &report)
        } else {
            term::emit_to_io_write(&mut buffer, &config, &store, &report)
        }
        .map_err(io::Error::other)?;
        out.write_all(&buffer)?;
    }
    Ok(())
}

fn write_summary(
    out: &mut dyn Write,
    diagnostics: &[Diagnostic],
    summary: &Summary,
) -> io::Result<()> {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    let kinds: Vec<String> = summary
        .kinds
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {}", plural(k, *n)))
        .collect();
    let verdict = if errors == 0 { "valid" } else { "invalid" };
    writeln!(
        out,
        "{verdict}: {} {}, {} {} ({}; {} {}), {errors} {}, {warnings} {}",
        summary.files,
        plural("file", summary.files),
        summary.documents,
        plural("document", summary.documents),
        if kinds.is_empty() {
            "none".to_owned()
        } else {
            kinds.join(", ")
        },
        summary.credentials,
        plural("credential", summary.credentials),
        plural("error", errors),
        plural("warning", warnings),
    )
}

fn plural(word: &str, n: usize) -> String {
    let lower = word.to_ascii_lowercase();
    match (n, lower.as_str()) {
        (1, _) => lower,
        (_, "policy") => "policies".to_owned(),
        (_, "identity") => "identities".to_owned(),
        _ => format!("{lower}s"),
    }
}
