//! Parser tests: every construct of the subset, and where syntax errors point.

use super::parse;
use crate::ast::*;

fn body(src: &str) -> Vec<Stmt> {
    let program = parse(src).unwrap();
    program.probes[0].body.stmts.clone()
}

fn first_expr(src: &str) -> Expr {
    match &body(src)[0].kind {
        StmtKind::Assign { value, .. } => value.clone(),
        StmtKind::Expr(e) => e.clone(),
        other => panic!("not an expression statement: {other:?}"),
    }
}

fn error(src: &str) -> (String, u32, u32, u32) {
    let e = parse(src).unwrap_err();
    let d = &e.0[0];
    (d.message.clone(), d.span.line, d.span.col, d.span.end_col)
}

#[test]
fn probes_with_shared_block_and_predicate() {
    let p = parse(
        "t:syscalls:sys_enter_read, tracepoint:syscalls:sys_enter_write /pid == 42/ { exit(); }",
    )
    .unwrap();
    assert_eq!(p.probes.len(), 1);
    let probe = &p.probes[0];
    assert_eq!(probe.attach_points.len(), 2);
    assert_eq!(
        probe.attach_points[1].raw,
        "tracepoint:syscalls:sys_enter_write"
    );
    assert!(matches!(
        probe.predicate.as_ref().unwrap().kind,
        ExprKind::Binary { op: BinOp::Eq, .. }
    ));
    assert_eq!(probe.span.col, 1);
}

#[test]
fn every_attach_point_kind() {
    let p = parse(
        "BEGIN {} END {} uprobe:/bin/bash:readline {} ur:/bin/bash:readline {} profile:hz:99 {} interval:s:1 {} \
         interval:ms:100 {}",
    )
    .unwrap();
    assert_eq!(p.probes.len(), 7);
    assert_eq!(p.probes[0].attach_points[0].provider, Provider::Begin);
    assert!(matches!(
        p.probes[3].attach_points[0].provider,
        Provider::Uprobe { ret: true, .. }
    ));
    assert_eq!(
        p.probes[6].attach_points[0].provider,
        Provider::Interval {
            unit: TimeUnit::Ms,
            count: 100
        }
    );
}

#[test]
fn map_assignments_and_aggregations() {
    let stmts = body(
        "BEGIN { @x = 1; @y[1, \"a\"] = count(); @z[comm] = lhist(pid, 0, 100, 10); @ = hist(5) }",
    );
    assert_eq!(stmts.len(), 4);
    let StmtKind::Assign {
        target: LValue::Map(m),
        op: None,
        value,
    } = &stmts[1].kind
    else {
        panic!("{:?}", stmts[1]);
    };
    assert_eq!(m.name, "@y");
    assert_eq!(m.keys.len(), 2);
    assert!(matches!(
        value.kind,
        ExprKind::Call {
            func: Function::Count,
            ..
        }
    ));
    let StmtKind::Assign {
        target: LValue::Map(m),
        ..
    } = &stmts[3].kind
    else {
        panic!();
    };
    assert_eq!(m.name, "@");
}

