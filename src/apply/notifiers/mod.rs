//! Notifiers: how escalations reach people, one file per kind behind the [`Notifier`] trait:
//! `webhook` (Slack, Teams or any JSON receiver; the URL comes from an environment variable,
//! since it is a secret) and `email` (SMTP with STARTTLS through the relay `trustops.yaml`
//! declares, credentials from the environment). Both try three times with growing pauses when
//! the failure may pass ([`Retry::Retryable`]); a refusal or a missing setting fails at once.

mod email;
mod webhook;

pub use email::Email;
pub use webhook::Webhook;

pub use crate::remote::{Error, Retry};

use std::time::Duration;

/// One notice to deliver.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// The text, Slack/Teams style (one paragraph, plain).
    pub text: String,
    /// `identity/credential`.
    pub target: String,
}

/// Something that delivers notices.
pub trait Notifier {
    /// Delivers `message`; says where it went (never a secret) or why it could not, and
    /// whether trying again may help.
    fn send(&self, message: &Message) -> Result<String, Error>;
}

/// Delivery attempts per notice.
const ATTEMPTS: u32 = 3;
/// Pause before the second attempt; doubled after each.
const BACKOFF: Duration = Duration::from_millis(200);

/// Runs `attempt` up to [`ATTEMPTS`] times with growing pauses while its failures may pass;
/// the first success, or the error prefixed with `what` and how many attempts were made.
fn retrying(
    what: &str,
    mut attempt: impl FnMut() -> Result<String, Error>,
) -> Result<String, Error> {
    let mut pause = BACKOFF;
    for n in 1..=ATTEMPTS {
        match attempt() {
            Ok(done) => return Ok(done),
            Err(e) if e.retry == Retry::Permanent || n == ATTEMPTS => {
                let tries = if n == 1 { "attempt" } else { "attempts" };
                return Err(Error {
                    message: format!("{what} failed after {n} {tries}: {}", e.message),
                    retry: e.retry,
                });
            }
            Err(_) => {}
        }
        std::thread::sleep(pause);
        pause *= 2;
    }
    unreachable!("the last attempt returns")
}
