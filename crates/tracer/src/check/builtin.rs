//! Builtin variables and `args.FIELD`: their types, and the probe kinds
//! each may appear in (`retval` in uretprobes, `argN` in uprobes, `func` in
//! uprobes and uretprobes, `args` in tracepoints).

use super::{Checker, FieldLookup};
use crate::ast::{Builtin, Provider};
use crate::span::Span;
use crate::types::{StackType, Type, COMM_SIZE};

impl Checker<'_> {
    pub(super) fn builtin(&mut self, builtin: Builtin, span: Span) -> Type {
        match builtin {
            Builtin::Pid
            | Builtin::Tid
            | Builtin::Uid
            | Builtin::Gid
            | Builtin::Cpu
            | Builtin::Nsecs => Type::UINT,
            Builtin::Comm => Type::Str { size: COMM_SIZE },
            Builtin::Kstack => {
                self.note_stack(StackType::KERNEL, span);
                Type::Stack(StackType::KERNEL)
            }
            Builtin::Ustack => {
                self.note_stack(StackType::USER, span);
                Type::Stack(StackType::USER)
            }
            Builtin::Probe => Type::Probe,
            Builtin::Retval => {
                if !self.all(|p| matches!(p, Provider::Uprobe { ret: true, .. })) {
                    let here = self.first_kind();
                    self.error(
                        span,
                        format!("The retval builtin can only be used with 'uretprobe' probes ({here} used here)"),
                    );
                }
                Type::INT
            }
            Builtin::Arg(n) => {
                if !self.all(|p| matches!(p, Provider::Uprobe { ret: false, .. })) {
                    self.error(
                        span,
                        format!("The arg{n} builtin can only be used with 'uprobe' probes ({} used here)", self.first_kind()),
                    );
                } else if n > 5 {
                    self.error(
                        span,
                        format!("arg{n} is out of range: uprobe arguments are arg0 to arg5"),
                    );
                }
                Type::UINT
            }
            Builtin::Func => {
                let other = self
                    .providers
                    .iter()
                    .find(|p| !matches!(p, Provider::Uprobe { .. }));
                if let Some(other) = other {
                    let kind = kind_name(Some(other));
                    self.error(
                        span,
                        format!("The func builtin can not be used with '{kind}' probes"),
                    );
                }
                Type::Sym
            }
        }
    }

    pub(super) fn tracepoint_arg(&mut self, field: &str, span: Span) -> Type {
        let Some(Provider::Tracepoint { category, event }) = self.providers.first().cloned() else {
            let here = self.first_kind();
            self.error(
                span,
                format!(
                    "The args builtin can only be used with tracepoint probes ({here} used here)"
                ),
            );
            return Type::Unknown;
        };
        if !self.all(|p| matches!(p, Provider::Tracepoint { .. })) {
            self.error(
                span,
                "The args builtin can only be used when every attach point is a tracepoint",
            );
            return Type::Unknown;
        }
        match self.env.tracepoint_field(&category, &event, field) {
            FieldLookup::Unknown => Type::UINT,
            FieldLookup::Found(ty) => ty,
            FieldLookup::Missing { available } => {
                self.error(
                    span,
                    format!(
                        "tracepoint {category}:{event} has no field '{field}' (it has: {})",
                        available.join(", ")
                    ),
                );
                Type::Unknown
            }
        }
    }

    pub(super) fn all(&self, pred: impl Fn(&Provider) -> bool) -> bool {
        self.providers.iter().all(pred)
    }

    pub(super) fn first_kind(&self) -> &'static str {
        kind_name(self.providers.first())
    }
}

/// A probe kind as bpftrace names it in messages.
fn kind_name(provider: Option<&Provider>) -> &'static str {
    match provider {
        Some(Provider::Begin) => "BEGIN",
        Some(Provider::End) => "END",
        Some(Provider::Tracepoint { .. }) => "tracepoint",
        Some(Provider::Uprobe { ret: false, .. }) => "uprobe",
        Some(Provider::Uprobe { ret: true, .. }) => "uretprobe",
        Some(Provider::Profile { .. }) => "profile",
        Some(Provider::Interval { .. }) => "interval",
        None => "no probe",
    }
}
