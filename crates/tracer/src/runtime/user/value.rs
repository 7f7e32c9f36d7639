//! Values of BEGIN/END statements, computed in user space when the block
//! runs: literals, `probe`, reads of plain maps (absent: 0 or ""), and
//! integer operators over them with BPF's results (wrapping arithmetic,
//! division by zero gives 0, a remainder by zero the dividend), so that
//! `@x = @x + 1` or `@n[1] = @n[1] * 2` mean there what they mean in a
//! probe.

use crate::ast::{BinOp, Builtin, Expr, ExprKind, UnaryOp};
use crate::runtime::maps::{self, Constant, LiveMap};
use crate::types::Type;

/// A value to compute when the block runs.
pub enum Value {
    /// Known before the run.
    Const(Constant),
    /// `@map[keys]`.
    Read { map: String, keys: Vec<Value> },
    /// `-x`, `!x`, `~x`.
    Unary(UnaryOp, Box<Value>),
    /// `x op y` on integers (`signed`: both operands signed).
    Binary {
        op: BinOp,
        signed: bool,
        lhs: Box<Value>,
        rhs: Box<Value>,
    },
}

impl Value {
    /// The value of `e` if user space can compute it (`probe_id`: the
    /// block's probe index).
    pub fn of(e: &Expr, probe_id: u32) -> Option<Value> {
        Some(match &e.kind {
            ExprKind::Int(v) => Value::Const(Constant::Int(*v)),
            ExprKind::Str(s) => Value::Const(Constant::Str(s.clone())),
            ExprKind::Builtin(Builtin::Probe) => Value::Const(Constant::Int(i64::from(probe_id))),
            ExprKind::Map(access) => Value::Read {
                map: access.name.clone(),
                keys: access
                    .keys
                    .iter()
                    .map(|k| Value::of(k, probe_id))
                    .collect::<Option<_>>()?,
            },
            ExprKind::Unary { op, operand } if e.ty.is_int() => {
                Value::Unary(*op, Box::new(Value::of(operand, probe_id)?))
            }
            ExprKind::Binary { op, lhs, rhs, .. } if lhs.ty.is_int() && rhs.ty.is_int() => {
                Value::Binary {
                    op: *op,
                    signed: matches!(
                        (lhs.ty, rhs.ty),
                        (Type::Int { signed: true }, Type::Int { signed: true })
                    ),
                    lhs: Box::new(Value::of(lhs, probe_id)?),
                    rhs: Box::new(Value::of(rhs, probe_id)?),
                }
            }
            _ => return None,
        })
    }

    /// Computes the value now, reading `maps`.
    pub fn eval(&self, maps: &[LiveMap]) -> bpf::Result<Constant> {
        Ok(match self {
            Value::Const(c) => c.clone(),
            Value::Read { map, keys } => {
                let keys = keys
                    .iter()
                    .map(|k| k.eval(maps))
                    .collect::<bpf::Result<Vec<_>>>()?;
                match maps.iter().find(|m| &m.info.name == map) {
                    Some(m) => maps::load(m, &keys)?,
                    None => Constant::Int(0),
                }
            }
            Value::Unary(op, operand) => {
                let v = int(operand.eval(maps)?);
                Constant::Int(match op {
                    UnaryOp::Neg => v.wrapping_neg(),
                    UnaryOp::Not => i64::from(v == 0),
                    UnaryOp::BitNot => !v,
                })
            }
            Value::Binary {
                op,
                signed,
                lhs,
                rhs,
            } => {
                let (a, b) = (int(lhs.eval(maps)?), int(rhs.eval(maps)?));
                Constant::Int(binary(*op, *signed, a, b))
            }
        })
    }
}

fn int(c: Constant) -> i64 {
    match c {
        Constant::Int(v) => v,
        Constant::Str(_) => 0,
    }
}

/// `a op b` as the generated BPF code computes it.
fn binary(op: BinOp, signed: bool, a: i64, b: i64) -> i64 {
    let (ua, ub) = (a as u64, b as u64);
    let truth = |t: bool| i64::from(t);
    match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::Div => ua.checked_div(ub).unwrap_or(0) as i64,
        BinOp::Mod => ua.checked_rem(ub).unwrap_or(ua) as i64,
        BinOp::BitAnd => a & b,
        BinOp::BitOr => a | b,
        BinOp::BitXor => a ^ b,
        BinOp::Shl => ua.wrapping_shl(ub as u32) as i64,
        BinOp::Shr if signed => a.wrapping_shr(ub as u32),
        BinOp::Shr => ua.wrapping_shr(ub as u32) as i64,
        BinOp::Eq => truth(a == b),
        BinOp::Ne => truth(a != b),
        BinOp::Lt if signed => truth(a < b),
        BinOp::Le if signed => truth(a <= b),
        BinOp::Gt if signed => truth(a > b),
        BinOp::Ge if signed => truth(a >= b),
        BinOp::Lt => truth(ua < ub),
        BinOp::Le => truth(ua <= ub),
        BinOp::Gt => truth(ua > ub),
        BinOp::Ge => truth(ua >= ub),
        BinOp::And => truth(a != 0 && b != 0),
        BinOp::Or => truth(a != 0 || b != 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_compute_what_bpf_computes() {
        assert_eq!(binary(BinOp::Div, false, 7, 0), 0);
        assert_eq!(binary(BinOp::Mod, false, 7, 0), 7);
        assert_eq!(binary(BinOp::Lt, false, -1, 1), 0);
        assert_eq!(binary(BinOp::Lt, true, -1, 1), 1);
        assert_eq!(binary(BinOp::Shr, true, -8, 1), -4);
        assert_eq!(binary(BinOp::Add, false, i64::MAX, 1), i64::MIN);
    }
}
