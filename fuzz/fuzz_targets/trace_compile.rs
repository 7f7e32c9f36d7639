//! Fuzzes `whyslow trace`'s whole compiler: any text is parsed, checked and
//! turned into BPF instructions for every attach point (against placeholder
//! maps and a fixed tracepoint record, nothing loaded), or refused with
//! positioned errors that render in bpftrace's layout. Nothing may panic,
//! and every generated program must end in `exit`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    match tracer::offline::compile(source) {
        Ok(programs) => {
            for program in programs {
                let last = program.last().expect("a program has instructions");
                assert_eq!(last.code, 0x95, "a program must end with exit");
            }
        }
        Err(errors) => {
            assert!(!errors.0.is_empty());
            let _ = errors.render("stdin", source);
        }
    }
});
