//! Line-level parsing of `perf script` text: sample headers
//! (`comm [pid/]tid [cpu] time: [period] event:`) and frame lines
//! (`address symbol+offset (dso)`). No profile building here (see `perf_script`).

use model::FrameKind;

/// One parsed sample header.
#[derive(Debug, PartialEq)]
pub(super) struct Header<'a> {
    /// Command (thread) name; perf prints `:PID` when it is unknown.
    pub(super) comm: &'a str,
    /// Process id (the thread id when perf printed only one id).
    pub(super) pid: u32,
    /// Thread id.
    pub(super) tid: u32,
    /// Timestamp in seconds, when printed.
    pub(super) time_s: Option<f64>,
    /// Sample period in event units, when printed.
    pub(super) period: Option<i64>,
    /// Event name without modifiers (`cpu-clock`).
    pub(super) event: &'a str,
    /// Text after the event (a frame when recorded without call graphs).
    pub(super) rest: &'a str,
}

/// Whitespace-separated tokens of `line` with their byte offsets.
fn tokens(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &line[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &line[s..]));
    }
    out
}

/// `1234.567890:` → seconds.
fn parse_time(token: &str) -> Option<f64> {
    let t = token.strip_suffix(':')?;
    if !t.contains('.') || !t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    t.parse().ok()
}

/// `pid/tid` or `tid`.
fn parse_ids(token: &str) -> Option<(u32, u32)> {
    match token.split_once('/') {
        Some((pid, tid)) => Some((pid.parse().ok()?, tid.parse().ok()?)),
        None => {
            let tid = token.parse().ok()?;
            Some((tid, tid))
        }
    }
}

/// The event name without perf's modifiers: `cpu-clock:ppp:` → `cpu-clock`.
fn event_name(token: &str) -> &str {
    let name = token.trim_end_matches(':');
    match name.rsplit_once(':') {
        Some((base, modifiers))
            if !modifiers.is_empty() && modifiers.chars().all(|c| "ukhGHpPSDIW".contains(c)) =>
        {
            base
        }
        _ => name,
    }
}

/// Parses a sample header line.
pub(super) fn parse_header(line: &str) -> Result<Header<'_>, String> {
    let toks = tokens(line);
    let time_at = toks.iter().position(|(_, t)| parse_time(t).is_some());
    // The id token: just before the time (skipping `[cpu]`), or the first one that parses.
    let (ids_at, after) = match time_at {
        Some(t) => {
            let mut i = t;
            if i > 0 && toks[i - 1].1.starts_with('[') && toks[i - 1].1.ends_with(']') {
                i -= 1;
            }
            (i.checked_sub(1), t + 1)
        }
        None => {
            let i = toks
                .iter()
                .skip(1)
                .position(|(_, t)| parse_ids(t).is_some())
                .map(|i| i + 1);
            let mut after = i.map_or(toks.len(), |i| i + 1);
            if toks
                .get(after)
                .is_some_and(|(_, t)| t.starts_with('[') && t.ends_with(']'))
            {
                after += 1;
            }
            (i, after)
        }
    };
    let Some(ids_at) = ids_at.filter(|&i| i > 0) else {
        return Err("sample header without a command name and thread id".to_string());
    };
    let (pid, tid) = parse_ids(toks[ids_at].1)
        .ok_or_else(|| format!("'{}' is not a pid/tid", toks[ids_at].1))?;
    let comm = line[..toks[ids_at].0].trim();
    let time_s = time_at.and_then(|t| parse_time(toks[t].1));
    let mut i = after;
    let period = toks.get(i).and_then(|(_, t)| t.parse::<i64>().ok());
    if period.is_some() {
        i += 1;
    }
    let Some(&(event_at, event_token)) = toks.get(i).filter(|(_, t)| t.ends_with(':')) else {
        return Err("sample header without an event name (like 'cpu-clock:')".to_string());
    };
    Ok(Header {
        comm,
        pid,
        tid,
        time_s,
        period,
        event: event_name(event_token),
        rest: line[event_at + event_token.len()..].trim(),
    })
}

