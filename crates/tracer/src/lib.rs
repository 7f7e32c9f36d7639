//! The language front end of `whyslow trace` and bpftrace's output layout.
//!
//! Steps, each a module:
//!
//! 1. [`lex`]: text to tokens (probe headers lexed whole, C-like tokens in
//!    blocks);
//! 2. [`parse`]: tokens to the [`ast`], every node with its [`span::Span`];
//! 3. [`check`]: types every expression and every map, reports semantic
//!    errors; the result ([`Checked`]) is what the code generator takes;
//! 4. [`format`]: after the run, maps and `printf` output printed exactly as
//!    bpftrace 0.17 prints them, from plain values.
//!
//! Errors ([`Diagnostics`]) render in bpftrace's layout
//! (`stdin:1:14-20: ERROR: …`, the source line, a `~~~` marker).
//!
//! ```
//! let checked = tracer::compile_front(
//!     "tracepoint:syscalls:sys_enter_write /comm == \"dd\"/ { @[pid] = count(); }",
//!     &tracer::NoEnvironment,
//! )
//! .unwrap();
//! assert_eq!(checked.maps["@"].value.to_string(), "count");
//! ```
//!
//! Then, on a real machine: [`env`] answers tracepoint field types from
//! tracefs, [`codegen`] turns each probe into BPF instructions (map layouts
//! in [`layout`]), and [`runtime`] creates maps, loads, attaches, runs and
//! prints. The system calls themselves are crate `bpf`'s. [`offline`]
//! generates code without a kernel (for the fuzzer and tests).

pub mod ast;
pub mod check;
pub mod codegen;
pub mod diag;
pub mod env;
pub mod format;
pub mod layout;
pub mod lex;
pub mod offline;
pub mod parse;
pub mod runtime;
pub mod span;
pub mod types;

/// The kernel side, for callers that list probes or report its errors.
pub use bpf;
pub use check::{check, Checked, Environment, FieldLookup, MapInfo, NoEnvironment};
pub use diag::{Diagnostic, Diagnostics};
pub use parse::parse;

/// Parses and checks a program: the whole front end in one call.
pub fn compile_front(source: &str, env: &dyn Environment) -> Result<Checked, Diagnostics> {
    check(parse(source)?, env)
}
