//! Checker tests: inferred types, map info, and each error with its position.

use crate::ast::{ExprKind, StmtKind};
use crate::check::{check, Environment, FieldLookup, NoEnvironment};
use crate::parse::parse;
use crate::types::{AggKind, Type};
use crate::Checked;

fn ok(src: &str) -> Checked {
    match check(parse(src).unwrap(), &NoEnvironment) {
        Ok(c) => c,
        Err(e) => panic!("{}", e.render("stdin", src)),
    }
}

/// The errors as `line:col-end: message`.
fn errors(src: &str) -> Vec<String> {
    let e = check(parse(src).unwrap(), &NoEnvironment).unwrap_err();
    e.0.iter()
        .map(|d| {
            format!(
                "{}:{}-{}: {}",
                d.span.line, d.span.col, d.span.end_col, d.message
            )
        })
        .collect()
}

fn one_error(src: &str) -> String {
    let e = errors(src);
    assert_eq!(e.len(), 1, "{e:?}");
    e[0].clone()
}

#[test]
fn map_types_from_assignments() {
    let c = ok("BEGIN { @c[comm, pid] = count(); @h = hist(5); @l = lhist(1, 0, 100, 10); @s = \"ab\"; @s = \"abcd\"; \
                @i = 1; @i++; @k[kstack] = count(); @t = stats(1); @a = avg(2); @m = min(1); @M = max(1); @S = sum(1); }");
    assert_eq!(c.maps["@c"].keys, vec![Type::Str { size: 16 }, Type::UINT]);
    assert_eq!(c.maps["@c"].value, Type::Agg(AggKind::Count));
    assert_eq!(c.maps["@h"].value, Type::Agg(AggKind::Hist));
    assert_eq!(
        c.maps["@l"].value,
        Type::Agg(AggKind::Lhist {
            min: 0,
            max: 100,
            step: 10
        })
    );
    assert_eq!(c.maps["@s"].value, Type::Str { size: 5 });
    assert!(c.maps["@i"].value.is_int());
    assert_eq!(
        c.maps["@k"].keys,
        vec![Type::Stack(crate::types::StackType::KERNEL)]
    );
    assert_eq!(c.maps.len(), 11);
}

#[test]
fn reads_see_maps_assigned_later_in_the_source() {
    let c = ok("tracepoint:syscalls:sys_exit_read { $d = nsecs - @start[tid]; @lat = hist($d); delete(@start[tid]); } \
                tracepoint:syscalls:sys_enter_read { @start[tid] = nsecs; }");
    assert_eq!(c.maps["@start"].keys, vec![Type::UINT]);
    let StmtKind::Assign { value, .. } = &c.program.probes[0].body.stmts[0].kind else {
        panic!()
    };
    assert_eq!(value.ty, Type::UINT);
}

#[test]
fn every_expression_gets_a_type() {
    let c = ok("BEGIN { $s = str(5); $b = comm == \"dd\" && $s != \"x\"; @x = $b ? 1 : -1; printf(\"%s\\n\", $s); }");
    let stmts = &c.program.probes[0].body.stmts;
    let StmtKind::Assign { value, .. } = &stmts[0].kind else {
        panic!()
    };
    assert_eq!(value.ty, Type::Str { size: 64 });
    let StmtKind::Assign { value, .. } = &stmts[1].kind else {
        panic!()
    };
    assert_eq!(value.ty, Type::INT);
    let StmtKind::Expr(call) = &stmts[3].kind else {
        panic!()
    };
    assert_eq!(call.ty, Type::Void);
    let ExprKind::Call { args, .. } = &call.kind else {
        panic!()
    };
    assert_eq!(args[1].ty, Type::Str { size: 64 });
}

#[test]
fn unknown_names() {
    assert_eq!(
        one_error("BEGIN { foo(); }"),
        "1:9-12: Unknown function: foo"
    );
    assert_eq!(
        one_error("BEGIN { @x = nosuch; }"),
        "1:14-20: Unknown identifier: 'nosuch'"
    );
    assert_eq!(
        one_error("BEGIN { @x = $y; }"),
        "1:14-16: Undefined or undeclared variable: $y"
    );
    assert_eq!(
        one_error("BEGIN { print(@x); }"),
        "1:15-17: Undefined map: @x"
    );
}

