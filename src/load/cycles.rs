//! `rotateWith` and `dependsOn` must form no cycle: rotation groups need an order.

use crate::diag::{Code, Diagnostic, Span};
use crate::model::Model;
use crate::model::split_reference;

/// One link: from → to means `from` rotates before `to`.
struct Edge {
    to: usize,
    path: String,
    field: String,
    span: Span,
}

/// Reports each cycle once, at the link that closes it.
pub(super) fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    // A credential as its identity's name and its place in the identity's list (the first of
    // a repeated name, which the names check reports): nothing is hashed or copied for the
    // hundred thousand credentials that link nothing.
    let place = |who: &str, what: &str| {
        let (name, identity) = model.identities.get_key_value(who)?;
        let at = identity
            .spec
            .credentials
            .iter()
            .position(|c| c.name.value == what)?;
        Some((name.as_str(), at))
    };
    let mut links = Vec::new();
    for identity in model.identities.values() {
        for (c, credential) in identity.spec.credentials.iter().enumerate() {
            if credential.rotate_with.is_empty() && credential.depends_on.is_empty() {
                continue;
            }
            let Some(this) = place(identity.name(), &credential.name.value) else {
                continue;
            };
            for (field, list, forward) in [
                ("rotateWith", &credential.rotate_with, true),
                ("dependsOn", &credential.depends_on, false),
            ] {
                for (i, reference) in list.iter().enumerate() {
                    // Unresolved links are reported by the reference check; here they are no edge.
                    let (who, what) = split_reference(identity.name(), &reference.value);
                    let Some(that) = place(who, what) else {
                        continue;
                    };
                    let (from, to) = if forward { (this, that) } else { (that, this) };
                    let edge = Edge {
                        to: 0,
                        path: identity.origin.path.clone(),
                        field: format!("spec.credentials[{c}].{field}[{i}]"),
                        span: reference.span,
                    };
                    links.push((from, to, edge));
                }
            }
        }
    }
    // A node per linked credential, numbered in declaration order (identities by name, then
    // credentials in their order), so the search meets them as it would meet every credential.
    let mut nodes: Vec<(&str, usize)> = links.iter().flat_map(|(f, t, _)| [*f, *t]).collect();
    nodes.sort_unstable();
    nodes.dedup();
    let number = |node| nodes.binary_search(&node).unwrap_or_default();
    let mut edges: Vec<Vec<Edge>> = (0..nodes.len()).map(|_| Vec::new()).collect();
    for (from, to, mut edge) in links {
        edge.to = number(to);
        edges[number(from)].push(edge);
    }
    let names: Vec<(&str, &str)> = nodes
        .iter()
        .map(|&(who, at)| {
            let credential = model
                .identities
                .get(who)
                .and_then(|i| i.spec.credentials.get(at));
            (who, credential.map_or("", |c| c.name.value.as_str()))
        })
        .collect();
    find_cycles(&names, &edges, out);
}

/// Iterative depth-first search (no recursion, so long chains cannot overflow the stack).
fn find_cycles(names: &[(&str, &str)], edges: &[Vec<Edge>], out: &mut Vec<Diagnostic>) {
    let name = |n: usize| format!("{}/{}", names[n].0, names[n].1);
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done,
    }
    let mut state = vec![State::New; names.len()];
    // (node, next edge to follow)
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..names.len() {
        // Most credentials link nothing: no search to start from them.
        if state[root] != State::New || edges[root].is_empty() {
            continue;
        }
        stack.clear();
        stack.push((root, 0));
        state[root] = State::Open;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let Some(edge) = edges[node].get(*next) else {
                state[node] = State::Done;
                stack.pop();
                continue;
            };
            *next += 1;
            match state[edge.to] {
                State::New => {
                    state[edge.to] = State::Open;
                    stack.push((edge.to, 0));
                }
                State::Open => {
                    let start = stack.iter().position(|(n, _)| *n == edge.to).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        stack[start..].iter().map(|(n, _)| name(*n)).collect();
                    cycle.push(name(edge.to));
                    out.push(
                        Diagnostic::error(
                            Code::ReferenceCycle,
                            format!("rotation links form a cycle: {}", shorten(&cycle)),
                        )
                        .field(edge.field.clone())
                        .at(&edge.path, edge.span, "this link closes the cycle")
                        .note("rotateWith means \"rotate after me\", dependsOn means \"rotate before me\"; remove one link"),
                    );
                }
                State::Done => {}
            }
        }
    }
}

