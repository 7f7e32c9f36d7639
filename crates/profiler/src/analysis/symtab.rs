//! Function symbols of an ELF image (`.symtab` and `.dynsym`) with their
//! address ranges: names for the vDSO, and function bounds for tail-call
//! recovery. Not a symbolizer for ordinary frames (see `symbolize`).

use super::elf::ElfImage;
use object::{Object, ObjectSymbol, SymbolKind};

/// Function symbols of one image, sorted by address.
#[derive(Debug, Default)]
pub(crate) struct SymbolTable {
    /// `(address, size, name)`, stated addresses.
    symbols: Vec<(u64, u64, String)>,
}

impl SymbolTable {
    /// The function symbols (static and dynamic) of `image`.
    pub fn of(image: &ElfImage) -> Self {
        let Ok(elf) = object::read::elf::ElfFile64::<object::Endianness>::parse(image.bytes())
        else {
            return Self::default();
        };
        let mut symbols: Vec<(u64, u64, String)> = elf
            .symbols()
            .chain(elf.dynamic_symbols())
            .filter(|s| s.kind() == SymbolKind::Text && s.address() != 0)
            .filter_map(|s| Some((s.address(), s.size(), s.name().ok()?.to_string())))
            .collect();
        // Sorted by address, the sized symbol first among aliases.
        symbols.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        symbols.dedup_by_key(|s| s.0);
        Self { symbols }
    }

    /// The function containing the stated address `vaddr`: `(start, size, name)`.
    /// A symbol without a size is taken to contain only addresses up to the next one.
    pub fn containing(&self, vaddr: u64) -> Option<(u64, u64, &str)> {
        let i = self.symbols.partition_point(|s| s.0 <= vaddr);
        let (start, size, name) = self.symbols.get(i.checked_sub(1)?)?;
        (*size == 0 || vaddr < start + size).then_some((*start, *size, name.as_str()))
    }

    /// The name of the function containing `vaddr`.
    pub fn lookup(&self, vaddr: u64) -> Option<&str> {
        self.containing(vaddr).map(|s| s.2)
    }

    /// Whether a function starts exactly at `vaddr`.
    pub fn starts_at(&self, vaddr: u64) -> bool {
        self.symbols.binary_search_by_key(&vaddr, |s| s.0).is_ok()
    }

    /// All names (for tests and debugging).
    #[cfg(test)]
    pub fn names(&self) -> Vec<&str> {
        self.symbols.iter().map(|s| s.2.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_functions_of_our_own_binary() {
        let exe = std::env::current_exe().unwrap();
        let image = ElfImage::open(&exe).unwrap();
        let table = SymbolTable::of(&image);
        let names = table.names();
        let main = names
            .iter()
            .position(|n| *n == "main")
            .expect("a C main symbol");
        let (start, size, _) = table.symbols[main];
        assert!(table.starts_at(start));
        assert_eq!(table.lookup(start), Some("main"));
        if size > 1 {
            assert_eq!(table.containing(start + 1).map(|s| s.0), Some(start));
            assert!(!table.starts_at(start + 1));
        }
    }
}