#[test]
fn arity() {
    assert_eq!(
        one_error("BEGIN { @x = count(1); }"),
        "1:14-22: count() requires no arguments (1 provided)"
    );
    assert_eq!(
        one_error("BEGIN { @x = hist(); }"),
        "1:14-20: hist() requires one argument (0 provided)"
    );
    assert_eq!(
        one_error("BEGIN { @x = lhist(1, 0, 10); }"),
        "1:14-29: lhist() requires 4 arguments (3 provided)"
    );
    assert_eq!(
        one_error("BEGIN { exit(1); }"),
        "1:9-16: exit() requires no arguments (1 provided)"
    );
}

#[test]
fn aggregations_only_as_map_values() {
    assert_eq!(
        one_error("BEGIN { $x = count(); }"),
        "1:14-21: count() should be directly assigned to a map"
    );
    assert_eq!(
        one_error("BEGIN { count(); }"),
        "1:9-16: count() should be directly assigned to a map"
    );
    assert_eq!(
        one_error("BEGIN { @x = 1 + sum(2); }"),
        "1:18-24: sum() should be directly assigned to a map"
    );
    assert_eq!(
        one_error("BEGIN { $x = printf(\"a\"); }"),
        "1:14-25: printf() should not be used in an assignment or as a map key"
    );
}

#[test]
fn maps_keep_one_key_and_value_type() {
    assert_eq!(
        one_error("BEGIN { @x[1] = 1; @x[\"a\"] = 2; }"),
        "1:20-27: Argument mismatch for @x: trying to access with arguments: [string[2]] when map expects \
         arguments: [int64]"
    );
    assert_eq!(
        one_error("BEGIN { @x = 1; @x = \"a\"; }"),
        "1:17-19: Type mismatch for @x: trying to assign value of type 'string[2]' when map already contains a \
         value of type 'int64"
    );
    assert_eq!(
        one_error("BEGIN { @x = count(); @x = sum(5); }"),
        "1:23-25: Type mismatch for @x: trying to assign value of type 'sum' when map already contains a value of \
         type 'count"
    );
    assert!(one_error("BEGIN { @x = count(); @x++; }").contains("'+=' needs an integer map"));
    assert!(
        one_error("BEGIN { @x = lhist(1, 0, 10, 1); @x = lhist(1, 0, 20, 1); }")
            .contains("other min")
    );
    assert!(one_error("BEGIN { $x = 1; $x = \"a\"; }").contains("Type mismatch for $x"));
}

#[test]
fn string_and_integer_operators() {
    assert_eq!(
        one_error("BEGIN { if (comm == 1) {} }"),
        "1:13-22: Type mismatch for '==': comparing 'string[16]' with 'int64'"
    );
    assert_eq!(
        one_error("BEGIN { @x = \"a\" < \"b\"; }"),
        "1:18-19: The < operator can not be used on expressions of types string[2], string[2]"
    );
    assert_eq!(
        one_error("BEGIN { @x = !comm; }"),
        "1:14-15: The ! operator can not be used on expressions of type 'string[16]'"
    );
    assert_eq!(
        one_error("BEGIN { @x = 1 ? 2 : \"a\"; }"),
        "1:14-25: Ternary operator must return the same type: have 'integer' and 'string'"
    );
    assert!(one_error("BEGIN /comm/ { exit(); }").contains("predicate must be an integer"));
    ok("BEGIN { @x = comm == \"dd\"; @y = str(5) != comm; }");
}

#[test]
fn builtins_belong_to_probe_kinds() {
    assert_eq!(
        one_error("BEGIN { @x = retval; }"),
        "1:14-20: The retval builtin can only be used with 'uretprobe' probes (BEGIN used here)"
    );
    assert_eq!(
        one_error("BEGIN { @x = args.foo; }"),
        "1:14-22: The args builtin can only be used with tracepoint probes (BEGIN used here)"
    );
    assert!(one_error("tracepoint:sched:sched_switch { @x = arg0; }").contains("arg0 builtin"));
    assert!(one_error("tracepoint:sched:sched_switch { @x = func; }").contains("func builtin"));
    assert!(one_error("uprobe:/bin/sh:main { @x = arg6; }").contains("out of range"));
    assert!(one_error("uprobe:/bin/sh:main, t:a:b { @x = arg0; }").contains("arg0 builtin"));
    ok("uretprobe:/bin/sh:main { @x = retval; @f[func] = count(); }");
    ok("uprobe:/bin/sh:main { @x = arg0 + arg5; @p[probe] = count(); @u[ustack] = count(); }");
    ok("tracepoint:syscalls:sys_enter_openat { @[str(args.filename)] = count(); @k[kstack] = count(); }");
}

