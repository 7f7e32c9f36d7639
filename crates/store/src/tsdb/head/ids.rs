//! A postings list of the head: the sorted ids of the series with one label
//! pair. Many label values (an instance, a pod, a request path) name a
//! single series, so one id is kept inline, without an allocation (a `Vec`
//! would cost 16 more bytes on the heap per such value); two or more ids
//! are a `Vec`. The enum is no larger than the `Vec` alone.

/// Sorted series ids.
#[derive(Debug)]
pub enum IdList {
    /// Exactly one id.
    One(u32),
    /// Any number of ids (empty only while being filled or emptied).
    Many(Vec<u32>),
}

impl Default for IdList {
    fn default() -> Self {
        Self::Many(Vec::new())
    }
}

impl IdList {
    /// Adds `id` (not present yet) in order.
    pub fn insert(&mut self, id: u32) {
        match self {
            Self::One(only) => {
                let pair = if *only < id { [*only, id] } else { [id, *only] };
                *self = Self::Many(pair.to_vec());
            }
            Self::Many(list) if list.is_empty() => *self = Self::One(id),
            Self::Many(list) => match list.last() {
                Some(&last) if last > id => {
                    let at = list.partition_point(|&x| x < id);
                    list.insert(at, id);
                }
                _ => list.push(id),
            },
        }
    }

    /// Removes `id` if present.
    pub fn remove(&mut self, id: u32) {
        match self {
            Self::One(only) if *only == id => *self = Self::Many(Vec::new()),
            Self::One(_) => {}
            Self::Many(list) => {
                if let Ok(at) = list.binary_search(&id) {
                    list.remove(at);
                }
            }
        }
    }

    /// The ids, ascending.
    pub fn as_slice(&self) -> &[u32] {
        match self {
            Self::One(id) => std::slice::from_ref(id),
            Self::Many(list) => list,
        }
    }

    /// Whether no id is left.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Self::One(_) => 0,
            Self::Many(list) => list.capacity() * std::mem::size_of::<u32>(),
        }
    }

    /// Gives back spare capacity (one id goes inline).
    pub fn shrink_to_fit(&mut self) {
        if let Self::Many(list) = self {
            match list.as_slice() {
                [only] => *self = Self::One(*only),
                _ => list.shrink_to_fit(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IdList;

    #[test]
    fn one_id_is_inline_and_order_is_kept() {
        assert_eq!(
            std::mem::size_of::<IdList>(),
            std::mem::size_of::<Vec<u32>>()
        );
        let mut l = IdList::default();
        l.insert(7);
        assert!(matches!(l, IdList::One(7)));
        assert_eq!(l.heap_bytes(), 0);
        l.insert(3);
        l.insert(9);
        l.insert(5);
        assert_eq!(l.as_slice(), [3, 5, 7, 9]);
        for id in [5, 9, 3] {
            l.remove(id);
        }
        l.shrink_to_fit();
        assert!(matches!(l, IdList::One(7)));
        l.remove(7);
        assert!(l.is_empty());
    }
}
