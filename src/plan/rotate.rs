//! Rotation groups: a credential that must be replaced rotates together with everything
//! linked to it by `rotateWith`/`dependsOn`, in dependency order — issue new, deploy, then the
//! dependents, verify by rediscovery, revoke the old certificate — at the next renewal window
//! unless it expires first.

use super::review::Reviews;
use super::{Action, ActionKind, Context, Step, StepKind};
use crate::discover::Time;
use crate::model::{Approval, CredentialType, FindingCode, MissedWindow, split_reference};
use crate::reconcile::{Finding, Status};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Findings a new credential fixes.
const TRIGGERS: [FindingCode; 11] = [
    FindingCode::Revoked,
    FindingCode::Expired,
    FindingCode::RenewalDue,
    FindingCode::ValidityExceedsPolicy,
    FindingCode::WeakKey,
    FindingCode::ForbiddenSignatureAlgorithm,
    FindingCode::IssuerNotAllowed,
    FindingCode::Drift,
    FindingCode::SecretTooOld,
    FindingCode::DependentsOutOfSync,
    FindingCode::Missing,
];

/// Plans one rotate action per linked group with a trigger; groups that cannot rotate on
/// their own (no issuer, nowhere to deploy) become reviews.
pub(super) fn plan(cx: &Context<'_>, out: &mut Vec<Action>, reviews: &mut Reviews) {
    let statuses = &cx.rec.statuses;
    let by_name: HashMap<(&str, &str), usize> = statuses
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.identity.as_str(), s.credential.as_str()), i))
        .collect();
    let links = links(cx, &by_name);
    let mut root: Vec<usize> = (0..statuses.len()).collect();
    for &(a, b) in &links {
        let (ra, rb) = (find(&mut root, a), find(&mut root, b));
        root[ra.max(rb)] = ra.min(rb);
    }
    let mut next: HashMap<usize, Vec<usize>> = HashMap::new();
    for &(a, b) in &links {
        next.entry(a).or_default().push(b);
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for s in 0..statuses.len() {
        let r = find(&mut root, s);
        groups.entry(r).or_default().push(s);
    }
    // Each group is planned on its own, on every core; the results are taken in group order.
    let groups: Vec<Vec<usize>> = groups.into_values().collect();
    let planned = crate::parallel::ranges(groups.len(), |range| {
        groups[range]
            .iter()
            .filter_map(|members| planned(cx, members, &next))
            .collect::<Vec<_>>()
    });
    for (triggers, planned) in planned.into_iter().flatten() {
        match planned {
            Ok(action) => out.push(action),
            Err(blocked) => {
                for f in &triggers {
                    reviews.add(
                        f,
                        &format!("cannot rotate automatically: {}", blocked.join("; ")),
                    );
                }
            }
        }
    }
}

/// The group of `members` with its triggers, and its rotate action, or what blocks one; none
/// without a trigger.
#[allow(
    clippy::type_complexity,
    reason = "one private hand-over from the parallel loop to the serial one"
)]
fn planned<'f>(
    cx: &'f Context<'_>,
    members: &[usize],
    next: &HashMap<usize, Vec<usize>>,
) -> Option<(Vec<&'f Finding>, Result<Action, Vec<String>>)> {
    let statuses = &cx.rec.statuses;
    let triggers: Vec<&Finding> = members
        .iter()
        .flat_map(|&m| cx.findings_of(&statuses[m]))
        .copied()
        .filter(|f| TRIGGERS.contains(&f.code))
        .collect();
    if triggers.is_empty() {
        return None;
    }
    let ordered = topological(members, next);
    let blocked: Vec<String> = ordered
        .iter()
        .filter_map(|&m| blocker(cx, &statuses[m]))
        .collect();
    let planned = if blocked.is_empty() {
        Ok(group(cx, &ordered, &triggers))
    } else {
        Err(blocked)
    };
    Some((triggers, planned))
}

fn find(root: &mut [usize], mut x: usize) -> usize {
    while root[x] != x {
        root[x] = root[root[x]];
        x = root[x];
    }
    x
}

/// Directed links `(first, then)`: `rotateWith` (this, then the linked one), `dependsOn`
/// (the linked one, then this).
fn links(cx: &Context<'_>, by_name: &HashMap<(&str, &str), usize>) -> Vec<(usize, usize)> {
    let mut links = Vec::new();
    for (i, s) in cx.rec.statuses.iter().enumerate() {
        let Some((_, spec)) = cx.spec(s) else {
            continue;
        };
        let resolve = |r: &str| by_name.get(&split_reference(&s.identity, r)).copied();
        for r in &spec.rotate_with {
            links.extend(resolve(&r.value).map(|j| (i, j)));
        }
        for r in &spec.depends_on {
            links.extend(resolve(&r.value).map(|j| (j, i)));
        }
    }
    links
}

