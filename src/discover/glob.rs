//! Glob patterns for file sources: `*` and `?` within a path component, `[abc]`/`[a-z]`/`[!x]`
//! classes, and `**` for any number of folders. Relative patterns start at a base folder.

use super::inventory::Collector;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// A compiled pattern: the folder to walk, and the components to match below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    /// The longest leading part without wildcards.
    pub root: PathBuf,
    parts: Vec<String>,
}

fn is_wild(part: &str) -> bool {
    part.contains(['*', '?', '['])
}

impl Glob {
    /// Compiles `pattern`; relative patterns are taken from `base`.
    pub fn new(base: &Path, pattern: &str) -> Self {
        let full = if Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            base.join(pattern)
        };
        let text = full.to_string_lossy().replace('\\', "/");
        let absolute = text.starts_with('/');
        let mut root = if absolute {
            PathBuf::from("/")
        } else {
            PathBuf::new()
        };
        let mut parts = Vec::new();
        for part in text.split('/').filter(|p| !p.is_empty() && *p != ".") {
            if parts.is_empty() && part == ".." && root.file_name().is_some_and(|n| n != "..") {
                // `repo/../pki` is `pki`: report the paths people know.
                root.pop();
            } else if parts.is_empty() && !is_wild(part) {
                root.push(part);
            } else {
                parts.push(part.to_owned());
            }
        }
        Self { root, parts }
    }

    /// True when the pattern names one file or folder (no wildcard).
    pub fn is_literal(&self) -> bool {
        self.parts.is_empty()
    }

    /// True when `relative` (below [`Glob::root`], `/`-separated) matches.
    pub fn matches(&self, relative: &str) -> bool {
        let names: Vec<&str> = relative.split('/').filter(|p| !p.is_empty()).collect();
        match_parts(&self.parts, &names)
    }
}

impl Glob {
    /// True when `path` (as discovery reports it: absolute, `/`-separated) is the literal
    /// path or lies below the root and matches.
    pub fn matches_path(&self, path: &str) -> bool {
        let root = self.root.to_string_lossy();
        let root = root.trim_end_matches('/');
        if self.is_literal() {
            return path == root;
        }
        path.strip_prefix(root)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|rest| self.matches(rest))
    }

    /// The root as text: every matching path starts with it.
    pub fn prefix(&self) -> String {
        self.root.to_string_lossy().into_owned()
    }
}

/// Walks one pattern, calling `emit` for each matching file (not under an `exclude` pattern)
/// until it returns false; folders that cannot be listed are problems in `out`.
pub(super) fn walk(
    glob: &Glob,
    exclude: &[Glob],
    out: &mut Collector,
    mut emit: impl FnMut(PathBuf) -> bool,
) {
    if !glob.root.exists() {
        return;
    }
    if glob.is_literal() && glob.root.is_file() {
        emit(glob.root.clone());
        return;
    }
    let excluded = |path: &Path| {
        exclude.iter().any(|x| {
            path.strip_prefix(&x.root)
                .is_ok_and(|rel| x.is_literal() || x.matches(&rel.to_string_lossy()))
        })
    };
    // Links are followed (certbot's `live/` folder is all links into `archive/`); walkdir
    // detects loops, and a loop or a dangling link is reported, never skipped silently.
    for entry in WalkDir::new(&glob.root)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let place = e.path().map_or_else(
                    || glob.root.display().to_string(),
                    |p| p.display().to_string(),
                );
                out.problem(place, format!("cannot list: {e}"));
                continue;
            }
        };
        if !entry.file_type().is_file() || excluded(entry.path()) {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(&glob.root)
            .unwrap_or(entry.path());
        if (glob.is_literal() || glob.matches(&rel.to_string_lossy())) && !emit(entry.into_path()) {
            return;
        }
    }
}

fn match_parts(parts: &[String], names: &[&str]) -> bool {
    match parts.split_first() {
        None => names.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=names.len()).any(|skip| match_parts(rest, &names[skip..]))
        }
        Some((first, rest)) => names.split_first().is_some_and(|(name, more)| {
            match_name(first.as_bytes(), name.as_bytes()) && match_parts(rest, more)
        }),
    }
}

/// Matches one component, iteratively (no exponential backtracking on `*a*a*a*b`).
fn match_name(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(b'?') => (p, n) = (p + 1, n + 1),
            Some(b'[') => match class(&pattern[p..], name[n]) {
                Some((true, len)) => (p, n) = (p + len, n + 1),
                _ => match star {
                    Some((sp, sn)) => (p, n, star) = (sp + 1, sn + 1, Some((sp, sn + 1))),
                    None => return false,
                },
            },
            Some(c) if *c == name[n] => (p, n) = (p + 1, n + 1),
            _ => match star {
                Some((sp, sn)) => (p, n, star) = (sp + 1, sn + 1, Some((sp, sn + 1))),
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

/// `[...]` at the start of `pattern` against `c`: (matched, length of the class).
fn class(pattern: &[u8], c: u8) -> Option<(bool, usize)> {
    let end = pattern.iter().skip(2).position(|b| *b == b']')? + 2;
    let body = &pattern[1..end];
    let (negate, body) = match body.first() {
        Some(b'!' | b'^') => (true, &body[1..]),
        _ => (false, body),
    };
    let mut hit = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == b'-' {
            hit |= (body[i]..=body[i + 2]).contains(&c);
            i += 3;
        } else {
            hit |= body[i] == c;
            i += 1;
        }
    }
    Some((hit != negate, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_root_and_matches() {
        let g = Glob::new(Path::new("/repo"), "../pki/hosts/**/*.pem");
        assert_eq!(g.root, PathBuf::from("/pki/hosts"));
        assert_eq!(
            Glob::new(Path::new("a"), "../../b").root,
            PathBuf::from("../b")
        );
        assert!(g.matches("a.pem"));
        assert!(g.matches("web/x/a.pem"));
        assert!(!g.matches("web/a.key"));
        let g = Glob::new(Path::new("/"), "/etc/ssl/certs/*.crt");
        assert!(g.matches("ca.crt") && !g.matches("sub/ca.crt"));
        assert!(Glob::new(Path::new("/r"), "certs/one.pem").is_literal());
    }

    #[test]
    fn matches_names() {
        for (p, n, ok) in [
            ("*.pem", "a.pem", true),
            ("*.pem", "a.pem.bak", false),
            ("a?c", "abc", true),
            ("[a-c]x", "bx", true),
            ("[!a-c]x", "bx", false),
            (
                "*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
            ("*", "", true),
            ("[", "[", false),
        ] {
            assert_eq!(match_name(p.as_bytes(), n.as_bytes()), ok, "{p} {n}");
        }
    }
}
