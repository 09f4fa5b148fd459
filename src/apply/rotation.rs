//! Running one rotation group: for each step of the action, in order — issue through the
//! first issuer that answers, deploy the files (and reload), verify by rediscovering the
//! deployed files against the declaration. The first failing step stops the group; the old
//! credential stays where it was.

use super::Run;
use super::deploy::{self, NewKey};
use super::group::{Fresh, Group};
use super::issuers::{self, CertificateRequest, Issued, KeyAlgorithm, Request, SecretRequest};
use super::journal::{Entry, Event};
use super::resume::{Saved, staged_key};
use crate::audit::{Change, IssuerFailure, StepRecord, StepResult};
use crate::discover::Time;
use crate::model::{self, CredentialType, KeyType, Policy};
use crate::plan::{Action, StepKind};

/// How a rotation group ended.
pub(super) struct Ran {
    pub(super) steps: Vec<StepRecord>,
    pub(super) changes: Vec<Change>,
    pub(super) outcome: crate::audit::Outcome,
    /// What stopped it, and what was done about it.
    pub(super) error: Option<String>,
}

/// Runs `action`'s steps. Steps an interrupted apply finished are not run again: an issued
/// certificate is deployed from the journal and its staged key. When a step fails, the files
/// of the credentials not yet verified are put back as they were; credentials the group already
/// verified stay deployed, and the group ended partly.
pub(super) fn run(run: &mut Run<'_>, action: &Action) -> Ran {
    use crate::audit::Outcome;
    let mut steps = Vec::new();
    let mut group = Group::default();
    let mut verified = std::collections::BTreeSet::new();
    for (n, step) in action.steps.iter().enumerate() {
        if let Some(done) = run.journal.done(&action.id, n).cloned() {
            if step.step == StepKind::Verify {
                verified.insert(step.target.clone());
            }
            super::resume::rebuild(
                run,
                step.step,
                &step.target,
                done.detail.as_deref(),
                &mut group,
            );
            steps.push(ok(
                step.step,
                &step.target,
                "done before the interruption".into(),
            ));
            continue;
        }
        let key = format!("{}/{}/{n}", run.plan.id, action.id);
        // A step an earlier run started but did not finish: its issuer may have answered.
        let retried = run.journal.started(&action.id, n);
        let intent = run.journal.append(Entry {
            action: action.id.clone(),
            step: Some(n),
            event: Some(Event::Intent),
            at: Time(run.now),
            detail: None,
            record: None,
            commit: None,
            plan_digest: None,
        });
        let mut produced = None;
        let result = intent
            .map_err(|e| e.to_string())
            .and_then(|()| match step.step {
                StepKind::Issue => issue(
                    run,
                    &step.target,
                    &step.issuers,
                    (&key, retried),
                    &mut group,
                    &mut produced,
                ),
                StepKind::Deploy => deploy_step(run, &step.target, &mut group),
                StepKind::Verify => super::verify::check(run, &step.target, &mut group.changes),
                StepKind::Revoke => revoke(run, step, &group),
            });
        let (event, mut record) = match result {
            Ok(detail) => (Event::Done, ok(step.step, &step.target, detail)),
            Err(error) => (Event::Failed, failed(step.step, &step.target, &error)),
        };
        let logged = run.journal.append(Entry {
            action: action.id.clone(),
            step: Some(n),
            event: Some(event),
            at: Time(run.now),
            detail: produced,
            record: None,
            commit: None,
            plan_digest: None,
        });
        if let Err(e) = logged {
            record = failed(step.step, &step.target, &e.to_string());
        }
        if record.result == StepResult::Failed {
            let mut error = record.detail.clone().unwrap_or_default();
            // A replaced certificate that could not be revoked leaves the new one deployed.
            let outcome = if step.step == StepKind::Revoke {
                end(run, action, |_| true);
                Outcome::Failed
            } else {
                error.push_str(&put_back(run, action, &verified));
                end(run, action, |target| verified.contains(target));
                if verified.is_empty() {
                    Outcome::Failed
                } else {
                    let kept: Vec<&str> = verified.iter().map(String::as_str).collect();
                    let (stays, it) = if kept.len() == 1 {
                        ("stays", "it")
                    } else {
                        ("stay", "them")
                    };
                    error.push_str(&format!(
                        "; {} {stays} rotated, verified and deployed; needs attention: {} did not rotate with {it}",
                        kept.join(", "),
                        step.target,
                    ));
                    Outcome::Partial
                }
            };
            steps.push(record);
            return Ran {
                steps,
                changes: group.changes.into_values().collect(),
                outcome,
                error: Some(error),
            };
        }
        if step.step == StepKind::Verify {
            verified.insert(step.target.clone());
        }
        steps.push(record);
    }
    end(run, action, |_| true);
    Ran {
        steps,
        changes: group.changes.into_values().collect(),
        outcome: Outcome::Applied,
        error: None,
    }
}

