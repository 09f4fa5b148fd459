//! Notifiers: how escalations reach people, one file per kind behind the [`Notifier`] trait.
//! Today: `webhook` (Slack, Teams or any JSON receiver; the URL comes from an environment
//! variable, since it is a secret). E-mail comes next.

mod webhook;

pub use webhook::Webhook;

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
    /// Delivers `message`; says where it went (never the secret URL) or why it could not.
    fn send(&self, message: &Message) -> Result<String, String>;
}
