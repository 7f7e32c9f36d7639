//! Attach-point texts (`tracepoint:syscalls:sys_enter_*`, `ur:/bin/bash:readline`,
//! `profile:hz:99`, …) to [`Provider`]s, with bpftrace's short aliases.
//!
//! Only the text is checked here; whether a tracepoint or a symbol exists is
//! for the attach step to find out.

use crate::ast::{Provider, TimeUnit};

/// Reads one attach point; the error is the message for its span.
pub(super) fn provider(raw: &str) -> Result<Provider, String> {
    if raw == "BEGIN" {
        return Ok(Provider::Begin);
    }
    if raw == "END" {
        return Ok(Provider::End);
    }
    let (kind, rest) = raw.split_once(':').unwrap_or((raw, ""));
    match kind {
        "tracepoint" | "t" => tracepoint(rest),
        "uprobe" | "u" => uprobe(rest, false),
        "uretprobe" | "ur" => uprobe(rest, true),
        "profile" | "p" => timed(rest, "profile").map(|(unit, count)| Provider::Profile { unit, count }),
        "interval" | "i" => timed(rest, "interval").map(|(unit, count)| Provider::Interval { unit, count }),
        "kprobe" | "k" | "kretprobe" | "kr" | "kfunc" | "f" | "kretfunc" | "fr" | "usdt" | "U" | "software"
        | "s" | "hardware" | "h" | "watchpoint" | "w" | "rawtracepoint" | "rt" => Err(format!(
            "probe type '{kind}' is not supported by whyslow trace; use tracepoint, uprobe, uretprobe, \
             profile, interval, BEGIN or END"
        )),
        _ => Err(format!("Invalid probe type: {kind}")),
    }
}

fn tracepoint(rest: &str) -> Result<Provider, String> {
    match rest.split_once(':') {
        Some((category, event)) if !category.is_empty() && !event.is_empty() && !event.contains(':') => {
            Ok(Provider::Tracepoint {
                category: category.to_string(),
                event: event.to_string(),
            })
        }
        _ => Err("tracepoint probe must be tracepoint:CATEGORY:EVENT (e.g. tracepoint:syscalls:sys_enter_write)".into()),
    }
}

fn uprobe(rest: &str, ret: bool) -> Result<Provider, String> {
    let name = if ret { "uretprobe" } else { "uprobe" };
    match rest.rsplit_once(':') {
        Some((target, function)) if !target.is_empty() && !function.is_empty() => {
            Ok(Provider::Uprobe {
                target: target.to_string(),
                function: function.to_string(),
                ret,
            })
        }
        _ => Err(format!(
            "{name} probe must be {name}:/PATH:FUNCTION (e.g. {name}:/bin/bash:readline)"
        )),
    }
}

fn timed(rest: &str, name: &str) -> Result<(TimeUnit, u64), String> {
    let usage = format!(
        "{name} probe must be {name}:UNIT:N with UNIT one of hz, s, ms, us (e.g. {name}:hz:99)"
    );
    let (unit, count) = rest.split_once(':').ok_or_else(|| usage.clone())?;
    let unit = match unit {
        "hz" => TimeUnit::Hz,
        "s" => TimeUnit::S,
        "ms" => TimeUnit::Ms,
        "us" => TimeUnit::Us,
        _ => return Err(usage),
    };
    let count: u64 = count.parse().map_err(|_| usage.clone())?;
    if unit.period_ns(count).is_none() {
        return Err(format!(
            "{name} rate {rest} is out of range (it must be at least 1 and at most 1 GHz)"
        ));
    }
    Ok((unit, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_form() {
        assert_eq!(provider("BEGIN"), Ok(Provider::Begin));
        assert_eq!(provider("END"), Ok(Provider::End));
        let tp = Provider::Tracepoint {
            category: "syscalls".into(),
            event: "sys_enter_*".into(),
        };
        assert_eq!(provider("tracepoint:syscalls:sys_enter_*"), Ok(tp.clone()));
        assert_eq!(provider("t:syscalls:sys_enter_*"), Ok(tp));
        let up = |ret| Provider::Uprobe {
            target: "/bin/bash".into(),
            function: "readline".into(),
            ret,
        };
        assert_eq!(provider("uprobe:/bin/bash:readline"), Ok(up(false)));
        assert_eq!(provider("u:/bin/bash:readline"), Ok(up(false)));
        assert_eq!(provider("uretprobe:/bin/bash:readline"), Ok(up(true)));
        assert_eq!(provider("ur:/bin/bash:readline"), Ok(up(true)));
        assert_eq!(
            provider("profile:hz:99"),
            Ok(Provider::Profile {
                unit: TimeUnit::Hz,
                count: 99
            })
        );
        assert_eq!(
            provider("interval:ms:100"),
            Ok(Provider::Interval {
                unit: TimeUnit::Ms,
                count: 100
            })
        );
        assert_eq!(
            provider("i:s:1"),
            Ok(Provider::Interval {
                unit: TimeUnit::S,
                count: 1
            })
        );
    }

    #[test]
    fn bad_forms_say_what_is_expected() {
        assert_eq!(
            provider("foo:bar"),
            Err("Invalid probe type: foo".to_string())
        );
        assert!(provider("kprobe:do_sys_open")
            .unwrap_err()
            .contains("not supported"));
        assert!(provider("tracepoint:syscalls")
            .unwrap_err()
            .contains("CATEGORY:EVENT"));
        assert!(provider("uprobe:readline")
            .unwrap_err()
            .contains("/PATH:FUNCTION"));
        assert!(provider("profile:hz:0")
            .unwrap_err()
            .contains("out of range"));
        assert!(provider("interval:min:1")
            .unwrap_err()
            .contains("hz, s, ms, us"));
    }
}
