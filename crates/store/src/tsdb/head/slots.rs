//! The head's series, indexed by series id, in pages of [`PAGE`] slots. The
//! table grows a page (~120 KB) at a time, so its memory follows the number
//! of series: a `Vec` would, on reaching 2^k series, allocate room for 2^k
//! more and copy the old ones across (about 60 MB more at 512 Ki series, and
//! both copies alive for a moment), and the memory budget would refuse new
//! series well before the head is full.

use crate::tsdb::series::MemSeries;
use std::mem::size_of;

const PAGE_BITS: u32 = 10;
/// Slots per page.
pub const PAGE: usize = 1 << PAGE_BITS;

/// Series slots; a slot is empty once its series is dropped (its id is reused).
#[derive(Default)]
pub struct Slots {
    pages: Vec<Box<[Option<MemSeries>]>>,
    len: usize,
}

fn split(id: u32) -> (usize, usize) {
    let id = id as usize;
    (id >> PAGE_BITS, id & (PAGE - 1))
}

impl Slots {
    /// Slots handed out (live or empty).
    pub fn len(&self) -> usize {
        self.len
    }

    /// The series in slot `id`.
    pub fn get(&self, id: u32) -> Option<&MemSeries> {
        let (page, at) = split(id);
        self.pages.get(page)?.get(at)?.as_ref()
    }

    /// The series in slot `id`, to change.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut MemSeries> {
        let (page, at) = split(id);
        self.pages.get_mut(page)?.get_mut(at)?.as_mut()
    }

    /// Empties slot `id`, returning its series.
    pub fn take(&mut self, id: u32) -> Option<MemSeries> {
        let (page, at) = split(id);
        self.pages.get_mut(page)?.get_mut(at)?.take()
    }

    /// Puts `series` in slot `id` (one handed out by [`Self::push`]).
    pub fn set(&mut self, id: u32, series: MemSeries) {
        let (page, at) = split(id);
        if let Some(slot) = self.pages.get_mut(page).and_then(|p| p.get_mut(at)) {
            *slot = Some(series);
        }
    }

    /// A new empty slot at the end; returns its id.
    pub fn push(&mut self) -> u32 {
        if self.len == self.pages.len() * PAGE {
            self.pages.push((0..PAGE).map(|_| None).collect());
        }
        self.len += 1;
        (self.len - 1) as u32
    }

    /// Live series with their ids, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &MemSeries)> + '_ {
        self.pages
            .iter()
            .flat_map(|p| p.iter())
            .take(self.len)
            .enumerate()
            .filter_map(|(id, s)| Some((id as u32, s.as_ref()?)))
    }

    /// Live series with their ids, to change.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (u32, &mut MemSeries)> + '_ {
        self.pages
            .iter_mut()
            .flat_map(|p| p.iter_mut())
            .take(self.len)
            .enumerate()
            .filter_map(|(id, s)| Some((id as u32, s.as_mut()?)))
    }

    /// Bytes of the pages (and the list of them).
    pub fn bytes(&self) -> usize {
        self.pages.len() * PAGE * size_of::<Option<MemSeries>>()
            + self.pages.capacity() * size_of::<Box<[Option<MemSeries>]>>()
    }

    /// Bytes one more slot would add now (a page when the last is full).
    pub fn growth_bytes(&self) -> usize {
        if self.len == self.pages.len() * PAGE {
            PAGE * size_of::<Option<MemSeries>>()
        } else {
            0
        }
    }

    /// Drops empty slots at the end, and pages left without slots.
    pub fn trim(&mut self) {
        while self.len > 0 && self.get(self.len as u32 - 1).is_none() {
            self.len -= 1;
        }
        self.pages.truncate(self.len.div_ceil(PAGE));
        self.pages.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::{Slots, PAGE};
    use crate::tsdb::series::MemSeries;
    use model::metrics::Sample;

    fn one(t: i64) -> MemSeries {
        MemSeries::new(
            Box::new([]),
            Sample {
                timestamp_ms: t,
                value: 1.0,
            },
        )
    }

    #[test]
    fn grows_by_pages_and_trims_empty_ones() {
        let mut s = Slots::default();
        for i in 0..PAGE + 2 {
            let id = s.push();
            assert_eq!(id as usize, i);
            s.set(id, one(i as i64));
        }
        let two_pages = s.bytes();
        assert_eq!(
            s.get(PAGE as u32 + 1).map(|m| m.min_t()),
            Some(PAGE as i64 + 1)
        );
        assert!(s.take(PAGE as u32 + 1).is_some() && s.take(PAGE as u32).is_some());
        assert!(s.take(3).is_some());
        assert_eq!(s.iter().count(), PAGE - 1);
        s.trim();
        assert_eq!(s.len(), PAGE);
        assert!(s.bytes() < two_pages);
        assert_eq!(s.iter().map(|(id, _)| id).nth(3), Some(4));
    }
}
