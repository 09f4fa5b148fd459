//! The common declaration file, deserialized straight from the YAML parser's events.
//!
//! serde-saphyr spends more than half of a parse on what declaration files never use: anchors
//! and aliases, merge keys, tags, type inference, the bookkeeping for its own error messages.
//! Declaration files are mappings and sequences of untagged scalars read into strings, so this
//! reads exactly that from granit's events (the parser serde-saphyr itself runs, with the same
//! limits) and gives up on anything else: an anchor, alias, tag, `%YAML` directive or merge
//! key; a scalar whose type YAML would have to infer; a duplicate key; a value serde refuses;
//! a count nearing one of the budgets in [`super::yaml`]. A file it gives up on is read by
//! serde-saphyr as before, which also reports every error, so this decides nothing that
//! serde-saphyr would decide otherwise: what it accepts, serde-saphyr accepts identically, to
//! the position of every `Spanned` value. The tests below hold both to that on every YAML
//! file in the repository and on thousands of mutations of them.

use super::document::RawDocument;
use super::yaml;
use crate::diag::Span;
use crate::model::spanned;
use granit_parser::{Event, Parser, ScalarStyle, StrInput};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::borrow::Cow;
use std::hash::BuildHasher;

/// The documents of `text`, or `None` when serde-saphyr must read it.
pub(super) fn documents(text: &str) -> Option<Vec<RawDocument>> {
    let mut reader = Reader::new(text);
    let mut out = Vec::new();
    match reader.next().ok()?.0 {
        Ev::StreamStart => {}
        _ => return None,
    }
    loop {
        match reader.next().ok()?.0 {
            Ev::StreamEnd => return Some(out),
            Ev::DocumentStart => {}
            _ => return None,
        }
        reader.documents += 1;
        if reader.documents > reader.limits.max_documents {
            return None;
        }
        match &reader.peek().ok()?.0 {
            Ev::MappingStart => out.push(RawDocument::deserialize(Node(&mut reader)).ok()?),
            // An empty document (`---` with nothing after it) is skipped, as serde-saphyr does.
            Ev::Scalar(text, ScalarStyle::Plain) if text.is_empty() => {
                reader.next().ok()?;
            }
            _ => return None,
        }
        match reader.next().ok()?.0 {
            Ev::DocumentEnd => {}
            _ => return None,
        }
    }
}

/// Gave up: serde-saphyr reads the file instead. Carries nothing, because nothing is reported
/// from here.
#[derive(Debug)]
struct GiveUp;

impl std::fmt::Display for GiveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("left to serde-saphyr")
    }
}

impl std::error::Error for GiveUp {}

impl de::Error for GiveUp {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        GiveUp
    }
}

/// The events this reader handles.
enum Ev<'a> {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    MappingStart,
    MappingEnd,
    SequenceStart,
    SequenceEnd,
    Scalar(Cow<'a, str>, ScalarStyle),
}

