//! Differential test of compile errors against the real bpftrace 0.17: for
//! programs whose message whyslow words as bpftrace does, the rendered
//! errors (position line, source line, `~~~` marker) must equal bpftrace's
//! stderr byte for byte. Skips like `bpftrace_layout.rs` (fails instead with
//! `WHYSLOW_REQUIRE_BPFTRACE`).

mod common;

use std::process::Command;

/// Programs rejected by both, with the same words and positions.
const PROGRAMS: &[&str] = &[
    "BEGIN { @x = ; }",
    "BEGIN { foo(); }",
    "BEGIN { @x = count(1); }",
    "BEGIN { $x = count(); }",
    "BEGIN { count(); }",
    "BEGIN { @x = nosuch; }",
    "BEGIN { @x = $y; }",
    "BEGIN { @x = hist(); }",
    "BEGIN { @x = lhist(1, 0, 10); }",
    "BEGIN { @x = lhist(1, 0, 10, 0); }",
    "BEGIN { @x = lhist(1, -10, 10, 1); }",
    "BEGIN { @x = lhist(1, 0, 100000, 1); }",
    "BEGIN { @x = sum(\"a\"); }",
    "BEGIN { @x = hist(comm); }",
    "BEGIN { exit(1); }",
    "BEGIN { clear(5); }",
    "BEGIN { @x[1] = 1; print(@x[1]); }",
    "BEGIN { printf(5); }",
    "BEGIN { printf(\"%d %d\\n\", 1); }",
    "BEGIN { printf(\"%d\\n\", 1, 2); }",
    "BEGIN { printf(\"[%s]\\n\", 5); }",
    "BEGIN { printf(\"[%d]\\n\", \"a\"); }",
    "BEGIN { $x = printf(\"a\"); }",
    "BEGIN { @x = 1 ? 2 : \"a\"; }",
    "BEGIN { @x = \"a\" < \"b\"; }",
    "BEGIN { @x = !comm; }",
    "BEGIN { @x = comm + 1; }",
    "BEGIN {\n\t@x = foo;\n}",
    "BEGIN {\n  printf(\"%d\\n\",\n    \"a\");\n}",
    "BEGIN { @x = foo; @y = bar; $z = count(); }",
    "BEGIN { @x = 1; @x = \"a\"; }",
    // Stacks, func and probe.
    "BEGIN { @ = func; exit(); }",
    "BEGIN { @x = kstack(\"a\"); }",
    "BEGIN { @x = ustack(pid); }",
    "BEGIN { @x = ustack(3, 4); }",
    "BEGIN { @x = kstack(perf, 3, 4); }",
    "BEGIN { @x = kstack(2000); }",
    "BEGIN { @x = kstack(perf, pid); }",
    "BEGIN { @x = kstack; @x = ustack; }",
    "BEGIN { @x = kstack + 1; }",
    "BEGIN { @x = probe + 1; }",
    "BEGIN { printf(\"%d\\n\", kstack); }",
    "BEGIN { printf(\"%d\\n\", probe); }",
    "BEGIN { @x = sum(kstack); }",
    // A map read before any assignment types as an integer, so only the
    // string assignment is wrong.
    "BEGIN { @x = @x + 1; @x = \"a\"; exit(); }",
];

#[test]
fn errors_match_bpftrace() {
    if !common::require_or_skip("error") {
        return;
    }
    for program in PROGRAMS {
        let ours = match tracer::compile_front(program, &tracer::NoEnvironment) {
            Ok(_) => panic!("whyslow accepted: {program}"),
            Err(e) => e.render("stdin", program),
        };
        // bpftrace stops before loading anything when the program is
        // rejected; the timeout only guards against it being accepted.
        let out = Command::new("timeout")
            .args(["20", "bpftrace", "-e", program])
            .output()
            .expect("run bpftrace");
        let theirs: String = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.contains("RLIMIT_MEMLOCK"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(ours, theirs, "errors differ for:\n{program}");
    }
}
