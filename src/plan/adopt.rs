//! Adoption: for each unmanaged credential, a ready-to-commit Identity declaration with a
//! guess of its owner from evidence about that credential — its own `owner`/`team` label, its
//! key declared by an identity, a folder or Kubernetes namespace named like an owner, or one
//! where every declared credential has the same owner — and no guess otherwise.

use super::{Action, ActionKind, Context};
use crate::discover::{Credential, CredentialKind};
use crate::fast_map::{Map, Set};
use crate::model::{API_VERSION, Approval, FindingCode, Match, Spanned};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Plans an adopt action per unmanaged credential whose finding is not waived. Names are
/// chosen in order (they must be unique); the declarations are written on every core.
pub(super) fn plan(cx: &Context<'_>, out: &mut Vec<Action>) {
    let neighbours = neighbours(cx);
    let mut names: Set<String> = cx.input.model.identities.keys().cloned().collect();
    let findings: Map<&str, &crate::reconcile::Finding> = cx
        .rec
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::Unmanaged)
        .filter_map(|f| Some((f.fingerprint.as_deref()?, f)))
        .collect();
    // The names wanted are worked out on every core, then made unique in order.
    let unmanaged = &cx.rec.unmanaged;
    let wanted = crate::parallel::ranges(unmanaged.len(), |range| {
        unmanaged[range]
            .iter()
            .filter_map(|&i| {
                let c = &cx.input.inventory.credentials[i];
                let finding = *findings.get(c.sha256.as_str())?;
                finding
                    .suppressed
                    .is_none()
                    .then(|| (c, finding, slug(&title(c))))
            })
            .collect::<Vec<_>>()
    });
    let mut todo = Vec::with_capacity(wanted.iter().map(Vec::len).sum());
    for (c, finding, base) in wanted.into_iter().flatten() {
        let name = unique(&mut names, &base);
        todo.push((c, finding, name));
    }
    // At scale most of a plan's actions are adoptions: room for exactly these, made before
    // they are, and each written in place.
    crate::parallel::extend(out, todo.len(), |i| {
        let (c, finding, name) = &todo[i];
        adopt(cx, c, finding, name, &neighbours)
    });
}

fn adopt(
    cx: &Context<'_>,
    c: &Credential,
    finding: &crate::reconcile::Finding,
    name: &str,
    neighbours: &Neighbours<'_>,
) -> Action {
    let guess = guess_owner(cx, c, neighbours);
    let adoption = Adoption::of(c, name, guess.as_ref());
    let why = guess.as_ref().map_or_else(
        || "owner unknown".to_owned(),
        |g| format!("owner {} guessed from {}", g.owner, g.why),
    );
    Action {
        id: format!("adopt:{}", crate::discover::short(&c.sha256, 16)),
        kind: ActionKind::Adopt,
        owner: guess.as_ref().map(|g| g.owner.clone()),
        fingerprint: Some(c.sha256.clone()),
        summary: format!("declare {} as identity {name} ({why})", title(c)),
        reasons: vec![finding.id.clone()],
        approval: Approval::Manual,
        adoption: Some(Box::new(adoption)),
        ..Action::default()
    }
}

/// An owner guess and what it rests on.
struct Guess {
    owner: String,
    policy: Option<String>,
    why: String,
}

/// A folder (`Dir`) or Kubernetes namespace (`Ns`) a credential was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Place<'a> {
    Dir(&'a str),
    Ns(&'a str),
}

impl<'a> Place<'a> {
    fn name(self) -> &'a str {
        match self {
            Place::Dir(p) | Place::Ns(p) => p,
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Place::Dir(_) => "folder",
            Place::Ns(_) => "namespace",
        }
    }
}

/// What declared credentials tell about an unmanaged one: who declared credentials in each
/// place (owner and policy, with counts), and who declared each public key.
#[derive(Default)]
struct Neighbours<'a> {
    places: Map<Place<'a>, BTreeMap<(&'a str, Option<&'a str>), usize>>,
    /// By public key, one map per part of the statuses, in their order: the first declarer
    /// wins. The identity's status, not its owner, policy and name (a pointer rather than
    /// three): 800,000 keys at scale.
    keys: Vec<Map<&'a str, &'a crate::reconcile::Status>>,
}

