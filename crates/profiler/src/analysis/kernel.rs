//! Kernel symbols from `/proc/kallsyms`, read once and sorted, for naming the
//! kernel frames of samples. Written by hand: it is a three-column text file,
//! and blazesym's kernel source would also go looking for a vmlinux we never
//! need. Not for modules' line numbers (kallsyms has none).

/// Text symbols of the running kernel, sorted by address.
#[derive(Debug, Default)]
pub(crate) struct KernelSymbols {
    symbols: Vec<(u64, String)>,
    /// Every address in kallsyms was 0: `kernel.kptr_restrict` hides them.
    pub hidden: bool,
}

impl KernelSymbols {
    /// Reads `/proc/kallsyms`; empty (not an error) when it is unreadable.
    pub fn load() -> Self {
        std::fs::read_to_string("/proc/kallsyms")
            .map(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    /// Parses kallsyms text: `ADDRESS TYPE NAME [MODULE]`, keeping text symbols.
    pub fn parse(text: &str) -> Self {
        let mut symbols = Vec::new();
        let mut lines = 0usize;
        for line in text.lines() {
            let mut fields = line.split_ascii_whitespace();
            let (Some(address), Some(kind), Some(name)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            lines += 1;
            if !matches!(kind, "t" | "T" | "w" | "W") {
                continue;
            }
            let Ok(address) = u64::from_str_radix(address, 16) else {
                continue;
            };
            if address != 0 {
                // `__pfx_f` is the padding before `f` (call-depth tracking):
                // an address there, or a return to `f`'s first byte looked up
                // one byte back, belongs to `f`.
                let name = name.strip_prefix("__pfx_").unwrap_or(name);
                symbols.push((address, name.to_string()));
            }
        }
        symbols.sort_unstable_by_key(|s| s.0);
        Self {
            hidden: lines > 0 && symbols.is_empty(),
            symbols,
        }
    }

    /// The symbol containing `address` (the closest one at or below it).
    pub fn lookup(&self, address: u64) -> Option<&str> {
        let i = self.symbols.partition_point(|s| s.0 <= address);
        let (_, name) = self.symbols.get(i.checked_sub(1)?)?;
        Some(name)
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