/// Members in dependency order (Kahn; ties in declaration order). `next` holds each
/// status's outgoing links. Cycles are rejected by `validate`; any leftover members are
/// appended rather than dropped.
fn topological(members: &[usize], next: &HashMap<usize, Vec<usize>>) -> Vec<usize> {
    let set: BTreeSet<usize> = members.iter().copied().collect();
    let mut incoming: BTreeMap<usize, usize> = set.iter().map(|&m| (m, 0)).collect();
    for m in members {
        for b in next
            .get(m)
            .into_iter()
            .flatten()
            .filter(|b| set.contains(b))
        {
            *incoming.entry(*b).or_default() += 1;
        }
    }
    let mut ready: BTreeSet<usize> = incoming
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(m, _)| *m)
        .collect();
    let mut order = Vec::with_capacity(members.len());
    let mut placed = BTreeSet::new();
    while let Some(m) = ready.pop_first() {
        order.push(m);
        placed.insert(m);
        for b in next.get(&m).into_iter().flatten() {
            if let Some(n) = incoming.get_mut(b) {
                *n -= 1;
                if *n == 0 {
                    ready.insert(*b);
                }
            }
        }
    }
    order.extend(members.iter().filter(|m| !placed.contains(*m)));
    order
}

/// Why a credential cannot be rotated without a person, if it cannot.
fn blocker(cx: &Context<'_>, s: &Status) -> Option<String> {
    let (_, spec) = cx.spec(s)?;
    if cx.issuers(s).is_empty() {
        return Some(format!("{} has no issuer", s.target()));
    }
    let stored_by_issuer = matches!(
        spec.credential_type.value,
        CredentialType::Secret | CredentialType::ApiKey | CredentialType::Token
    );
    (spec.deploy.is_empty() && !stored_by_issuer)
        .then(|| format!("{} declares no deploy target", s.target()))
}

/// The rotate action of one group.
fn group(cx: &Context<'_>, ordered: &[usize], triggers: &[&Finding]) -> Action {
    let statuses = &cx.rec.statuses;
    let mut steps = Vec::new();
    let mut revoke = Vec::new();
    let mut approval = Approval::Auto;
    for &m in ordered {
        let s = &statuses[m];
        let t = s.target();
        let policy = cx.policy(s);
        if policy.is_some_and(|p| p.spec.approval == Approval::Manual) {
            approval = Approval::Manual;
        }
        steps.push(Step {
            step: StepKind::Issue,
            target: t.clone(),
            issuers: cx.issuers(s),
            ..Step::default()
        });
        let deploy = cx
            .spec(s)
            .map(|(_, c)| c.deploy.as_slice())
            .unwrap_or_default();
        if !deploy.is_empty() {
            let files: Vec<String> = deploy
                .iter()
                .flat_map(|d| [&d.cert_file, &d.key_file])
                .flatten()
                .map(|f| f.value.clone())
                .collect();
            steps.push(Step {
                step: StepKind::Deploy,
                target: t.clone(),
                files: files.clone(),
                reload: deploy.iter().filter_map(|d| d.reload.clone()).collect(),
                ..Step::default()
            });
            // Verified before the next credential is issued: one that stands verified stays
            // deployed when a later one fails.
            steps.push(Step {
                step: StepKind::Verify,
                target: t.clone(),
                files,
                ..Step::default()
            });
        }
        if let Some(step) = super::revoke::revoke_step(cx, s) {
            revoke.push(step);
        }
    }
    steps.extend(revoke);
    // Pushed one by one, the list has room for eight steps (1.4 KB) where five are usual.
    steps.shrink_to_fit();
    let codes: BTreeSet<&str> = triggers.iter().map(|f| f.code.as_str()).collect();
    let first = &statuses[ordered[0]];
    let lead = triggers
        .first()
        .and_then(|f| f.identity.clone())
        .unwrap_or_else(|| first.identity.clone());
    let verb = if triggers.iter().all(|f| f.code == FindingCode::Missing) {
        "issue"
    } else {
        "rotate"
    };
    let names: Vec<String> = ordered.iter().map(|&m| statuses[m].target()).collect();
    let (not_before, schedule) = schedule(cx, ordered, triggers);
    Action {
        id: format!("rotate:{}", first.target()),
        kind: ActionKind::Rotate,
        owner: cx.owner_of(&lead),
        identity: Some(first.identity.clone()),
        credential: Some(first.credential.clone()),
        summary: format!(
            "{verb} {} ({})",
            names.join(" → "),
            codes.into_iter().collect::<Vec<_>>().join(", ")
        ),
        reasons: triggers.iter().map(|f| f.id.clone()).collect(),
        approval,
        not_before,
        schedule,
        steps,
        ..Action::default()
    }
}

