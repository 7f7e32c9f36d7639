//! The functions alert templates may call, as Prometheus's template
//! package defines them (`humanize*`) and as Go's `fmt` and `strings` do
//! (`printf`, `title`): same rounding, prefixes and layouts.

use super::Val;
use crate::gofmt::{format_e, format_f, format_g};

/// Prometheus's `humanize`: SI prefixes, 4 significant digits.
pub fn humanize(mut v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format_g(v, Some(4));
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", format_g(v, Some(4)))
}

pub(super) fn humanize1024(mut v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return format_g(v, Some(4));
    }
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", format_g(v, Some(4)))
}

pub(super) fn humanize_duration(mut v: f64) -> String {
    if !v.is_finite() {
        return format_g(v, Some(4));
    }
    if v == 0.0 {
        return format!("{}s", format_g(v, Some(4)));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        v = v.abs();
        let d = v as i64;
        let (s, m, h, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86400);
        return if days != 0 {
            format!("{sign}{days}d {h}h {m}m {s}s")
        } else if h != 0 {
            format!("{sign}{h}h {m}m {s}s")
        } else if m != 0 {
            format!("{sign}{m}m {s}s")
        } else {
            format!("{sign}{}s", format_g(v, Some(4)))
        };
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", format_g(v, Some(4)))
}

/// Go's `strings.Title`: upper-cases the first letter of each word.
pub(super) fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at_start = true;
    for c in s.chars() {
        if at_start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        at_start = !(c.is_alphanumeric() || c == '_' || c == '\'');
    }
    out
}

/// Go's `fmt.Sprintf` for the verbs templates use.
pub(super) fn printf(format: &str, args: &[Val]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut left, mut zero, mut plus) = (false, false, false);
        while let Some(&f) = chars.peek() {
            match f {
                '-' => left = true,
                '0' => zero = true,
                '+' => plus = true,
                _ => break,
            }
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(p.parse().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.next() else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        let bad = || format!("%!{verb}({}={})", arg.go_type(), arg.print());
        let mut text = match (verb, arg) {
            ('v' | 's', v) => v.print(),
            ('q', Val::Str(s)) => format!("{s:?}"),
            ('d', Val::Num(_)) => bad(),
            ('f' | 'F', Val::Num(v)) => format_f(*v, precision.unwrap_or(6)),
            ('e', Val::Num(v)) => format_e(*v, precision.unwrap_or(6)),
            ('g', Val::Num(v)) => format_g(*v, precision),
            _ => bad(),
        };
        if plus && matches!(arg, Val::Num(v) if *v >= 0.0) && "fFeg".contains(verb) {
            text.insert(0, '+');
        }
        let width: usize = width.parse().unwrap_or(0);
        let len = text.chars().count();
        if len < width {
            let pad = width - len;
            if left {
                text.push_str(&" ".repeat(pad));
            } else if zero && matches!(arg, Val::Num(_)) {
                let at = usize::from(text.starts_with(['-', '+']));
                text.insert_str(at, &"0".repeat(pad));
            } else {
                text.insert_str(0, &" ".repeat(pad));
            }
        }
        out.push_str(&text);
    }
    for extra in args {
        out.push_str(&format!("%!(EXTRA {}={})", extra.go_type(), extra.print()));
    }
    out
}
