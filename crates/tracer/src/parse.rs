//! Parser: tokens to [`Program`], stopping at the first syntax error as
//! bpftrace does (`stdin:1:14-15: ERROR: syntax error, unexpected ;`).
//!
//! Recursive descent over the token list from `lex.rs`. This file holds the
//! program, probe, block and statement levels; `parse/expr.rs` the
//! expressions and `parse/attach.rs` the attach-point texts. Nesting is
//! bounded ([`MAX_DEPTH`]) so no input can exhaust the stack, here or in the
//! passes that walk the tree.

mod attach;
mod expr;

use crate::ast::{
    AttachPoint, BinOp, Block, Expr, ExprKind, LValue, MapAccess, Probe, Program, Stmt, StmtKind,
    VarRef,
};
use crate::diag::Diagnostics;
use crate::lex::{lex, Tok, Token};
use crate::span::Span;

/// Deepest nesting of blocks and sub-expressions accepted.
pub const MAX_DEPTH: u32 = 128;

/// Parses a whole program.
pub fn parse(source: &str) -> Result<Program, Diagnostics> {
    let tokens = lex(source)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
        in_predicate: false,
    };
    parser.program()
}

pub(crate) struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: u32,
    in_predicate: bool,
}

impl Parser {
    fn peek(&self) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.pos.min(last)]
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[(self.pos + ahead).min(last)].tok
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn at(&self, tok: &Tok) -> bool {
        &self.peek().tok == tok
    }

    fn eat(&mut self, tok: &Tok) -> Option<Span> {
        if self.at(tok) {
            Some(self.next().span)
        } else {
            None
        }
    }

    fn unexpected(&self, expecting: &str) -> Diagnostics {
        let token = self.peek();
        let mut message = format!("syntax error, unexpected {}", token.tok.describe());
        if !expecting.is_empty() {
            message.push_str(", expecting ");
            message.push_str(expecting);
        }
        Diagnostics::one(token.span, message)
    }

    fn expect(&mut self, tok: &Tok, expecting: &str) -> Result<Span, Diagnostics> {
        self.eat(tok).ok_or_else(|| self.unexpected(expecting))
    }

    fn enter(&mut self, span: Span) -> Result<(), Diagnostics> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Diagnostics::one(
                span,
                format!("program nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn program(&mut self) -> Result<Program, Diagnostics> {
        let mut probes = Vec::new();
        while !self.at(&Tok::Eof) {
            probes.push(self.probe()?);
        }
        if probes.is_empty() {
            return Err(Diagnostics::one(
                self.peek().span,
                "no probes: a program needs at least one, e.g. BEGIN { printf(\"hello\\n\"); }",
            ));
        }
        Ok(Program { probes })
    }

    fn probe(&mut self) -> Result<Probe, Diagnostics> {
        let mut attach_points = vec![self.attach_point()?];
        while self.eat(&Tok::Comma).is_some() {
            attach_points.push(self.attach_point()?);
        }
        let predicate = if self.eat(&Tok::Slash).is_some() {
            self.in_predicate = true;
            let expr = self.expr();
            self.in_predicate = false;
            let expr = expr?;
            self.expect(&Tok::Slash, "/")?;
            Some(expr)
        } else {
            None
        };
        if !self.at(&Tok::LBrace) {
            let token = self.peek();
            if token.tok == Tok::Eof {
                let span = attach_points.last().map_or(token.span, |a| a.span);
                return Err(Diagnostics::one(span, "unexpected end of file, expected {"));
            }
            return Err(self.unexpected("{"));
        }
        let body = self.block()?;
        let span = attach_points[0].span.to(body.span);
        Ok(Probe {
            attach_points,
            predicate,
            body,
            span,
        })
    }

    fn attach_point(&mut self) -> Result<AttachPoint, Diagnostics> {
        let token = self.peek().clone();
        let Tok::AttachPoint(raw) = token.tok else {
            return Err(self.unexpected("probe"));
        };
        self.next();
        let provider = attach::provider(&raw).map_err(|m| Diagnostics::one(token.span, m))?;
        Ok(AttachPoint {
            provider,
            raw,
            span: token.span,
        })
    }

    fn block(&mut self) -> Result<Block, Diagnostics> {
        let open = self.expect(&Tok::LBrace, "{")?;
        self.enter(open)?;
        let mut stmts = Vec::new();
        loop {
            while self.eat(&Tok::Semi).is_some() {}
            if let Some(close) = self.eat(&Tok::RBrace) {
                self.leave();
                return Ok(Block {
                    stmts,
                    span: open.to(close),
                });
            }
            if self.at(&Tok::Eof) {
                return Err(self.unexpected("}"));
            }
            let stmt = self.stmt()?;
            let is_if = matches!(stmt.kind, StmtKind::If { .. });
            stmts.push(stmt);
            if !is_if && !self.at(&Tok::Semi) && !self.at(&Tok::RBrace) {
                return Err(self.unexpected("; or }"));
            }
        }
    }

    fn stmt(&mut self) -> Result<Stmt, Diagnostics> {
        let start = self.peek().span;
        match self.peek().tok.clone() {
            Tok::Ident(word) if word == "if" => self.if_stmt(),
            Tok::Ident(word) if matches!(word.as_str(), "while" | "for" | "unroll" | "return") => {
                Err(Diagnostics::one(
                    start,
                    format!("'{word}' is not supported by whyslow trace"),
                ))
            }
            Tok::Map(_) | Tok::Var(_) if self.assignment_ahead() => {
                let target = match self.next().tok {
                    Tok::Map(name) => LValue::Map(self.map_access(name, start)?),
                    Tok::Var(name) => LValue::Var(VarRef { name, span: start }),
                    _ => return Err(self.unexpected("")),
                };
                self.assignment(target)
            }
            _ => {
                let expr = self.expr()?;
                let span = expr.span;
                Ok(Stmt {
                    kind: StmtKind::Expr(expr),
                    span,
                })
            }
        }
    }

    /// Whether the map or variable at the cursor is assigned to (as opposed
    /// to read in an expression statement).
    fn assignment_ahead(&self) -> bool {
        let mut i = 1;
        if self.peek_at(1) == &Tok::LBracket {
            let mut depth = 0usize;
            loop {
                match self.peek_at(i) {
                    Tok::LBracket => depth += 1,
                    Tok::RBracket => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    Tok::Eof => return false,
                    _ => {}
                }
                i += 1;
            }
            i += 1;
        }
        matches!(
            self.peek_at(i),
            Tok::Assign | Tok::OpAssign(_) | Tok::PlusPlus | Tok::MinusMinus
        )
    }

    fn assignment(&mut self, target: LValue) -> Result<Stmt, Diagnostics> {
        let token = self.next();
        let (op, value) = match token.tok {
            Tok::Assign => (None, self.expr()?),
            Tok::OpAssign(op) => {
                let op = expr::binary_op(&op).ok_or_else(|| self.unexpected("="))?;
                (Some(op), self.expr()?)
            }
            Tok::PlusPlus | Tok::MinusMinus => {
                let op = if token.tok == Tok::PlusPlus {
                    BinOp::Add
                } else {
                    BinOp::Sub
                };
                (Some(op), Expr::new(ExprKind::Int(1), token.span))
            }
            _ => return Err(self.unexpected("=")),
        };
        let span = target.span().to(value.span);
        Ok(Stmt {
            kind: StmtKind::Assign { target, op, value },
            span,
        })
    }

    fn if_stmt(&mut self) -> Result<Stmt, Diagnostics> {
        let start = self.next().span;
        self.enter(start)?;
        self.expect(&Tok::LParen, "(")?;
        let cond = self.expr()?;
        self.expect(&Tok::RParen, ")")?;
        let then_block = self.block()?;
        let mut span = start.to(then_block.span);
        let else_block = if matches!(&self.peek().tok, Tok::Ident(w) if w == "else") {
            self.next();
            if matches!(&self.peek().tok, Tok::Ident(w) if w == "if") {
                let nested = self.if_stmt()?;
                let block_span = nested.span;
                Some(Block {
                    stmts: vec![nested],
                    span: block_span,
                })
            } else {
                Some(self.block()?)
            }
        } else {
            None
        };
        if let Some(b) = &else_block {
            span = span.to(b.span);
        }
        self.leave();
        Ok(Stmt {
            kind: StmtKind::If {
                cond,
                then_block,
                else_block,
            },
            span,
        })
    }

    /// `@name` already consumed (at `start`); reads an optional `[keys]`.
    pub(crate) fn map_access(
        &mut self,
        name: String,
        start: Span,
    ) -> Result<MapAccess, Diagnostics> {
        let mut keys = Vec::new();
        let mut span = start;
        if self.eat(&Tok::LBracket).is_some() {
            let saved = self.in_predicate;
            self.in_predicate = false;
            keys.push(self.expr()?);
            while self.eat(&Tok::Comma).is_some() {
                keys.push(self.expr()?);
            }
            self.in_predicate = saved;
            span = span.to(self.expect(&Tok::RBracket, "] or \",\"")?);
        }
        Ok(MapAccess { name, keys, span })
    }
}

#[cfg(test)]
mod tests;
