//! Source positions: where a token or an AST node sits in the program text.
//!
//! Lines and columns are 1-based and count bytes, as bpftrace's (bison)
//! locations do; `end_col` is one past the last byte, so `col..end_col` is the
//! range bpftrace prints as `stdin:1:14-20`. This file only describes
//! positions; turning them into messages is `diag.rs`'s job.

/// A byte range of the source with its line and column coordinates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// Line of the first byte (1-based).
    pub line: u32,
    /// Column of the first byte (1-based, in bytes).
    pub col: u32,
    /// Line of the last byte (1-based).
    pub end_line: u32,
    /// Column one past the last byte on `end_line`.
    pub end_col: u32,
}

impl Span {
    /// The smallest span covering `self` and `other` (which must come later).
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start,
            end: other.end.max(self.end),
            line: self.line,
            col: self.col,
            end_line: other.end_line,
            end_col: other.end_col,
        }
    }
}