/// The parser with one event of lookahead and the counts the budgets limit.
struct Reader<'a> {
    parser: Parser<'a, StrInput<'a>>,
    peeked: Option<(Ev<'a>, Span)>,
    limits: serde_saphyr::Budget,
    /// Hashes of the keys of the mappings being read, innermost last.
    keys: Vec<u64>,
    events: usize,
    nodes: usize,
    scalar_bytes: usize,
    depth: usize,
    documents: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        let limits = yaml::budget();
        // The parser options serde-saphyr derives from the same budget.
        let mut options = granit_parser::Options::default();
        options.simple_key_max_lookahead = limits.simple_key_max_lookahead;
        options.flow_nesting_limit = limits.flow_nesting_limit;
        options.block_nesting_limit = options
            .block_nesting_limit
            .max(limits.max_depth.saturating_add(1));
        Self {
            parser: Parser::new_from_str_with_options(text, options),
            peeked: None,
            limits,
            keys: Vec::new(),
            events: 0,
            nodes: 0,
            scalar_bytes: 0,
            depth: 0,
            documents: 0,
        }
    }

    fn peek(&mut self) -> Result<&(Ev<'a>, Span), GiveUp> {
        if self.peeked.is_none() {
            self.peeked = Some(self.pull()?);
        }
        self.peeked.as_ref().ok_or(GiveUp)
    }

    fn next(&mut self) -> Result<(Ev<'a>, Span), GiveUp> {
        match self.peeked.take() {
            Some(event) => Ok(event),
            None => self.pull(),
        }
    }

    /// The parser's next event, if it is one this reader handles and every count stays under
    /// half its budget (serde-saphyr counts the same events; half leaves no edge to agree on).
    /// Kept small, with its position, because events are moved several times each.
    fn pull(&mut self) -> Result<(Ev<'a>, Span), GiveUp> {
        let (event, span) = self
            .parser
            .next_event()
            .ok_or(GiveUp)?
            .map_err(|_| GiveUp)?;
        self.events += 1;
        let event = match event {
            Event::Scalar(text, style, 0, None) => {
                self.nodes += 1;
                self.scalar_bytes += text.len();
                Ev::Scalar(text, style)
            }
            Event::MappingStart(_, 0, None) => {
                self.nodes += 1;
                self.depth += 1;
                Ev::MappingStart
            }
            Event::SequenceStart(_, 0, None) => {
                self.nodes += 1;
                self.depth += 1;
                Ev::SequenceStart
            }
            Event::MappingEnd => {
                self.depth = self.depth.saturating_sub(1);
                Ev::MappingEnd
            }
            Event::SequenceEnd => {
                self.depth = self.depth.saturating_sub(1);
                Ev::SequenceEnd
            }
            Event::StreamStart => Ev::StreamStart,
            Event::StreamEnd => Ev::StreamEnd,
            Event::DocumentStart(_, None) => Ev::DocumentStart,
            Event::DocumentEnd => Ev::DocumentEnd,
            _ => return Err(GiveUp),
        };
        let limits = &self.limits;
        if self.events > limits.max_events / 2
            || self.nodes > limits.max_nodes / 2
            || self.scalar_bytes > limits.max_total_scalar_bytes / 2
            || self.depth > limits.max_depth / 2
        {
            return Err(GiveUp);
        }
        // Where the event is, as serde-saphyr's `Spanned` reports it.
        let (start, end) = (span.start, span.end);
        let (offset, len) = match (start.byte_offset(), end.byte_offset()) {
            (Some(from), Some(to)) => (from, to.saturating_sub(from)),
            _ => (0, 0),
        };
        let at = Span {
            line: u32::try_from(start.line()).unwrap_or(u32::MAX),
            column: u32::try_from(start.col() + 1).unwrap_or(u32::MAX),
            offset,
            len,
        };
        Ok((event, at))
    }

    /// The next event, which must be a scalar.
    fn scalar(&mut self) -> Result<(Cow<'a, str>, ScalarStyle), GiveUp> {
        match self.next()?.0 {
            Ev::Scalar(text, style) => Ok((text, style)),
            _ => Err(GiveUp),
        }
    }

    /// Where the next value is.
    fn position(&mut self) -> Result<Span, GiveUp> {
        Ok(self.peek()?.1)
    }
}

/// YAML's null spellings: `Option` reads them as `None` and a string refuses them.
fn is_null(text: &str, style: ScalarStyle) -> bool {
    style == ScalarStyle::Plain && matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// A plain scalar no YAML type resolution could read as anything but this string: it starts
/// with a letter or `/` and is none of the words YAML 1.1 or 1.2 give a type.
fn is_plain_text(text: &str) -> bool {
    const TYPED: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "inf", "infinity", "nan",
    ];
    text.as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'/')
        && !TYPED.iter().any(|word| text.eq_ignore_ascii_case(word))
}

/// A decimal integer written the one way every YAML schema reads it alike.
fn is_plain_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// The value at the reader's position.
struct Node<'r, 'a>(&'r mut Reader<'a>);

