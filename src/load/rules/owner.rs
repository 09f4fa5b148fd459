//! Owner rules: reachable contacts, escalation steps in order, no escalation to oneself.

use super::format::{is_email, is_env_name};
use super::{invalid, missing};
use crate::diag::{Code, Diagnostic};
use crate::model::{Owner, Spanned};

/// Checks one owner; `mail_relay`: whether `trustops.yaml` declares an SMTP relay.
pub(super) fn check(owner: &Owner, mail_relay: bool, out: &mut Vec<Diagnostic>) {
    let path = &owner.origin.path;
    let mut contacts: Vec<(String, &crate::model::Contact)> = owner
        .spec
        .contacts
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("spec.contacts[{i}]"), c))
        .collect();
    let mut previous: Option<&Spanned<crate::model::Duration>> = None;
    for (i, step) in owner.spec.escalation.iter().enumerate() {
        let field = format!("spec.escalation[{i}]");
        if step.owner.is_none() && step.contacts.is_empty() {
            out.push(missing(
                path,
                step.after.span,
                &format!("{field}.owner"),
                "an escalation step names an owner or contacts to tell",
            ));
        }
        if let Some(to) = step.owner.as_ref().filter(|o| o.value == owner.name()) {
            out.push(invalid(
                path,
                to,
                &format!("{field}.owner"),
                "an owner cannot escalate to itself",
            ));
        }
        if let Some(prev) = previous.filter(|p| p.value >= step.after.value) {
            out.push(
                Diagnostic::error(
                    Code::EscalationOrder,
                    format!(
                        "escalation after {} does not come after the previous step ({})",
                        step.after.value, prev.value
                    ),
                )
                .field(format!("{field}.after"))
                .at(path, step.after.span, "not later than the step before")
                .also(path, prev.span, "previous step"),
            );
        }
        previous = Some(&step.after);
        contacts.extend(
            step.contacts
                .iter()
                .enumerate()
                .map(|(j, c)| (format!("{field}.contacts[{j}]"), c)),
        );
    }
    for (field, contact) in contacts {
        if contact.email.is_none() && contact.webhook_env.is_none() {
            out.push(missing(
                path,
                owner.origin.span,
                &format!("{field}.email"),
                "a contact needs an email or a webhookEnv",
            ));
        }
        if let (Some(email), None, false) = (&contact.email, &contact.webhook_env, mail_relay) {
            out.push(
                Diagnostic::warning(
                    Code::UnreachableContact,
                    format!(
                        "{} cannot be reached: trustops.yaml declares no smtp relay, so notices to it are recorded but never sent",
                        email.value
                    ),
                )
                .field(format!("{field}.email"))
                .at(path, email.span, "no smtp relay to send through"),
            );
        }
        if let Some(email) = contact.email.as_ref().filter(|e| !is_email(&e.value)) {
            out.push(invalid(
                path,
                email,
                &format!("{field}.email"),
                "expected an e-mail address like `team@example.com`",
            ));
        }
        if let Some(env) = contact
            .webhook_env
            .as_ref()
            .filter(|e| !is_env_name(&e.value))
        {
            out.push(invalid(path, env, &format!("{field}.webhookEnv"), "expected the name of an environment variable, e.g. `PAYMENTS_SLACK_WEBHOOK`; the URL itself is a secret and stays out of the repository"));
        }
    }
}
