//! An inventory as a table for people: one row per credential, soonest expiry first, then the
//! problems, then a summary line. (`--format json` is the inventory itself, see
//! `discover::inventory`.)

use crate::discover::{Credential, CredentialKind, Inventory};
use std::io::{self, Write};

const SUBJECT_WIDTH: usize = 56;

/// Writes `inventory` as a table.
pub fn table(out: &mut dyn Write, inventory: &Inventory) -> io::Result<()> {
    // A key shows the certificate it belongs to.
    let subjects: std::collections::BTreeMap<&str, &str> = inventory
        .credentials
        .iter()
        .filter(|c| c.kind == CredentialKind::X509Certificate)
        .filter_map(|c| Some((c.public_key_sha256.as_deref()?, c.subject.as_deref()?)))
        .collect();
    // Rows in the order people scan them: by kind, soonest expiry first, then as displayed
    // (never by fingerprint, which says nothing to a reader).
    let mut lines: Vec<(CredentialKind, [String; 5])> = inventory
        .credentials
        .iter()
        .map(|c| (c.kind, row(c, &subjects)))
        .collect();
    lines.sort();
    let lines: Vec<[String; 5]> = lines.into_iter().map(|(_, line)| line).collect();
    let header = ["KIND", "NOT AFTER", "SUBJECT / ID", "KEY", "LOCATION"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for line in &lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    // No header over an empty table.
    for line in std::iter::once(&header)
        .filter(|_| !lines.is_empty())
        .chain(&lines)
    {
        let cells: Vec<String> = line
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i == 4 {
                    cell.clone()
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    for problem in &inventory.diagnostics {
        writeln!(out, "problem: {}: {}", problem.location, problem.message)?;
    }
    let count = |k| inventory.credentials.iter().filter(|c| c.kind == k).count();
    let kinds: Vec<String> = [
        (CredentialKind::X509Certificate, "certificate"),
        (CredentialKind::PrivateKey, "private key"),
        (CredentialKind::SshPublicKey, "SSH public key"),
        (CredentialKind::PublicKey, "public key"),
        (CredentialKind::Secret, "secret"),
        (CredentialKind::ApiKey, "API key"),
        (CredentialKind::Token, "token"),
    ]
    .into_iter()
    .filter(|(k, _)| count(*k) > 0)
    .map(|(k, name)| plural(count(k), name))
    .collect();
    writeln!(
        out,
        "{} ({}), {}",
        plural(inventory.credentials.len(), "credential"),
        if kinds.is_empty() {
            "none".to_owned()
        } else {
            kinds.join(", ")
        },
        plural(inventory.diagnostics.len(), "problem")
    )
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn row(c: &Credential, subjects: &std::collections::BTreeMap<&str, &str>) -> [String; 5] {
    let when = c
        .not_after
        .or(c.expires)
        .map_or_else(|| "-".to_owned(), |t| t.0.strftime("%Y-%m-%d").to_string());
    let paired = (c.kind == CredentialKind::PrivateKey)
        .then(|| {
            subjects
                .get(c.public_key_sha256.as_deref()?)
                .map(|s| format!("key of {s}"))
        })
        .flatten();
    let what = c
        .subject
        .clone()
        .or(paired)
        .or_else(|| c.id.clone())
        .or_else(|| c.ssh_fingerprint.clone())
        .unwrap_or_else(|| "-".into());
    let what = if what.chars().count() > SUBJECT_WIDTH {
        format!(
            "{}…",
            what.chars().take(SUBJECT_WIDTH - 1).collect::<String>()
        )
    } else {
        what
    };
    let key = match (&c.key_type, c.key_bits) {
        (Some(t), Some(b)) => format!("{t} {b}"),
        (Some(t), None) => t.clone(),
        _ if c.encrypted == Some(true) => "encrypted".into(),
        _ => c.detector.clone().unwrap_or_else(|| "-".into()),
    };
    let mut place = c.locations.first().map(|l| l.display()).unwrap_or_default();
    if c.locations.len() > 1 {
        place.push_str(&format!(" (+{} more)", c.locations.len() - 1));
    }
    [c.kind.as_str().to_owned(), when, what, key, place]
}
