//! Function symbols of an in-memory ELF image (`.symtab` and `.dynsym`)
//! with their address ranges: names for the vDSO. Not for files on disk
//! (`symscan` looks up batches in those without loading their tables) and
//! not a symbolizer for ordinary frames (see `symbolize`).

use super::elf::ElfImage;
use object::{Object, ObjectSymbol, SymbolKind};

/// Function symbols of one image, sorted by address.
#[derive(Debug, Default)]
pub(crate) struct SymbolTable {
    /// `(address, size)`, stated addresses.
    symbols: Vec<(u64, u64)>,
    /// Their names, aligned with `symbols`.
    names: Vec<String>,
}

impl SymbolTable {
    /// The function symbols (static and dynamic) of `image`, with names.
    pub fn of(image: &ElfImage) -> Self {
        let Ok(elf) = object::read::elf::ElfFile64::<object::Endianness>::parse(image.bytes())
        else {
            return Self::default();
        };
        let mut symbols: Vec<(u64, u64, &str)> = elf
            .symbols()
            .chain(elf.dynamic_symbols())
            .filter(|s| s.kind() == SymbolKind::Text && s.address() != 0)
            .map(|s| (s.address(), s.size(), s.name().unwrap_or("")))
            .collect();
        // Sorted by address, the sized symbol first among aliases.
        symbols.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        symbols.dedup_by_key(|s| s.0);
        Self {
            names: symbols.iter().map(|s| s.2.to_string()).collect(),
            symbols: symbols.into_iter().map(|(a, size, _)| (a, size)).collect(),
        }
    }

    /// The function containing the stated address `vaddr`: `(start, size,
    /// name)`. A symbol without a size is taken to contain only addresses
    /// up to the next one.
    pub fn containing(&self, vaddr: u64) -> Option<(u64, u64, &str)> {
        let i = self
            .symbols
            .partition_point(|s| s.0 <= vaddr)
            .checked_sub(1)?;
        let (start, size) = *self.symbols.get(i)?;
        let name = self.names.get(i).map_or("", String::as_str);
        (size == 0 || vaddr < start + size).then_some((start, size, name))
    }

    /// The name of the function containing `vaddr`.
    pub fn lookup(&self, vaddr: u64) -> Option<&str> {
        self.containing(vaddr).map(|s| s.2)
    }

    /// All names (for tests and debugging).
    #[cfg(test)]
    pub fn names(&self) -> Vec<&str> {
        self.names.iter().map(String::as_str).collect()
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
        let (start, size) = table.symbols[main];
        assert_eq!(table.lookup(start), Some("main"));
        if size > 1 {
            assert_eq!(table.containing(start + 1).map(|s| s.0), Some(start));
        }
    }
}
