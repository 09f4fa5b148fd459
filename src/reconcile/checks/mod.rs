//! The checks that turn matches into findings, one file per concern: certificates (expiry,
//! renewal, lifetime, key and signature strength, issuer), secrets (age), drift from the
//! declaration, links between credentials, and ownership (missing, unmanaged, shared, orphan
//! keys, owners nobody can reach).

mod certificate;
pub(super) mod drift;
mod links;
mod ownership;
mod secret;

use super::Input;
use super::finding::{Declared as At, Finding};
use super::index::Index;
use super::matching::{Claims, Declared, Matched};
use crate::discover::Credential;
use crate::model::FindingCode;
use std::collections::HashMap;

/// Everything the checks read.
pub(super) struct Context<'a> {
    pub input: &'a Input<'a>,
    pub index: &'a Index<'a>,
    pub declared: &'a [Declared<'a>],
    pub matches: &'a [Matched],
    /// Inventory position → declared credentials that match it.
    pub claims: &'a Claims,
    /// Declared issuers by CA subject.
    issuers: &'a super::Issuers,
    /// Each declared credential's deploy key files, resolved.
    pub key_files: &'a [Vec<String>],
    /// `(identity, credential)` → position in `declared`.
    pub by_name: HashMap<(&'a str, &'a str), usize>,
}

impl<'a> Context<'a> {
    pub(super) fn new(
        input: &'a Input<'a>,
        index: &'a Index<'a>,
        declared: &'a [Declared<'a>],
        matches: &'a [Matched],
        claims: &'a Claims,
        issuers: &'a super::Issuers,
        key_files: &'a [Vec<String>],
    ) -> Self {
        let by_name = declared
            .iter()
            .enumerate()
            .map(|(i, d)| ((d.identity.name(), d.credential.name.value.as_str()), i))
            .collect();
        Self {
            input,
            index,
            declared,
            matches,
            claims,
            issuers,
            key_files,
            by_name,
        }
    }

    /// Runs every check; returns the inventory positions of unmanaged credentials. The loops
    /// over declared and discovered credentials run on every core.
    pub(super) fn run(&self, out: &mut Vec<Finding>) -> Vec<usize> {
        ownership::owners(self, out);
        let per_declared = crate::parallel::ranges(self.matches.len(), |range| {
            let mut found = Vec::new();
            for d in range {
                self.declared_credential(d, &mut found);
            }
            found
        });
        for mut part in per_declared {
            out.append(&mut part);
        }
        ownership::shared(self, out);
        let total = self.input.inventory.credentials.len();
        let mut unmanaged = Vec::new();
        for (found, positions) in crate::parallel::ranges(total, |range| {
            let mut found = Vec::new();
            let positions = ownership::unclaimed(self, range, &mut found);
            (found, positions)
        }) {
            let (mut found, mut positions) = (found, positions);
            out.append(&mut found);
            unmanaged.append(&mut positions);
        }
        unmanaged
    }

    /// The checks of declared credential `d`.
    fn declared_credential(&self, d: usize, out: &mut Vec<Finding>) {
        match self.matches[d].current {
            None => ownership::missing(self, d, out),
            Some(i) => {
                let c = self.credential(i);
                certificate::check(self, d, c, out);
                secret::check(self, d, c, out);
                drift::check(self, d, c, out);
                ownership::key_locations(self, d, c, out);
            }
        }
        links::check(self, d, out);
    }

    /// The inventory entry at `i`.
    pub(super) fn credential(&self, i: usize) -> &'a Credential {
        &self.input.inventory.credentials[i]
    }

    /// The declared issuers whose CA certificates carry `dn` as subject.
    pub(super) fn issuers_named(&self, dn: &str) -> &'a [String] {
        self.issuers.named(dn)
    }

    /// Whether the CA subjects of `issuer` are known.
    pub(super) fn knows_issuer(&self, issuer: &str) -> bool {
        self.input
            .issuer_subjects
            .get(issuer)
            .is_some_and(|s| !s.is_empty())
    }

    /// A finding about declared credential `d`.
    pub(super) fn about(&self, d: usize, code: FindingCode, message: impl Into<String>) -> Finding {
        let decl = &self.declared[d];
        let mut f = Finding::new(code, message);
        f.identity = Some(decl.identity.name().to_owned());
        f.credential = Some(decl.credential.name.value.clone());
        f.owner = decl.identity.spec.owner.as_ref().map(|o| o.value.clone());
        let span = decl.credential.name.span;
        f.declared = Some(At {
            path: decl.identity.origin.path.clone(),
            line: span.line,
            column: span.column,
        });
        f
    }

    /// A finding about declared credential `d` and the discovered credential at `i`.
    pub(super) fn about_found(
        &self,
        d: usize,
        i: usize,
        code: FindingCode,
        message: impl Into<String>,
    ) -> Finding {
        found_at(self.about(d, code, message), self.credential(i))
    }
}

/// Fills a finding's fingerprint and location from a discovered credential.
pub(super) fn found_at(mut f: Finding, c: &Credential) -> Finding {
    f.fingerprint = Some(c.sha256.clone());
    f.location = c.locations.first().map(|l| l.display());
    f
}

/// `2026-05-01` from an instant.
pub(super) fn day(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

/// A span of seconds exactly, largest units first: `2 seconds`, `1 day 3 hours 5 seconds`
/// (for excesses, where [`human`]'s rounding would hide the point).
pub(super) fn exact(seconds: i64) -> String {
    let mut left = seconds.unsigned_abs();
    let mut parts = Vec::new();
    for (size, one, many) in [
        (86_400, "day", "days"),
        (3_600, "hour", "hours"),
        (60, "minute", "minutes"),
        (1, "second", "seconds"),
    ] {
        let n = left / size;
        left %= size;
        if n > 0 {
            parts.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    }
    if parts.is_empty() {
        return "0 seconds".into();
    }
    parts.join(" ")
}

/// A span of seconds as people say it: `3 days`, `5 hours`, `40 minutes`.
pub fn human(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    let (n, unit) = match s {
        s if s >= 2 * 86_400 => (s / 86_400, "days"),
        s if s >= 86_400 => (1, "day"),
        s if s >= 7_200 => (s / 3_600, "hours"),
        s if s >= 3_600 => (1, "hour"),
        s if s >= 120 => (s / 60, "minutes"),
        1 => (1, "second"),
        s => (s, "seconds"),
    };
    format!("{n} {unit}")
}
