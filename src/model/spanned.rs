//! `Spanned<T>`: a declared value and where it was written.

use crate::diag::Span;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;

/// A value with the position it was read from. Comparison and hashing see only the value, so
/// two declarations that mean the same compare equal wherever they were written.
#[derive(Clone, Debug, Default)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written (line 0 when it did not come from YAML).
    pub span: Span,
}

impl<T> Spanned<T> {
    /// A value with no position.
    pub fn new(value: T) -> Self {
        Self {
            value,
            span: Span::default(),
        }
    }
}

impl<T: std::fmt::Display> Spanned<T> {
    /// The value as text, at the same position (for messages about it).
    pub fn text(&self) -> Spanned<String> {
        Spanned {
            value: self.value.to_string(),
            span: self.span,
        }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Spanned<T> {}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<T>::deserialize(d)?;
        let at = s.referenced;
        let span = Span {
            line: u32::try_from(at.line()).unwrap_or(u32::MAX),
            column: u32::try_from(at.column()).unwrap_or(u32::MAX),
            offset: at
                .span()
                .byte_offset()
                .and_then(|o| usize::try_from(o).ok())
                .unwrap_or(0),
            len: at
                .span()
                .byte_len()
                .and_then(|o| usize::try_from(o).ok())
                .unwrap_or(0),
        };
        Ok(Self {
            value: s.value,
            span,
        })
    }
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<T>()
    }
}
