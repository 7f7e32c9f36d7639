//! The syntax tree of a trace program: probes, statements, expressions.
//!
//! Every node carries its [`Span`]. Expressions also carry a [`Type`], left
//! `Unknown` by the parser and filled in by `check.rs`, so the code generator
//! reads each expression's type where it meets it. Names the language knows
//! (builtins, functions) are resolved to enums by the parser; anything else is
//! kept as text for the checker to report.

use crate::span::Span;
use crate::types::Type;

/// A whole program: its probes in source order.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// Probes in source order.
    pub probes: Vec<Probe>,
}

/// One `attach points [/predicate/] { block }` item.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// One or more comma-separated attach points sharing the action.
    pub attach_points: Vec<AttachPoint>,
    /// The `/…/` filter, if any.
    pub predicate: Option<Expr>,
    /// The action block.
    pub body: Block,
    /// From the first attach point to the closing `}`.
    pub span: Span,
}

/// Where a probe attaches.
#[derive(Clone, Debug, PartialEq)]
pub struct AttachPoint {
    /// What the text names.
    pub provider: Provider,
    /// The text as written (e.g. `t:syscalls:sys_enter_*`).
    pub raw: String,
    /// Where it is written.
    pub span: Span,
}

/// The kinds of attach point the subset supports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provider {
    /// `BEGIN`: runs once before anything else.
    Begin,
    /// `END`: runs once at exit, before maps are printed.
    End,
    /// `tracepoint:CATEGORY:EVENT` / `t:…`; both parts may hold `*`/`?` wildcards.
    Tracepoint {
        /// e.g. `syscalls`
        category: String,
        /// e.g. `sys_enter_write`
        event: String,
    },
    /// `uprobe:/path:func` / `u:…`, and with `ret` `uretprobe:`/`ur:`.
    Uprobe {
        /// Binary or library path (or a name to look up, e.g. `libc`).
        target: String,
        /// Function symbol (may hold wildcards).
        function: String,
        /// A return probe (`uretprobe`).
        ret: bool,
    },
    /// `profile:hz:N` (or `s`/`ms`/`us`): on every CPU at that rate.
    Profile {
        /// Unit of `count`.
        unit: TimeUnit,
        /// The number given.
        count: u64,
    },
    /// `interval:s:N` (or `ms`/`us`/`hz`): on one CPU at that period.
    Interval {
        /// Unit of `count`.
        unit: TimeUnit,
        /// The number given.
        count: u64,
    },
}

/// Unit of a `profile`/`interval` attach point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Events per second.
    Hz,
    /// Seconds between events.
    S,
    /// Milliseconds between events.
    Ms,
    /// Microseconds between events.
    Us,
}

impl TimeUnit {
    /// The unit as written in an attach point (`hz`, `s`, `ms`, `us`).
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Hz => "hz",
            TimeUnit::S => "s",
            TimeUnit::Ms => "ms",
            TimeUnit::Us => "us",
        }
    }

    /// The period in nanoseconds for `count` of this unit (None if zero or overflowing).
    pub fn period_ns(self, count: u64) -> Option<u64> {
        if count == 0 {
            return None;
        }
        match self {
            TimeUnit::Hz => Some(1_000_000_000 / count).filter(|&p| p > 0),
            TimeUnit::S => count.checked_mul(1_000_000_000),
            TimeUnit::Ms => count.checked_mul(1_000_000),
            TimeUnit::Us => count.checked_mul(1_000),
        }
    }
}

/// `{ statements }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Statements in order.
    pub stmts: Vec<Stmt>,
    /// From `{` to `}`.
    pub span: Span,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What it does.
    pub kind: StmtKind,
    /// Where it is written (without the `;`).
    pub span: Span,
}

