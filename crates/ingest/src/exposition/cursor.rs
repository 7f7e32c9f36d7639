//! A cursor over one exposition line: metric and label names, quoted label
//! values and HELP text with their escapes, and whitespace-separated tokens.
//! Errors are plain messages; the parser adds the line number.

/// Position in one line (without its `\n`).
pub(super) struct Cursor<'a> {
    line: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(line: &'a str) -> Self {
        Self { line, pos: 0 }
    }

    /// The next byte, if any.
    pub(super) fn peek(&self) -> Option<u8> {
        self.line.as_bytes().get(self.pos).copied()
    }

    /// Consumes `byte` if it comes next.
    pub(super) fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `byte` or says what came instead.
    pub(super) fn expect(&mut self, byte: u8, after: &str) -> Result<(), String> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(format!(
                "expected '{}' {after}, found {}",
                byte as char,
                self.describe_next()
            ))
        }
    }

    /// Skips spaces and tabs; returns how many.
    pub(super) fn skip_blanks(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Whether the whole line is consumed.
    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.line.len()
    }

    /// The unconsumed rest of the line.
    pub(super) fn rest(&self) -> &'a str {
        &self.line[self.pos..]
    }

    /// "'x'" for the next character, or "the end of the line".
    pub(super) fn describe_next(&self) -> String {
        match self.rest().chars().next() {
            Some(c) => format!("{c:?}"),
            None => "the end of the line".to_string(),
        }
    }

    /// A metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    pub(super) fn metric_name(&mut self) -> Result<&'a str, String> {
        self.name(true)
            .ok_or_else(|| format!("expected a metric name, found {}", self.describe_next()))
    }

    /// A label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
    pub(super) fn label_name(&mut self) -> Result<&'a str, String> {
        self.name(false)
            .ok_or_else(|| format!("expected a label name, found {}", self.describe_next()))
    }

    fn name(&mut self, colons: bool) -> Option<&'a str> {
        let bytes = self.line.as_bytes();
        let start = self.pos;
        let mut end = start;
        while let Some(&b) = bytes.get(end) {
            let ok = b.is_ascii_alphabetic()
                || b == b'_'
                || (colons && b == b':')
                || (end > start && b.is_ascii_digit());
            if !ok {
                break;
            }
            end += 1;
        }
        (end > start).then(|| {
            self.pos = end;
            &self.line[start..end]
        })
    }

    /// A `"`-quoted label value, the opening quote next. `\\`, `\"` and `\n`
    /// are decoded; another escaped character is kept with its backslash, as
    /// Prometheus's text parser keeps it.
    pub(super) fn quoted(&mut self) -> Result<String, String> {
        self.expect(b'"', "to open a label value")?;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, '"')) => out.push('"'),
                    Some((_, other)) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err("label value not closed with '\"' before the end of the line".to_string())
    }

    /// The characters up to the next space or tab (or the end).
    pub(super) fn token(&mut self) -> &'a str {
        let rest = self.rest();
        let len = rest.find([' ', '\t']).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }
}

/// HELP text with `\\`, `\n` (and, in OpenMetrics, `\"`) decoded; other
/// escapes are kept as written.
pub(super) fn unescape_help(text: &str, quotes: bool) -> String {
    if !text.contains('\\') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('"') if quotes => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A sample value: a float, `+Inf`/`-Inf`/`Inf`, or `NaN` (any case).
pub(super) fn parse_value(token: &str) -> Result<f64, String> {
    if token.is_empty() {
        return Err("expected a sample value, found the end of the line".to_string());
    }
    // Rust's parser also takes "infinity" and "nan" in any case, as Go's does.
    match token.parse::<f64>() {
        // Any NaN becomes the plain one: a scraped NaN must never read as a staleness marker.
        Ok(v) if v.is_nan() => Ok(f64::NAN),
        Ok(v) => Ok(v),
        Err(_) => Err(format!(
            "invalid sample value {token:?} (expected a number, +Inf, -Inf or NaN)"
        )),
    }
}
