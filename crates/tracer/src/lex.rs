//! Lexer: program text to tokens with spans.
//!
//! bpftrace's text has two lexical worlds. Outside action blocks (and
//! predicates) a probe header is a run of non-blank characters such as
//! `uprobe:/usr/bin/bash:readline` or `tracepoint:syscalls:sys_enter_*`, lexed
//! whole as [`Tok::AttachPoint`]; a `/` at the start of a word opens a
//! predicate, `{` opens the action block. Inside predicates and blocks the
//! usual C-like tokens apply. Comments (`//`, `/* */`) are skipped everywhere.
//! The lexer does not know the grammar; `parse.rs` does.

mod token;

pub use token::{Tok, Token};

use crate::diag::Diagnostics;
use crate::span::Span;

/// Splits `source` into tokens, ending with [`Tok::Eof`].
pub fn lex(source: &str) -> Result<Vec<Token>, Diagnostics> {
    Lexer::new(source).run()
}

struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    line: u32,
    col: u32,
    depth: u32,
    in_predicate: bool,
    out: Vec<Token>,
}

/// Operators, longest first so that `<<=` wins over `<<` and `<`.
const OPERATORS: &[(&str, Tok)] = &[
    ("<<=", Tok::Shl),
    (">>=", Tok::Shr),
    ("->", Tok::Arrow),
    ("==", Tok::EqEq),
    ("!=", Tok::Ne),
    ("<=", Tok::Le),
    (">=", Tok::Ge),
    ("&&", Tok::AndAnd),
    ("||", Tok::OrOr),
    ("++", Tok::PlusPlus),
    ("--", Tok::MinusMinus),
    ("<<", Tok::Shl),
    (">>", Tok::Shr),
    ("+=", Tok::Plus),
    ("-=", Tok::Minus),
    ("*=", Tok::Star),
    ("/=", Tok::Slash),
    ("%=", Tok::Percent),
    ("&=", Tok::Amp),
    ("|=", Tok::Pipe),
    ("^=", Tok::Caret),
    ("(", Tok::LParen),
    (")", Tok::RParen),
    ("{", Tok::LBrace),
    ("}", Tok::RBrace),
    ("[", Tok::LBracket),
    ("]", Tok::RBracket),
    (",", Tok::Comma),
    (";", Tok::Semi),
    ("?", Tok::Question),
    (":", Tok::Colon),
    (".", Tok::Dot),
    ("+", Tok::Plus),
    ("-", Tok::Minus),
    ("*", Tok::Star),
    ("/", Tok::Slash),
    ("%", Tok::Percent),
    ("&", Tok::Amp),
    ("|", Tok::Pipe),
    ("^", Tok::Caret),
    ("~", Tok::Tilde),
    ("!", Tok::Bang),
    ("=", Tok::Assign),
    ("<", Tok::Lt),
    (">", Tok::Gt),
];

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'a> Lexer<'a> {
    fn new(source: &'a str) -> Self {
        Self {
            src: source.as_bytes(),
            pos: 0,
            line: 1,
            col: 1,
            depth: 0,
            in_predicate: false,
            out: Vec::new(),
        }
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.src.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) {
        if let Some(b) = self.peek(0) {
            self.pos += 1;
            if b == b'\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
        }
    }

    fn mark(&self) -> (usize, u32, u32) {
        (self.pos, self.line, self.col)
    }

    fn span_from(&self, mark: (usize, u32, u32)) -> Span {
        Span {
            start: mark.0,
            end: self.pos,
            line: mark.1,
            col: mark.2,
            end_line: self.line,
            end_col: self.col,
        }
    }

    fn text(&self, from: usize) -> String {
        String::from_utf8_lossy(self.src.get(from..self.pos).unwrap_or_default()).into_owned()
    }

    fn push(&mut self, tok: Tok, mark: (usize, u32, u32)) {
        let span = self.span_from(mark);
        self.out.push(Token { tok, span });
    }

    fn in_header(&self) -> bool {
        self.depth == 0 && !self.in_predicate
    }

    fn run(mut self) -> Result<Vec<Token>, Diagnostics> {
        if self.src.starts_with(b"#!") {
            while self.peek(0).is_some_and(|b| b != b'\n') {
                self.bump();
            }
        }
        loop {
            self.skip_blank_and_comments()?;
            let mark = self.mark();
            let Some(b) = self.peek(0) else {
                self.push(Tok::Eof, mark);
                return Ok(self.out);
            };
            if self.in_header() {
                self.header_token(b, mark);
            } else {
                self.code_token(b, mark)?;
            }
        }
    }

    fn skip_blank_and_comments(&mut self) -> Result<(), Diagnostics> {
        loop {
            match (self.peek(0), self.peek(1)) {
                (Some(b), _) if b.is_ascii_whitespace() => self.bump(),
                (Some(b'/'), Some(b'/')) => {
                    while self.peek(0).is_some_and(|b| b != b'\n') {
                        self.bump();
                    }
                }
                (Some(b'/'), Some(b'*')) => {
                    let mark = self.mark();
                    self.bump();
                    self.bump();
                    loop {
                        match (self.peek(0), self.peek(1)) {
                            (Some(b'*'), Some(b'/')) => {
                                self.bump();
                                self.bump();
                                break;
                            }
                            (Some(_), _) => self.bump(),
                            (None, _) => {
                                return Err(Diagnostics::one(
                                    self.span_from(mark),
                                    "unterminated comment",
                                ))
                            }
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn header_token(&mut self, b: u8, mark: (usize, u32, u32)) {
        match b {
            b',' => {
                self.bump();
                self.push(Tok::Comma, mark);
            }
            b'{' => {
                self.bump();
                self.depth = 1;
                self.push(Tok::LBrace, mark);
            }
            b'}' => {
                self.bump();
                self.push(Tok::RBrace, mark);
            }
            b'/' => {
                self.bump();
                self.in_predicate = true;
                self.push(Tok::Slash, mark);
            }
            _ => {
                while let Some(b) = self.peek(0) {
                    if b.is_ascii_whitespace() || matches!(b, b',' | b'{' | b'}') {
                        break;
                    }
                    // A path may hold `/`; elsewhere `/` opens the predicate
                    // (`t:sched:sched_switch/pid == 1/{ … }`).
                    if b == b'/' && !self.text(mark.0).starts_with('u') {
                        break;
                    }
                    self.bump();
                }
                let word = self.text(mark.0);
                self.push(Tok::AttachPoint(word), mark);
            }
        }
    }

    fn code_token(&mut self, b: u8, mark: (usize, u32, u32)) -> Result<(), Diagnostics> {
        if is_ident_start(b) {
            while self.peek(0).is_some_and(is_ident_char) {
                self.bump();
            }
            let word = self.text(mark.0);
            self.push(Tok::Ident(word), mark);
            return Ok(());
        }
        if b == b'$' || b == b'@' {
            self.bump();
            while self.peek(0).is_some_and(is_ident_char) {
                self.bump();
            }
            let name = self.text(mark.0);
            if b == b'$' {
                if name.len() == 1 {
                    return Err(Diagnostics::one(
                        self.span_from(mark),
                        "syntax error, expected a variable name after '$'",
                    ));
                }
                self.push(Tok::Var(name), mark);
            } else {
                self.push(Tok::Map(name), mark);
            }
            return Ok(());
        }
        if b.is_ascii_digit() {
            return self.number(mark);
        }
        if b == b'"' {
            return self.string(mark);
        }
        for (text, tok) in OPERATORS {
            if self
                .src
                .get(self.pos..)
                .is_some_and(|rest| rest.starts_with(text.as_bytes()))
            {
                for _ in 0..text.len() {
                    self.bump();
                }
                let compound = text.len() >= 2
                    && text.ends_with('=')
                    && !matches!(*text, "==" | "!=" | "<=" | ">=");
                let tok = if compound {
                    Tok::OpAssign(Box::new(tok.clone()))
                } else {
                    tok.clone()
                };
                self.track_nesting(&tok);
                self.push(tok, mark);
                return Ok(());
            }
        }
        self.bump();
        let shown = if b.is_ascii_graphic() {
            format!("'{}'", b as char)
        } else {
            format!("byte 0x{b:02x}")
        };
        Err(Diagnostics::one(
            self.span_from(mark),
            format!("syntax error, unexpected character {shown}"),
        ))
    }

    fn track_nesting(&mut self, tok: &Tok) {
        match tok {
            Tok::LBrace => {
                if self.depth == 0 {
                    self.in_predicate = false;
                }
                self.depth += 1;
            }
            Tok::RBrace => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
    }

    fn number(&mut self, mark: (usize, u32, u32)) -> Result<(), Diagnostics> {
        let hex = self.peek(0) == Some(b'0') && matches!(self.peek(1), Some(b'x' | b'X'));
        if hex {
            self.bump();
            self.bump();
        }
        while self
            .peek(0)
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            self.bump();
        }
        let text = self.text(mark.0);
        let digits: String = text
            .chars()
            .skip(if hex { 2 } else { 0 })
            .filter(|&c| c != '_')
            .collect();
        let parsed = if hex {
            u64::from_str_radix(&digits, 16)
        } else {
            digits.parse::<u64>()
        };
        match parsed {
            Ok(value) if !digits.is_empty() => {
                self.push(Tok::Int(value as i64), mark);
                Ok(())
            }
            _ => Err(Diagnostics::one(
                self.span_from(mark),
                format!("invalid integer literal '{text}' (decimal or 0x hex, at most 64 bits)"),
            )),
        }
    }

    fn string(&mut self, mark: (usize, u32, u32)) -> Result<(), Diagnostics> {
        self.bump();
        let mut value = String::new();
        loop {
            let Some(b) = self.peek(0) else {
                return Err(Diagnostics::one(
                    self.span_from(mark),
                    "unterminated string",
                ));
            };
            match b {
                b'"' => {
                    self.bump();
                    break;
                }
                b'\n' => {
                    return Err(Diagnostics::one(
                        self.span_from(mark),
                        "unterminated string",
                    ));
                }
                b'\\' => {
                    let esc_mark = self.mark();
                    self.bump();
                    value.push(self.escape(esc_mark)?);
                }
                _ => {
                    let start = self.pos;
                    self.bump();
                    while self.peek(0).is_some_and(|b| b & 0xC0 == 0x80) {
                        self.bump();
                    }
                    value.push_str(&self.text(start));
                }
            }
        }
        self.push(Tok::Str(value), mark);
        Ok(())
    }

    fn escape(&mut self, mark: (usize, u32, u32)) -> Result<char, Diagnostics> {
        let Some(b) = self.peek(0) else {
            return Err(Diagnostics::one(
                self.span_from(mark),
                "unterminated string",
            ));
        };
        self.bump();
        let simple = match b {
            b'n' => Some('\n'),
            b't' => Some('\t'),
            b'r' => Some('\r'),
            b'\\' => Some('\\'),
            b'"' => Some('"'),
            b'\'' => Some('\''),
            b'?' => Some('?'),
            b'a' => Some('\x07'),
            b'b' => Some('\x08'),
            b'f' => Some('\x0c'),
            b'v' => Some('\x0b'),
            b'e' => Some('\x1b'),
            _ => None,
        };
        if let Some(c) = simple {
            return Ok(c);
        }
        let (radix, max_digits, mut value) = match b {
            b'x' => (16, 2, 0u32),
            b'0'..=b'7' => (8, 2, u32::from(b - b'0')),
            _ => {
                return Err(Diagnostics::one(
                    self.span_from(mark),
                    format!("invalid escape sequence '\\{}' in string", b as char),
                ))
            }
        };
        let mut seen = 0;
        while seen < max_digits {
            let Some(d) = self.peek(0).and_then(|d| (d as char).to_digit(radix)) else {
                break;
            };
            value = value * radix + d;
            seen += 1;
            self.bump();
        }
        if radix == 16 && seen == 0 {
            return Err(Diagnostics::one(
                self.span_from(mark),
                "invalid escape sequence '\\x' in string: expected hex digits",
            ));
        }
        match char::from_u32(value) {
            Some(c) if value < 0x80 => Ok(c),
            _ => Err(Diagnostics::one(
                self.span_from(mark),
                format!(
                    "escape sequence value {value:#x} is not ASCII (only 0x00-0x7f are supported)"
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests;
