//! What runs in user space: BEGIN and END blocks (printf, exit and map
//! assignments of constants — checked before anything is loaded), and the
//! records programs send through the ring buffer (printf, exit, print,
//! clear).

use super::maps::{self, c_string, Constant, LiveMap};
use super::resolve::Resolver;
use crate::ast::{Block, Expr, ExprKind, Function, LValue, StmtKind};
use crate::codegen::PrintfSite;
use crate::diag::Diagnostic;
use crate::format::printf::{format_printf, parse_format, PrintfArg};
use crate::layout::{record, slot_size};
use crate::types::Type;
use std::io::Write;

/// A BEGIN/END statement, ready to run.
pub enum Action {
    Printf(String, Vec<PrintfArg>),
    Store {
        map: String,
        keys: Vec<Constant>,
        value: Constant,
    },
    Exit,
}

/// The value of `e` if it is known before the run: a literal, a negated
/// integer literal, or `probe` (`probe_id`, this block's probe index).
fn constant(e: &Expr, probe_id: u32) -> Option<Constant> {
    match &e.kind {
        ExprKind::Int(v) => Some(Constant::Int(*v)),
        ExprKind::Builtin(crate::ast::Builtin::Probe) => Some(Constant::Int(i64::from(probe_id))),
        ExprKind::Str(s) => Some(Constant::Str(s.clone())),
        ExprKind::Unary {
            op: crate::ast::UnaryOp::Neg,
            operand,
        } => match operand.kind {
            ExprKind::Int(v) => Some(Constant::Int(v.wrapping_neg())),
            _ => None,
        },
        _ => None,
    }
}

/// The actions of a BEGIN/END block (`probe_id`: the index of its name),
/// or why it cannot run in user space.
pub fn actions(block: &Block, which: &str, probe_id: u32) -> Result<Vec<Action>, Diagnostic> {
    let refuse = |span| {
        Diagnostic::new(
            span,
            format!("{which} supports printf() with constant arguments, exit() and map assignments of constants only (other statements are not supported yet by whyslow trace)"),
        )
    };
    let mut out = Vec::new();
    for stmt in &block.stmts {
        let action = match &stmt.kind {
            StmtKind::Expr(Expr {
                kind: ExprKind::Call { func, args, .. },
                ..
            }) => match func {
                Function::Exit => Action::Exit,
                Function::Printf => {
                    let Some(Constant::Str(format)) =
                        args.first().and_then(|a| constant(a, probe_id))
                    else {
                        return Err(refuse(stmt.span));
                    };
                    let mut values = Vec::new();
                    for arg in &args[1..] {
                        if let ExprKind::Builtin(crate::ast::Builtin::Probe) = arg.kind {
                            values.push(PrintfArg::Str(which.to_string()));
                            continue;
                        }
                        values.push(match constant(arg, probe_id) {
                            Some(Constant::Int(v)) => PrintfArg::Int(v),
                            Some(Constant::Str(s)) => PrintfArg::Str(s),
                            None => return Err(refuse(arg.span)),
                        });
                    }
                    Action::Printf(format, values)
                }
                _ => return Err(refuse(stmt.span)),
            },
            StmtKind::Assign {
                target: LValue::Map(access),
                op: None,
                value,
            } => {
                let keys: Option<Vec<Constant>> =
                    access.keys.iter().map(|k| constant(k, probe_id)).collect();
                match (keys, constant(value, probe_id)) {
                    (Some(keys), Some(value)) => Action::Store {
                        map: access.name.clone(),
                        keys,
                        value,
                    },
                    _ => return Err(refuse(stmt.span)),
                }
            }
            _ => return Err(refuse(stmt.span)),
        };
        out.push(action);
    }
    Ok(out)
}

/// Runs actions; true when one was `exit()`.
pub fn run(
    actions: &[Action],
    maps: &[LiveMap],
    out: &mut dyn Write,
) -> Result<bool, super::RunError> {
    let mut exit = false;
    for action in actions {
        match action {
            Action::Printf(format, args) => {
                let text = format_printf(&parse_format(format), args);
                out.write_all(text.as_bytes())
                    .map_err(super::RunError::Output)?;
            }
            Action::Store { map, keys, value } => {
                if let Some(m) = maps.iter().find(|m| &m.info.name == map) {
                    maps::store(m, keys, value)?;
                }
            }
            Action::Exit => {
                exit = true;
                break;
            }
        }
    }
    Ok(exit)
}

/// Handles one ring-buffer record; true when it was `exit()`.
pub fn handle_record(
    bytes: &[u8],
    printfs: &[PrintfSite],
    maps: &[LiveMap],
    resolver: &mut Resolver<'_>,
    out: &mut dyn Write,
) -> Result<bool, super::RunError> {
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .unwrap_or(0)
    };
    let u64_at = |at: usize| {
        bytes
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .unwrap_or(0)
    };
    let (kind, id) = (u32_at(0), u32_at(4));
    let text = match kind {
        record::EXIT => return Ok(true),
        record::PRINTF => {
            let Some(site) = printfs.get(id as usize) else {
                return Ok(false);
            };
            let mut pos = 8;
            let args: Vec<PrintfArg> = site
                .args
                .iter()
                .map(|&ty| {
                    let size = slot_size(ty);
                    let slot = bytes.get(pos..pos + size).unwrap_or(&[]);
                    let arg = match ty {
                        Type::Str { .. } => PrintfArg::Str(c_string(slot)),
                        Type::Stack(_) | Type::Sym | Type::Probe => {
                            PrintfArg::Str(resolver.text(ty, slot))
                        }
                        _ => PrintfArg::Int(u64_at(pos) as i64),
                    };
                    pos += size;
                    arg
                })
                .collect();
            format_printf(&parse_format(&site.format), &args)
        }
        record::PRINT => match maps.get(id as usize) {
            Some(map) => {
                let snapshot = maps::snapshot(map, resolver)?;
                crate::format::format_map(&snapshot, u64_at(8) as usize, u64_at(16))
            }
            None => String::new(),
        },
        record::CLEAR => {
            if let Some(map) = maps.get(id as usize) {
                maps::clear(map)?;
            }
            String::new()
        }
        _ => String::new(),
    };
    out.write_all(text.as_bytes())
        .map_err(super::RunError::Output)?;
    Ok(false)
}
