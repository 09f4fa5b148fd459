//! Notifiers: how escalations reach people, one file per kind behind the [`Notifier`] trait:
//! `webhook` (Slack, Teams or any JSON receiver; the URL comes from an environment variable,
//! since it is a secret) and `email` (SMTP with STARTTLS through the relay `trustops.yaml`
//! declares, credentials from the environment). Both try three times with growing pauses.

mod email;
mod webhook;

pub use email::Email;
pub use webhook::Webhook;

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
    /// Delivers `message`; says where it went (never a secret) or why it could not.
    fn send(&self, message: &Message) -> Result<String, String>;
}

/// Delivery attempts per notice.
const ATTEMPTS: u32 = 3;
/// Pause before the second attempt; doubled after each.
const BACKOFF: Duration = Duration::from_millis(200);

/// Runs `attempt` up to [`ATTEMPTS`] times with growing pauses; the first success, or the
/// last error prefixed with `what` and how many attempts failed.
fn retrying(
    what: &str,
    mut attempt: impl FnMut() -> Result<String, String>,
) -> Result<String, String> {
    let mut pause = BACKOFF;
    let mut last = String::new();
    for n in 1..=ATTEMPTS {
        match attempt() {
            Ok(done) => return Ok(done),
            Err(e) => last = e,
        }
        if n < ATTEMPTS {
            std::thread::sleep(pause);
            pause *= 2;
        }
    }
    Err(format!("{what} failed after {ATTEMPTS} attempts: {last}"))
}