#[test]
fn lhist_bounds_are_literals() {
    assert_eq!(
        one_error("BEGIN { $a = 5; @x = lhist(1, $a, 10, 1); }"),
        "1:22-41: lhist() expects an integer literal for min (argument 2)"
    );
    assert!(one_error("BEGIN { @x = lhist(1, -10, 10, 1); }").contains("non-negative"));
    assert!(one_error("BEGIN { @x = lhist(1, 10, 5, 1); }").contains("less than max"));
    assert!(one_error("BEGIN { @x = lhist(1, 0, 10, 0); }").contains("step must be >= 1"));
    assert!(one_error("BEGIN { @x = lhist(1, 0, 100000, 1); }").contains("too many buckets"));
    assert!(one_error("BEGIN { @x = hist(comm); }")
        .contains("only supports integer arguments (string provided)"));
}

#[test]
fn printf_arguments_match_the_format() {
    assert_eq!(
        one_error("BEGIN { printf(5); }"),
        "1:9-18: printf() expects a string literal (integer provided)"
    );
    assert_eq!(
        one_error("BEGIN { printf(\"%d %d\\n\", 1); }"),
        "1:9-29: printf: Not enough arguments for format string (1 supplied, 2 expected)"
    );
    assert_eq!(
        one_error("BEGIN { printf(\"%d\\n\", 1, 2); }"),
        "1:9-29: printf: Too many arguments for format string (2 supplied, 1 expected)"
    );
    assert_eq!(
        one_error("BEGIN { printf(\"[%s]\\n\", 5); }"),
        "1:9-28: printf: %s specifier expects a value of type string (integer supplied)"
    );
    assert_eq!(
        one_error("BEGIN { printf(\"[%-5d]\\n\", \"a\"); }"),
        "1:9-32: printf: %-5d specifier expects a value of type integer (string supplied)"
    );
    ok("BEGIN { printf(\"%s %d %-16s %lu %c %%\\n\", comm, pid, str(1), nsecs, 65); }");
    ok("uprobe:/bin/sh:main { printf(\"%s %s %s\\n\", func, probe, ustack); }");
}

#[test]
fn map_functions_take_maps() {
    assert_eq!(
        one_error("BEGIN { clear(5); }"),
        "1:9-17: clear() expects a map to be provided"
    );
    assert_eq!(
        one_error("BEGIN { @x[1] = 1; print(@x[1]); }"),
        "1:20-32: The map passed to print() should not be indexed by a key"
    );
    assert_eq!(
        one_error("BEGIN { @x[1] = 1; delete(@x); }"),
        "1:20-30: Argument mismatch for @x: trying to access with arguments: [] when map expects arguments: [int64]"
    );
    assert!(errors("BEGIN { @x = 1; print(@x, $y); }")[0].contains("Undefined or undeclared"));
    assert!(one_error("BEGIN { @x = 1; print(@x, 2 + 1); }")
        .contains("integer literals for top and div"));
    ok("BEGIN { @x[1] = count(); print(@x, 10, 2); clear(@x); delete(@x[1]); @y = 1; delete(@y); }");
}

#[test]
fn aggregations_cannot_be_read() {
    assert!(one_error("BEGIN { @x = count(); if (@x > 1) { } }").contains("per-CPU"));
}

#[test]
fn all_errors_are_reported_in_order() {
    let e = errors("BEGIN { @x = foo; @y = bar; $z = count(); }");
    assert_eq!(e.len(), 3);
    assert!(e[0].contains("'foo'") && e[1].contains("'bar'") && e[2].contains("count()"));
}

struct Fields;

impl Environment for Fields {
    fn tracepoint_field(&self, _category: &str, _event: &str, field: &str) -> FieldLookup {
        match field {
            "filename" => FieldLookup::Found(Type::UINT),
            "comm" => FieldLookup::Found(Type::Str { size: 16 }),
            _ => FieldLookup::Missing {
                available: vec!["filename".into(), "comm".into()],
            },
        }
    }
}

