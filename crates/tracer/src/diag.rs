//! Compile errors of a trace program and their rendering in bpftrace's layout.
//!
//! bpftrace 0.17 prints, for an error on one line:
//!
//! ```text
//! stdin:1:14-20: ERROR: Unknown identifier: 'nosuch'
//! BEGIN { @x = nosuch; }
//!              ~~~~~~
//! ```
//!
//! (tabs in the source line become four spaces, in the marker too) and, for an
//! error spanning lines, only `stdin:2-3: ERROR: …`. Parse errors stop at the
//! first one; semantic errors are all reported, in source order.

use crate::span::Span;
use std::fmt;
use thiserror::Error;

/// One error with the source range it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where in the program text.
    pub span: Span,
    /// What is wrong, without position (e.g. `Unknown function: foo`).
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at `span`.
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Self {
            span,
            message: message.into(),
        }
    }

    /// Renders the error as bpftrace does: position line, source line, marker.
    /// `file` is `stdin` for a program given on the command line.
    pub fn render(&self, file: &str, source: &str) -> String {
        let span = self.span;
        if span.end_line > span.line {
            return format!(
                "{file}:{}-{}: ERROR: {}\n",
                span.line, span.end_line, self.message
            );
        }
        let end_col = span.end_col.max(span.col + 1);
        let mut out = format!(
            "{file}:{}:{}-{}: ERROR: {}\n",
            span.line, span.col, end_col, self.message
        );
        let line_text = source
            .split('\n')
            .nth(span.line.saturating_sub(1) as usize)
            .unwrap_or("");
        let line_text = line_text.strip_suffix('\r').unwrap_or(line_text);
        out.push_str(&line_text.replace('\t', "    "));
        out.push('\n');
        let before = span.col.saturating_sub(1) as usize;
        let mut marker = String::new();
        for (i, byte) in line_text.bytes().enumerate() {
            if i >= before {
                break;
            }
            marker.push_str(if byte == b'\t' { "    " } else { " " });
        }
        let missing = before.saturating_sub(line_text.len());
        marker.push_str(&" ".repeat(missing));
        marker.push_str(&"~".repeat((end_col - span.col) as usize));
        out.push_str(&marker);
        out.push('\n');
        out
    }
}

/// Every error found in a program; never empty when returned as an error.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// A single error.
    pub fn one(span: Span, message: impl Into<String>) -> Self {
        Self(vec![Diagnostic::new(span, message)])
    }

    /// All errors rendered one after the other, as bpftrace prints them.
    pub fn render(&self, file: &str, source: &str) -> String {
        self.0.iter().map(|d| d.render(file, source)).collect()
    }
}

impl fmt::Display for Diagnostics {
    /// Position and message of each error, one per line (no source excerpt;
    /// use [`Diagnostics::render`] for bpftrace's full layout).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{}:{}-{}: ERROR: {}",
                d.span.line, d.span.col, d.span.end_col, d.message
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(line: u32, col: u32, end_col: u32) -> Span {
        Span {
            start: 0,
            end: 0,
            line,
            col,
            end_line: line,
            end_col,
        }
    }

    #[test]
    fn renders_bpftrace_layout() {
        let d = Diagnostic::new(span(1, 14, 20), "Unknown identifier: 'nosuch'");
        assert_eq!(
            d.render("stdin", "BEGIN { @x = nosuch; }"),
            "stdin:1:14-20: ERROR: Unknown identifier: 'nosuch'\n\
             BEGIN { @x = nosuch; }\n             ~~~~~~\n"
        );
    }

    #[test]
    fn expands_tabs_in_line_and_marker() {
        let d = Diagnostic::new(span(2, 7, 10), "Unknown identifier: 'foo'");
        assert_eq!(
            d.render("stdin", "BEGIN {\n\t@x = foo;\n}"),
            "stdin:2:7-10: ERROR: Unknown identifier: 'foo'\n    @x = foo;\n         ~~~\n"
        );
    }

    #[test]
    fn multi_line_span_has_no_excerpt() {
        let mut s = span(2, 3, 9);
        s.end_line = 3;
        let d = Diagnostic::new(s, "printf: oops");
        assert_eq!(
            d.render("a.bt", "x\ny\nz"),
            "a.bt:2-3: ERROR: printf: oops\n"
        );
    }
}
