//! `offcputime`'s output, in BCC's offcputime layout (which libbpf-tools'
//! follows for the stack blocks):
//!
//! - the header, `Tracing off-CPU time (us) of all threads by user + kernel
//!   stack... Hit Ctrl-C to end.` (not in folded mode);
//! - per entry, kernel frames innermost first, `    --` with `-d`, user
//!   frames innermost first, `    -                comm (pid)` and
//!   `        <usecs>` then a blank line; with `-v` each frame as
//!   libbpf-tools' verbose `    #N  0xADDR name+0xOFF`;
//! - folded (`-f`): `comm;user frames;kernel frames usecs`, outermost frame
//!   first (with `-d` a `-` frame between user and kernel), the collapsed
//!   stack format flame graph tools and `whyslow report` read.

use super::entry::{Entry, Frame, Stack};
use super::options::Options;

/// What a frame without a name prints as.
const UNKNOWN: &str = "[unknown]";

/// The line printed when tracing starts (without its newline).
pub fn header(o: &Options) -> String {
    let join = |ids: &[u32]| {
        ids.iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let threads = if !o.pids.is_empty() {
        format!("PIDs {}", join(&o.pids))
    } else if !o.tids.is_empty() {
        format!("TIDs {}", join(&o.tids))
    } else if o.user_threads_only {
        "user threads".to_string()
    } else if o.kernel_threads_only {
        "kernel threads".to_string()
    } else {
        "all threads".to_string()
    };
    let stacks = if o.user_stacks_only {
        "user"
    } else if o.kernel_stacks_only {
        "kernel"
    } else {
        "user + kernel"
    };
    let until = match o.duration {
        Some(secs) => format!(" for {secs} secs."),
        None => "... Hit Ctrl-C to end.".to_string(),
    };
    format!("Tracing off-CPU time (us) of {threads} by {stacks} stack{until}")
}

/// Every entry in the layout `o` asks for.
pub fn render(o: &Options, entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        if o.folded {
            out.push_str(&folded_line(o, e));
            out.push('\n');
        } else {
            out.push_str(&block(o, e));
        }
    }
    out
}

/// BCC's closing warning for stacks that could not be collected, if any.
/// BCC suggests a bigger stack map when it was full (`ENOMEM`); we also do
/// for hash collisions (`EEXIST`), which more buckets make rarer too.
pub fn missed_warning(o: &Options, entries: &[Entry]) -> Option<String> {
    let mut missed = 0;
    let mut too_small = false;
    for e in entries {
        for (stack, shown) in [
            (&e.kernel, !o.user_stacks_only),
            (&e.user, !o.kernel_stacks_only),
        ] {
            if let (Stack::Missed(errno), true) = (stack, shown) {
                missed += 1;
                too_small |= matches!(*errno, libc::ENOMEM | libc::EEXIST);
            }
        }
    }
    (missed > 0).then(|| {
        let hint = if too_small {
            " Consider increasing --stack-storage-size."
        } else {
            ""
        };
        format!("WARNING: {missed} stack traces lost and could not be displayed.{hint}")
    })
}

/// One entry as a multi-line block.
pub fn block(o: &Options, e: &Entry) -> String {
    let mut out = String::new();
    let mut index = 0;
    if !o.user_stacks_only {
        stack_lines(o, &e.kernel, "Kernel", 0, &mut index, &mut out);
    }
    if !o.kernel_stacks_only {
        if o.needs_delimiter() && both_collected(e) {
            out.push_str("    --\n");
        }
        stack_lines(o, &e.user, "User", 16, &mut index, &mut out);
    }
    out.push_str(&format!("    {:<16} {} ({})\n", "-", e.comm, e.pid));
    out.push_str(&format!("        {}\n\n", e.total_us));
    out
}

/// A stack's lines; `width` pads verbose addresses (16 for user ones, as
/// libbpf-tools prints them).
fn stack_lines(
    o: &Options,
    stack: &Stack,
    kind: &str,
    width: usize,
    index: &mut usize,
    out: &mut String,
) {
    match stack {
        Stack::Absent => {}
        Stack::Missed(_) => out.push_str(&format!("    [Missed {kind} Stack]\n")),
        Stack::Frames(frames) => {
            for f in frames {
                if o.verbose {
                    out.push_str(&format!(
                        "    #{:<2} 0x{:0width$x} {}\n",
                        *index,
                        f.addr,
                        with_offset(f)
                    ));
                    *index += 1;
                } else {
                    out.push_str(&format!("    {}\n", name(f)));
                }
            }
        }
    }
}

/// One entry as a folded line (without its newline).
pub fn folded_line(o: &Options, e: &Entry) -> String {
    let mut parts = vec![clean(&e.comm)];
    if !o.kernel_stacks_only {
        outermost_first(&e.user, "User", &mut parts);
    }
    if !o.user_stacks_only {
        if o.needs_delimiter() && both_collected(e) {
            parts.push("-".to_string());
        }
        outermost_first(&e.kernel, "Kernel", &mut parts);
    }
    format!("{} {}", parts.join(";"), e.total_us)
}

