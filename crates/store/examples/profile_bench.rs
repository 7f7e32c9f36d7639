//! Storage and query benchmark of the embedded profile store on data built
//! from a real capture (issue 11's "≤ 8 bytes per sample on disk for a day
//! of the agent's 19 Hz data" and "a flamegraph of ≥ 10 M samples").
//!
//! `cargo run --release -p store --example profile_bench -- SOURCE OUT MODE`
//!
//! SOURCE is the `profiles` directory of a `whyslow serve` that took the
//! agent's shipments for a while (dev/bench/profiles does that). Its
//! profiles are grouped into shipments (one per 10 s); then
//! - `day`: 24 h of 10 s slots, each slot a randomly chosen captured
//!   shipment moved to that time (its stacks and values varied, see
//!   [`moved`]), written to a fresh store in OUT and cut
//!   into a block every hour of data (the store's default block length),
//!   compacted as the store does; prints bytes on disk per stored sample
//!   (a distinct stack in one profile, with its value) and per agent tick
//!   (value / period); every tick is also stored as a timed sample (thread,
//!   time, stack, value), as the agent sends them;
//! - `hour`: 1 h of slots for as many hosts (`host` label) as it takes to
//!   pass TARGET stored samples (default 10 M), one block; prints the
//!   samples and the time to merge all of them (p50 of 5), for a flamegraph
//!   query against `whyslow serve --data-dir` on OUT afterwards.

use model::metrics::Labels;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use store::profiles::{EmbeddedProfileStore, ProfileQuery, ProfileStoreConfig, ProfileWrite, Tick};
use store::ProfileStore;

const SLOT_NS: i64 = 10_000_000_000;
const HOUR_SLOTS: i64 = 360;
/// 2026-01-01T00:00:00Z: the synthetic data starts on a day boundary.
const DAY0_NS: i64 = 1_767_225_600_000_000_000;
const PERIOD_NS: i64 = 1_000_000_000 / 19;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [source, out, mode] = args.as_slice() else {
        return Err("usage: profile_bench SOURCE_PROFILES_DIR OUT_DIR day|hour".into());
    };
    let shipments = load(source)?;
    let samples: usize = shipments.iter().flatten().map(|w| w.samples.len()).sum();
    eprintln!(
        "capture: {} shipments, {} profiles, {} stored samples",
        shipments.len(),
        shipments.iter().map(Vec::len).sum::<usize>(),
        samples
    );
    if shipments.is_empty() {
        return Err("the capture holds no profiles".into());
    }
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    let mut config = ProfileStoreConfig::new(out);
    config.block_duration = Duration::from_secs(365 * 24 * 3600);
    config.max_head_bytes = u64::MAX;
    config.check_interval = Duration::from_secs(3600);
    config.retention = Duration::from_secs(365 * 24 * 3600);
    let store = EmbeddedProfileStore::open(config)?;
    let mut rng = fastrand::Rng::with_seed(19);
    match mode.as_str() {
        "day" => {
            let mut pending = Vec::new();
            for slot in 0..24 * HOUR_SLOTS {
                let pick = &shipments[rng.usize(..shipments.len())];
                let pick = pick.clone();
                let pick = pick.as_slice();
                pending.push(store.write(moved(&mut rng, pick, DAY0_NS + slot * SLOT_NS, None))?);
                if (slot + 1) % HOUR_SLOTS == 0 {
                    for ack in pending.drain(..) {
                        rt.block_on(ack)??;
                    }
                    store.flush()?;
                }
            }
            let (blocks, samples, bytes) = store.block_stats();
            let ticks = ticks(&store, DAY0_NS, DAY0_NS + 24 * HOUR_SLOTS * SLOT_NS)?;
            println!(
                "day: {samples} stored samples ({ticks} agent ticks) in {blocks} blocks, {bytes} bytes: \
                 {:.2} B/stored sample, {:.2} B/tick",
                bytes as f64 / samples.max(1) as f64,
                bytes as f64 / ticks.max(1) as f64
            );
        }
        "hour" => {
            let target: usize = std::env::var("TARGET")
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(10_000_000);
            // moved() keeps 85 % of the stacks; aim a little over.
            let per_slot = 0.8 * samples as f64 / shipments.len() as f64;
            let hosts = (target as f64 / (per_slot * HOUR_SLOTS as f64))
                .ceil()
                .max(1.0) as usize;
            let mut pending = Vec::new();
            for slot in 0..HOUR_SLOTS {
                for host in 0..hosts {
                    let pick = shipments[rng.usize(..shipments.len())].clone();
                    let pick = pick.as_slice();
                    let name = format!("host-{host:03}");
                    let at = DAY0_NS + slot * SLOT_NS;
                    pending.push(store.write(moved(&mut rng, pick, at, Some(&name)))?);
                }
                for ack in pending.drain(..) {
                    rt.block_on(ack)??;
                }
            }
            store.flush()?;
            let (blocks, samples, bytes) = store.block_stats();
            println!(
                "hour: {hosts} hosts, {samples} stored samples in {blocks} blocks, {bytes} bytes"
            );
            let query = cpu_query(&store, DAY0_NS, DAY0_NS + HOUR_SLOTS * SLOT_NS)?;
            let mut times = Vec::new();
            for _ in 0..5 {
                let t = Instant::now();
                let merged = store.merge(&query)?;
                times.push(t.elapsed());
                eprintln!("merge: {} nodes in {:?}", merged.nodes.len(), t.elapsed());
            }
            times.sort();
            println!(
                "hour: merge of every sample p50 {:.0} ms",
                times[2].as_secs_f64() * 1e3
            );
            println!("profile type: {}", query.profile_type);
        }
        other => return Err(format!("unknown mode {other:?}: day or hour").into()),
    }
    store.close();
    Ok(())
}

