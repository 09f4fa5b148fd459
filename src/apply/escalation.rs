//! Escalations: each notice goes to the recipients' webhooks and e-mail addresses, and the
//! record keeps the credential's fingerprint so that credential's ladder counts from its first
//! notice.

use super::notifiers::{self, Notifier};
use crate::audit::{self, Change, StepResult};
use crate::plan::Plan;

/// Sends an escalation to each recipient's webhook or e-mail address; the record keeps the
/// credential's fingerprint, so the ladder of that credential counts from its first notice.
pub(super) fn send(
    options: &super::Options<'_>,
    plan: &Plan,
    action: &crate::plan::Action,
) -> (Vec<audit::StepRecord>, Vec<Change>, Option<String>) {
    let target = format!(
        "{}/{}",
        action.identity.as_deref().unwrap_or_default(),
        action.credential.as_deref().unwrap_or_default()
    );
    let changes = vec![super::replacing(plan, &target)];
    let message = notifiers::Message {
        text: format!(
            "trustops: {} (owner {}, plan {})",
            action.summary,
            action.owner.as_deref().unwrap_or("none"),
            plan.id
        ),
        target: target.clone(),
    };
    let mut steps = Vec::new();
    let mut failures = Vec::new();
    let recipients = action
        .notice
        .as_ref()
        .map(|n| n.recipients.as_slice())
        .unwrap_or_default();
    for recipient in recipients {
        let mut deliver = |sent: Result<String, notifiers::Error>| match sent {
            Ok(done) => (StepResult::Ok, done),
            Err(e) => {
                failures.push(e.message.clone());
                (StepResult::Failed, e.message)
            }
        };
        let (result, detail) = match (&recipient.webhook_env, &recipient.email, options.smtp) {
            (Some(variable), _, _) => {
                deliver(notifiers::Webhook::new(variable, options.env).send(&message))
            }
            (None, Some(email), Some(smtp)) => deliver(
                notifiers::Email {
                    smtp,
                    base: &options.repo,
                    to: email.clone(),
                    env: options.env,
                }
                .send(&message),
            ),
            (None, Some(email), None) => (
                StepResult::Skipped,
                format!("e-mail to {email} not sent: trustops.yaml declares no smtp relay"),
            ),
            (None, None, _) => continue,
        };
        steps.push(audit::StepRecord {
            step: "notify".into(),
            target: format!(
                "{} (step {})",
                recipient.owner.as_deref().unwrap_or("owner"),
                recipient.step
            ),
            result,
            detail: Some(detail),
        });
    }
    let error = (!failures.is_empty()).then(|| failures.join("; "));
    (steps, changes, error)
}
