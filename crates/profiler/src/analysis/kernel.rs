//! Kernel symbols from `/proc/kallsyms`, read once and sorted, for naming the
//! kernel frames of samples. Written by hand: it is a three-column text file,
//! and blazesym's kernel source would also go looking for a vmlinux we never
//! need. Not for modules' line numbers (kallsyms has none).

/// Text symbols of the running kernel, sorted by address. Kept compact (all
/// names in one string, 16 bytes a symbol besides): a continuous profiler
/// holds the kernel's ~120 000 symbols for as long as it runs.
#[derive(Debug, Default)]
pub(crate) struct KernelSymbols {
    /// `(address, start, end)` of each symbol's name in `names`.
    symbols: Vec<(u64, u32, u32)>,
    names: String,
    /// Every address in kallsyms was 0: `kernel.kptr_restrict` hides them.
    pub hidden: bool,
}

impl KernelSymbols {
    /// Reads `/proc/kallsyms` line by line; empty (not an error) when it is unreadable.
    pub fn load() -> Self {
        std::fs::File::open("/proc/kallsyms")
            .map(|file| Self::read(std::io::BufReader::new(file)))
            .unwrap_or_default()
    }

    /// Parses kallsyms text: `ADDRESS TYPE NAME [MODULE]`, keeping text symbols.
    #[cfg(test)]
    pub fn parse(text: &str) -> Self {
        Self::read(text.as_bytes())
    }

    fn read(mut input: impl std::io::BufRead) -> Self {
        let mut table = Self::default();
        let mut lines = 0usize;
        let mut line = String::new();
        while matches!(input.read_line(&mut line), Ok(n) if n > 0) {
            table.add_line(&line, &mut lines);
            line.clear();
        }
        table.symbols.sort_unstable_by_key(|s| s.0);
        table.names.shrink_to_fit();
        table.symbols.shrink_to_fit();
        table.hidden = lines > 0 && table.symbols.is_empty();
        table
    }

    fn add_line(&mut self, line: &str, lines: &mut usize) {
        let mut fields = line.split_ascii_whitespace();
        let (Some(address), Some(kind), Some(name)) = (fields.next(), fields.next(), fields.next())
        else {
            return;
        };
        *lines += 1;
        if !matches!(kind, "t" | "T" | "w" | "W") {
            return;
        }
        let Ok(address) = u64::from_str_radix(address, 16) else {
            return;
        };
        if address == 0 {
            return;
        }
        // `__pfx_f` is the padding before `f` (call-depth tracking): an
        // address there, or a return to `f`'s first byte looked up one byte
        // back, belongs to `f`.
        let name = name.strip_prefix("__pfx_").unwrap_or(name);
        let (Ok(start), Ok(end)) = (
            u32::try_from(self.names.len()),
            u32::try_from(self.names.len() + name.len()),
        ) else {
            return;
        };
        self.names.push_str(name);
        self.symbols.push((address, start, end));
    }

    /// The symbol containing `address` (the closest one at or below it).
    pub fn lookup(&self, address: u64) -> Option<&str> {
        let i = self.symbols.partition_point(|s| s.0 <= address);
        let &(_, start, end) = self.symbols.get(i.checked_sub(1)?)?;
        self.names.get(start as usize..end as usize)
    }

    /// Lowest symbol address (for the kernel's mapping), 0 when unknown.
    pub fn start(&self) -> u64 {
        self.symbols.first().map_or(0, |s| s.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KALLSYMS: &str = "\
ffffffff81000000 T _stext
ffffffff81000100 t do_one_initcall
ffffffff81002000 D some_data
ffffffff81002ff0 T __pfx_schedule
ffffffff81003000 T schedule
ffffffffc0000000 t ext4_read [ext4]
";

    #[test]
    fn looks_up_the_enclosing_text_symbol() {
        let k = KernelSymbols::parse(KALLSYMS);
        assert!(!k.hidden);
        assert_eq!(k.lookup(0xffffffff81000150), Some("do_one_initcall"));
        assert_eq!(
            k.lookup(0xffffffff81002500),
            Some("do_one_initcall"),
            "data symbols are skipped"
        );
        assert_eq!(k.lookup(0xffffffff81003001), Some("schedule"));
        assert_eq!(k.lookup(0xffffffff81002fff), Some("schedule"), "padding");
        assert_eq!(k.lookup(0xffffffffc0000010), Some("ext4_read"));
        assert_eq!(k.lookup(0x1000), None);
        assert_eq!(k.start(), 0xffffffff81000000);
    }

    #[test]
    fn zero_addresses_mean_hidden() {
        let k = KernelSymbols::parse("0000000000000000 T _stext\n0000000000000000 t foo\n");
        assert!(k.hidden);
        assert_eq!(k.lookup(0xffffffff81000150), None);
    }
}