/// The capture's profiles grouped into shipments (profiles within one
/// slot of the first), times made relative to the shipment's start.
fn load(dir: &str) -> Result<Vec<Vec<ProfileWrite>>, Box<dyn std::error::Error>> {
    let source = EmbeddedProfileStore::open(ProfileStoreConfig::new(dir))?;
    let writes = source.export()?;
    source.close();
    let mut by_slot: BTreeMap<i64, Vec<ProfileWrite>> = BTreeMap::new();
    let Some(t0) = writes.first().map(|w| w.time_ns) else {
        return Ok(Vec::new());
    };
    for mut w in writes {
        let slot = (w.time_ns - t0).div_euclid(SLOT_NS);
        w.time_ns -= t0 + slot * SLOT_NS;
        by_slot.entry(slot).or_default().push(w);
    }
    Ok(by_slot.into_values().collect())
}

/// A shipment moved to `start_ns` (and to `host`), made to differ from its
/// other copies as real 10 s profiles do: each stack kept with
/// probability 0.85 and its value scaled by a random 0.5–1.5 (in whole
/// periods for values of at least one period). Its timed samples are made
/// again to fit: one per period of a stack's value (one for a smaller
/// value), on the threads the captured ones ran on, at random times in the
/// slot.
fn moved(
    rng: &mut fastrand::Rng,
    shipment: &[ProfileWrite],
    start_ns: i64,
    host: Option<&str>,
) -> Vec<ProfileWrite> {
    shipment
        .iter()
        .map(|w| {
            let mut w = w.clone();
            w.time_ns += start_ns;
            let mut threads: Vec<Vec<u32>> = vec![Vec::new(); w.samples.len()];
            for t in &w.ticks {
                if let Some(list) = threads.get_mut(t.sample as usize) {
                    list.push(t.thread_id);
                }
            }
            let keep: Vec<bool> = w.samples.iter().map(|_| rng.f64() < 0.85).collect();
            let mut kept = keep.iter();
            w.samples.retain(|_| kept.next().copied().unwrap_or(false));
            let mut kept = keep.iter();
            threads.retain(|_| kept.next().copied().unwrap_or(false));
            w.ticks.clear();
            for (i, s) in w.samples.iter_mut().enumerate() {
                let scaled = s.value as f64 * (0.5 + rng.f64());
                s.value = if s.value >= PERIOD_NS {
                    ((scaled / PERIOD_NS as f64).round().max(1.0) as i64) * PERIOD_NS
                } else {
                    scaled.round().max(1.0) as i64
                };
                let on = &threads[i];
                let (count, value) = if s.value >= PERIOD_NS {
                    (s.value / PERIOD_NS, PERIOD_NS)
                } else {
                    (1, s.value)
                };
                for k in 0..count {
                    w.ticks.push(Tick {
                        sample: i as u32,
                        thread_id: on.get(k as usize % on.len().max(1)).copied().unwrap_or(0),
                        time_ns: start_ns + rng.i64(0..SLOT_NS),
                        value,
                    });
                }
            }
            if let Some(host) = host {
                w.labels = Labels::from_pairs(
                    w.labels
                        .iter()
                        .filter(|(n, _)| *n != "host")
                        .map(|(n, v)| (n.to_string(), v.to_string()))
                        .chain(std::iter::once(("host".to_string(), host.to_string()))),
                );
            }
            w
        })
        .collect()
}

fn cpu_query(
    store: &EmbeddedProfileStore,
    start_ns: i64,
    end_ns: i64,
) -> Result<ProfileQuery, Box<dyn std::error::Error>> {
    let types = store.profile_types(start_ns, end_ns)?;
    let profile_type = types
        .iter()
        .find(|t| t.contains("cpu"))
        .or(types.first())
        .cloned()
        .ok_or("no profile types stored")?;
    Ok(ProfileQuery {
        profile_type,
        start_ns,
        end_ns,
        ..ProfileQuery::default()
    })
}

/// Agent ticks (CPU value / 19 Hz period) of the CPU profile type.
fn ticks(
    store: &EmbeddedProfileStore,
    start_ns: i64,
    end_ns: i64,
) -> Result<i64, Box<dyn std::error::Error>> {
    let query = cpu_query(store, start_ns, end_ns)?;
    Ok(store.merge(&query)?.total() / PERIOD_NS)
}
