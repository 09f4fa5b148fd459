//! Hash maps for the loops over a whole inventory: keyed by foldhash, seeded afresh in each
//! process, instead of std's SipHash. Hashing a million fingerprints, DNS names and paths with
//! SipHash was a second or more of `plan`; foldhash is several times faster on short and long
//! keys alike, and its per-process seed keeps keys an inventory file chooses (fingerprints and
//! names need not be random there) from being crafted to collide.

/// A `HashMap` with foldhash.
pub(crate) type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A `HashSet` with foldhash.
pub(crate) type Set<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
