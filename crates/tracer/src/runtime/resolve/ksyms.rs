//! Kernel symbols for `kstack` frames, named as bpftrace 0.17 names them
//! (through bcc): the nearest `/proc/kallsyms` symbol at or below the
//! address, whatever its size, data symbols (`b B d D r R`) left out, as
//! `name+offset` with a decimal offset; an address below every symbol is
//! `0x…`.

/// The kernel's symbols, sorted by address.
#[derive(Debug, Default)]
pub struct KernelSymbols {
    /// `(address, name)`, stably sorted by address (aliases keep file order;
    /// the last one wins).
    symbols: Vec<(u64, String)>,
}

impl KernelSymbols {
    /// Reads `/proc/kallsyms`; empty when unreadable (frames print as `0x…`).
    pub fn load() -> Self {
        std::fs::read_to_string("/proc/kallsyms")
            .map(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    /// Parses kallsyms text: `ADDRESS TYPE NAME [MODULE]` lines.
    pub fn parse(text: &str) -> Self {
        let mut symbols: Vec<(u64, String)> = text
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_ascii_whitespace();
                let address = u64::from_str_radix(fields.next()?, 16).ok()?;
                let kind = fields.next()?;
                let name = fields.next()?;
                let data = matches!(kind, "b" | "B" | "d" | "D" | "r" | "R");
                (address != 0 && address != u64::MAX && !data).then(|| (address, name.to_string()))
            })
            .collect();
        symbols.sort_by_key(|s| s.0);
        Self { symbols }
    }

    /// The symbol an address is in and the offset into it.
    pub fn resolve(&self, address: u64) -> Option<(&str, u64)> {
        let after = self.symbols.partition_point(|s| s.0 <= address);
        let (start, name) = self.symbols.get(after.checked_sub(1)?)?;
        Some((name, address - start))
    }

    /// A frame as bpftrace prints it: `name+offset`, or `0x…`.
    pub fn frame(&self, address: u64) -> String {
        match self.resolve(address) {
            Some((name, offset)) => format!("{name}+{offset}"),
            None => format!("0x{address:x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KALLSYMS: &str = "\
ffffffff81000000 T _stext
ffffffff81000100 D some_data
ffffffff81000130 T entry_SYSCALL_64_after_hwframe
ffffffff81000130 t alias_after
ffffffff81424b50 T syscall_trace_enter
0000000000000000 A fixed_percpu_data
ffffffffc0000000 t mod_func\t[mymod]
";

    #[test]
    fn nearest_symbol_below_with_decimal_offset() {
        let k = KernelSymbols::parse(KALLSYMS);
        assert_eq!(k.frame(0xffffffff81424cd0), "syscall_trace_enter+384");
        // Data symbols are skipped; aliases: the last in file order.
        assert_eq!(k.frame(0xffffffff81000110), "_stext+272");
        assert_eq!(k.frame(0xffffffff810001a6), "alias_after+118");
        assert_eq!(k.frame(0xffffffffc0000010), "mod_func+16");
        assert_eq!(k.frame(0x1000), "0x1000");
        assert_eq!(KernelSymbols::default().frame(0xff), "0xff");
    }
}
