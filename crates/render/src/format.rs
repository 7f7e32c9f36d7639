//! The profile file formats whyslow reads and writes, how they are named on the
//! command line, guessed from a file name, and recognized from content.
//!
//! Only naming and recognition live here; each format's reader and writer is
//! its own module.

use crate::error::RenderError;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// A profile file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Self-contained interactive flamegraph page (`.html`).
    FlamegraphHtml,
    /// Brendan Gregg's collapsed stacks, `root;caller;leaf VALUE` per line (`.folded`).
    Folded,
    /// Gzipped `perftools.profiles.Profile` protobuf (`.pb.gz`).
    Pprof,
    /// speedscope's JSON file format (`.speedscope.json`).
    Speedscope,
    /// The text `perf script` prints (`.perf-script`).
    PerfScript,
}

impl Format {
    /// Every format, in the order they are listed to users.
    pub const ALL: [Format; 5] = [
        Self::FlamegraphHtml,
        Self::Folded,
        Self::Pprof,
        Self::Speedscope,
        Self::PerfScript,
    ];

    /// The format a file name implies, by its (case-insensitive) ending:
    ///
    /// | ending | format |
    /// |---|---|
    /// | `.html`, `.htm` | flamegraph HTML |
    /// | `.pb.gz`, `.pb`, `.pprof`, `.prof` | pprof |
    /// | `.speedscope.json`, `.json` | speedscope |
    /// | `.perf-script`, `.perfscript`, `.perf.txt`, `.perf` | perf script |
    /// | `.folded`, `.collapsed`, `.stacks`, `.txt` | folded (the plain-text default) |
    ///
    /// `None` for anything else.
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        let ends = |suffixes: &[&str]| suffixes.iter().any(|s| name.ends_with(s));
        if ends(&[".html", ".htm"]) {
            Some(Self::FlamegraphHtml)
        } else if ends(&[".pb.gz", ".pb", ".pprof", ".prof"]) {
            Some(Self::Pprof)
        } else if ends(&[".json"]) {
            Some(Self::Speedscope)
        } else if ends(&[".perf-script", ".perfscript", ".perf.txt", ".perf"]) {
            Some(Self::PerfScript)
        } else if ends(&[".folded", ".collapsed", ".stacks", ".txt"]) {
            Some(Self::Folded)
        } else {
            None
        }
    }

    /// The `--format` spelling: `html`, `folded`, `pprof`, `speedscope`, `perf-script`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::FlamegraphHtml => "html",
            Self::Folded => "folded",
            Self::Pprof => "pprof",
            Self::Speedscope => "speedscope",
            Self::PerfScript => "perf-script",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = RenderError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" | "flamegraph" => Ok(Self::FlamegraphHtml),
            "folded" | "collapsed" => Ok(Self::Folded),
            "pprof" => Ok(Self::Pprof),
            "speedscope" => Ok(Self::Speedscope),
            "perf-script" | "perf_script" | "perfscript" => Ok(Self::PerfScript),
            _ => Err(RenderError::UnknownFormat(s.to_string())),
        }
    }
}

/// Recognizes a profile's format from its first bytes:
/// gzip or binary data is pprof; JSON is speedscope; HTML is a flamegraph page;
/// text whose first record is a `perf script` header (its next line an
/// indented frame, or itself ending in `:` or `)`) is perf script; text whose
/// first line ends in a number is folded. `None` otherwise.
pub fn detect_format(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Some(Format::Pprof);
    }
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // A cut in the middle of a multi-byte character is still text.
        Err(e) if e.valid_up_to() + 4 > head.len() && e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return Some(Format::Pprof),
    };
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        return Some(Format::Speedscope);
    }
    // The first 1 KiB, cut at a character boundary (found by fuzzing).
    let mut cut = trimmed.len().min(1024);
    while !trimmed.is_char_boundary(cut) {
        cut -= 1;
    }
    let lower_start = trimmed[..cut].to_ascii_lowercase();
    if lower_start.starts_with("<!doctype html")
        || lower_start.starts_with("<html")
        || lower_start.starts_with("<!--")
    {
        return Some(Format::FlamegraphHtml);
    }
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let first = lines.next()?;
    if first.starts_with(char::is_whitespace) {
        return None;
    }
    let next_is_frame = lines
        .next()
        .is_some_and(|l| l.starts_with(char::is_whitespace));
    let first = first.trim_end();
    if next_is_frame || first.ends_with(':') || first.ends_with(')') {
        return Some(Format::PerfScript);
    }
    if first.ends_with(|c: char| c.is_ascii_digit()) {
        return Some(Format::Folded);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_cuts_multibyte_text_at_a_char_boundary() {
        // Found by fuzzing: a two-byte character straddling byte 1024.
        let mut text = "a".repeat(1023);
        text.push('Û');
        text.push_str(" more");
        let _ = detect_format(text.as_bytes());
    }

    #[test]
    fn names_round_trip_through_from_str() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        let err = "xyz".parse::<Format>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown format 'xyz' (expected one of: html, folded, pprof, speedscope, perf-script)"
        );
    }

    #[test]
    fn formats_from_file_names() {
        let cases = [
            ("p.html", Some(Format::FlamegraphHtml)),
            ("P.HTM", Some(Format::FlamegraphHtml)),
            ("p.folded", Some(Format::Folded)),
            ("p.txt", Some(Format::Folded)),
            ("p.pb.gz", Some(Format::Pprof)),
            ("cpu.pprof", Some(Format::Pprof)),
            ("p.speedscope.json", Some(Format::Speedscope)),
            ("p.perf-script", Some(Format::PerfScript)),
            ("out.perf.txt", Some(Format::PerfScript)),
            ("p.svg", None),
            ("noext", None),
        ];
        for (name, want) in cases {
            assert_eq!(Format::from_path(Path::new(name)), want, "{name}");
        }
    }

    #[test]
    fn detects_content() {
        assert_eq!(detect_format(&[0x1f, 0x8b, 8, 0]), Some(Format::Pprof));
        assert_eq!(
            detect_format(&[0x0a, 0x02, 0xff, 0xfe]),
            Some(Format::Pprof)
        );
        assert_eq!(
            detect_format(
                b"  {\"$schema\": \"https://www.speedscope.app/file-format-schema.json\"}"
            ),
            Some(Format::Speedscope)
        );
        assert_eq!(
            detect_format(b"<!DOCTYPE html>\n<html>"),
            Some(Format::FlamegraphHtml)
        );
        assert_eq!(
            detect_format(b"main;a;b 12\nmain;c 3\n"),
            Some(Format::Folded)
        );
        assert_eq!(
            detect_format(
                b"workload  6576  4799.926571:   10101010 cpu-clock: \n\t 1a7b1 hot+0x61 (/w)\n"
            ),
            Some(Format::PerfScript)
        );
        assert_eq!(detect_format(b"hello world\n"), None);
        assert_eq!(detect_format(b""), None);
    }
}
