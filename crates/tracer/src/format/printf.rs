//! `printf` formats: parsing the format string (the checker counts and types
//! the arguments from it) and rendering it with the values a probe sent.
//!
//! bpftrace 0.17 hands the format to the C library, so the rules are C's,
//! limited to what bpftrace recognises: `%[-][width][.precision][length]conv`
//! with conv one of `d u x X o c s p` (and `%i`, which 0.17 rejects and newer
//! releases accept) and length `hh h l ll j z t`. Without a length an integer
//! is C's 32-bit `int` (so `%x` of -1 is `ffffffff`); `l`/`ll`/`j`/`z`/`t` are
//! 64-bit, `h` 16-bit, `hh` 8-bit. A `%` starting anything else is printed
//! as is; `%%` is one `%`.
//!
//! Two deliberate differences from 0.17, whose printf cuts the format into
//! one C `printf` call per argument: 0.17 prints the text after the last
//! conversion raw (`printf("100%%\n")` prints `100%%`), and it counts the
//! `%d` of `%%d` as a conversion. Here `%%` is always `%`, as in C and in
//! later bpftrace releases.

/// A piece of a parsed format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Text printed as is (`%%` already reduced to `%`).
    Literal(String),
    /// A conversion taking one argument.
    Spec(Spec),
}

/// One `%…` conversion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// `-`: pad on the right.
    pub left: bool,
    /// Width starting with `0`: pad numbers with zeros.
    pub zero: bool,
    /// Minimum field width.
    pub width: Option<usize>,
    /// `.N`: minimum digits, or maximum string bytes.
    pub precision: Option<usize>,
    /// Integer width the value is cut to.
    pub bits: u32,
    /// The conversion.
    pub conv: Conv,
    /// The spec as written (for messages), e.g. `%-16s`.
    pub text: String,
}

/// Conversion characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conv {
    /// `%d` / `%i`
    Signed,
    /// `%u`
    Unsigned,
    /// `%x`
    Hex,
    /// `%X`
    HexUpper,
    /// `%o`
    Octal,
    /// `%c`
    Char,
    /// `%s`
    Str,
    /// `%p`
    Pointer,
}

impl Conv {
    /// Whether the argument must be a string (else an integer).
    pub fn wants_string(self) -> bool {
        self == Conv::Str
    }
}

/// A value to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrintfArg {
    /// Any integer (its 64 bits).
    Int(i64),
    /// A string (or a resolved stack, symbol or probe name).
    Str(String),
}

const MAX_WIDTH: usize = 4096;

/// Splits a format into literal text and conversions.
pub fn parse_format(format: &str) -> Vec<Piece> {
    let bytes = format.as_bytes();
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            let next = format[i..].find('%').map_or(bytes.len(), |n| i + n);
            literal.push_str(&format[i..next]);
            i = next;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'%') {
            literal.push('%');
            i += 2;
            continue;
        }
        match spec_at(format, i) {
            Some((spec, end)) => {
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Spec(spec));
                i = end;
            }
            None => {
                literal.push('%');
                i += 1;
            }
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    pieces
}

fn digits(bytes: &[u8], mut i: usize) -> (Option<usize>, usize) {
    let start = i;
    let mut value: usize = 0;
    while let Some(d) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
        value = value
            .saturating_mul(10)
            .saturating_add(usize::from(d - b'0'));
        i += 1;
    }
    ((i > start).then_some(value.min(MAX_WIDTH)), i)
}

fn spec_at(format: &str, start: usize) -> Option<(Spec, usize)> {
    let bytes = format.as_bytes();
    let mut i = start + 1;
    let left = bytes.get(i) == Some(&b'-');
    if left {
        i += 1;
    }
    let zero = bytes.get(i) == Some(&b'0');
    let (width, after_width) = digits(bytes, i);
    i = after_width;
    let mut precision = None;
    if bytes.get(i) == Some(&b'.') {
        let (p, after) = digits(bytes, i + 1);
        precision = Some(p?);
        i = after;
    }
    let rest = &format[i..];
    let (bits, length_len) = [
        ("hh", 8),
        ("h", 16),
        ("ll", 64),
        ("l", 64),
        ("j", 64),
        ("z", 64),
        ("t", 64),
    ]
    .iter()
    .find(|(p, _)| rest.starts_with(p))
    .map_or((32, 0), |(p, b)| (*b, p.len()));
    i += length_len;
    let conv = match bytes.get(i)? {
        b'd' | b'i' => Conv::Signed,
        b'u' => Conv::Unsigned,
        b'x' => Conv::Hex,
        b'X' => Conv::HexUpper,
        b'o' => Conv::Octal,
        b'c' if length_len == 0 => Conv::Char,
        b's' if length_len == 0 => Conv::Str,
        b'p' if length_len == 0 => Conv::Pointer,
        _ => return None,
    };
    let end = i + 1;
    Some((
        Spec {
            left,
            zero,
            width,
            precision,
            bits,
            conv,
            text: format[start..end].to_string(),
        },
        end,
    ))
}

/// The conversions of a parsed format, in order.
pub fn specs(pieces: &[Piece]) -> impl Iterator<Item = &Spec> {
    pieces.iter().filter_map(|p| match p {
        Piece::Spec(s) => Some(s),
        Piece::Literal(_) => None,
    })
}

/// Renders a parsed format with its arguments. A missing argument prints as
/// 0 or the empty string, a string given to an integer conversion as 0
/// (the checker prevents both).
pub fn format_printf(pieces: &[Piece], args: &[PrintfArg]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Spec(spec) => {
                let arg = args.next();
                out.push_str(&render(spec, arg));
            }
        }
    }
    out
}

