//! The `scanner` source: import the JSON reports of secret scanners people already run, so
//! secrets leaked into repositories become inventory entries. The secret itself (`Secret`,
//! `Match`, `Raw`, `RawV2`) is read only to hash it: it is never kept, printed or written.
//!
//! - gitleaks (`gitleaks detect --report-format json`): one JSON array of findings.
//! - trufflehog (`trufflehog git … --json`): one JSON object per line.

use super::inventory::{Collector, Credential, CredentialKind, Location, Time, sha256_hex};
use super::{Context, Error, Source};
use crate::model::{ScannerFormat, ScannerSource};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A scanner report.
pub(super) struct Scanner {
    pub name: String,
    pub format: ScannerFormat,
    pub report: String,
}

impl Scanner {
    pub(super) fn declared(name: &str, spec: &ScannerSource) -> Self {
        Self {
            name: name.to_owned(),
            format: spec.format,
            report: spec.report.value.clone(),
        }
    }
}

/// One gitleaks finding: only the fields trustops keeps, plus `Secret` to hash.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Gitleaks {
    #[serde(rename = "RuleID")]
    rule_id: String,
    #[serde(default)]
    file: String,
    #[serde(default)]
    start_line: Option<u64>,
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default, rename = "Match")]
    matched: Option<String>,
}

impl Source for Scanner {
    fn discover(&self, context: &Context) -> Result<Collector, Error> {
        let path = context.base.join(&self.report);
        let bytes = std::fs::read(&path)
            .map_err(|e| Error::permanent(format!("cannot read {}: {e}", path.display())))?;
        let shown = path.display().to_string();
        let mut out = Collector::default();
        match self.format {
            ScannerFormat::Gitleaks => {
                // serde's messages can quote the secret: report only the position.
                let findings: Vec<Gitleaks> = serde_json::from_slice(&bytes).map_err(|e| {
                    Error::permanent(format!(
                        "{shown} is not a gitleaks JSON report (line {}, column {})",
                        e.line(),
                        e.column()
                    ))
                })?;
                for finding in findings {
                    let value = finding.secret.or(finding.matched).unwrap_or_default();
                    self.add(
                        &mut out,
                        &value,
                        finding.rule_id,
                        Location {
                            path: Some(finding.file.into()),
                            line: finding.start_line.and_then(|l| u32::try_from(l).ok()),
                            commit: finding.commit.filter(|c| !c.is_empty()).map(Into::into),
                            ..Location::default()
                        },
                        finding.date.as_deref(),
                        BTreeMap::new(),
                    );
                }
            }
            ScannerFormat::Trufflehog => {
                for (number, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    match serde_json::from_str::<Value>(line) {
                        Ok(finding) => self.trufflehog(&finding, &mut out),
                        Err(e) => out.problem(
                            format!("{shown}:{}", number + 1),
                            format!("not a trufflehog JSON line (column {})", e.column()),
                        ),
                    }
                }
            }
        }
        Ok(out)
    }
}

impl Scanner {
    fn trufflehog(&self, finding: &Value, out: &mut Collector) {
        let value = finding["RawV2"]
            .as_str()
            .filter(|v| !v.is_empty())
            .or(finding["Raw"].as_str())
            .unwrap_or_default();
        let detector = finding["DetectorName"]
            .as_str()
            .unwrap_or("unknown")
            .to_owned();
        // SourceMetadata.Data has one key per source type (Git, Github, Filesystem, …).
        let data = finding["SourceMetadata"]["Data"]
            .as_object()
            .and_then(|m| m.values().next())
            .cloned()
            .unwrap_or_default();
        let text = |key: &str| data[key].as_str().filter(|s| !s.is_empty()).map(Into::into);
        let place = Location {
            path: text("file"),
            line: data["line"].as_u64().and_then(|l| u32::try_from(l).ok()),
            commit: text("commit"),
            repository: data["repository"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(Into::into),
            ..Location::default()
        };
        let mut metadata = BTreeMap::new();
        if let Some(verified) = finding["Verified"].as_bool() {
            metadata.insert("verified".to_owned(), verified.to_string());
        }
        self.add(
            out,
            value,
            detector,
            place,
            data["timestamp"].as_str(),
            metadata,
        );
    }

    fn add(
        &self,
        out: &mut Collector,
        value: &str,
        detector: String,
        mut place: Location,
        seen: Option<&str>,
        metadata: BTreeMap<String, String>,
    ) {
        place.source = self.name.as_str().into();
        out.add(Credential {
            kind: CredentialKind::Secret,
            // A digest of the leaked value: the same leak in two places is one entry.
            sha256: sha256_hex(value.as_bytes()),
            detector: Some(detector.into()),
            created: seen.and_then(parse_time),
            metadata,
            locations: vec![place],
            ..Credential::default()
        });
    }
}

/// RFC 3339 (gitleaks) or `2024-01-01 12:00:00 +0000` (trufflehog).
fn parse_time(text: &str) -> Option<Time> {
    text.parse::<jiff::Timestamp>()
        .ok()
        .or_else(|| {
            jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S %z", text)
                .ok()?
                .to_timestamp()
                .ok()
        })
        .map(Time)
}
