//! JIT symbols from `/tmp/perf-PID.map`, the text file runtimes (V8, the JVM
//! with perf-map-agent, LuaJIT, .NET) write for perf: one `START SIZE NAME` line
//! per compiled function, hex numbers. Written by hand: it is one split per line.
//! Not for ELF files (see `symbolize`).

use std::path::Path;

/// The symbols of one process's perf map, sorted by start address.
#[derive(Debug, Default)]
pub(crate) struct PerfMap {
    /// `(start, end, name)`.
    entries: Vec<(u64, u64, String)>,
}

impl PerfMap {
    /// Reads `/tmp/perf-PID.map`; empty when there is none.
    pub fn load(pid: u32) -> Self {
        Self::load_path(&Path::new("/tmp").join(format!("perf-{pid}.map")))
    }

    /// Reads a perf map file; empty when it is missing or unreadable.
    pub fn load_path(path: &Path) -> Self {
        std::fs::read_to_string(path)
            .map(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    /// Parses perf map text; malformed lines are skipped. A later entry for the
    /// same start (re-compiled code) replaces the earlier one.
    pub fn parse(text: &str) -> Self {
        let hex = |s: &str| {
            let s = s.trim_start_matches("0x").trim_start_matches("0X");
            u64::from_str_radix(s, 16).ok()
        };
        let mut entries: Vec<(u64, u64, String)> = text
            .lines()
            .filter_map(|line| {
                let mut parts = line.trim().splitn(3, ' ');
                let start = hex(parts.next()?)?;
                let size = hex(parts.next()?)?;
                let name = parts.next()?.trim();
                (!name.is_empty() && size > 0)
                    .then(|| (start, start.saturating_add(size), name.to_string()))
            })
            .collect();
        // Stable sort keeps file order among equal starts; keep the last one.
        entries.sort_by_key(|e| e.0);
        entries.reverse();
        entries.dedup_by_key(|e| e.0);
        entries.reverse();
        Self { entries }
    }

    /// The name of the JIT function containing `address`.
    pub fn lookup(&self, address: u64) -> Option<&str> {
        let i = self.entries.partition_point(|e| e.0 <= address);
        let (_, end, name) = self.entries.get(i.checked_sub(1)?)?;
        (address < *end).then_some(name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_looks_up() {
        let map = PerfMap::parse(
            "7f0000001000 40 LazyCompile:~add /app.js:1\n\
             0x7f0000002000 0x20 Interpreter\n\
             garbage\n\
             7f0000001000 40 LazyCompile:*add /app.js:1\n",
        );
        assert_eq!(
            map.lookup(0x7f0000001010),
            Some("LazyCompile:*add /app.js:1")
        );
        assert_eq!(map.lookup(0x7f000000101f + 0x21), None);
        assert_eq!(map.lookup(0x7f000000201f), Some("Interpreter"));
        assert_eq!(map.lookup(0x7f0000002020), None);
        assert_eq!(map.lookup(0x10), None);
    }

    #[test]
    fn missing_file_is_empty() {
        let map = PerfMap::load_path(Path::new("/nonexistent/perf-1.map"));
        assert!(map.entries.is_empty());
    }
}