fn render(spec: &Spec, arg: Option<&PrintfArg>) -> String {
    let int = match arg {
        Some(PrintfArg::Int(v)) => *v,
        _ => 0,
    };
    let (body, numeric) = match spec.conv {
        Conv::Str => {
            let s = match arg {
                Some(PrintfArg::Str(s)) => s.as_str(),
                _ => "",
            };
            let s = match spec.precision {
                Some(p) if p < s.len() => s.get(..p).unwrap_or(s),
                _ => s,
            };
            (s.to_string(), false)
        }
        Conv::Char => (char::from(int as u8).to_string(), false),
        Conv::Pointer => {
            if int == 0 {
                ("(nil)".to_string(), false)
            } else {
                (format!("0x{:x}", int as u64), false)
            }
        }
        Conv::Signed => {
            let v = sign_cut(int, spec.bits);
            let digits = with_precision(v.unsigned_abs().to_string(), spec.precision);
            (if v < 0 { format!("-{digits}") } else { digits }, true)
        }
        Conv::Unsigned => (
            with_precision(cut(int, spec.bits).to_string(), spec.precision),
            true,
        ),
        Conv::Hex => (
            with_precision(format!("{:x}", cut(int, spec.bits)), spec.precision),
            true,
        ),
        Conv::HexUpper => (
            with_precision(format!("{:X}", cut(int, spec.bits)), spec.precision),
            true,
        ),
        Conv::Octal => (
            with_precision(format!("{:o}", cut(int, spec.bits)), spec.precision),
            true,
        ),
    };
    pad(spec, body, numeric)
}

fn cut(v: i64, bits: u32) -> u64 {
    if bits >= 64 {
        v as u64
    } else {
        (v as u64) & ((1u64 << bits) - 1)
    }
}

fn sign_cut(v: i64, bits: u32) -> i64 {
    if bits >= 64 {
        v
    } else {
        let shift = 64 - bits;
        (v << shift) >> shift
    }
}

fn with_precision(digits: String, precision: Option<usize>) -> String {
    match precision {
        Some(0) if digits == "0" => String::new(),
        Some(p) if p > digits.len() => format!("{}{digits}", "0".repeat(p - digits.len())),
        _ => digits,
    }
}

fn pad(spec: &Spec, body: String, numeric: bool) -> String {
    let width = spec.width.unwrap_or(0);
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if spec.left {
        format!("{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric && spec.precision.is_none() {
        match body.strip_prefix('-') {
            Some(rest) => format!("-{}{rest}", "0".repeat(fill)),
            None => format!("{}{body}", "0".repeat(fill)),
        }
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(format: &str, args: &[PrintfArg]) -> String {
        format_printf(&parse_format(format), args)
    }

    fn i(v: i64) -> PrintfArg {
        PrintfArg::Int(v)
    }

    fn s(v: &str) -> PrintfArg {
        PrintfArg::Str(v.to_string())
    }

    #[test]
    fn conversions_as_bpftrace_0_17_prints_them() {
        assert_eq!(
            fmt("%d|%u|%x|%X|%o", &[i(-5), i(-1), i(-1), i(255), i(-1)]),
            "-5|4294967295|ffffffff|FF|37777777777"
        );
        assert_eq!(
            fmt(
                "%lu|%llu|%ld|%lld|%lx",
                &[i(10), i(11), i(-12), i(13), i(-1)]
            ),
            "10|11|-12|13|ffffffffffffffff"
        );
        assert_eq!(
            fmt(
                "%hhu %hd %hhx %hhd %hd",
                &[i(-1), i(-1), i(-1), i(300), i(70000)]
            ),
            "255 -1 ff 44 4464"
        );
        assert_eq!(fmt("%c%c", &[i(65), i(256 + 66)]), "AB");
        assert_eq!(fmt("%p %p", &[i(0), i(4096)]), "(nil) 0x1000");
        assert_eq!(fmt("%ld", &[i(-1)]), "-1");
        assert_eq!(fmt("%d", &[i(i64::MIN)]), "0");
    }

    #[test]
    fn widths_flags_and_precision() {
        assert_eq!(
            fmt("[%5d][%-5d][%05d][%-010d]", &[i(42), i(42), i(42), i(65)]),
            "[   42][42   ][00042][65        ]"
        );
        assert_eq!(
            fmt("[%-16s][%16s]", &[s("left"), s("right")]),
            "[left            ][           right]"
        );
        assert_eq!(
            fmt(
                "[%.3s][%-5.3s][%5.2d][%3c][%-3c]",
                &[s("abcdef"), s("abcdef"), i(5), i(65), i(66)]
            ),
            "[abc][abc  ][   05][  A][B  ]"
        );
        assert_eq!(fmt("[%05d]", &[i(-42)]), "[-0042]");
        assert_eq!(fmt("[%10x]", &[i(65)]), "[        41]");
    }

    #[test]
    fn percent_and_unknown_specs_print_as_written() {
        assert_eq!(fmt("100%% [%+d] [%5%] %", &[]), "100% [%+d] [%5%] %");
        assert_eq!(specs(&parse_format("%+d % d %#x")).count(), 0);
        assert_eq!(specs(&parse_format("%d %s %-16s %llu %i")).count(), 5);
    }

    #[test]
    fn spec_text_is_kept_for_messages() {
        let pieces = parse_format("a %-16s b");
        let spec = specs(&pieces).next().unwrap();
        assert_eq!(spec.text, "%-16s");
        assert!(spec.conv.wants_string());
    }
}
