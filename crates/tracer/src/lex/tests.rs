//! Lexer tests: both lexical worlds, spans, and errors.

use super::*;

fn toks(src: &str) -> Vec<Tok> {
    lex(src).unwrap().into_iter().map(|t| t.tok).collect()
}

#[test]
fn header_words_and_predicate() {
    assert_eq!(
        toks("uprobe:/bin/bash:readline, t:sched:* /pid == 1/ { }"),
        vec![
            Tok::AttachPoint("uprobe:/bin/bash:readline".into()),
            Tok::Comma,
            Tok::AttachPoint("t:sched:*".into()),
            Tok::Slash,
            Tok::Ident("pid".into()),
            Tok::EqEq,
            Tok::Int(1),
            Tok::Slash,
            Tok::LBrace,
            Tok::RBrace,
            Tok::Eof,
        ]
    );
}

#[test]
fn code_tokens() {
    assert_eq!(
        toks("BEGIN { @x[1] += $y->z; @++; // c\n /* d */ \"a\\tb\\x41\" 0x1f 1_000 }"),
        vec![
            Tok::AttachPoint("BEGIN".into()),
            Tok::LBrace,
            Tok::Map("@x".into()),
            Tok::LBracket,
            Tok::Int(1),
            Tok::RBracket,
            Tok::OpAssign(Box::new(Tok::Plus)),
            Tok::Var("$y".into()),
            Tok::Arrow,
            Tok::Ident("z".into()),
            Tok::Semi,
            Tok::Map("@".into()),
            Tok::PlusPlus,
            Tok::Semi,
            Tok::Str("a\tbA".into()),
            Tok::Int(31),
            Tok::Int(1000),
            Tok::RBrace,
            Tok::Eof,
        ]
    );
}

#[test]
fn shebang_and_predicate_glued_to_the_probe() {
    assert_eq!(
        toks("#!/usr/bin/env bpftrace\nt:a:b/pid/{}"),
        vec![
            Tok::AttachPoint("t:a:b".into()),
            Tok::Slash,
            Tok::Ident("pid".into()),
            Tok::Slash,
            Tok::LBrace,
            Tok::RBrace,
            Tok::Eof,
        ]
    );
    assert_eq!(
        toks("u:/bin/sh:main{}")[0],
        Tok::AttachPoint("u:/bin/sh:main".into())
    );
}

#[test]
fn second_probe_after_block_is_a_header_again() {
    let t = toks("BEGIN { if (1) { } } END { }");
    assert_eq!(t[t.len() - 4], Tok::AttachPoint("END".into()));
}

#[test]
fn spans_are_one_based_byte_columns() {
    let t = lex("BEGIN {\n  @x = 1;\n}").unwrap();
    let map = &t[2];
    assert_eq!(map.tok, Tok::Map("@x".into()));
    assert_eq!((map.span.line, map.span.col, map.span.end_col), (2, 3, 5));
}

#[test]
fn errors_point_at_the_bad_text() {
    let e = lex("BEGIN { @x = \"abc }").unwrap_err();
    assert_eq!(e.0[0].message, "unterminated string");
    assert_eq!((e.0[0].span.col, e.0[0].span.end_col), (14, 20));
    let e = lex("BEGIN { @x = 1 # }").unwrap_err();
    assert_eq!(e.0[0].message, "syntax error, unexpected character '#'");
    assert_eq!(e.0[0].span.col, 16);
    assert!(lex("BEGIN { 99999999999999999999 }").is_err());
    assert!(lex("BEGIN { \"\\xff\" }").is_err());
    assert!(lex("BEGIN { /* x").is_err());
}
