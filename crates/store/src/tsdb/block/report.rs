//! A codec report on real block directories, for tuning the chunk
//! encodings: `WHYSLOW_BLOCKS=DATA_DIR/metrics/blocks cargo test --release
//! -p store codec_report -- --ignored --nocapture` decodes every block there,
//! rewrites it with the current code and prints bytes/sample before and
//! after, and which metric names cost the most.

use super::{write_block, Block};
use crate::tsdb::chunk;
use std::collections::HashMap;

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("block directory")
        .filter_map(Result::ok)
        .map(|e| e.metadata().map_or(0, |m| m.len()))
        .sum()
}

#[test]
#[ignore = "needs WHYSLOW_BLOCKS: a metrics blocks directory to measure"]
fn codec_report() {
    let Ok(root) = std::env::var("WHYSLOW_BLOCKS") else {
        return;
    };
    let out = tempfile::tempdir().expect("temp dir");
    let (mut samples, mut before, mut after, mut index) = (0u64, 0u64, 0u64, 0u64);
    let mut all: Vec<Vec<model::metrics::Sample>> = Vec::new();
    let mut by_name: HashMap<String, (u64, u64, u64)> = HashMap::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("WHYSLOW_BLOCKS is a directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("meta.json").exists())
        .collect();
    dirs.sort();
    for (seq, dir) in dirs.iter().enumerate() {
        let block = Block::open(dir, seq as u64).expect("opens");
        let meta = block.meta().clone();
        let mut series = Vec::new();
        for id in 0..block.series_count() {
            let mut s = Vec::new();
            block
                .samples(id, i64::MIN, i64::MAX, &mut s)
                .expect("decodes");
            let labels = block.labels(id);
            let name = labels.metric_name().unwrap_or("").to_string();
            let entry = by_name.entry(name).or_default();
            entry.0 += s.len() as u64;
            for piece in s.chunks(super::write::BLOCK_CHUNK_SAMPLES) {
                entry.1 += chunk::encode_best(piece).1.len() as u64;
                entry.2 += chunk::legacy::encode(piece).1.len() as u64;
            }
            all.push(s.clone());
            series.push((labels, s));
        }
        let target = out.path().join(format!("{seq}"));
        let new =
            write_block(&target, meta.min_t, meta.max_t, meta.level, &series).expect("writes");
        assert_eq!(new.samples, meta.samples);
        let rewritten = Block::open(&target, 0).expect("reopens");
        for (id, (_, s)) in series.iter().enumerate() {
            let mut back = Vec::new();
            rewritten
                .samples(id as u32, i64::MIN, i64::MAX, &mut back)
                .expect("decodes");
            let bits = |v: &[model::metrics::Sample]| {
                v.iter()
                    .map(|x| (x.timestamp_ms, x.value.to_bits()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(&back), bits(s));
        }
        samples += meta.samples;
        before += dir_bytes(dir);
        after += dir_bytes(&target);
        index += std::fs::metadata(target.join("index")).map_or(0, |m| m.len());
    }
    let per = |b: u64| b as f64 / samples.max(1) as f64;
    println!(
        "{samples} samples: {:.3} B/sample as stored, {:.3} rewritten ({:.3} of it index)",
        per(before),
        per(after),
        per(index)
    );
    let names_total = |m: &HashMap<String, (u64, u64, u64)>| m.values().map(|v| v.2).sum();
    let mut names: Vec<_> = by_name.clone().into_iter().collect();
    let legacy: u64 = names_total(&by_name);
    println!(
        "chunk bytes: {:.3} B/sample, {:.3} with the legacy encoder",
        per(by_name.values().map(|v| v.1).sum()),
        per(legacy)
    );
    names.sort_by_key(|(_, (_, bytes, _))| std::cmp::Reverse(*bytes));
    for (name, (n, bytes, old)) in names.iter().take(25) {
        println!(
            "{:>9} B {:>6.1}% {:>6.3} B/sample (legacy {:>6.3})  {name}",
            bytes,
            100.0 * *bytes as f64 / after.max(1) as f64,
            *bytes as f64 / (*n).max(1) as f64,
            *old as f64 / (*n).max(1) as f64
        );
    }
    // CPU per sample, new vs legacy, at the head's (120) and a block's
    // (1,024) chunk size: closing head chunks is on the ingest path.
    for size in [120, super::write::BLOCK_CHUNK_SAMPLES] {
        let pieces: Vec<&[model::metrics::Sample]> =
            all.iter().flat_map(|s| s.chunks(size)).collect();
        let n: usize = pieces.iter().map(|p| p.len()).sum();
        for (label, encode) in [
            ("new", chunk::encode_best as fn(&[_]) -> (u8, Box<[u8]>)),
            ("legacy", chunk::legacy::encode),
        ] {
            let began = std::time::Instant::now();
            let encoded: Vec<_> = pieces.iter().map(|p| encode(p)).collect();
            let enc_ns = began.elapsed().as_nanos() as f64 / n.max(1) as f64;
            let began = std::time::Instant::now();
            let mut out = Vec::with_capacity(size);
            for (p, (enc, bytes)) in pieces.iter().zip(&encoded) {
                out.clear();
                chunk::decode(
                    *enc,
                    p[0].timestamp_ms,
                    p.len(),
                    bytes,
                    i64::MIN,
                    i64::MAX,
                    &mut out,
                )
                .expect("decodes");
            }
            let dec_ns = began.elapsed().as_nanos() as f64 / n.max(1) as f64;
            println!("{label:>6} chunks of {size}: encode {enc_ns:.1} ns/sample, decode {dec_ns:.1} ns/sample");
        }
    }
}
