//! Fuzzes the perf ring-buffer record decoder with arbitrary records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use profiler::linux::records::{Decoder, PrevStateField, Role};

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::new(Some(PrevStateField { offset: 4, size: 8 }));
    decoder.add_event(1, Role::OnCpu);
    decoder.add_event(2, Role::Switch);
    let _ = decoder.decode(data);
});