fn outermost_first(stack: &Stack, kind: &str, parts: &mut Vec<String>) {
    match stack {
        Stack::Absent => {}
        Stack::Missed(_) => parts.push(format!("[Missed {kind} Stack]")),
        Stack::Frames(frames) => parts.extend(frames.iter().rev().map(|f| clean(name(f)))),
    }
}

/// Whether both stacks were collected (what `-d` separates).
fn both_collected(e: &Entry) -> bool {
    matches!((&e.kernel, &e.user), (Stack::Frames(_), Stack::Frames(_)))
}

fn name(f: &Frame) -> &str {
    f.name.as_deref().unwrap_or(UNKNOWN)
}

fn with_offset(f: &Frame) -> String {
    match &f.name {
        Some(n) => format!("{n}+0x{:x}", f.offset),
        None => UNKNOWN.to_string(),
    }
}

/// A folded frame: `;` separates frames (Rust names such as `[u8; 4]` have
/// one) and a line break would end the line, so both are replaced.
fn clean(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            ';' => ':',
            c if c.is_control() => '?',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(addr: u64, name: &str) -> Frame {
        Frame {
            addr,
            name: Some(name.to_string()),
            offset: 0x10,
        }
    }

    fn entry() -> Entry {
        Entry {
            pid: 42,
            tgid: 40,
            comm: "sleeper".into(),
            user: Stack::Frames(vec![
                named(0x401000, "nanosleep"),
                named(0x402000, "main"),
                Frame::at(0x403000),
            ]),
            kernel: Stack::Frames(vec![
                named(0xffff_ffff_8100_0000, "__schedule"),
                named(0xffff_ffff_8100_1000, "schedule"),
                named(0xffff_ffff_8100_2000, "do_syscall_64"),
            ]),
            total_us: 300_123,
        }
    }

    #[test]
    fn headers_say_what_is_traced() {
        assert_eq!(
            header(&Options::default()),
            "Tracing off-CPU time (us) of all threads by user + kernel stack... Hit Ctrl-C to end."
        );
        let o = Options {
            pids: vec![185, 175],
            kernel_stacks_only: true,
            duration: Some(5),
            ..Options::default()
        };
        assert_eq!(
            header(&o),
            "Tracing off-CPU time (us) of PIDs 185,175 by kernel stack for 5 secs."
        );
    }

    #[test]
    fn blocks_list_kernel_then_user_frames_innermost_first() {
        let o = Options {
            delimited: true,
            ..Options::default()
        };
        assert_eq!(
            block(&o, &entry()),
            "    __schedule\n    schedule\n    do_syscall_64\n    --\n    nanosleep\n    main\n    [unknown]\n    -                sleeper (42)\n        300123\n\n"
        );
        let o = Options {
            verbose: true,
            user_stacks_only: true,
            ..Options::default()
        };
        assert_eq!(
            block(&o, &entry()),
            "    #0  0x0000000000401000 nanosleep+0x10\n    #1  0x0000000000402000 main+0x10\n    #2  0x0000000000403000 [unknown]\n    -                sleeper (42)\n        300123\n\n"
        );
        let mut e = entry();
        e.user = Stack::Missed(libc::ENOMEM);
        let o = Options::default();
        assert!(block(&o, &e).contains("    do_syscall_64\n    [Missed User Stack]\n    -   "));
        let warning = missed_warning(&o, &[e]).expect("warning");
        assert!(warning.ends_with("Consider increasing --stack-storage-size."));
        assert_eq!(missed_warning(&o, &[entry()]), None);
        let mut e = entry();
        e.kernel = Stack::Missed(0);
        assert_eq!(
            missed_warning(&o, &[e]).as_deref(),
            Some("WARNING: 1 stack traces lost and could not be displayed.")
        );
    }

    #[test]
    fn folded_lines_run_from_comm_to_the_innermost_kernel_frame() {
        let o = Options::default();
        assert_eq!(
            folded_line(&o, &entry()),
            "sleeper;[unknown];main;nanosleep;do_syscall_64;schedule;__schedule 300123"
        );
        let o = Options {
            delimited: true,
            ..Options::default()
        };
        assert_eq!(
            folded_line(&o, &entry()),
            "sleeper;[unknown];main;nanosleep;-;do_syscall_64;schedule;__schedule 300123"
        );
        let o = Options {
            kernel_stacks_only: true,
            delimited: true,
            ..Options::default()
        };
        assert_eq!(
            folded_line(&o, &entry()),
            "sleeper;do_syscall_64;schedule;__schedule 300123"
        );
        let mut e = entry();
        e.comm = "a;b\n".into();
        e.user = Stack::Frames(vec![named(1, "<[u8; 4] as Debug>::fmt")]);
        e.kernel = Stack::Missed(17);
        assert_eq!(
            folded_line(&Options::default(), &e),
            "a:b?;<[u8: 4] as Debug>::fmt;[Missed Kernel Stack] 300123"
        );
    }

    #[test]
    fn render_joins_lines_in_order() {
        let o = Options {
            folded: true,
            ..Options::default()
        };
        let mut second = entry();
        second.pid = 43;
        let text = render(&o, &[entry(), second]);
        assert_eq!(text.lines().count(), 2);
        assert!(text.ends_with(" 300123\n"));
    }
}
