//! The crate's one error type. Each variant names what was asked for; a
//! refused permission also says what to change (root, capabilities, sysctls),
//! and a verifier rejection carries the kernel's log.

use std::io;
use std::path::PathBuf;

/// Lines of the verifier log shown in the message (the reason is at the end;
/// the whole log stays in the `log` field).
const LOG_TAIL_LINES: usize = 25;

/// Anything the kernel side of the tracer can fail at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `bpf()` or `perf_event_open` said EPERM/EACCES.
    #[error("{action} was refused ({source}): {hint}")]
    Permission {
        action: String,
        hint: String,
        #[source]
        source: io::Error,
    },
    /// Any other failed system call.
    #[error("{action} failed: {source}")]
    Syscall {
        action: String,
        #[source]
        source: io::Error,
    },
    /// `BPF_PROG_LOAD` failed and the verifier said why.
    #[error("the kernel verifier rejected program `{program}` ({source}):\n{}", log_tail(.log))]
    Verifier {
        program: String,
        /// The verifier's whole log (level 1).
        log: String,
        #[source]
        source: io::Error,
    },
    /// A key or value buffer of the wrong length for the map.
    #[error("map `{map}`: {what} is {got} bytes, the map takes {expected}")]
    Size {
        map: String,
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// A program attached where its type cannot run.
    #[error(
        "program `{program}` is a {actual} program; attaching to {target} needs a {needed} program"
    )]
    ProgramType {
        program: String,
        actual: &'static str,
        needed: &'static str,
        target: String,
    },
    /// tracefs is neither mounted nor mountable.
    #[error("tracefs is not mounted and mounting it at /sys/kernel/tracing failed ({source}); run as root or `mount -t tracefs tracefs /sys/kernel/tracing`")]
    TracefsUnavailable {
        #[source]
        source: io::Error,
    },
    /// No such tracepoint.
    #[error("tracepoint {category}:{name} not found (no {})", .dir.display())]
    TracepointNotFound {
        category: String,
        name: String,
        dir: PathBuf,
    },
    /// A file we need could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A kernel text file (tracepoint format, PMU format) we cannot parse.
    #[error("{}: {detail}", .path.display())]
    Format { path: PathBuf, detail: String },
    /// Not BTF we can read (bad header, a section past the end, a kind we
    /// do not know).
    #[error("{}: not readable BTF: {detail}", .path.display())]
    Btf { path: PathBuf, detail: String },
    /// A struct member a program wants that BTF does not describe as a
    /// readable whole.
    #[error("{}: struct {structure} member `{member}`: {detail}", .path.display())]
    BtfMember {
        path: PathBuf,
        structure: String,
        member: String,
        detail: String,
    },
    /// Not an ELF file we can read.
    #[error("{}: not a readable ELF file: {detail}", .path.display())]
    Elf { path: PathBuf, detail: String },
    /// No such function symbol.
    #[error("function `{symbol}` not found in {} (listed with -l)", .path.display())]
    SymbolNotFound { path: PathBuf, symbol: String },
    /// A symbol outside every loadable segment (no file offset to probe).
    #[error("`{symbol}` in {} at {address:#x} lies in no loadable segment", .path.display())]
    NoFileOffset {
        path: PathBuf,
        symbol: String,
        address: u64,
    },
    /// A uprobe target that is neither a path, nor on PATH, nor a library.
    #[error(
        "cannot find `{target}`: not a file, not on PATH, not a library in the usual directories"
    )]
    BinaryNotFound { target: String },
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, Error>;

fn log_tail(log: &str) -> String {
    let lines: Vec<&str> = log.trim_end().lines().collect();
    let skip = lines.len().saturating_sub(LOG_TAIL_LINES);
    let mut tail = lines[skip..].join("\n");
    if skip > 0 {
        tail.insert_str(0, &format!("[... {skip} earlier log lines]\n"));
    }
    tail
}

impl Error {
    /// A failed `bpf()` command, with the way out when it was a permission.
    pub(crate) fn bpf(action: impl Into<String>, source: io::Error) -> Error {
        let action = action.into();
        if is_permission(&source) {
            let hint = format!(
                "run as root, or give the binary CAP_BPF and CAP_PERFMON \
                 (`setcap cap_bpf,cap_perfmon+ep`); kernel.unprivileged_bpf_disabled is {} \
                 (1 or 2 allow bpf() to privileged users only){}",
                sysctl("kernel/unprivileged_bpf_disabled"),
                lockdown_note()
            );
            return Error::Permission {
                action,
                hint,
                source,
            };
        }
        Error::Syscall { action, source }
    }

    /// A failed `perf_event_open` or perf ioctl, with the way out when it was
    /// a permission.
    pub(crate) fn perf(action: impl Into<String>, source: io::Error) -> Error {
        let action = action.into();
        if is_permission(&source) {
            let hint = format!(
                "run as root, or give the binary CAP_PERFMON and CAP_BPF; \
                 kernel.perf_event_paranoid is {} (system-wide tracepoints without \
                 CAP_PERFMON need -1: `sysctl kernel.perf_event_paranoid=-1`)",
                sysctl("kernel/perf_event_paranoid")
            );
            return Error::Permission {
                action,
                hint,
                source,
            };
        }
        Error::Syscall { action, source }
    }
}

fn is_permission(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES))
}

/// A sysctl's value for a message, or `unreadable`.
fn sysctl(name: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/{name}"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|_| "unreadable".to_string())
}

/// When the kernel is locked down even root cannot load tracing programs.
fn lockdown_note() -> String {
    match std::fs::read_to_string("/sys/kernel/security/lockdown") {
        Ok(text) if !text.contains("[none]") => {
            format!(
                "; the kernel is locked down ({}), which blocks BPF tracing even for root",
                text.trim()
            )
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_errors_say_what_to_change() {
        let e = Error::bpf(
            "creating map `m`",
            io::Error::from_raw_os_error(libc::EPERM),
        );
        let text = e.to_string();
        assert!(text.contains("CAP_BPF"), "{text}");
        assert!(text.contains("kernel.unprivileged_bpf_disabled"), "{text}");
        let e = Error::perf(
            "opening tracepoint",
            io::Error::from_raw_os_error(libc::EACCES),
        );
        assert!(e.to_string().contains("kernel.perf_event_paranoid"));
        let e = Error::perf(
            "opening tracepoint",
            io::Error::from_raw_os_error(libc::ENOENT),
        );
        assert!(matches!(e, Error::Syscall { .. }));
    }

    #[test]
    fn verifier_message_shows_the_log_tail() {
        let log: String = (0..40).map(|i| format!("line {i}\n")).collect();
        let e = Error::Verifier {
            program: "p".into(),
            log,
            source: io::Error::from_raw_os_error(libc::EACCES),
        };
        let text = e.to_string();
        assert!(text.contains("line 39"));
        assert!(!text.contains("line 14\n"));
        assert!(text.contains("[... 15 earlier log lines]"));
    }
}
