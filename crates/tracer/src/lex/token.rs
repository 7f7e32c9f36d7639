//! Token kinds and how parse errors name them.

use crate::span::Span;

/// A token kind, with its value for literals and names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// A probe header word (`BEGIN`, `t:sched:sched_switch`, …).
    AttachPoint(String),
    /// A bare identifier (`pid`, `count`, `if`, …).
    Ident(String),
    /// A scratch variable, with its `$`.
    Var(String),
    /// A map name with its `@` (just `@` for the anonymous map).
    Map(String),
    /// An integer literal (64-bit two's complement bits).
    Int(i64),
    /// A string literal, escapes resolved.
    Str(String),
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Semi,
    Question,
    Colon,
    Dot,
    Arrow,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Amp,
    Pipe,
    Caret,
    Tilde,
    Bang,
    Shl,
    Shr,
    Assign,
    EqEq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    PlusPlus,
    MinusMinus,
    /// A compound assignment such as `+=`; the operator token without `=`.
    OpAssign(Box<Tok>),
    /// End of input.
    Eof,
}

impl Tok {
    /// How a parse error names this token (bison-like: `;`, `identifier`, …).
    pub fn describe(&self) -> String {
        match self {
            Tok::AttachPoint(s) => format!("probe '{s}'"),
            Tok::Ident(s) => format!("identifier '{s}'"),
            Tok::Var(s) => format!("variable {s}"),
            Tok::Map(s) => format!("map {s}"),
            Tok::Int(_) => "integer".to_string(),
            Tok::Str(_) => "string".to_string(),
            Tok::Eof => "end of file".to_string(),
            Tok::OpAssign(op) => format!("{}=", op.describe()),
            other => other.symbol().to_string(),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Semi => ";",
            Tok::Question => "?",
            Tok::Colon => ":",
            Tok::Dot => ".",
            Tok::Arrow => "->",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Amp => "&",
            Tok::Pipe => "|",
            Tok::Caret => "^",
            Tok::Tilde => "~",
            Tok::Bang => "!",
            Tok::Shl => "<<",
            Tok::Shr => ">>",
            Tok::Assign => "=",
            Tok::EqEq => "==",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            Tok::PlusPlus => "++",
            Tok::MinusMinus => "--",
            _ => "token",
        }
    }
}

/// A token and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Where it is.
    pub span: Span,
}
