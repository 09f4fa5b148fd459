//! `rotateWith` and `dependsOn` must form no cycle: rotation groups need an order.

use super::references::credential_target;
use crate::diag::{Code, Diagnostic, Span};
use crate::model::Model;
use std::collections::BTreeMap;

/// One link: from → to means `from` rotates before `to`.
struct Edge {
    to: usize,
    path: String,
    field: String,
    span: Span,
}

/// Reports each cycle once, at the link that closes it.
pub(super) fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut names: Vec<String> = Vec::new();
    for identity in model.identities.values() {
        for credential in &identity.spec.credentials {
            let key = (identity.name().to_owned(), credential.name.value.clone());
            index.entry(key).or_insert_with(|| {
                names.push(format!("{}/{}", identity.name(), credential.name.value));
                names.len() - 1
            });
        }
    }
    let mut edges: Vec<Vec<Edge>> = (0..names.len()).map(|_| Vec::new()).collect();
    for identity in model.identities.values() {
        for (c, credential) in identity.spec.credentials.iter().enumerate() {
            let Some(&this) =
                index.get(&(identity.name().to_owned(), credential.name.value.clone()))
            else {
                continue;
            };
            for (field, list, forward) in [
                ("rotateWith", &credential.rotate_with, true),
                ("dependsOn", &credential.depends_on, false),
            ] {
                for (i, reference) in list.iter().enumerate() {
                    let Some((who, what)) =
                        credential_target(model, identity.name(), &reference.value)
                    else {
                        continue;
                    };
                    let Some(&that) = index.get(&(who.to_owned(), what.to_owned())) else {
                        continue;
                    };
                    let (from, to) = if forward { (this, that) } else { (that, this) };
                    edges[from].push(Edge {
                        to,
                        path: identity.origin.path.clone(),
                        field: format!("spec.credentials[{c}].{field}[{i}]"),
                        span: reference.span,
                    });
                }
            }
        }
    }
    find_cycles(&names, &edges, out);
}

/// Iterative depth-first search (no recursion, so long chains cannot overflow the stack).
fn find_cycles(names: &[String], edges: &[Vec<Edge>], out: &mut Vec<Diagnostic>) {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done,
    }
    let mut state = vec![State::New; names.len()];
    for root in 0..names.len() {
        if state[root] != State::New {
            continue;
        }
        // (node, next edge to follow)
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
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
                    let mut cycle: Vec<&str> = stack[start..]
                        .iter()
                        .map(|(n, _)| names[*n].as_str())
                        .collect();
                    cycle.push(&names[edge.to]);
                    out.push(
                        Diagnostic::error(
                            Code::ReferenceCycle,
                            format!("rotation links form a cycle: {}", cycle.join(" → ")),
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