impl<'a> Neighbours<'a> {
    /// The first identity with an owner, in status order, that declares `key`.
    fn declarer(&self, key: &str) -> Option<&'a crate::reconcile::Status> {
        self.keys.iter().find_map(|part| part.get(key).copied())
    }
}

/// The [`Neighbours`] of all declared credentials, gathered on every core: the current and
/// superseded copies of 100,000 identities are close to a million places and keys.
fn neighbours<'a>(cx: &'a Context<'_>) -> Neighbours<'a> {
    let statuses = &cx.rec.statuses;
    let parts =
        crate::parallel::ranges(statuses.len(), |range| neighbours_of(cx, &statuses[range]));
    let mut all = Neighbours::default();
    for part in parts {
        for (place, declared) in part.places {
            let into = all.places.entry(place).or_default();
            for (who, n) in declared {
                *into.entry(who).or_default() += n;
            }
        }
        all.keys.extend(part.keys);
    }
    all
}

fn neighbours_of<'a>(
    cx: &'a Context<'_>,
    statuses: &'a [crate::reconcile::Status],
) -> Neighbours<'a> {
    let mut map = Neighbours::default();
    let mut keys = Map::default();
    keys.reserve(statuses.iter().map(|s| s.superseded.len() + 1).sum());
    for s in statuses {
        let Some(owner) = owner_of(cx, &s.identity) else {
            continue;
        };
        for &i in s.current.iter().chain(&s.superseded) {
            let c = &cx.input.inventory.credentials[i];
            for place in places(cx, c) {
                *map.places
                    .entry(place)
                    .or_default()
                    .entry((owner, s.policy.as_deref()))
                    .or_default() += 1;
            }
            if let Some(key) = c.public_key_sha256.as_deref() {
                keys.entry(key).or_insert(s);
            }
        }
    }
    map.keys.push(keys);
    map
}

/// The owner `identity` declares.
fn owner_of<'a>(cx: &'a Context<'_>, identity: &str) -> Option<&'a str> {
    let spec = &cx.identity(identity)?.spec;
    spec.owner.as_ref().map(|o| o.value.as_str())
}

/// The folders and Kubernetes namespaces a credential was found in. Other stores' object
/// names (a Vault mount, an exec source's ids) hold everyone's secrets: they say nothing
/// about whose a credential is.
fn places<'c>(cx: &Context<'_>, c: &'c Credential) -> impl Iterator<Item = Place<'c>> {
    let sources = &cx.input.model.sources;
    c.locations.iter().flat_map(move |l| {
        let dir = l
            .path
            .as_deref()
            .and_then(|p| p.rsplit_once('/'))
            .map(|(d, _)| Place::Dir(d));
        let kubernetes = sources
            .get(&*l.source)
            .is_some_and(|s| s.spec.kubernetes.is_some());
        let ns = l
            .object
            .as_deref()
            .filter(|_| kubernetes)
            .and_then(|o| o.split_once('/'))
            .map(|(ns, _)| Place::Ns(ns));
        // A namespace says more about ownership than the manifest file that listed it.
        ns.into_iter().chain(dir)
    })
}

