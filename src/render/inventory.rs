//! An inventory as a table for people: one row per credential, soonest expiry first, then the
//! problems, then a summary line; and as indented JSON (`--format json`, the contract of
//! `discover::inventory`), its credentials written on every core.

use crate::discover::{Credential, CredentialKind, Inventory};
use std::borrow::Borrow;
use std::io::{self, Write};

/// Writes `inventory` as indented JSON and a newline: the bytes serde_json's pretty printer
/// writes, with the credentials serialized on every core (at 100,000 certificates, writing
/// them on one thread took as long as discovering them), a slice at a time.
pub fn json(out: &mut dyn Write, inventory: &Inventory) -> io::Result<()> {
    let mut slices = inventory.credentials.chunks(SLICE);
    write_json(out, inventory, &mut || {
        Ok(slices
            .next()
            .map(|slice| slice.iter().collect::<Vec<&Credential>>()))
    })
}

/// [`json`] of `envelope` (its diagnostics and where it was taken) with `credentials` (in
/// inventory order) instead of its own: an inventory written as it is merged from runs
/// ([`crate::discover::Outcome::credentials`]), never whole in memory.
pub fn json_from(
    out: &mut dyn Write,
    envelope: &Inventory,
    mut credentials: impl Iterator<Item = io::Result<Credential>>,
) -> io::Result<()> {
    let mut next = || {
        let slice = credentials
            .by_ref()
            .take(SLICE)
            .collect::<io::Result<Vec<Credential>>>()?;
        Ok((!slice.is_empty()).then_some(slice))
    };
    write_json(out, envelope, &mut next)
}

/// Credentials serialized together: enough to keep every core busy, few enough that the
/// output is never whole in memory (about 15 MB of JSON).
const SLICE: usize = 16_384;

/// The inventory JSON of `envelope` with the credentials `next` gives, a slice at a time;
/// each slice is serialized and then dropped on every core (a credential owned is freed there,
/// not on the thread that writes).
fn write_json<T: Borrow<Credential> + Send>(
    out: &mut dyn Write,
    envelope: &Inventory,
    next: &mut dyn FnMut() -> io::Result<Option<Vec<T>>>,
) -> io::Result<()> {
    let bare = Inventory {
        format_version: envelope.format_version,
        credentials: Vec::new(),
        diagnostics: envelope.diagnostics.clone(),
        seen_by: envelope.seen_by.clone(),
        files_sha256: None,
    };
    let bare = serde_json::to_string_pretty(&bare)?;
    const EMPTY: &str = "\n  \"credentials\": [],\n";
    let first = next()?;
    let (Some((head, tail)), Some(first)) = (bare.split_once(EMPTY), first) else {
        return writeln!(out, "{bare}");
    };
    write!(out, "{head}\n  \"credentials\": [\n")?;
    let mut slice = Some(first);
    let mut started = false;
    while let Some(credentials) = slice {
        let parts = crate::parallel::parts(credentials, 1_024, |credentials| {
            let mut part = Vec::new();
            for credential in &credentials {
                let one =
                    serde_json::to_vec_pretty(credential.borrow()).map_err(io::Error::from)?;
                // Two levels in: every line of the object indented by four spaces (a JSON
                // string holds no raw newline, so every newline is the printer's).
                part.extend_from_slice(b",\n    ");
                for line in one.split_inclusive(|&b| b == b'\n') {
                    part.extend_from_slice(line);
                    if line.ends_with(b"\n") {
                        part.extend_from_slice(b"    ");
                    }
                }
            }
            Ok::<_, io::Error>(part)
        });
        for part in parts {
            let part = part?;
            // Every credential comes after a comma but the very first.
            let skip = if started || part.is_empty() { 0 } else { 2 };
            out.write_all(&part[skip..])?;
            started |= !part.is_empty();
        }
        slice = next()?;
    }
    writeln!(out, "\n  ],\n{tail}")
}

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
        .as_deref()
        .map(str::to_owned)
        .or(paired)
        .or_else(|| c.id.as_deref().map(str::to_owned))
        .or_else(|| c.ssh_fingerprint.as_deref().map(str::to_owned))
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
        (Some(t), None) => t.to_string(),
        _ if c.encrypted == Some(true) => "encrypted".into(),
        _ => c.detector.as_deref().unwrap_or("-").to_owned(),
    };
    let mut place = c.locations.first().map(|l| l.display()).unwrap_or_default();
    if c.locations.len() > 1 {
        place.push_str(&format!(" (+{} more)", c.locations.len() - 1));
    }
    [c.kind.as_str().to_owned(), when, what, key, place]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::{Location, Problem, SeenBy};

    fn pretty(inventory: &Inventory) -> String {
        let mut expected = serde_json::to_string_pretty(inventory).unwrap();
        expected.push('\n');
        expected
    }

    fn written(inventory: &Inventory) -> String {
        let mut out = Vec::new();
        json(&mut out, inventory).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_json_is_serde_jsons_pretty_print_byte_for_byte() {
        let mut inventory = Inventory {
            format_version: 1,
            seen_by: Some(SeenBy {
                host: "vm".into(),
                zone: Some("eu\n\"west\"".into()),
            }),
            ..Inventory::default()
        };
        assert_eq!(written(&inventory), pretty(&inventory), "no credentials");
        inventory.diagnostics.push(Problem {
            location: "/etc/ssl/bad.pem".into(),
            message: "malformed certificate".into(),
            source_failed: None,
        });
        // Enough credentials to be written on more than one thread and in several slices,
        // with strings that need escaping and nested lists and maps.
        for i in 0..2 * SLICE + 3 {
            let mut credential = Credential {
                kind: CredentialKind::X509Certificate,
                sha256: format!("{i:064x}"),
                subject: Some(format!("CN=host-{i},O=\"Acme\\\\ Corp\"\n").into()),
                dns_names: Some([format!("host-{i}.example"), "ü.example".into()].into()),
                locations: vec![Location::file("path", &format!("/srv/{i}.pem"), 0)],
                ..Credential::default()
            };
            credential
                .metadata
                .insert("owner".into(), format!("team-{}", i % 7));
            inventory.credentials.push(credential);
        }
        assert_eq!(written(&inventory), pretty(&inventory));
        inventory.credentials.truncate(1);
        assert_eq!(written(&inventory), pretty(&inventory), "one credential");
    }
}
