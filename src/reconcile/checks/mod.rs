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
use super::matching::{Declared, Matched};
use crate::discover::{Credential, CredentialKind};
use crate::model::FindingCode;
use std::collections::HashMap;

/// Everything the checks read.
pub(super) struct Context<'a> {
    pub input: &'a Input<'a>,
    pub index: &'a Index<'a>,
    pub declared: &'a [Declared<'a>],
    pub matches: &'a [Matched],
    /// Inventory position → declared credentials that match it.
    pub claims: &'a HashMap<usize, Vec<usize>>,
    /// Lowercased CA subject DN → declared issuers behind it.
    issuers_by_subject: HashMap<String, Vec<&'a str>>,
    /// `(identity, credential)` → position in `declared`.
    pub by_name: HashMap<(&'a str, &'a str), usize>,
}

impl<'a> Context<'a> {
    pub(super) fn new(
        input: &'a Input<'a>,
        index: &'a Index<'a>,
        declared: &'a [Declared<'a>],
        matches: &'a [Matched],
        claims: &'a HashMap<usize, Vec<usize>>,
    ) -> Self {
        let mut issuers_by_subject: HashMap<String, Vec<&str>> = HashMap::new();
        for (issuer, subjects) in input.issuer_subjects {
            for subject in subjects {
                issuers_by_subject
                    .entry(subject.to_ascii_lowercase())
                    .or_default()
                    .push(issuer);
            }
        }
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
            issuers_by_subject,
            by_name,
        }
    }

    /// Runs every check; returns the inventory positions of unmanaged credentials.
    pub(super) fn run(&self, out: &mut Vec<Finding>) -> Vec<usize> {
        ownership::owners(self, out);
        for (d, matched) in self.matches.iter().enumerate() {
            match matched.current {
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
        ownership::shared(self, out);
        ownership::unclaimed(self, out)
    }

    /// The inventory entry at `i`.
    pub(super) fn credential(&self, i: usize) -> &'a Credential {
        &self.input.inventory.credentials[i]
    }

    /// The declared issuers whose CA certificates carry `dn` as subject.
    pub(super) fn issuers_named(&self, dn: &str) -> &[&'a str] {
        self.issuers_by_subject
            .get(&dn.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// Whether the CA subjects of `issuer` are known.
    pub(super) fn knows_issuer(&self, issuer: &str) -> bool {
        self.input
            .issuer_subjects
            .get(issuer)
            .is_some_and(|s| !s.is_empty())
    }

    /// For each matched certificate, the declared issuers that could have issued it.
    pub(super) fn issued_by_matched(&self) -> HashMap<usize, Vec<String>> {
        let mut out = HashMap::new();
        for &i in self.claims.keys() {
            let c = self.credential(i);
            if c.kind == CredentialKind::X509Certificate
                && let Some(dn) = &c.issuer
            {
                let names = self.issuers_named(dn);
                if !names.is_empty() {
                    out.insert(i, names.iter().map(|s| (*s).to_owned()).collect());
                }
            }
        }
        out
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

/// A span of seconds as people say it: `3 days`, `5 hours`, `40 minutes`.
pub fn human(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    let (n, unit) = match s {
        s if s >= 2 * 86_400 => (s / 86_400, "days"),
        s if s >= 86_400 => (1, "day"),
        s if s >= 7_200 => (s / 3_600, "hours"),
        s if s >= 3_600 => (1, "hour"),
        s if s >= 120 => (s / 60, "minutes"),
        s => (s, "seconds"),
    };
    format!("{n} {unit}")
}
