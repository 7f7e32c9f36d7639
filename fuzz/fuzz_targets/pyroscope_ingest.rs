//! Fuzzes `whyslow serve`'s profile ingest decoding: Pyroscope push
//! requests (protobuf and JSON), pprof (gzipped or raw) and folded text,
//! each through the conversion to stored profiles with the default limits,
//! and the multipart parser of the legacy `/ingest`.
#![no_main]

use ingest::pyroscope::{self, Folded, FoldedSeries, PprofSeries};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pyroscope::parse_push(data, false);
    let _ = pyroscope::parse_push(data, true);
    let series = PprofSeries {
        labels: vec![("service_name".into(), "fuzz".into())],
        ..PprofSeries::default()
    };
    let _ = pyroscope::parse_pprof(data, &series);
    let folded = FoldedSeries {
        app: "fuzz.cpu".into(),
        sample_rate: 100,
        ..FoldedSeries::default()
    };
    let mut reserve = |_| Ok(());
    for format in [Folded::Groups, Folded::Lines] {
        let mut budget = pyroscope::limits::Budget::new(&mut reserve);
        let _ = pyroscope::parse_folded(data, format, &folded, &mut budget);
    }
    let _ = pyroscope::multipart::parse(data, "fuzzboundary");
});