impl<'a> Node<'_, 'a> {
    fn text<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        match self.0.scalar()? {
            (text, style) if is_null(&text, style) => Err(GiveUp),
            (Cow::Borrowed(text), _) => visitor.visit_borrowed_str(text),
            (Cow::Owned(text), _) => visitor.visit_string(text),
        }
    }

    fn integer<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        match self.0.scalar()? {
            (text, ScalarStyle::Plain) if is_plain_integer(&text) => match text.parse::<u64>() {
                Ok(n) => visitor.visit_u64(n),
                Err(_) => visitor.visit_i64(text.parse().map_err(|_| GiveUp)?),
            },
            _ => Err(GiveUp),
        }
    }

    /// Skips the value, refusing what serde-saphyr's untyped read might refuse.
    fn skip(self) -> Result<(), GiveUp> {
        match &self.0.peek()?.0 {
            Ev::MappingStart => {
                self.0.next()?;
                let mut entries = Entries::new(self.0);
                while entries.key()? {
                    entries.reader.next()?;
                    Node(entries.reader).skip()?;
                }
                Ok(())
            }
            Ev::SequenceStart => {
                self.0.next()?;
                while !matches!(self.0.peek()?.0, Ev::SequenceEnd) {
                    Node(self.0).skip()?;
                }
                self.0.next().map(drop)
            }
            Ev::Scalar(text, ScalarStyle::Plain)
                if !(is_plain_text(text)
                    || is_plain_integer(text)
                    || is_null(text, ScalarStyle::Plain)
                    || matches!(text.as_ref(), "true" | "false")) =>
            {
                Err(GiveUp)
            }
            Ev::Scalar(..) => self.0.next().map(drop),
            _ => Err(GiveUp),
        }
    }
}

/// The keys of one mapping: each must be a plain-text or quoted scalar, not `<<`, and not
/// repeat (compared by hash: a collision only gives up).
struct Entries<'r, 'a> {
    reader: &'r mut Reader<'a>,
    from: usize,
    done: bool,
}

impl<'r, 'a> Entries<'r, 'a> {
    fn new(reader: &'r mut Reader<'a>) -> Self {
        let from = reader.keys.len();
        Self {
            reader,
            from,
            done: false,
        }
    }

    /// Checks the next key and leaves it to be read; false at the end of the mapping.
    fn key(&mut self) -> Result<bool, GiveUp> {
        let hash = match &self.reader.peek()?.0 {
            Ev::MappingEnd => {
                self.reader.next()?;
                self.reader.keys.truncate(self.from);
                self.done = true;
                return Ok(false);
            }
            Ev::Scalar(text, ScalarStyle::Plain) if !is_plain_text(text) => {
                return Err(GiveUp);
            }
            Ev::Scalar(text, _) => foldhash::fast::FixedState::with_seed(0).hash_one(text),
            _ => return Err(GiveUp),
        };
        if self.reader.keys[self.from..].contains(&hash) {
            return Err(GiveUp);
        }
        self.reader.keys.push(hash);
        Ok(true)
    }
}

impl<'a> de::MapAccess<'a> for Entries<'_, 'a> {
    type Error = GiveUp;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, GiveUp> {
        if self.key()? {
            seed.deserialize(Node(self.reader)).map(Some)
        } else {
            Ok(None)
        }
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, GiveUp> {
        seed.deserialize(Node(self.reader))
    }
}

struct Items<'r, 'a> {
    reader: &'r mut Reader<'a>,
    done: bool,
}

impl<'a> de::SeqAccess<'a> for Items<'_, 'a> {
    type Error = GiveUp;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, GiveUp> {
        if matches!(self.reader.peek()?.0, Ev::SequenceEnd) {
            self.reader.next()?;
            self.done = true;
            return Ok(None);
        }
        seed.deserialize(Node(self.reader)).map(Some)
    }
}

/// An enum written as its variant's name.
struct Variant<'a>(Cow<'a, str>);

impl<'a> de::EnumAccess<'a> for Variant<'a> {
    type Error = GiveUp;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'a>>(self, seed: V) -> Result<(V::Value, Self), GiveUp> {
        let name: de::value::CowStrDeserializer<'a, GiveUp> = self.0.clone().into_deserializer();
        Ok((seed.deserialize(name)?, self))
    }
}

impl<'a> de::VariantAccess<'a> for Variant<'a> {
    type Error = GiveUp;

    fn unit_variant(self) -> Result<(), GiveUp> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, _: T) -> Result<T::Value, GiveUp> {
        Err(GiveUp)
    }
    fn tuple_variant<V: Visitor<'a>>(self, _: usize, _: V) -> Result<V::Value, GiveUp> {
        Err(GiveUp)
    }
    fn struct_variant<V: Visitor<'a>>(
        self,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, GiveUp> {
        Err(GiveUp)
    }
}

macro_rules! give_up {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'a>>(self, _: V) -> Result<V::Value, GiveUp> {
            Err(GiveUp)
        }
    )*};
}

macro_rules! integers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, GiveUp> {
            self.integer(visitor)
        }
    )*};
}

