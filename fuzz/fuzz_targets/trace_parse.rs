//! Fuzzes `whyslow trace`'s front end: any text is lexed, parsed and
//! checked into a typed program or refused with positioned errors, which
//! render in bpftrace's layout; the printf format parser and renderer take
//! the same text. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracer::format::printf::{format_printf, parse_format, PrintfArg};

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    match tracer::compile_front(source, &tracer::NoEnvironment) {
        Ok(checked) => assert!(!checked.program.probes.is_empty()),
        Err(errors) => {
            assert!(!errors.0.is_empty());
            let _ = errors.render("stdin", source);
        }
    }
    let pieces = parse_format(source);
    let _ = format_printf(
        &pieces,
        &[
            PrintfArg::Int(-1),
            PrintfArg::Str(source.to_string()),
            PrintfArg::Int(i64::MIN),
        ],
    );
});
