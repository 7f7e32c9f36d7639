//! Fuzzes the scrape exposition parsers (Prometheus text format 0.0.4 and
//! OpenMetrics 1.0): any input parses or is refused with a line number, and
//! never panics.
#![no_main]

use ingest::exposition::{parse, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [Format::PrometheusText, Format::OpenMetrics] {
        match parse(data, format) {
            Ok(exposition) => {
                let _ = exposition.into_series(0);
            }
            Err(error) => assert!(error.line >= 1),
        }
    }
});