/// One parsed frame line: address, symbol (offset dropped), dso.
#[derive(Debug, PartialEq)]
pub(super) struct FrameLine<'a> {
    /// Instruction address as printed.
    pub(super) address: u64,
    /// Symbol without its `+0x…` offset; `[unknown]` when perf had none.
    pub(super) symbol: &'a str,
    /// Object path; empty when not printed.
    pub(super) dso: &'a str,
}

/// Parses `addr symbol+0x1f (dso)`; `None` for lines that are not frames.
pub(super) fn parse_frame(line: &str) -> Option<FrameLine<'_>> {
    let line = line.trim();
    let (address, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let address = u64::from_str_radix(address, 16).ok()?;
    let rest = rest.trim();
    let (symbol, dso) = match rest.strip_suffix(')') {
        Some(body) => {
            // Find the '(' matching the final ')': dso paths may hold "(deleted)".
            let mut depth = 0usize;
            let mut open = None;
            for (i, c) in body.char_indices().rev() {
                match c {
                    ')' => depth += 1,
                    '(' if depth == 0 => {
                        open = Some(i);
                        break;
                    }
                    '(' => depth -= 1,
                    _ => {}
                }
            }
            match open {
                Some(i) => (body[..i].trim(), &body[i + 1..]),
                None => (rest, ""),
            }
        }
        None => (rest, ""),
    };
    let symbol = match symbol.rfind("+0x") {
        Some(i) if symbol[i + 3..].chars().all(|c| c.is_ascii_hexdigit()) => &symbol[..i],
        _ => symbol,
    };
    Some(FrameLine {
        address,
        symbol,
        dso,
    })
}

/// The frame kind a dso implies.
pub(super) fn kind_of_dso(dso: &str) -> FrameKind {
    if dso.starts_with("[kernel") || dso.ends_with(".ko") || dso.starts_with("[vmlinux") {
        FrameKind::Kernel
    } else if dso.starts_with("/tmp/perf-") && dso.ends_with(".map") || dso == "[jit]" {
        FrameKind::Jit
    } else {
        FrameKind::User
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_variants() {
        let h = parse_header("workload  6576  4799.926571:   10101010 cpu-clock: ").unwrap();
        assert_eq!(
            (h.comm, h.pid, h.tid, h.period, h.event),
            ("workload", 6576, 6576, Some(10101010), "cpu-clock")
        );
        let h = parse_header("Web Content 12/34 [001] 5.5: 250000 cpu-clock:ppp:").unwrap();
        assert_eq!(
            (h.comm, h.pid, h.tid, h.event),
            ("Web Content", 12, 34, "cpu-clock")
        );
        let h = parse_header("swapper     0 [000]  1.000001: sched:sched_switch: prev=x").unwrap();
        assert_eq!(
            (h.comm, h.period, h.event),
            ("swapper", None, "sched:sched_switch")
        );
        assert_eq!(h.rest, "prev=x");
        let h = parse_header("app 7/8 cycles:u: ").unwrap();
        assert_eq!(
            (h.comm, h.pid, h.tid, h.time_s, h.event),
            ("app", 7, 8, None, "cycles")
        );
        assert!(parse_header("garbage").is_err());
    }

    #[test]
    fn parses_frame_lines() {
        let f = parse_frame("\t    1a7b1 workload::hot_b+0x61 (/tmp/w)").unwrap();
        assert_eq!(
            f,
            FrameLine {
                address: 0x1a7b1,
                symbol: "workload::hot_b",
                dso: "/tmp/w"
            }
        );
        let f = parse_frame("  ffffffff8100 foo(int, char)+0x1 (/lib/x.so (deleted))").unwrap();
        assert_eq!((f.symbol, f.dso), ("foo(int, char)", "/lib/x.so (deleted)"));
        let f = parse_frame("  0 [unknown] ([unknown])").unwrap();
        assert_eq!((f.address, f.symbol, f.dso), (0, "[unknown]", "[unknown]"));
        assert_eq!(parse_frame("  main.rs:12"), None);
    }
}
