//! The source files behind diagnostics: path, text and line starts, so that any span becomes
//! `path:line:col` and a snippet.

use std::collections::BTreeMap;

/// One file as it was read.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path relative to the repository root, `/`-separated.
    pub path: String,
    /// The text (lossily decoded when the file was not UTF-8).
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// A file from its path and text.
    pub fn new(path: String, text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            path,
            text,
            line_starts,
        }
    }

    /// Byte offset of a 1-based line and column (columns count characters), clamped to the text.
    pub fn offset(&self, line: u32, column: u32) -> usize {
        let Some(&start) = self.line_starts.get((line.max(1) - 1) as usize) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        let line_end = rest.find('\n').unwrap_or(rest.len());
        rest[..line_end]
            .char_indices()
            .nth(column.max(1) as usize - 1)
            .map_or(start + line_end, |(i, _)| start + i)
    }

    /// Byte range of the token starting at `line:column`: a quoted scalar through its closing
    /// quote, else up to the end of the line, a comment or a `key: `, and inside a flow
    /// collection (`[a, b]`, `{k: v}`) up to the next `,`, `]` or `}`.
    pub fn token_range(&self, line: u32, column: u32) -> std::ops::Range<usize> {
        let start = self.offset(line, column);
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let rest = &self.text[start..];
        let line_end = rest.find('\n').unwrap_or(rest.len());
        let rest = &rest[..line_end];
        if let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let close = rest[1..].find(quote).map_or(rest.len(), |i| i + 2);
            return start..start + close;
        }
        let in_flow = self.text[line_start..start].contains(['[', '{']);
        let mut end = rest.find(" #").unwrap_or(rest.len());
        end = end.min(rest.find(": ").unwrap_or(usize::MAX));
        if rest.ends_with(':') {
            end = end.min(rest.len() - 1);
        }
        if in_flow {
            end = end.min(rest.find([',', ']', '}']).unwrap_or(usize::MAX));
        }
        let token = rest[..end].trim_end();
        start..start + token.len()
    }
}

/// Every file read in one load, by path.
#[derive(Clone, Debug, Default)]
pub struct Files {
    files: BTreeMap<String, SourceFile>,
}

impl Files {
    /// Adds (or replaces) a file.
    pub fn insert(&mut self, file: SourceFile) {
        self.files.insert(file.path.clone(), file);
    }

    /// Adds every file of `other`.
    pub fn extend(&mut self, other: Files) {
        self.files.extend(other.files);
    }

    /// The file at `path`.
    pub fn get(&self, path: &str) -> Option<&SourceFile> {
        self.files.get(path)
    }

    /// All files in path order.
    pub fn iter(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.values()
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when no file was read.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::SourceFile;

    #[test]
    fn offsets_count_characters_and_clamp() {
        let f = SourceFile::new("a.yaml".into(), "a: 1\nnamé: x\n".into());
        assert_eq!(f.offset(1, 1), 0);
        assert_eq!(f.offset(2, 1), 5);
        assert_eq!(f.offset(2, 7), 12);
        assert_eq!(f.offset(9, 9), f.text.len());
        assert_eq!(&f.text[f.token_range(2, 1)], "namé");
        assert_eq!(&f.text[f.token_range(2, 7)], "x");
        let f = SourceFile::new(
            "b.yaml".into(),
            "k: [ab, cd]\nq: \"x: y\" # c\nkey:\n".into(),
        );
        assert_eq!(&f.text[f.token_range(1, 5)], "ab");
        assert_eq!(&f.text[f.token_range(1, 9)], "cd");
        assert_eq!(&f.text[f.token_range(2, 4)], "\"x: y\"");
        assert_eq!(&f.text[f.token_range(3, 1)], "key");
    }
}
