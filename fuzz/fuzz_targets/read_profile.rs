//! Fuzzes `whyslow report`'s readers: every input format, detected and forced.
#![no_main]

use libfuzzer_sys::fuzz_target;
use render::Format;

fuzz_target!(|data: &[u8]| {
    let _ = render::read_profile(data, None);
    for hint in [Format::FlamegraphHtml, Format::Folded, Format::Pprof, Format::Speedscope, Format::PerfScript] {
        let _ = render::read_profile(data, Some(hint));
    }
});