/// The cycle as `a → b → a`, with the middle of a long one elided.
fn shorten(cycle: &[String]) -> String {
    const KEEP: usize = 4;
    if cycle.len() <= 2 * KEEP + 1 {
        return cycle.join(" → ");
    }
    let hidden = cycle.len() - 2 * KEEP;
    format!(
        "{} → … {hidden} more … → {}",
        cycle[..KEEP].join(" → "),
        cycle[cycle.len() - KEEP..].join(" → ")
    )
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;
    use crate::load::{Input, from_inputs};

    /// Identities `a` and `b`, each with credentials whose links are given as
    /// `(identity, credential, rotateWith, dependsOn)`.
    fn cycles(links: &[(&str, &str, &str, &str)]) -> Vec<String> {
        let mut text = String::from(
            "apiVersion: trustops.dev/v1alpha1\nkind: Policy\nmetadata: {name: p}\nspec: {trustDomain: token}\n",
        );
        for identity in ["a", "b"] {
            let empty = if links.iter().any(|l| l.0 == identity) {
                ""
            } else {
                " []"
            };
            text.push_str(&format!("---\napiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {{name: {identity}}}\nspec:\n  policy: p\n  credentials:{empty}\n"));
            for (_, name, rotate, depends) in links.iter().filter(|l| l.0 == identity) {
                text.push_str(&format!("    - name: {name}\n      type: secret\n      match: {{secretId: {name}}}\n      rotateWith: [{rotate}]\n      dependsOn: [{depends}]\n"));
            }
        }
        let outcome = from_inputs(vec![Input {
            path: "t.yaml".into(),
            bytes: text.into_bytes(),
        }]);
        let (cycles, other): (Vec<_>, Vec<_>) = outcome
            .diagnostics
            .into_iter()
            .partition(|d| d.code == Code::ReferenceCycle);
        assert!(other.is_empty(), "{other:?}");
        cycles.into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn chains_and_diamonds_are_not_cycles() {
        assert!(
            cycles(&[
                ("a", "x", "y, z", ""),
                ("a", "y", "w", ""),
                ("a", "z", "w", ""),
                ("a", "w", "", "")
            ])
            .is_empty()
        );
        assert!(cycles(&[("a", "x", "b/y", ""), ("b", "y", "", "")]).is_empty());
    }

    #[test]
    fn finds_self_direct_and_cross_identity_cycles() {
        assert_eq!(
            cycles(&[("a", "x", "x", "")]),
            ["spec.credentials[0].rotateWith[0]: rotation links form a cycle: a/x → a/x"]
        );
        assert_eq!(
            cycles(&[("a", "x", "b/y", ""), ("b", "y", "a/x", "")]),
            ["spec.credentials[0].rotateWith[0]: rotation links form a cycle: a/x → b/y → a/x"]
        );
        // dependsOn points the other way: x depends on y and y rotates... after x? No order.
        assert_eq!(cycles(&[("a", "x", "", "y"), ("a", "y", "", "x")]).len(), 1);
        assert!(
            cycles(&[("a", "x", "y", ""), ("a", "y", "", "x")]).is_empty(),
            "the same order said twice is no cycle"
        );
    }

    #[test]
    fn long_chains_do_not_overflow_the_stack() {
        let names: Vec<String> = (0..20_000).map(|i| format!("c{i}")).collect();
        let mut links: Vec<(&str, &str, &str, &str)> = Vec::new();
        for i in 0..names.len() {
            let next = names.get(i + 1).map_or("c0", String::as_str);
            links.push(("a", &names[i], next, ""));
        }
        assert_eq!(
            cycles(&links),
            [
                "spec.credentials[19999].rotateWith[0]: rotation links form a cycle: a/c0 → a/c1 → a/c2 → a/c3 → … 19993 more … → a/c19997 → a/c19998 → a/c19999 → a/c0"
            ]
        );
    }
}