/// When the group may run, and why it waits or runs outside its windows. Each member's
/// policy gives an instant: with no renewal windows, when it was due; with windows, cert-manager's
/// renewal instant (`renewal::in_windows`) of the desired one, or under `missedWindow: wait`
/// the next window (now when one is open). The group runs at the earliest of them; now when
/// that has passed, or when a credential is expired, missing, or expires first.
fn schedule(
    cx: &Context<'_>,
    ordered: &[usize],
    triggers: &[&Finding],
) -> (Option<Time>, Option<String>) {
    let now = cx.input.now;
    if triggers.iter().any(|f| {
        matches!(
            f.code,
            FindingCode::Revoked | FindingCode::Expired | FindingCode::Missing
        )
    }) {
        return (None, None);
    }
    let statuses = &cx.rec.statuses;
    // When renewal was wanted: the earliest renewal-due instant, else now (a weak key, drift ...).
    let desired = ordered
        .iter()
        .filter(|&&m| {
            triggers
                .iter()
                .any(|f| f.code == FindingCode::RenewalDue && f.target() == statuses[m].target())
        })
        .filter_map(|&m| due(cx, &statuses[m]))
        .fold(now, Timestamp::min);
    let mut earliest: Option<(Timestamp, Option<String>)> = None;
    for &m in ordered {
        let candidate = member_start(cx, &statuses[m], desired);
        if earliest.as_ref().is_none_or(|(t, _)| candidate.0 < *t) {
            earliest = Some(candidate);
        }
    }
    let Some((start, note)) = earliest else {
        return (None, None);
    };
    if start <= now {
        return (None, note);
    }
    let expires = ordered
        .iter()
        .filter_map(|&m| statuses[m].current)
        .filter_map(|i| cx.input.inventory.credentials[i].not_after)
        .map(|t| t.0)
        .min();
    let at = minute(start);
    match expires {
        Some(expires) if expires <= start => (
            None,
            Some(format!(
                "outside the renewal windows, but it expires ({}) before the next one opens ({at})",
                minute(expires)
            )),
        ),
        _ => (Some(Time(start)), note),
    }
}

/// When one member's policy lets it rotate, from the `desired` instant, with the reason when
/// that is not simply "when due".
fn member_start(cx: &Context<'_>, s: &Status, desired: Timestamp) -> (Timestamp, Option<String>) {
    let now = cx.input.now;
    let Some(policy) = cx.policy(s) else {
        return (desired, None);
    };
    let windows = &policy.spec.renewal_windows;
    if windows.is_empty() || windows.iter().any(|w| w.is_open(now)) {
        return (desired.min(now), None);
    }
    let name = policy.name();
    let next = |from: Timestamp| windows.iter().filter_map(|w| w.first_start(from)).min();
    let waits = |at: Timestamp| {
        format!(
            "waits for the next renewal window of {name}, at {}",
            minute(at)
        )
    };
    match policy.spec.missed_window {
        MissedWindow::Wait => match next(now) {
            Some(at) => (at, Some(waits(at))),
            None => (
                desired,
                Some("no renewal window ever opens; running now".into()),
            ),
        },
        MissedWindow::Renew => {
            let lifetime = s
                .current
                .map(|i| &cx.input.inventory.credentials[i])
                .and_then(|c| Some((c.not_before?.0, c.not_after?.0)));
            match crate::reconcile::renewal::in_windows(desired, windows, lifetime) {
                Some(at) if at > now => (at, Some(waits(at))),
                Some(at) => (
                    at,
                    Some(format!(
                        "its renewal window of {name} opened at {} and has passed; rotating now, outside the windows (missedWindow: renew)",
                        minute(at)
                    )),
                ),
                None => (
                    desired,
                    Some(format!(
                        "no renewal window of {name} opens before it expires; rotating now"
                    )),
                ),
            }
        }
    }
}

/// When a member's current certificate came due for renewal: its ACME CA's suggestion, else
/// its policy's rule.
fn due(cx: &Context<'_>, s: &Status) -> Option<Timestamp> {
    let current = &cx.input.inventory.credentials[s.current?];
    let renew_before = cx
        .policy(s)
        .and_then(|p| p.spec.renew_before.as_ref())
        .map(|r| r.value);
    crate::reconcile::renewal::due(current, renew_before, cx.input.renewal_info).map(|(t, _)| t)
}

fn minute(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}