impl<'a> de::Deserializer<'a> for Node<'_, 'a> {
    type Error = GiveUp;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        match &self.0.peek()?.0 {
            Ev::MappingStart => self.deserialize_map(visitor),
            Ev::SequenceStart => self.deserialize_seq(visitor),
            Ev::Scalar(text, ScalarStyle::Plain) if !is_plain_text(text) => Err(GiveUp),
            Ev::Scalar(..) => self.text(visitor),
            _ => Err(GiveUp),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        self.skip()?;
        visitor.visit_unit()
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        match self.0.scalar()? {
            (text, ScalarStyle::Plain) if text == "true" => visitor.visit_bool(true),
            (text, ScalarStyle::Plain) if text == "false" => visitor.visit_bool(false),
            _ => Err(GiveUp),
        }
    }

    integers!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64);

    give_up!(deserialize_f32 deserialize_f64 deserialize_char deserialize_bytes
        deserialize_byte_buf deserialize_unit);

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        self.text(visitor)
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        self.text(visitor)
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        self.text(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        if let Ev::Scalar(text, style) = &self.0.peek()?.0
            && is_null(text, *style)
        {
            self.0.next()?;
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, GiveUp> {
        Err(GiveUp)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, GiveUp> {
        if name == spanned::NAME {
            spanned::next_at(self.0.position()?);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        match self.0.next()?.0 {
            Ev::SequenceStart => {}
            _ => return Err(GiveUp),
        }
        let mut items = Items {
            reader: self.0,
            done: false,
        };
        let value = visitor.visit_seq(&mut items)?;
        // A visitor that stopped early would leave the stream out of step.
        if items.done { Ok(value) } else { Err(GiveUp) }
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _: usize, _: V) -> Result<V::Value, GiveUp> {
        Err(GiveUp)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, GiveUp> {
        Err(GiveUp)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        match self.0.next()?.0 {
            Ev::MappingStart => {}
            _ => return Err(GiveUp),
        }
        let mut entries = Entries::new(self.0);
        let value = visitor.visit_map(&mut entries)?;
        if entries.done { Ok(value) } else { Err(GiveUp) }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, GiveUp> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, GiveUp> {
        match self.0.scalar()? {
            (text, style) if is_null(&text, style) => Err(GiveUp),
            (text, _) => visitor.visit_enum(Variant(text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// What serde-saphyr reads from `text`, for comparison (`Debug` shows every span).
    fn by_saphyr(text: &str) -> Result<String, String> {
        serde_saphyr::from_str_multiple_with_options::<RawDocument, Vec<_>>(text, yaml::options())
            .map(|documents| format!("{documents:#?}"))
            .map_err(|e| e.to_string())
    }

    /// Checks `text` both ways; true when the direct reader took it.
    fn agrees(text: &str, what: &str) -> bool {
        let Some(documents) = documents(text) else {
            return false;
        };
        let direct = format!("{documents:#?}");
        match by_saphyr(text) {
            Ok(saphyr) => assert!(
                saphyr == direct,
                "{what}: the direct reader read otherwise than serde-saphyr:\n{text}\n--- direct\n{direct}\n--- serde-saphyr\n{saphyr}"
            ),
            Err(e) => panic!(
                "{what}: the direct reader accepted what serde-saphyr refuses ({e}):\n{text}"
            ),
        }
        true
    }

    fn yaml_files(dir: &Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                yaml_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                out.push((path.display().to_string(), text));
            }
        }
    }

    fn repository_yaml() -> Vec<(String, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["examples", "tests", "deploy", "ci", ".github"] {
            yaml_files(&root.join(dir), &mut files);
        }
        files
    }

    #[test]
    fn every_yaml_file_in_the_repository_reads_as_serde_saphyr_reads_it() {
        let files = repository_yaml();
        assert!(files.len() > 40, "found only {} YAML files", files.len());
        let mut direct = Vec::new();
        for (path, text) in &files {
            if agrees(text, path) {
                direct.push(path.as_str());
            }
        }
        // The examples are what users write: all of them must take the fast way.
        for (path, text) in &files {
            let example = path.contains("/examples/demo/") || path.contains("/examples/acme-corp/");
            if example && !path.ends_with("/trustops.yaml") {
                assert!(
                    direct.contains(&path.as_str()),
                    "{path} was left to serde-saphyr:\n{text}"
                );
            }
        }
    }

    /// A small deterministic generator (no dependency for one test).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(self.0 >> 33).unwrap_or(0) % n.max(1)
        }
    }

    /// Damages `text` the ways YAML goes wrong: characters with a meaning inserted or deleted,
    /// lines repeated, dropped or re-indented.
    fn mutate(text: &str, rng: &mut Lcg) -> String {
        const BITS: &[&str] = &[
            ": ",
            "- ",
            "\n",
            "  ",
            "\"",
            "'",
            "#",
            "{",
            "}",
            "[",
            "]",
            ", ",
            "&a ",
            "*a",
            "!!str ",
            "<<: ",
            "~",
            "null",
            "1",
            "01",
            "yes",
            "---\n",
            "\t",
            "\\",
            "|\n",
            ">-\n",
            "?",
            "%YAML 1.2\n",
            "1.5",
            "0x1F",
            "-1",
            "\"\\u00e9\"",
            "é",
            "true",
            "''",
            "key: ",
            "kind: ",
            ":",
            "name: x",
        ];
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.is_empty() {
            lines.push(String::new());
        }
        for _ in 0..=rng.below(3) {
            let i = rng.below(lines.len());
            match rng.below(6) {
                0 => {
                    let copy = lines[i].clone();
                    lines.insert(i, copy);
                }
                1 if lines.len() > 1 => {
                    lines.remove(i);
                }
                2 => lines[i].insert_str(0, "  "),
                3 => {
                    let trimmed = lines[i].trim_start().to_owned();
                    lines[i] = trimmed;
                }
                _ => {
                    let line = &mut lines[i];
                    let cuts: Vec<usize> = line
                        .char_indices()
                        .map(|(at, _)| at)
                        .chain([line.len()])
                        .collect();
                    let at = cuts[rng.below(cuts.len())];
                    if rng.below(3) == 0 && at < line.len() {
                        let end = cuts.iter().copied().find(|c| *c > at).unwrap_or(line.len());
                        line.replace_range(at..end, "");
                    } else {
                        line.insert_str(at, BITS[rng.below(BITS.len())]);
                    }
                }
            }
        }
        let mut out = lines.join("\n");
        out.push('\n');
        match rng.below(20) {
            0 => out.replace('\n', "\r\n"),
            1 => format!("\u{feff}{out}"),
            _ => out,
        }
    }

    #[test]
    fn damaged_files_are_read_as_serde_saphyr_reads_them_or_left_to_it() {
        let files = repository_yaml();
        let mut rng = Lcg(0x0072_7573_746f_7073);
        let (mut tried, mut direct) = (0, 0);
        for round in 0..150 {
            for (path, text) in &files {
                if text.len() > 20_000 {
                    continue;
                }
                let damaged = mutate(text, &mut rng);
                tried += 1;
                if agrees(&damaged, &format!("{path} (damage {round})")) {
                    direct += 1;
                }
            }
        }
        // Most damage breaks a document; enough must survive for the comparison to mean something.
        assert!(
            direct * 10 > tried,
            "only {direct} of {tried} damaged files were read directly"
        );
    }

    #[test]
    fn what_declarations_do_not_use_is_left_to_serde_saphyr() {
        let doc = |spec: &str| {
            format!(
                "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {{name: a}}\nspec:\n{spec}"
            )
        };
        let plain = doc("  displayName: Security\n");
        assert!(
            documents(&plain).is_some(),
            "a plain owner is read directly"
        );
        for (what, text) in [
            (
                "an anchor and alias",
                doc("  displayName: &c Security\n  contacts: [{name: *c}]\n"),
            ),
            ("a tag", doc("  displayName: !!str Security\n")),
            ("a merge key", doc("  <<: {displayName: Security}\n")),
            (
                "a null where text belongs",
                plain.replace("{name: a}", "{name: ~}"),
            ),
            (
                "a duplicate key",
                doc("  displayName: A\n  displayName: B\n"),
            ),
            (
                "a key YAML reads as a number",
                doc("  displayName: A\n").replace("{name: a}", "{name: a, labels: {1: a, 01: b}}"),
            ),
            ("a directive", format!("%YAML 1.2\n---\n{plain}")),
            ("a root that is not a mapping", "- a\n- b\n".to_owned()),
            ("a syntax error", doc("  contacts: [{name: a}\n")),
        ] {
            assert!(
                documents(&text).is_none(),
                "{what} must be left to serde-saphyr:\n{text}"
            );
        }
        let many = plain.replace("apiVersion", "---\napiVersion").repeat(1_100);
        assert!(
            documents(&many).is_none(),
            "more documents than the budget allows"
        );
    }
}