/// The statement forms.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `target = value`, or with `op` the compound `target op= value`;
    /// `@x++` is `op: Some(Add)` with the literal 1 (spanning `++`), `@x--`
    /// is `Sub` with 1. An aggregation is `@m[k] = count()` etc.
    Assign {
        /// Map element or scratch variable.
        target: LValue,
        /// The compound operator, if any.
        op: Option<BinOp>,
        /// The right-hand side.
        value: Expr,
    },
    /// A call used as a statement: `printf(…)`, `print(@m)`, `clear(@m)`,
    /// `delete(@m[k])`, `exit()`.
    Expr(Expr),
    /// `if (cond) { … } else { … }`; `else if` nests an `If` in `else_block`.
    If {
        /// The condition.
        cond: Expr,
        /// Taken when `cond` is non-zero.
        then_block: Block,
        /// Taken otherwise.
        else_block: Option<Block>,
    },
}

/// Something assignable.
#[derive(Clone, Debug, PartialEq)]
pub enum LValue {
    /// `@name` or `@name[keys]`.
    Map(MapAccess),
    /// `$name`.
    Var(VarRef),
}

impl LValue {
    /// Where the target is written.
    pub fn span(&self) -> Span {
        match self {
            LValue::Map(m) => m.span,
            LValue::Var(v) => v.span,
        }
    }
}

/// `@name` or `@name[k1, k2]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MapAccess {
    /// With the `@` (`@` alone for the anonymous map).
    pub name: String,
    /// Key expressions (empty for a scalar map).
    pub keys: Vec<Expr>,
    /// From `@` to `]`.
    pub span: Span,
}

/// `$name`.
#[derive(Clone, Debug, PartialEq)]
pub struct VarRef {
    /// With the `$`.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// An expression and its inferred type.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Where it is written.
    pub span: Span,
    /// Filled in by the checker.
    pub ty: Type,
}

impl Expr {
    /// An expression of unknown type.
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Self {
            kind,
            span,
            ty: Type::Unknown,
        }
    }
}

/// The expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// An integer literal (two's complement bits of the written value).
    Int(i64),
    /// A string literal, escapes resolved.
    Str(String),
    /// A builtin variable such as `pid`.
    Builtin(Builtin),
    /// `args.NAME` / `args->NAME` in a tracepoint.
    TracepointArg {
        /// Field name in the tracepoint's format.
        field: String,
    },
    /// A scratch variable read.
    Var(String),
    /// A map read.
    Map(MapAccess),
    /// A function call.
    Call {
        /// Which function.
        func: Function,
        /// Where the name is written.
        name_span: Span,
        /// Arguments in order.
        args: Vec<Expr>,
    },
    /// `!x`, `-x`, `~x`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// Its operand.
        operand: Box<Expr>,
    },
    /// `lhs op rhs`.
    Binary {
        /// The operator.
        op: BinOp,
        /// Where the operator is written.
        op_span: Span,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `cond ? a : b`.
    Ternary {
        /// The condition.
        cond: Box<Expr>,
        /// Value when non-zero.
        then_expr: Box<Expr>,
        /// Value otherwise.
        else_expr: Box<Expr>,
    },
    /// A name the language does not know (reported by the checker).
    Ident(String),
}

/// Builtin variables of the subset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// Process id (tgid).
    Pid,
    /// Thread id.
    Tid,
    /// User id.
    Uid,
    /// Group id.
    Gid,
    /// Task command name, `string[16]`.
    Comm,
    /// `bpf_ktime_get_ns()`.
    Nsecs,
    /// Current CPU.
    Cpu,
    /// Return value (uretprobe only).
    Retval,
    /// `argN`, the Nth function argument (uprobes).
    Arg(u8),
    /// Kernel stack.
    Kstack,
    /// User stack.
    Ustack,
    /// Traced function (uprobes).
    Func,
    /// Full probe name.
    Probe,
}

