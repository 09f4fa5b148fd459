//! Where a changed field is written: the line of `spec.maxValidity` in a policy, of
//! `credentials.match.dnsNames` under a credential, so a pull-request annotation lands on a
//! changed line. Found in the head's text by key, block or flow style alike.

use crate::diag::Files;

/// The line of `field` (a dotted path such as `spec.maxValidity`) in the document of `path`
/// whose declaration starts being described at `from` (the line of its name, or of a
/// credential's name). Keys are searched in order, each after the previous one, within the
/// document (up to `---`) and, when `from` is a list item, within that item; a key that is
/// not there is skipped, so a removed field points at its parent. `None` when no key is found.
pub(super) fn line(files: &Files, path: &str, from: u32, field: &str) -> Option<u32> {
    let text = &files.get(path)?.text;
    let lines: Vec<&str> = text.lines().collect();
    let start = usize::try_from(from).ok()?.checked_sub(1)?;
    let first = lines.get(start)?;
    // A credential's name line: `- name: x` (or `name: x` inside a flow item).
    let item_indent = first.trim_start().starts_with("- ").then(|| indent(first));
    let end = lines
        .iter()
        .enumerate()
        .skip(start + 1)
        .find(|(_, l)| {
            l.trim_end() == "---"
                || item_indent.is_some_and(|i| indent(l) <= i && l.trim_start().starts_with("- "))
        })
        .map_or(lines.len(), |(i, _)| i);
    // The document may begin above the name (apiVersion, kind, metadata): search the spec
    // from the document's start unless we start inside a list item.
    let mut at = if item_indent.is_some() {
        start
    } else {
        lines[..start]
            .iter()
            .rposition(|l| l.trim_end() == "---")
            .map_or(0, |i| i + 1)
    };
    let mut found = None;
    for key in field.split('.') {
        let key = key.split('[').next().unwrap_or(key);
        if let Some(i) = (at..end).find(|&i| has_key(lines[i], key)) {
            found = Some(i);
            at = i;
        }
    }
    found.and_then(|i| u32::try_from(i + 1).ok())
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Whether `line` writes `key:` as a mapping key (block style, or inside a flow mapping).
fn has_key(line: &str, key: &str) -> bool {
    let code = line.split(" #").next().unwrap_or(line);
    let wanted = format!("{key}:");
    code.match_indices(&wanted).any(|(i, _)| {
        let before = code[..i].trim_end();
        before.is_empty() || before.ends_with(['{', ',', '-'])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceFile;

    fn files(text: &str) -> Files {
        let mut files = Files::default();
        files.insert(SourceFile::new("p.yaml".into(), text.into()));
        files
    }

    #[test]
    fn finds_block_and_flow_keys_within_their_document_and_item() {
        let f = files(
            "apiVersion: trustops.dev/v1alpha1\nkind: Policy\nmetadata: {name: a}\nspec:\n  trustDomain: tls\n  maxValidity: 30d\n---\nkind: Identity\nmetadata:\n  name: b\nspec:\n  owner: x\n  credentials:\n    - name: one\n      type: x509-certificate\n      match: {dnsNames: [a.test], source: hosts}\n    - name: two\n      issuers: [ca]\n",
        );
        assert_eq!(line(&f, "p.yaml", 3, "spec.maxValidity"), Some(6));
        assert_eq!(line(&f, "p.yaml", 10, "spec.owner"), Some(12));
        assert_eq!(
            line(&f, "p.yaml", 14, "credentials.match.dnsNames"),
            Some(16)
        );
        assert_eq!(line(&f, "p.yaml", 17, "credentials.issuers"), Some(18));
        // `one` has no issuers: not `two`'s line.
        assert_eq!(line(&f, "p.yaml", 14, "credentials.issuers"), None);
        // A removed field points at its parent; an unknown file at nothing.
        assert_eq!(line(&f, "p.yaml", 3, "spec.renewBefore"), Some(4));
        assert_eq!(line(&f, "q.yaml", 3, "spec.maxValidity"), None);
    }
}