/// The owner, from evidence about `c` itself, strongest first: its own `owner`/`team` label;
/// its key, declared by an identity; a folder or namespace named like an owner; a folder or
/// namespace where every declared credential has one owner. Never a majority vote: a place
/// shared by several owners says nothing.
fn guess_owner(cx: &Context<'_>, c: &Credential, neighbours: &Neighbours<'_>) -> Option<Guess> {
    let owners = &cx.input.model.owners;
    let label = ["owner", "team"].iter().find_map(|key| {
        let value = c.metadata.get(*key)?;
        owners.contains_key(value).then(|| Guess {
            owner: value.clone(),
            policy: None,
            why: format!("its {key} label"),
        })
    });
    if label.is_some() {
        return label;
    }
    if let Some((s, owner)) = c
        .public_key_sha256
        .as_deref()
        .and_then(|k| neighbours.declarer(k))
        .and_then(|s| Some((s, owner_of(cx, &s.identity)?)))
    {
        return Some(Guess {
            owner: owner.to_owned(),
            policy: s.policy.clone(),
            why: format!("its key, which identity {} declares", s.identity),
        });
    }
    for place in places(cx, c) {
        let at = place.name();
        if let Some(part) = at.rsplit('/').find(|p| owners.contains_key(*p)) {
            return Some(Guess {
                owner: part.to_owned(),
                policy: None,
                why: format!("the {} name {at}", place.kind()),
            });
        }
    }
    for place in places(cx, c) {
        let Some(declared) = neighbours.places.get(&place) else {
            continue;
        };
        let mut by_owner = declared.keys().map(|(owner, _)| *owner);
        let Some(owner) = by_owner.next() else {
            continue;
        };
        if by_owner.any(|o| o != owner) {
            continue;
        }
        let policy = declared
            .iter()
            .max_by_key(|(_, n)| **n)
            .and_then(|((_, p), _)| *p);
        return Some(Guess {
            owner: owner.to_owned(),
            policy: policy.map(str::to_owned),
            why: format!(
                "the declared credentials in {} {}, all {owner}'s",
                place.kind(),
                place.name()
            ),
        });
    }
    None
}

/// What people call it: a DNS name, the subject CN, the store id, or the fingerprint.
fn title(c: &Credential) -> String {
    c.dns_names
        .iter()
        .flatten()
        .next()
        .cloned()
        .or_else(|| c.uris.iter().flatten().next().cloned())
        .or_else(|| c.subject.as_deref().and_then(crate::reconcile::common_name))
        .or_else(|| c.id.as_deref().map(str::to_owned))
        .unwrap_or_else(|| c.sha256.chars().take(12).collect())
}

