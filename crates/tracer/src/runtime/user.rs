//! What runs in user space: BEGIN and END blocks (printf, exit and map
//! assignments of values computed in `user/value.rs` — checked before
//! anything is loaded), and the records programs send through the ring
//! buffer (printf, exit, print, clear).

mod value;

use super::maps::{self, c_string, Constant, LiveMap};
use super::resolve::Resolver;
use crate::ast::{Block, Builtin, Expr, ExprKind, Function, LValue, StmtKind};
use crate::codegen::PrintfSite;
use crate::diag::Diagnostic;
use crate::format::printf::{format_printf, parse_format, PrintfArg};
use crate::layout::{record, slot_size};
use crate::types::Type;
use std::io::Write;
use value::Value;

/// A BEGIN/END statement, ready to run.
pub enum Action {
    Printf(String, Vec<Value>),
    Store {
        map: String,
        keys: Vec<Value>,
        value: Value,
    },
    Exit,
}

/// The actions of a BEGIN/END block (`probe_id`: the index of its name),
/// or why it cannot run in user space.
pub fn actions(block: &Block, which: &str, probe_id: u32) -> Result<Vec<Action>, Diagnostic> {
    let refuse = |span| {
        Diagnostic::new(
            span,
            format!("{which} supports printf(), exit() and map assignments of literals, probe, map reads and integer operators only (other statements are not supported yet by whyslow trace)"),
        )
    };
    let value = |e: &Expr| Value::of(e, probe_id).ok_or_else(|| refuse(e.span));
    let mut out = Vec::new();
    for stmt in &block.stmts {
        let action = match &stmt.kind {
            StmtKind::Expr(Expr {
                kind: ExprKind::Call { func, args, .. },
                ..
            }) => match func {
                Function::Exit => Action::Exit,
                Function::Printf => {
                    let Some(ExprKind::Str(format)) = args.first().map(|a| &a.kind) else {
                        return Err(refuse(stmt.span));
                    };
                    let mut values = Vec::new();
                    for arg in &args[1..] {
                        values.push(match arg.kind {
                            ExprKind::Builtin(Builtin::Probe) => {
                                Value::Const(Constant::Str(which.to_string()))
                            }
                            _ => value(arg)?,
                        });
                    }
                    Action::Printf(format.clone(), values)
                }
                _ => return Err(refuse(stmt.span)),
            },
            StmtKind::Assign {
                target: LValue::Map(access),
                op,
                value: assigned,
            } => {
                let keys = access
                    .keys
                    .iter()
                    .map(value)
                    .collect::<Result<Vec<_>, _>>()?;
                let mut computed = value(assigned)?;
                if let Some(op) = op {
                    let current = Value::Read {
                        map: access.name.clone(),
                        keys: access.keys.iter().map(value).collect::<Result<_, _>>()?,
                    };
                    computed = Value::Binary {
                        op: *op,
                        signed: false,
                        lhs: Box::new(current),
                        rhs: Box::new(computed),
                    };
                }
                Action::Store {
                    map: access.name.clone(),
                    keys,
                    value: computed,
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
                let args = args
                    .iter()
                    .map(|a| {
                        Ok(match a.eval(maps)? {
                            Constant::Int(v) => PrintfArg::Int(v),
                            Constant::Str(s) => PrintfArg::Str(s),
                        })
                    })
                    .collect::<bpf::Result<Vec<_>>>()?;
                let text = format_printf(&parse_format(format), &args);
                out.write_all(text.as_bytes())
                    .map_err(super::RunError::Output)?;
            }
            Action::Store { map, keys, value } => {
                if let Some(m) = maps.iter().find(|m| &m.info.name == map) {
                    let keys = keys
                        .iter()
                        .map(|k| k.eval(maps))
                        .collect::<bpf::Result<Vec<_>>>()?;
                    maps::store(m, &keys, &value.eval(maps)?)?;
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
