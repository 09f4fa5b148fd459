//! Shared text for the values a million credentials repeat: an issuer's name, a key type, a
//! curve, a signature algorithm, the Source that found them, the host that took an inventory.
//! Read from an inventory, each distinct value is allocated once per thread and every
//! credential holding it points at that copy (an `Arc<str>`), instead of a heap block of its
//! own: at 1,000,000 credentials about 150 MB and five million allocations less.
//!
//! Interning happens only inside `pooled`, on the thread that calls it, and the pool is
//! dropped when it returns; elsewhere (discovery, tests) the same fields are plain
//! allocations. The pool stops growing at 65,536 values, so a field that turns out
//! to be unique per credential costs a lookup, not an unbounded table.

use crate::fast_map::Set;
use serde::{Deserialize, Deserializer};
use std::cell::RefCell;
use std::sync::Arc;

/// Text shared between the credentials that repeat it.
pub type Shared = Arc<str>;

/// Distinct values one pool keeps; beyond that, values are allocated each time.
const MAX_DISTINCT: usize = 65_536;

thread_local! {
    static POOL: RefCell<Option<Set<Shared>>> = const { RefCell::new(None) };
}

/// Runs `work` with a pool on this thread: the [`Shared`] fields it deserializes share one
/// copy of each value. Nested calls use the outer pool.
pub(crate) fn pooled<R>(work: impl FnOnce() -> R) -> R {
    let outer = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let outer = p.is_some();
        if !outer {
            *p = Some(Set::default());
        }
        outer
    });
    let result = work();
    if !outer {
        POOL.with(|p| p.borrow_mut().take());
    }
    result
}

/// `text` as [`Shared`]: the pool's copy when a pool is open and has it (or room for it).
pub(crate) fn shared(text: &str) -> Shared {
    POOL.with(|p| match p.borrow_mut().as_mut() {
        None => Shared::from(text),
        Some(pool) => {
            if let Some(seen) = pool.get(text) {
                return seen.clone();
            }
            let value = Shared::from(text);
            if pool.len() < MAX_DISTINCT {
                pool.insert(value.clone());
            }
            value
        }
    })
}

/// Deserializes a [`Shared`] through the pool (for `#[serde(deserialize_with)]`).
pub(crate) fn one<'de, D: Deserializer<'de>>(d: D) -> Result<Shared, D::Error> {
    d.deserialize_str(Visitor).map(|s| s.0)
}

/// Deserializes an optional [`Shared`] through the pool (with `#[serde(default)]`).
pub(crate) fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Shared>, D::Error> {
    Option::<Pooled>::deserialize(d).map(|o| o.map(|s| s.0))
}

/// Deserializes an optional list of [`Shared`] through the pool (with `#[serde(default)]`).
pub(crate) fn optional_list<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<Shared>>, D::Error> {
    Option::<Vec<Pooled>>::deserialize(d)
        .map(|o| o.map(|list| list.into_iter().map(|s| s.0).collect()))
}

struct Pooled(Shared);

impl<'de> Deserialize<'de> for Pooled {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Visitor)
    }
}

struct Visitor;

impl serde::de::Visitor<'_> for Visitor {
    type Value = Pooled;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Pooled, E> {
        Ok(Pooled(shared(text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Row {
        #[serde(deserialize_with = "one")]
        a: Shared,
        #[serde(default, deserialize_with = "optional")]
        b: Option<Shared>,
        #[serde(default, deserialize_with = "optional_list")]
        c: Option<Vec<Shared>>,
    }

    fn rows(json: &str) -> Vec<Row> {
        serde_json::from_str(json).unwrap()
    }

    const JSON: &str =
        r#"[{"a":"CN=CA","b":"ec","c":["x"]},{"a":"CN=CA","b":"e\u0063","c":["x"]},{"a":"CN=CA"}]"#;

    #[test]
    fn in_a_pool_equal_values_share_one_copy_escaped_or_not() {
        let rows = pooled(|| rows(JSON));
        assert!(Arc::ptr_eq(&rows[0].a, &rows[1].a));
        assert!(Arc::ptr_eq(&rows[0].a, &rows[2].a));
        let (b0, b1) = (rows[0].b.as_ref().unwrap(), rows[1].b.as_ref().unwrap());
        assert_eq!(&**b1, "ec");
        assert!(Arc::ptr_eq(b0, b1));
        assert!(Arc::ptr_eq(
            &rows[0].c.as_ref().unwrap()[0],
            &rows[1].c.as_ref().unwrap()[0]
        ));
        assert_eq!(rows[2].b, None);
        assert_eq!(rows[2].c, None);
    }

    #[test]
    fn outside_a_pool_each_value_is_its_own_and_the_pool_is_gone_after() {
        let kept = pooled(|| rows(JSON));
        let rows = rows(JSON);
        assert_eq!(rows[0].a, rows[1].a);
        assert!(!Arc::ptr_eq(&rows[0].a, &rows[1].a));
        // Only the rows hold the pool's copies now.
        assert_eq!(Arc::strong_count(&kept[0].a), 3);
    }

    #[test]
    fn a_full_pool_still_gives_every_value() {
        pooled(|| {
            for n in 0..MAX_DISTINCT + 10 {
                assert_eq!(&*shared(&n.to_string()), n.to_string());
            }
            let past = (MAX_DISTINCT + 5).to_string();
            assert!(!Arc::ptr_eq(&shared(&past), &shared(&past)));
            assert!(Arc::ptr_eq(&shared("0"), &shared("0")));
        });
    }
}
