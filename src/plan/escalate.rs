//! Escalations: once a credential's time left crosses a `notify.beforeExpiry` threshold, its
//! owner is told; each step of the owner's escalation ladder whose delay has passed since the
//! first notice adds its contacts. The first notice is the one recorded in the audit trail for
//! this credential's fingerprint ([`super::Options::first_notices`]), so every runner computes
//! the same ladder and it survives restarts; with none recorded, this notice is the first.
//! Replaced credentials are not notified: only the current one counts.

use super::{Action, ActionKind, Context, Notice, Recipient};
use crate::discover::Time;
use crate::model::{Approval, Contact, Duration, FindingCode, Notify};
use crate::reconcile::{Status, human};

/// Plans an escalate action per credential inside its notification thresholds, in status
/// order (the statuses on every core).
pub(super) fn plan(cx: &Context<'_>, out: &mut Vec<Action>) {
    let statuses = &cx.rec.statuses;
    let parts = crate::parallel::ranges(statuses.len(), |range| {
        statuses[range]
            .iter()
            .filter_map(|s| escalation(cx, s))
            .collect::<Vec<_>>()
    });
    for mut part in parts {
        out.append(&mut part);
    }
}

/// The escalate action of a declared credential, when one is due.
fn escalation(cx: &Context<'_>, s: &Status) -> Option<Action> {
    let now = cx.input.now;
    let default_notify = Notify::default();
    let i = s.current?;
    let c = &cx.input.inventory.credentials[i];
    let expires = c.not_after.or(c.expires).map(|t| t.0)?;
    let notify = cx.policy(s).map_or(&default_notify, |p| &p.spec.notify);
    // A threshold as long as the credential's whole lifetime would notify from the day it
    // was issued (a 30-day certificate against a 30-day notice): those do not count.
    let lifetime = c
        .not_before
        .map(|nb| expires.as_second() - nb.0.as_second())
        .unwrap_or(i64::MAX);
    let thresholds: Vec<Duration> = notify
        .before_expiry
        .iter()
        .map(|d| d.value)
        .filter(|d| secs(*d) < lifetime)
        .collect();
    let widest = thresholds.iter().max().copied()?;
    let left = expires.as_second() - now.as_second();
    if left > secs(widest) {
        return None;
    }
    let tightest = thresholds
        .iter()
        .filter(|t| left <= secs(**t))
        .min()
        .copied()
        .unwrap_or(widest);
    let target = format!("{}/{}", s.identity, s.credential);
    let first = cx
        .options
        .first_notices
        .get(&format!("{target}@{}", c.sha256))
        .copied()
        .unwrap_or(now);
    let owner = cx.owner_of(&s.identity);
    let recipients = recipients(cx, owner.as_deref(), now.as_second() - first.as_second());
    if recipients.is_empty() {
        return None; // owner-missing says it: there is nobody to tell.
    }
    let reasons = cx
        .findings_of(s)
        .iter()
        .filter(|f| matches!(f.code, FindingCode::Expired | FindingCode::RenewalDue))
        .map(|f| f.id.clone())
        .collect();
    let steps = recipients.iter().map(|r| r.step).max().unwrap_or(0);
    let when = if left < 0 {
        format!("expired {} ago", human(left))
    } else {
        format!("{} left", human(left))
    };
    let ladder = if steps > 0 {
        format!(", escalated to step {steps}")
    } else {
        String::new()
    };
    Some(Action {
        id: format!("escalate:{target}"),
        kind: ActionKind::Escalate,
        owner,
        identity: Some(s.identity.clone()),
        credential: Some(s.credential.clone()),
        summary: format!("tell the owner: {target} {when} (threshold {tightest}{ladder})"),
        reasons,
        approval: Approval::Auto,
        notice: Some(Box::new(Notice {
            expires: Time(expires),
            seconds_left: left,
            threshold: tightest.to_string(),
            first_notice: Time(first),
            recipients,
        })),
        ..Action::default()
    })
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.seconds()).unwrap_or(i64::MAX)
}

/// The owner's contacts, then those of every ladder step reached `elapsed` seconds after the
/// first notice.
fn recipients(cx: &Context<'_>, owner: Option<&str>, elapsed: i64) -> Vec<Recipient> {
    let owners = &cx.input.model.owners;
    let Some(declared) = owner.and_then(|o| owners.get(o)) else {
        return Vec::new();
    };
    let mut out: Vec<Recipient> = declared
        .spec
        .contacts
        .iter()
        .map(|c| recipient(cx, 0, owner, c))
        .collect();
    for (n, step) in declared.spec.escalation.iter().enumerate() {
        if secs(step.after.value) > elapsed {
            continue;
        }
        if let Some(next) = &step.owner {
            let contacts = owners.get(&next.value).map(|o| o.spec.contacts.as_slice());
            for c in contacts.unwrap_or_default() {
                out.push(recipient(cx, n + 1, Some(&next.value), c));
            }
        }
        for c in &step.contacts {
            out.push(recipient(cx, n + 1, owner, c));
        }
    }
    out
}

fn recipient(cx: &Context<'_>, step: usize, owner: Option<&str>, c: &Contact) -> Recipient {
    let mail_only = c.webhook_env.is_none() && c.email.is_some();
    Recipient {
        unreachable: (mail_only && !cx.options.mail_relay)
            .then(|| "no smtp relay is declared in trustops.yaml".to_owned()),
        step,
        owner: owner.map(str::to_owned),
        name: c.name.clone(),
        email: c.email.as_ref().map(|e| e.value.clone()),
        webhook_env: c.webhook_env.as_ref().map(|e| e.value.clone()),
    }
}