impl Builtin {
    /// The builtin a name denotes, if any (`arg0`..`arg9` included).
    pub fn from_name(name: &str) -> Option<Builtin> {
        Some(match name {
            "pid" => Builtin::Pid,
            "tid" => Builtin::Tid,
            "uid" => Builtin::Uid,
            "gid" => Builtin::Gid,
            "comm" => Builtin::Comm,
            "nsecs" => Builtin::Nsecs,
            "cpu" => Builtin::Cpu,
            "retval" => Builtin::Retval,
            "kstack" => Builtin::Kstack,
            "ustack" => Builtin::Ustack,
            "func" => Builtin::Func,
            "probe" => Builtin::Probe,
            _ => {
                let n = name.strip_prefix("arg")?;
                if n.len() != 1 {
                    return None;
                }
                Builtin::Arg(n.parse().ok()?)
            }
        })
    }

    /// The name as written.
    pub fn name(self) -> String {
        match self {
            Builtin::Pid => "pid".into(),
            Builtin::Tid => "tid".into(),
            Builtin::Uid => "uid".into(),
            Builtin::Gid => "gid".into(),
            Builtin::Comm => "comm".into(),
            Builtin::Nsecs => "nsecs".into(),
            Builtin::Cpu => "cpu".into(),
            Builtin::Retval => "retval".into(),
            Builtin::Arg(n) => format!("arg{n}"),
            Builtin::Kstack => "kstack".into(),
            Builtin::Ustack => "ustack".into(),
            Builtin::Func => "func".into(),
            Builtin::Probe => "probe".into(),
        }
    }
}

/// Functions of the subset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Function {
    /// `count()`
    Count,
    /// `sum(x)`
    Sum,
    /// `avg(x)`
    Avg,
    /// `min(x)`
    Min,
    /// `max(x)`
    Max,
    /// `hist(x)`
    Hist,
    /// `lhist(x, min, max, step)`
    Lhist,
    /// `stats(x)`
    Stats,
    /// `str(ptr_or_array[, len])`
    Str,
    /// `printf("fmt", args…)`
    Printf,
    /// `print(@m[, top[, div]])`
    Print,
    /// `clear(@m)`
    Clear,
    /// `delete(@m[k])`
    Delete,
    /// `exit()`
    Exit,
    /// `kstack([mode][, limit])`
    Kstack,
    /// `ustack([mode][, limit])`
    Ustack,
    /// Any other name (reported by the checker).
    Unknown(String),
}

impl Function {
    /// The function a call name denotes.
    pub fn from_name(name: &str) -> Function {
        match name {
            "count" => Function::Count,
            "sum" => Function::Sum,
            "avg" => Function::Avg,
            "min" => Function::Min,
            "max" => Function::Max,
            "hist" => Function::Hist,
            "lhist" => Function::Lhist,
            "stats" => Function::Stats,
            "str" => Function::Str,
            "printf" => Function::Printf,
            "print" => Function::Print,
            "clear" => Function::Clear,
            "delete" => Function::Delete,
            "exit" => Function::Exit,
            "kstack" => Function::Kstack,
            "ustack" => Function::Ustack,
            other => Function::Unknown(other.to_string()),
        }
    }

    /// The name as written.
    pub fn name(&self) -> &str {
        match self {
            Function::Count => "count",
            Function::Sum => "sum",
            Function::Avg => "avg",
            Function::Min => "min",
            Function::Max => "max",
            Function::Hist => "hist",
            Function::Lhist => "lhist",
            Function::Stats => "stats",
            Function::Str => "str",
            Function::Printf => "printf",
            Function::Print => "print",
            Function::Clear => "clear",
            Function::Delete => "delete",
            Function::Exit => "exit",
            Function::Kstack => "kstack",
            Function::Ustack => "ustack",
            Function::Unknown(name) => name,
        }
    }
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `!x`: 1 if x is 0, else 0.
    Not,
    /// `-x`
    Neg,
    /// `~x`
    BitNot,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `&&` (short-circuit)
    And,
    /// `||` (short-circuit)
    Or,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }

    /// Whether the result is a 0/1 truth value.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Le
                | BinOp::Gt
                | BinOp::Ge
                | BinOp::And
                | BinOp::Or
        )
    }
}
