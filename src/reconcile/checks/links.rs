//! Links between credentials: a credential rotated with (`rotateWith`) or after (`dependsOn`)
//! another must not be older than it. A database password older than the certificate it
//! rotates with was left behind by the last rotation.

use super::{Context, day};
use crate::discover::Credential;
use crate::model::{FindingCode, split_reference};
use crate::reconcile::finding::Finding;
use jiff::Timestamp;

/// Checks the links of declared credential `d`.
pub(super) fn check(cx: &Context<'_>, d: usize, out: &mut Vec<Finding>) {
    let decl = &cx.declared[d];
    let identity = decl.identity.name();
    let linked = |reference: &str| {
        let (who, what) = split_reference(identity, reference);
        cx.by_name.get(&(who, what)).copied()
    };
    // rotateWith: `d` leads, the linked credential follows; dependsOn: the reverse.
    let pairs = decl
        .credential
        .rotate_with
        .iter()
        .filter_map(|r| linked(&r.value).map(|f| (d, f)))
        .chain(
            decl.credential
                .depends_on
                .iter()
                .filter_map(|r| linked(&r.value).map(|l| (l, d))),
        );
    for (leader, follower) in pairs {
        let (Some(lead), Some(follow)) = (current(cx, leader), current(cx, follower)) else {
            continue;
        };
        let (Some(led_at), Some(followed_at)) = (rotated(lead), rotated(follow)) else {
            continue;
        };
        if followed_at < led_at {
            let leader_name = cx.declared[leader].target();
            let i = cx.matches[follower].current.unwrap_or_default();
            out.push(
                cx.about_found(
                    follower,
                    i,
                    FindingCode::DependentsOutOfSync,
                    format!(
                        "last rotated {}, before {leader_name} was ({}); rotate them together",
                        day(followed_at),
                        day(led_at)
                    ),
                )
                .with("rotated", followed_at)
                .with("leader", &leader_name)
                .with("leader_rotated", led_at),
            );
        }
    }
}

fn current<'a>(cx: &Context<'a>, d: usize) -> Option<&'a Credential> {
    cx.matches[d].current.map(|i| cx.credential(i))
}

/// When a credential was last renewed: a certificate's notBefore, a secret's last rotation or
/// creation.
fn rotated(c: &Credential) -> Option<Timestamp> {
    c.not_before.or(c.last_rotated).or(c.created).map(|t| t.0)
}
