//! A bounded table of series keyed by their label values, shared by the span
//! metrics and the service graph. Lookups hash borrowed key parts (no
//! allocation when the series exists); a new series is refused once the
//! table holds `max_series` series or `max_key_bytes` bytes of keys, and what
//! would have created it goes to the one overflow entry instead, as the
//! OpenTelemetry SDKs and the Collector do (`otel.metric.overflow=true`).
//! So a sender with a million span names costs bounded memory.
//!
//! The hasher is randomly keyed ([`KeyedState`]): keys are sender-chosen
//! strings, so a fixed hash would let a sender aim collisions.

use super::hash::KeyedState;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};

/// Entries `E` found by hash and equality, with one overflow entry.
pub struct Table<E> {
    index: HashTable<u32>,
    entries: Vec<E>,
    hashes: Vec<u64>,
    hasher: KeyedState,
    max_series: usize,
    max_key_bytes: usize,
    key_bytes: usize,
    series: usize,
    overflow: Option<u32>,
    overflowed: u64,
}

impl<E> Table<E> {
    /// An empty table admitting up to `max_series` series and `max_key_bytes`
    /// bytes of key text.
    pub fn new(max_series: usize, max_key_bytes: usize) -> Self {
        Self {
            index: HashTable::new(),
            entries: Vec::new(),
            hashes: Vec::new(),
            hasher: KeyedState::default(),
            max_series,
            max_key_bytes,
            key_bytes: 0,
            series: 0,
            overflow: None,
            overflowed: 0,
        }
    }

    /// The table's hash of a key (pass borrowed parts, e.g. `(&str, &str, u8)`).
    pub fn hash<K: Hash>(&self, key: K) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The entry whose key hashes to `hash` and satisfies `eq`; else a new
    /// one from `make` (its key text is `key_bytes` long) when the limits
    /// allow, else the overflow entry (made once by `make_overflow`).
    pub fn find_or_insert(
        &mut self,
        hash: u64,
        eq: impl Fn(&E) -> bool,
        key_bytes: usize,
        make: impl FnOnce() -> E,
        make_overflow: impl FnOnce() -> E,
    ) -> u32 {
        let entries = &self.entries;
        if let Some(&found) = self.index.find(hash, |&i| eq(&entries[i as usize])) {
            return found;
        }
        if self.series >= self.max_series
            || self.key_bytes.saturating_add(key_bytes) > self.max_key_bytes
        {
            self.overflowed += 1;
            if let Some(overflow) = self.overflow {
                return overflow;
            }
            let overflow = self.push(0, make_overflow());
            self.overflow = Some(overflow);
            return overflow;
        }
        self.series += 1;
        self.key_bytes += key_bytes;
        let new = self.push(hash, make());
        let hashes = &self.hashes;
        self.index.insert_unique(hash, new, |&i| hashes[i as usize]);
        new
    }

    fn push(&mut self, hash: u64, entry: E) -> u32 {
        let index = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        self.entries.push(entry);
        self.hashes.push(hash);
        index
    }

    /// The entry at `index` (as returned by [`Table::find_or_insert`]).
    pub fn get_mut(&mut self, index: u32) -> Option<&mut E> {
        self.entries.get_mut(index as usize)
    }

    /// Every entry, the overflow one included.
    pub fn entries_mut(&mut self) -> impl Iterator<Item = &mut E> {
        self.entries.iter_mut()
    }

    /// Series held (not counting the overflow entry).
    pub fn series(&self) -> usize {
        self.series
    }

    /// Lookups sent to the overflow entry since start.
    pub fn overflowed(&self) -> u64 {
        self.overflowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(table: &mut Table<String>, key: &str) -> u32 {
        let hash = table.hash(key);
        table.find_or_insert(
            hash,
            |e| e == key,
            key.len(),
            || key.to_string(),
            || "overflow".to_string(),
        )
    }

    #[test]
    fn keys_are_found_again_and_the_excess_goes_to_one_overflow_entry() {
        let mut table = Table::new(2, 1000);
        let a = lookup(&mut table, "a");
        let b = lookup(&mut table, "b");
        assert_ne!(a, b);
        assert_eq!(lookup(&mut table, "a"), a);
        let c = lookup(&mut table, "c");
        let d = lookup(&mut table, "d");
        assert_eq!(c, d);
        assert_eq!(table.get_mut(c).map(|e| e.as_str()), Some("overflow"));
        assert_eq!(lookup(&mut table, "b"), b);
        assert_eq!((table.series(), table.overflowed()), (2, 2));
    }

    #[test]
    fn long_keys_overflow_once_the_key_bytes_are_spent() {
        let mut table = Table::new(100, 10);
        let long = "x".repeat(8);
        let first = lookup(&mut table, &long);
        let second = lookup(&mut table, "yyyyy");
        assert_ne!(first, second);
        assert_eq!(table.get_mut(second).map(|e| e.as_str()), Some("overflow"));
        assert_eq!(lookup(&mut table, "zz"), lookup(&mut table, "zz"));
        assert_eq!(table.series(), 2);
    }

    #[test]
    fn many_keys_survive_rehashing() {
        let mut table = Table::new(10_000, usize::MAX);
        let ids: Vec<u32> = (0..5000)
            .map(|i| lookup(&mut table, &format!("k{i}")))
            .collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(lookup(&mut table, &format!("k{i}")), *id);
        }
    }
}
