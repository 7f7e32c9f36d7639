//! Attach points expanded to concrete targets: tracepoint wildcards to each
//! matching tracepoint, uprobe function wildcards to each matching symbol.

use super::RunError;
use crate::ast::{AttachPoint, Provider};
use crate::diag::Diagnostic;
use bpf::prog::ProgType;
use bpf::tracefs::{glob_match, Field, Tracefs};
use std::path::PathBuf;

/// One place a program goes.
pub enum Target {
    Tracepoint {
        category: String,
        name: String,
        id: u64,
        fields: Vec<Field>,
    },
    Uprobe {
        path: PathBuf,
        function: String,
        file_offset: u64,
        ret: bool,
    },
    Profile {
        frequency_hz: u64,
        /// As written: `profile:UNIT:COUNT`.
        name: String,
    },
    Interval {
        period_ns: u64,
        /// As written: `interval:UNIT:COUNT`.
        name: String,
    },
}

impl Target {
    /// The program type it needs.
    pub fn prog_type(&self) -> ProgType {
        match self {
            Target::Tracepoint { .. } => ProgType::Tracepoint,
            Target::Uprobe { .. } => ProgType::Kprobe,
            Target::Profile { .. } | Target::Interval { .. } => ProgType::PerfEvent,
        }
    }

    /// The full probe name, as `probe` gives it (e.g.
    /// `tracepoint:syscalls:sys_enter_read`, `uprobe:/bin/bash:readline`).
    pub fn probe_name(&self) -> String {
        match self {
            Target::Tracepoint { category, name, .. } => format!("tracepoint:{category}:{name}"),
            Target::Uprobe {
                path,
                function,
                ret,
                ..
            } => {
                let kind = if *ret { "uretprobe" } else { "uprobe" };
                format!("{kind}:{}:{function}", path.display())
            }
            Target::Profile { name, .. } | Target::Interval { name, .. } => name.clone(),
        }
    }

    /// A short program name for the kernel (bpftool shows it).
    pub fn prog_name(&self) -> String {
        let name = match self {
            Target::Tracepoint { name, .. } => name.clone(),
            Target::Uprobe { function, .. } => function.clone(),
            Target::Profile { .. } => "profile".into(),
            Target::Interval { .. } => "interval".into(),
        };
        name.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(15)
            .collect()
    }
}

fn at(point: &AttachPoint, message: String) -> RunError {
    RunError::compile(Diagnostic::new(point.span, message))
}

/// The targets of one attach point (BEGIN/END have none).
pub fn expand(point: &AttachPoint, tracefs: Option<&Tracefs>) -> Result<Vec<Target>, RunError> {
    match &point.provider {
        Provider::Begin | Provider::End => Ok(Vec::new()),
        Provider::Tracepoint { category, event } => {
            let Some(tracefs) = tracefs else {
                return Err(at(point, "tracefs is not available".into()));
            };
            let found = tracefs.tracepoints(&format!("{category}:{event}"))?;
            if found.is_empty() {
                return Err(at(
                    point,
                    format!("tracepoint not found: {category}:{event}"),
                ));
            }
            found
                .into_iter()
                .map(|tp| {
                    Ok(Target::Tracepoint {
                        id: tracefs.tracepoint_id(&tp.category, &tp.name)?,
                        fields: tracefs.tracepoint_fields(&tp.category, &tp.name)?,
                        name: tp.name,
                        category: tp.category,
                    })
                })
                .collect()
        }
        Provider::Uprobe {
            target,
            function,
            ret,
        } => {
            let path = bpf::elf::resolve_target(target)?;
            let mut targets = Vec::new();
            let wildcard = function.contains(['*', '?']);
            let mut seen = std::collections::BTreeSet::new();
            for f in bpf::elf::functions(&path)? {
                let hit = if wildcard {
                    glob_match(function, &f.name)
                } else {
                    f.name == *function
                };
                if hit && seen.insert(f.name.clone()) {
                    targets.push(Target::Uprobe {
                        path: path.clone(),
                        function: f.name,
                        file_offset: f.file_offset,
                        ret: *ret,
                    });
                    if !wildcard {
                        break;
                    }
                }
            }
            if targets.is_empty() {
                return Err(at(
                    point,
                    format!("no function matches '{function}' in {}", path.display()),
                ));
            }
            Ok(targets)
        }
        Provider::Profile { unit, count } => {
            let hz = match unit {
                crate::ast::TimeUnit::Hz => Some(*count).filter(|&c| c > 0),
                other => other.period_ns(*count).map(|p| (1_000_000_000 / p).max(1)),
            };
            let Some(frequency_hz) = hz else {
                return Err(at(point, "profile rate must be greater than zero".into()));
            };
            Ok(vec![Target::Profile {
                frequency_hz,
                name: format!("profile:{}:{count}", unit.name()),
            }])
        }
        Provider::Interval { unit, count } => match unit.period_ns(*count) {
            Some(period_ns) => Ok(vec![Target::Interval {
                period_ns,
                name: format!("interval:{}:{count}", unit.name()),
            }]),
            None => Err(at(point, "interval must be greater than zero".into())),
        },
    }
}