#[test]
fn tracepoint_fields_come_from_the_environment() {
    let src = "t:sched:sched_process_exec { @[args.comm] = count(); @f = args.nope; }";
    let e = check(parse(src).unwrap(), &Fields).unwrap_err();
    assert_eq!(e.0.len(), 1);
    assert_eq!(
        e.0[0].message,
        "tracepoint sched:sched_process_exec has no field 'nope' (it has: filename, comm)"
    );
    let c = check(parse("t:a:b { @[args.comm] = count(); }").unwrap(), &Fields).unwrap();
    assert_eq!(c.maps["@"].keys, vec![Type::Str { size: 16 }]);
}

#[test]
fn tutorial_one_liners_are_accepted() {
    for src in [
        "BEGIN { printf(\"Hello, World!\\n\"); }",
        "tracepoint:syscalls:sys_enter_openat { printf(\"%s %s\\n\", comm, str(args->filename)); }",
        "tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }",
        "tracepoint:syscalls:sys_exit_read /pid == 18644/ { @bytes = hist(args->ret); }",
        "tracepoint:syscalls:sys_exit_read { @bytes = lhist(args->ret, 0, 10000, 1000); }",
        "tracepoint:syscalls:sys_exit_read /args->ret/ { @[comm] = sum(args->ret); }",
        "tracepoint:syscalls:sys_enter_read { @start[tid] = nsecs; } \
         tracepoint:syscalls:sys_exit_read /@start[tid]/ { @ns[comm] = hist(nsecs - @start[tid]); \
         delete(@start[tid]); }",
        "profile:hz:99 /pid == 189/ { @[ustack] = count(); }",
        "profile:hz:99 { @[kstack] = count(); }",
        "tracepoint:sched:sched_switch { @[kstack] = count(); }",
        "tracepoint:block:block_rq_issue { @ = hist(args.bytes); }",
        "interval:s:5 { exit(); }",
        "interval:s:1 { print(@x); clear(@x); } tracepoint:syscalls:sys_enter_write { @x[comm] = count(); }",
        "uretprobe:/bin/bash:readline { printf(\"read a line\\n\"); }",
        "uprobe:/bin/bash:readline { @[probe, func] = count(); }",
        "tracepoint:syscalls:sys_enter_write /comm == \"dd\"/ { @[pid] = count(); }",
        "t:syscalls:sys_enter_* { @[probe] = count(); } END { printf(\"done\\n\"); }",
    ] {
        ok(src);
    }
}

#[test]
fn stack_calls_take_a_mode_and_a_limit() {
    use crate::types::StackType;
    let c = ok("interval:s:1 { @a[kstack(perf, 3)] = count(); @b = ustack(5); @c[ustack(bpftrace)] = count(); @d = kstack(); }");
    let stack = |user, limit, perf| Type::Stack(StackType { user, limit, perf });
    assert_eq!(c.maps["@a"].keys, vec![stack(false, 3, true)]);
    assert_eq!(c.maps["@b"].value, stack(true, 5, false));
    assert_eq!(c.maps["@c"].keys, vec![stack(true, 0, false)]);
    assert_eq!(c.maps["@d"].value, stack(false, 0, false));
    assert_eq!(c.stacks.len(), 4);
    assert_eq!(
        one_error("BEGIN { @x = kstack(0); }"),
        "1:14-23: kstack([int limit]): limit must be at least 1, 0 given"
    );
    assert_eq!(
        one_error("BEGIN { @x = ustack(perf, perf); }"),
        "1:14-32: ustack() expects a integer literal (none provided)"
    );
}

#[test]
fn maps_read_before_assignment_are_integers() {
    let c = ok("BEGIN { @x = @x + 1; @y[1] = @y[2] * 3; @z = -@z; @n = ~@n; }");
    for name in ["@x", "@y", "@z", "@n"] {
        assert!(c.maps[name].value.is_int(), "{name}");
    }
    assert_eq!(
        one_error("BEGIN { @y = @x; }"),
        "1:14-16: Undefined map: @x"
    );
}

#[test]
fn func_is_for_uprobes_only() {
    assert_eq!(
        one_error("uprobe:/bin/sh:main, tracepoint:a:b { @[func] = count(); }"),
        "1:41-45: The func builtin can not be used with 'tracepoint' probes"
    );
    ok("uprobe:/bin/sh:main, uretprobe:/bin/sh:main { @[func] = count(); @p[probe] = count(); }");
}