#[test]
fn increments_and_compound_assignments() {
    let stmts = body("BEGIN { @x++; @x--; @y[1] += 2; $v = 1; $v <<= 3; }");
    let ops: Vec<Option<BinOp>> = stmts
        .iter()
        .map(|s| match &s.kind {
            StmtKind::Assign { op, .. } => *op,
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        ops,
        vec![
            Some(BinOp::Add),
            Some(BinOp::Sub),
            Some(BinOp::Add),
            None,
            Some(BinOp::Shl)
        ]
    );
    let StmtKind::Assign { value, .. } = &stmts[0].kind else {
        panic!()
    };
    assert_eq!(value.kind, ExprKind::Int(1));
    assert_eq!((value.span.col, value.span.end_col), (11, 13));
}

#[test]
fn calls_as_statements() {
    let stmts = body(
        "BEGIN { printf(\"%d %s\\n\", pid, comm); print(@m); clear(@m); delete(@m[1]); exit(); }",
    );
    let names: Vec<String> = stmts
        .iter()
        .map(|s| match &s.kind {
            StmtKind::Expr(Expr {
                kind: ExprKind::Call { func, .. },
                ..
            }) => func.name().to_string(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(names, ["printf", "print", "clear", "delete", "exit"]);
}

#[test]
fn if_else_chains() {
    let stmts = body(
        "BEGIN { if (pid > 1) { @a = 1; } else if (pid) { @b = 1 } else { @c = 1; } @d = 1; }",
    );
    assert_eq!(stmts.len(), 2);
    let StmtKind::If { else_block, .. } = &stmts[0].kind else {
        panic!()
    };
    let nested = &else_block.as_ref().unwrap().stmts[0];
    assert!(matches!(
        nested.kind,
        StmtKind::If {
            else_block: Some(_),
            ..
        }
    ));
}

#[test]
fn precedence_is_c_like() {
    let e = first_expr("BEGIN { @x = 1 + 2 * 3 == 7 && !0 || 0; }");
    let ExprKind::Binary {
        op: BinOp::Or, lhs, ..
    } = e.kind
    else {
        panic!()
    };
    let ExprKind::Binary {
        op: BinOp::And,
        lhs,
        ..
    } = lhs.kind
    else {
        panic!()
    };
    let ExprKind::Binary {
        op: BinOp::Eq, lhs, ..
    } = lhs.kind
    else {
        panic!()
    };
    let ExprKind::Binary {
        op: BinOp::Add,
        rhs,
        ..
    } = lhs.kind
    else {
        panic!()
    };
    assert!(matches!(rhs.kind, ExprKind::Binary { op: BinOp::Mul, .. }));
}

#[test]
fn ternary_unary_and_negative_literals() {
    let e = first_expr("BEGIN { @x = pid > 1 ? -5 : ~cpu; }");
    let ExprKind::Ternary {
        then_expr,
        else_expr,
        ..
    } = e.kind
    else {
        panic!()
    };
    assert_eq!(then_expr.kind, ExprKind::Int(-5));
    assert!(matches!(
        else_expr.kind,
        ExprKind::Unary {
            op: UnaryOp::BitNot,
            ..
        }
    ));
}

#[test]
fn builtins_args_and_strings() {
    let e = first_expr("BEGIN { @x = str(args.filename); }");
    let ExprKind::Call {
        func: Function::Str,
        args,
        ..
    } = e.kind
    else {
        panic!()
    };
    assert_eq!(
        args[0].kind,
        ExprKind::TracepointArg {
            field: "filename".into()
        }
    );
    let e = first_expr("BEGIN { @x = args->count; }");
    assert_eq!(
        e.kind,
        ExprKind::TracepointArg {
            field: "count".into()
        }
    );
    for (name, builtin) in [
        ("pid", Builtin::Pid),
        ("tid", Builtin::Tid),
        ("uid", Builtin::Uid),
        ("gid", Builtin::Gid),
        ("comm", Builtin::Comm),
        ("nsecs", Builtin::Nsecs),
        ("cpu", Builtin::Cpu),
        ("retval", Builtin::Retval),
        ("arg3", Builtin::Arg(3)),
        ("kstack", Builtin::Kstack),
        ("ustack", Builtin::Ustack),
        ("func", Builtin::Func),
        ("probe", Builtin::Probe),
    ] {
        let e = first_expr(&format!("BEGIN {{ @x = {name}; }}"));
        assert_eq!(e.kind, ExprKind::Builtin(builtin), "{name}");
    }
    let e = first_expr("BEGIN { @x = comm == \"dd\"; }");
    let ExprKind::Binary { rhs, .. } = e.kind else {
        panic!()
    };
    assert_eq!(rhs.kind, ExprKind::Str("dd".into()));
}

#[test]
fn division_inside_a_predicate() {
    let p = parse("BEGIN /pid / 2 == 1/ { exit(); }").unwrap();
    assert!(matches!(
        p.probes[0].predicate.as_ref().unwrap().kind,
        ExprKind::Binary { op: BinOp::Eq, .. }
    ));
}

#[test]
fn spans_cover_the_node() {
    let stmts = body("BEGIN { @x[pid] = count(); }");
    let StmtKind::Assign {
        target: LValue::Map(m),
        value,
        ..
    } = &stmts[0].kind
    else {
        panic!()
    };
    assert_eq!((m.span.col, m.span.end_col), (9, 16));
    assert_eq!((value.span.col, value.span.end_col), (19, 26));
    assert_eq!((stmts[0].span.col, stmts[0].span.end_col), (9, 26));
}

#[test]
fn syntax_errors_point_like_bpftrace() {
    assert_eq!(
        error("BEGIN { @x = ; }"),
        ("syntax error, unexpected ;".into(), 1, 14, 15)
    );
    assert_eq!(
        error("BEGIN {"),
        (
            "syntax error, unexpected end of file, expecting }".into(),
            1,
            8,
            8
        )
    );
    assert_eq!(
        error("BEGIN { @x = 1; } END"),
        ("unexpected end of file, expected {".into(), 1, 19, 22)
    );
    assert_eq!(
        error("BEGIN { @x = (1; }"),
        (
            "syntax error, unexpected ;, expecting ) or \",\"".into(),
            1,
            16,
            17
        )
    );
    assert_eq!(
        error("BEGIN { @x = 1 @y = 2 }").0,
        "syntax error, unexpected map @y, expecting ; or }"
    );
    assert_eq!(
        error("foo:bar { }"),
        ("Invalid probe type: foo".into(), 1, 1, 8)
    );
    assert!(error("BEGIN { while (1) { } }").0.contains("not supported"));
    assert!(error("").0.starts_with("no probes"));
    assert!(error("BEGIN { @x = args; }")
        .0
        .starts_with("args must be followed"));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let src = format!(
        "BEGIN {{ @x = {}1{}; }}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(error(&src).0.contains("nested too deeply"));
    let src = format!("BEGIN {{ @x = {}1; }}", "-~".repeat(10_000));
    assert!(error(&src).0.contains("nested too deeply"));
    let src = format!("BEGIN {} {}", "{ if (1) ".repeat(5_000), "}".repeat(5_000));
    assert!(parse(&src).is_err());
}
