//! Interned strings for the head: every label name and value is stored once
//! and series refer to them by `u32`. The strings are boxed once; the index
//! from string to id is a `hashbrown::HashTable` of bare ids hashed by the
//! string they name (4 bytes a slot, where a `HashMap<Arc<str>, u32>` needs
//! 24 plus the Arc's header). Strings no live series uses are dropped when
//! the head is truncated ([`Symbols::retain`]), which renumbers the rest.

use hashbrown::HashTable;
use rustc_hash::FxHasher;
use std::hash::Hasher;

/// The string table.
#[derive(Default)]
pub struct Symbols {
    strings: Vec<Box<str>>,
    ids: HashTable<u32>,
    /// Bytes of the strings themselves.
    text_bytes: usize,
}

fn hash(s: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

impl Symbols {
    /// The id of `s`, adding it when new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(id) = self.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        self.text_bytes += s.len();
        let strings = &self.strings;
        self.ids
            .insert_unique(hash(s), id, |&i| hash(&strings[i as usize]));
        id
    }

    /// The id of `s`, if interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.ids
            .find(hash(s), |&i| &*self.strings[i as usize] == s)
            .copied()
    }

    /// The string of `id` ("" for an unknown id, which the head never hands out).
    pub fn str(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }

    /// Strings held.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Keeps the strings whose `live[id]` is true; returns each old id's new
    /// id (`u32::MAX` for a dropped string).
    pub fn retain(&mut self, live: &[bool]) -> Vec<u32> {
        let old = std::mem::take(&mut self.strings);
        let kept = live.iter().filter(|&&l| l).count();
        let mut remap = vec![u32::MAX; old.len()];
        self.strings = Vec::with_capacity(kept);
        self.ids = HashTable::with_capacity(kept);
        self.text_bytes = 0;
        for (id, s) in old.into_iter().enumerate() {
            if live.get(id).copied().unwrap_or(false) {
                remap[id] = self.intern(&s);
            }
        }
        remap
    }

    /// Bytes the tables would grow by if `more` strings were added now
    /// (0 unless one of them is full).
    pub fn growth_bytes(&self, more: usize) -> usize {
        let mut bytes = 0;
        if self.strings.len() + more > self.strings.capacity() {
            bytes += self.strings.capacity().max(4) * std::mem::size_of::<Box<str>>();
        }
        if self.ids.len() + more > self.ids.capacity() {
            bytes += (self.ids.capacity().max(4) * 8 / 7) * (std::mem::size_of::<u32>() + 1);
        }
        bytes
    }

    /// Heap bytes: the strings, their boxes and the index's buckets.
    pub fn heap_bytes(&self) -> usize {
        let buckets = if self.ids.capacity() == 0 {
            0
        } else {
            self.ids.capacity() * 8 / 7
        };
        self.text_bytes
            + self.strings.capacity() * std::mem::size_of::<Box<str>>()
            + buckets * (std::mem::size_of::<u32>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::Symbols;

    #[test]
    fn interns_and_drops_unused_strings() {
        let mut s = Symbols::default();
        let ids: Vec<u32> = ["a", "b", "c", "b"].iter().map(|x| s.intern(x)).collect();
        assert_eq!(ids, [0, 1, 2, 1]);
        assert_eq!((s.get("c"), s.get("d")), (Some(2), None));
        let before = s.heap_bytes();
        let remap = s.retain(&[true, false, true]);
        assert_eq!(remap, [0, u32::MAX, 1]);
        assert_eq!((s.str(0), s.str(1), s.get("b")), ("a", "c", None));
        assert_eq!(s.len(), 2);
        assert!(s.heap_bytes() < before);
    }
}