/// The files `action` deploys for the targets `which` picks (certificate and key files).
fn deploy_files(
    run: &Run<'_>,
    action: &Action,
    which: impl Fn(&str) -> bool,
) -> Vec<std::path::PathBuf> {
    action
        .steps
        .iter()
        .filter(|s| s.step == StepKind::Deploy && which(&s.target))
        .filter_map(|s| run.declared(&s.target).ok())
        .flat_map(|d| d.credential.deploy.iter())
        .flat_map(|d| [&d.cert_file, &d.key_file])
        .flatten()
        .map(|f| crate::reconcile::resolve(run.base, &f.value))
        .collect()
}

/// A failed group: puts back the last known-good files (this run's or an interrupted one's
/// deploy) of the targets not `verified`, drops their staged keys; says what it did, for the
/// record.
fn put_back(
    run: &Run<'_>,
    action: &Action,
    verified: &std::collections::BTreeSet<String>,
) -> String {
    let mut restored = false;
    let mut problems = Vec::new();
    for path in deploy_files(run, action, |target| !verified.contains(target)) {
        match super::backup::restore(&path) {
            Ok(done) => restored |= done,
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    drop_staged(run, action, |target| !verified.contains(target));
    match (restored, problems.is_empty()) {
        (_, false) => format!(
            "; putting the previous files back failed: {}",
            problems.join("; ")
        ),
        (true, true) => "; the previous files were put back".to_owned(),
        (false, true) => String::new(),
    }
}

/// The targets `which` picks deployed what they verified: their kept files and staged keys go.
fn end(run: &Run<'_>, action: &Action, which: impl Fn(&str) -> bool) {
    for path in deploy_files(run, action, &which) {
        let _ = super::backup::discard(&path);
    }
    drop_staged(run, action, which);
}

fn drop_staged(run: &Run<'_>, action: &Action, which: impl Fn(&str) -> bool) {
    for step in action
        .steps
        .iter()
        .filter(|s| s.step == StepKind::Issue && which(&s.target))
    {
        if let Some(path) = staged_key(run, &step.target) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Revokes a certificate through the issuer that issued it (a replaced one: superseded).
/// Its contents, which ACME needs, are what the group's certificate files held before it
/// issued, or else what the files it was found in still hold.
fn revoke(run: &Run<'_>, step: &crate::plan::Step, group: &Group) -> Result<String, String> {
    let serial = step
        .serial
        .as_deref()
        .ok_or("the plan names no serial to revoke")?;
    let name = step
        .issuers
        .first()
        .ok_or("the plan names no issuer to revoke through")?;
    let declared = run
        .model
        .issuers
        .get(name)
        .ok_or_else(|| format!("issuer {name} is not declared"))?;
    let on_disk: Vec<Vec<u8>> = step
        .files
        .iter()
        .filter_map(|f| std::fs::read(crate::reconcile::resolve(run.base, f)).ok())
        .collect();
    let certificate = step.fingerprint.as_deref().and_then(|fingerprint| {
        let replaced = group.replaced.iter().map(String::as_bytes);
        issuers::find_certificate(
            replaced.chain(on_disk.iter().map(Vec::as_slice)),
            fingerprint,
        )
    });
    let reason = match step.reason.as_deref() {
        None => issuers::SUPERSEDED,
        Some(name) => issuers::reason_code(name)
            .ok_or_else(|| format!("{name} is not an RFC 5280 reason code"))?,
    };
    let what = issuers::Revocation {
        serial,
        certificate: certificate.as_deref(),
        reason,
    };
    issuers::for_spec(name, &declared.spec, run.base, run.env)?
        .revoke(&what, run.now)
        .map_err(|e| format!("{name}: {}", e.message))
}

fn name(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Issue => "issue",
        StepKind::Deploy => "deploy",
        StepKind::Verify => "verify",
        StepKind::Revoke => "revoke",
    }
}

fn ok(kind: StepKind, target: &str, detail: String) -> StepRecord {
    StepRecord {
        step: name(kind).into(),
        target: target.into(),
        result: StepResult::Ok,
        detail: Some(detail),
    }
}

fn failed(kind: StepKind, target: &str, error: &str) -> StepRecord {
    StepRecord {
        step: name(kind).into(),
        target: target.into(),
        result: StepResult::Failed,
        detail: Some(error.into()),
    }
}

/// The first algorithm the policy allows that trustops can generate (P-256, P-384, Ed25519).
pub(super) fn key_algorithm(policy: Option<&Policy>) -> Result<KeyAlgorithm, String> {
    let allowed = policy
        .map(|p| p.spec.key_algorithms.as_slice())
        .unwrap_or_default();
    if allowed.is_empty() {
        return Ok(KeyAlgorithm::EcP256);
    }
    for a in allowed {
        let min = a.min_size.as_ref().map_or(0, |m| m.value);
        match a.key_type.value {
            KeyType::Ec if min <= 256 => return Ok(KeyAlgorithm::EcP256),
            KeyType::Ec if min <= 384 => return Ok(KeyAlgorithm::EcP384),
            KeyType::Ed25519 => return Ok(KeyAlgorithm::Ed25519),
            _ => {}
        }
    }
    Err("the policy allows no key trustops can generate (EC P-256/P-384 or Ed25519); RSA keys are not generated".into())
}

/// Issues `target` through the first of `names` that answers. A retried step (an earlier run
/// started it and was stopped) reuses the key it staged: its issuer may have minted for that
/// key already and will answer the same idempotency key with the same certificate.
fn issue(
    run: &mut Run<'_>,
    target: &str,
    names: &[String],
    (idempotency_key, retried): (&str, bool),
    group: &mut Group,
    produced: &mut Option<String>,
) -> Result<String, String> {
    let model::Declared {
        identity,
        credential,
        policy,
        ..
    } = run.declared(target)?;
    let (request, key) = match credential.credential_type.value {
        CredentialType::X509Certificate => {
            let algorithm = key_algorithm(policy)?;
            let staged = staged_key(run, target);
            let earlier = staged
                .as_ref()
                .filter(|_| retried)
                .and_then(|path| std::fs::read_to_string(path).ok())
                .and_then(|pem| NewKey::from_pem(&pem).ok())
                .filter(|k| k.algorithm() == algorithm);
            let reused = earlier.is_some();
            let key = match earlier {
                Some(key) => key,
                None => NewKey::generate(algorithm).map_err(|e| e.to_string())?,
            };
            let validity = policy
                .and_then(|p| p.spec.max_validity.as_ref())
                .map_or(90 * 86_400, |d| {
                    i64::try_from(d.value.seconds()).unwrap_or(i64::MAX)
                });
            let now = run.now.as_second();
            let mut request = CertificateRequest {
                target: target.into(),
                common_name: credential.common_name.clone(),
                dns_names: credential
                    .dns_names
                    .iter()
                    .map(|n| n.value.clone())
                    .collect(),
                ip_addresses: credential
                    .ip_addresses
                    .iter()
                    .filter_map(|ip| ip.value.parse().ok())
                    .collect(),
                uris: identity
                    .spec
                    .workload
                    .iter()
                    .map(|w| w.value.clone())
                    .collect(),
                // A minute back, for clocks slightly behind; the lifetime stays maxValidity.
                not_before: jiff::Timestamp::from_second(now - 60).unwrap_or(run.now),
                not_after: jiff::Timestamp::from_second((now - 60).saturating_add(validity))
                    .unwrap_or(jiff::Timestamp::MAX),
                public_key: Vec::new(),
                key_algorithm: algorithm,
                csr_pem: String::new(),
                replaces: None,
                resumed: reused,
            };
            key.fill(&mut request).map_err(|e| e.to_string())?;
            let before: Vec<String> = credential
                .deploy
                .iter()
                .filter_map(|d| d.cert_file.as_ref())
                .filter_map(|f| {
                    std::fs::read_to_string(crate::reconcile::resolve(run.base, &f.value)).ok()
                })
                .filter(|text| !crate::discover::pem_certificates(text.as_bytes()).is_empty())
                .collect();
            request.replaces = before
                .iter()
                .flat_map(|text| crate::discover::pem_certificates(text.as_bytes()))
                .next()
                .and_then(|der| crate::discover::certificate_facts(&der))
                .and_then(|c| {
                    crate::ari::cert_id(c.authority_key_id.as_deref(), c.serial.as_deref())
                });
            group.replaced.extend(before);
            if let (Some(path), false) = (staged, reused) {
                deploy::stage(&key, &path).map_err(|e| e.to_string())?;
            }
            crate::fault::point("issue.staged");
            (Request::Certificate(request), Some(key))
        }
        CredentialType::Secret | CredentialType::ApiKey | CredentialType::Token => (
            Request::Secret(SecretRequest {
                identity: identity.name().to_owned(),
                credential: credential.name.value.clone(),
                credential_type: credential.credential_type.value.as_str().to_owned(),
                workload: identity.spec.workload.as_ref().map(|w| w.value.clone()),
                secret_id: credential.match_rule.value.secret_id.clone(),
                value: policy.and_then(|p| p.spec.secret_value).unwrap_or_default(),
            }),
            None,
        ),
        other => {
            return Err(format!(
                "{} credentials cannot be issued yet",
                other.as_str()
            ));
        }
    };
    let change = group
        .changes
        .entry(target.to_owned())
        .or_insert_with(|| run.old(target));
    for name in names {
        let attempt = run
            .model
            .issuers
            .get(name)
            .ok_or_else(|| format!("issuer {name} is not declared"))
            .and_then(|declared| issuers::for_spec(name, &declared.spec, run.base, run.env))
            .map_err(issuers::Error::permanent)
            .and_then(|issuer| issuer.issue(&request, idempotency_key));
        match attempt {
            Ok(issued) => {
                change.issuer = Some(name.clone());
                let mut saved = Saved {
                    issuer: name.clone(),
                    chain_pem: None,
                    reference: None,
                    replaced: group.replaced.clone(),
                };
                match &issued {
                    Issued::Secret { reference, .. } => {
                        change.reference = Some(reference.clone());
                        saved.reference = Some(reference.clone());
                    }
                    Issued::Certificate { chain_pem } => saved.chain_pem = Some(chain_pem.clone()),
                }
                *produced = serde_json::to_string(&saved).ok();
                group.fresh.insert(target.to_owned(), Fresh { key, issued });
                return Ok(format!("issued by {name}"));
            }
            Err(error) => change.issuer_failures.push(IssuerFailure {
                issuer: name.clone(),
                retryable: error.retry == issuers::Retry::Retryable,
                error: error.message,
            }),
        }
    }
    let tried: Vec<String> = change
        .issuer_failures
        .iter()
        .map(|f| {
            // Issuers name themselves in their messages; once is enough.
            let prefix = format!("{}: ", f.issuer);
            let error = f.error.strip_prefix(&prefix).unwrap_or(&f.error);
            format!("{prefix}{error}")
        })
        .collect();
    Err(format!("no issuer issued ({})", tried.join("; ")))
}

fn deploy_step(run: &mut Run<'_>, target: &str, group: &mut Group) -> Result<String, String> {
    let credential = run.declared(target)?.credential;
    let made = group
        .fresh
        .get(target)
        .ok_or_else(|| format!("nothing was issued for {target}"))?;
    let (chain_pem, key) = match (&made.issued, &made.key) {
        (Issued::Certificate { chain_pem }, Some(key)) => (chain_pem, key),
        (Issued::Certificate { .. }, None) => {
            return Err(format!(
                "the key staged for {target} is gone, so its certificate cannot be deployed; run trustops plan again"
            ));
        }
        (Issued::Secret { .. }, _) => return Ok("stored by its issuer".into()),
    };
    let mut files = Vec::new();
    for deploy_target in &credential.deploy {
        let written =
            deploy::write(deploy_target, run.base, chain_pem, key).map_err(|e| e.to_string())?;
        files.extend(written.files.iter().map(|f| f.display().to_string()));
        if let Some(argv) = &deploy_target.reload {
            deploy::reload(argv, run.base).map_err(|e| e.to_string())?;
        }
    }
    // The staged key stays until the group ends: a run killed after this step deploys again.
    Ok(format!("wrote {}", files.join(", ")))
}