/// A declaration name: lowercase letters, digits, `-` and `.`.
fn slug(text: &str) -> String {
    let text = text.rsplit("://").next().unwrap_or(text);
    let mut out = String::new();
    for ch in text.chars() {
        let ch = ch.to_ascii_lowercase();
        if ch.is_ascii_alphanumeric() || ch == '.' {
            out.push(ch);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches(['-', '.']).replace('.', "-");
    if out.is_empty() {
        "adopted".to_owned()
    } else {
        out.chars().take(60).collect()
    }
}

fn unique(taken: &mut Set<String>, base: &str) -> String {
    let mut name = base.to_owned();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

/// A YAML scalar: plain when that is unambiguous, else double-quoted (JSON escapes are YAML).
fn scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
        && text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !["true", "false", "null", "yes", "no", "on", "off", "y", "n"]
            .contains(&text.to_ascii_lowercase().as_str());
    if plain {
        text.to_owned()
    } else {
        serde_json::to_string(text).unwrap_or_default()
    }
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| scalar(s))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The Identity declaration an adopt action proposes for one unmanaged credential: what its
/// YAML is written from ([`Adoption::yaml`]), kept in the plan instead of the text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Adoption {
    /// The identity's name.
    pub name: String,
    /// What the guess of the owner (the action's `owner`) rests on, e.g. `the folder name
    /// /srv/team-7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guessed_from: Option<String>,
    /// The policy of the credentials the guess came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The certificate's first URI SAN (its SPIFFE ID), as the identity's workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// The credential's name: `tls`, `key`, `ssh`, `secret`, `api-key` or `token`.
    pub credential: String,
    /// The credential's type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The match rule: the first of a URI, DNS names, a secret id, a subject or a fingerprint
    /// the credential has, and the Source that found it.
    #[serde(rename = "match")]
    pub rule: Match,
    /// The certificate's DNS names, declared as the credential's `dnsNames`, when the match
    /// rule does not already list them (a certificate matched by its URI).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<String>,
    /// Where it was found first.
    pub found_in: String,
}

impl Adoption {
    /// The declaration proposed for `c`.
    fn of(c: &Credential, name: &str, guess: Option<&Guess>) -> Adoption {
        let (credential, kind) = match c.kind {
            CredentialKind::X509Certificate => ("tls", "x509-certificate"),
            // A bare public key is never unmanaged (reconcile passes it by); its private half
            // is what an identity would declare.
            CredentialKind::PrivateKey | CredentialKind::PublicKey => ("key", "private-key"),
            CredentialKind::SshPublicKey => ("ssh", "ssh-key"),
            CredentialKind::Secret => ("secret", "secret"),
            CredentialKind::ApiKey => ("api-key", "api-key"),
            CredentialKind::Token => ("token", "token"),
        };
        let uri = c.uris.iter().flatten().next().cloned();
        let dns: Vec<String> = c.dns_names.iter().flatten().cloned().collect();
        let mut rule = Match::default();
        if let Some(uri) = &uri {
            rule.uri = Some(uri.clone());
        } else if !dns.is_empty() {
            rule.dns_names = dns.clone();
        } else if let Some(id) = &c.id {
            rule.secret_id = Some(id.to_string());
        } else if let Some(subject) = c
            .subject
            .as_deref()
            .filter(|_| c.kind == CredentialKind::X509Certificate)
        {
            rule.subject = Some(subject.to_owned());
        } else {
            rule.fingerprint = Some(Spanned::new(format!("sha256:{}", c.sha256)));
        }
        rule.source = c
            .locations
            .first()
            .map(|l| &*l.source)
            .filter(|s| *s != "path")
            .map(|s| Spanned::new(s.to_owned()));
        let dns_names = if c.kind == CredentialKind::X509Certificate && rule.dns_names.is_empty() {
            dns
        } else {
            Vec::new()
        };
        Adoption {
            name: name.to_owned(),
            guessed_from: guess.map(|g| g.why.clone()),
            policy: guess.and_then(|g| g.policy.clone()),
            workload: uri,
            credential: credential.to_owned(),
            kind: kind.to_owned(),
            rule,
            dns_names,
            found_in: c.locations.first().map(|l| l.display()).unwrap_or_default(),
        }
    }

    /// The Identity declaration to commit, owned by `owner` (the adopt action's), as YAML
    /// with a comment on where it comes from.
    pub fn yaml(&self, owner: Option<&str>) -> String {
        let mut y = String::new();
        y.push_str(&format!(
            "# Adopted from `trustops plan`: found in {}.\n",
            self.found_in
        ));
        match &self.guessed_from {
            Some(why) => y.push_str(&format!("# Owner guessed from {why}: check it.\n")),
            None => y.push_str("# No owner could be guessed: add `owner:` before committing.\n"),
        }
        y.push_str(&format!(
            "apiVersion: {API_VERSION}\nkind: Identity\nmetadata:\n  name: {}\nspec:\n",
            self.name
        ));
        if let Some(owner) = owner {
            y.push_str(&format!("  owner: {}\n", scalar(owner)));
        }
        if let Some(policy) = &self.policy {
            y.push_str(&format!("  policy: {}\n", scalar(policy)));
        }
        if let Some(workload) = &self.workload {
            y.push_str(&format!("  workload: {}\n", scalar(workload)));
        }
        y.push_str(&format!(
            "  credentials:\n    - name: {}\n      type: {}\n      match:\n",
            self.credential, self.kind
        ));
        let rule = &self.rule;
        if let Some(uri) = &rule.uri {
            y.push_str(&format!("        uri: {}\n", scalar(uri)));
        } else if !rule.dns_names.is_empty() {
            y.push_str(&format!("        dnsNames: {}\n", list(&rule.dns_names)));
        } else if let Some(id) = &rule.secret_id {
            y.push_str(&format!("        secretId: {}\n", scalar(id)));
        } else if let Some(subject) = &rule.subject {
            y.push_str(&format!("        subject: {}\n", scalar(subject)));
        } else if let Some(fingerprint) = &rule.fingerprint {
            y.push_str(&format!(
                "        fingerprint: {}\n",
                scalar(&fingerprint.value)
            ));
        }
        if let Some(source) = &rule.source {
            y.push_str(&format!("        source: {}\n", scalar(&source.value)));
        }
        let declared = match self.kind.as_str() {
            "x509-certificate" if self.dns_names.is_empty() => &rule.dns_names,
            _ => &self.dns_names,
        };
        if !declared.is_empty() {
            y.push_str(&format!("      dnsNames: {}\n", list(declared)));
        }
        y
    }
}
