//! `whyslow agent --server`: continuous whole-host profiling. A thread runs
//! the `record` profiler on every CPU at `--profile-hz` (`perf_event_open`,
//! kernel + user stacks, DWARF unwinding, perf-map JIT frames) and cuts a
//! symbolized profile every `--profile-interval`; each is split by process
//! and shipped with Pyroscope's push API (`/push.v1.PusherService/Push`,
//! gzipped protobuf `PushRequest` of gzipped pprof) to `whyslow serve` or
//! any Pyroscope. Each process is a series: `service_name` (from
//! `OTEL_SERVICE_NAME` or `service.name` in `OTEL_RESOURCE_ATTRIBUTES` in its
//! environment, else its executable's name), `host`, `pid`, `comm`,
//! `executable`, `cgroup`. pprof keeps mappings with build id and file
//! offsets, so frames can be symbolized again elsewhere. Each sample keeps
//! its thread id and time as numeric labels `tid` and `timestamp`
//! (nanoseconds): `serve` stores them beside the series, so a span's
//! process, thread and time find its samples.
//!
//! While the server is away, cut profiles wait in a queue of at most
//! [`MAX_QUEUED`] requests; past that the oldest is dropped and counted.

use crate::http_post::{Endpoint, Poster};
use anyhow::Result;
use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use hyper::header;
use ingest::pyroscope::push::{LabelPair, PushRequest, RawProfileSeries, RawSample};
use model::{Profile, ProfileBuilder, Sample, SampleLabels, ValueType};
use prost::Message as _;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Push requests kept while the server does not take them (an hour at 10 s).
pub const MAX_QUEUED: usize = 360;
/// The push API's path.
const PUSH_PATH: &str = "/push.v1.PusherService/Push";

/// What the profiler thread and the shipper share.
#[derive(Default)]
pub struct Shipping {
    queue: Mutex<VecDeque<Bytes>>,
    ready: tokio::sync::Notify,
    /// Requests dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Requests the server accepted.
    pub shipped: AtomicU64,
    /// The profiler thread has made its last cut.
    finished: AtomicBool,
}

impl Shipping {
    fn push(&self, body: Bytes) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.len() >= MAX_QUEUED {
            queue.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        queue.push_back(body);
        drop(queue);
        self.ready.notify_one();
    }

    fn front(&self) -> Option<Bytes> {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .front()
            .cloned()
    }

    fn pop(&self) {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
    }

    /// One line for the log: pushes acknowledged, dropped, still queued.
    pub fn summary(&self) -> String {
        let queued = self
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        format!(
            "{} profile pushes acknowledged, {} dropped (queue full), {} unsent",
            self.shipped.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
            queued
        )
    }
}

/// How to profile.
#[derive(Debug, Clone)]
pub struct ProfileOptions {
    /// Samples per second per CPU.
    pub hz: u32,
    /// Also off-CPU time from `sched_switch`.
    pub off_cpu: bool,
    /// How often a profile is cut and shipped.
    pub interval: Duration,
    /// The `host` label.
    pub host: String,
}

/// Starts the profiler thread; it stops (after a last cut) when `stop` is set.
pub fn start_profiler(
    options: ProfileOptions,
    shipping: Arc<Shipping>,
    stop: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<()>> {
    let handle = std::thread::Builder::new()
        .name("agent-profiler".into())
        .spawn(move || {
            let record = profiler::RecordOptions {
                frequency_hz: options.hz,
                off_cpu: options.off_cpu,
                ring_pages: 64,
                ..profiler::RecordOptions::default()
            };
            let mut processes = ProcessCache::default();
            let result = profiler::record_continuous(
                &record,
                &stop,
                options.interval,
                &mut |profile, _stats| {
                    if let Some(body) = push_request(&profile, &options, &mut processes) {
                        shipping.push(body);
                    }
                },
            );
            if let Err(e) = result {
                eprintln!("whyslow agent: profiling is off: {e}");
            }
            shipping.finished.store(true, Ordering::Relaxed);
        })?;
    Ok(handle)
}

/// Ships queued requests to `endpoint` until `stop`, then tries for at most
/// `grace` to send what is left.
pub async fn ship(
    endpoint: Endpoint,
    shipping: Arc<Shipping>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    grace: Duration,
) {
    let authority = endpoint.authority.clone();
    let mut poster = Poster::new(&endpoint);
    let mut failing = false;
    let mut backoff = Duration::from_millis(500);
    loop {
        let Some(body) = shipping.front() else {
            tokio::select! {
                _ = shipping.ready.notified() => continue,
                _ = stop.changed() => break,
            }
        };
        let headers = [
            (header::CONTENT_TYPE, "application/proto"),
            (header::CONTENT_ENCODING, "gzip"),
            (
                header::HeaderName::from_static("connect-protocol-version"),
                "1",
            ),
        ];
        let wait = match poster.post(PUSH_PATH, &headers, body).await {
            Ok(answer) if answer.status.is_success() => {
                shipping.pop();
                shipping.shipped.fetch_add(1, Ordering::Relaxed);
                if failing {
                    eprintln!("whyslow agent: shipping profiles again");
                }
                failing = false;
                backoff = Duration::from_millis(500);
                continue;
            }
            Ok(answer) if answer.status.as_u16() == 429 || answer.status.is_server_error() => {
                report(&mut failing, &format!("{}: {}", answer.status, answer.text));
                answer.retry_after.unwrap_or(backoff)
            }
            Ok(answer) => {
                // Retrying cannot fix a 4xx: drop this one and say why.
                shipping.pop();
                eprintln!(
                    "whyslow agent: {authority} refused a profile with {}: {}",
                    answer.status, answer.text
                );
                continue;
            }
            Err(why) => {
                report(&mut failing, &why);
                backoff
            }
        };
        backoff = (backoff * 2).min(Duration::from_secs(10));
        tokio::select! {
            _ = tokio::time::sleep(wait.min(Duration::from_secs(30))) => {}
            _ = stop.changed() => break,
        }
    }
    // Stopping: the profiler's last cut may still be coming; send what is
    // queued within the grace period.
    let deadline = tokio::time::Instant::now() + grace;
    while tokio::time::Instant::now() < deadline {
        let Some(body) = shipping.front() else {
            if shipping.finished.load(Ordering::Relaxed) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let headers = [
            (header::CONTENT_TYPE, "application/proto"),
            (header::CONTENT_ENCODING, "gzip"),
        ];
        match tokio::time::timeout_at(deadline, poster.post(PUSH_PATH, &headers, body)).await {
            Ok(Ok(answer)) if answer.status.is_success() => {
                shipping.pop();
                shipping.shipped.fetch_add(1, Ordering::Relaxed);
            }
            _ => break,
        }
    }
}

fn report(failing: &mut bool, why: &str) {
    if !*failing {
        eprintln!("whyslow agent: profiles wait for the server ({why}); keeping up to {MAX_QUEUED}, then dropping the oldest");
    }
    *failing = true;
}

/// One push request (gzipped protobuf) with a series per process and
/// profile type, or `None` when nothing was sampled.
fn push_request(
    profile: &Profile,
    options: &ProfileOptions,
    processes: &mut ProcessCache,
) -> Option<Bytes> {
    let mut series = Vec::new();
    let kinds: Vec<(&str, Vec<usize>)> = [
        ("process_cpu", vec!["samples", "cpu"]),
        ("off_cpu", vec!["off_cpu"]),
    ]
    .into_iter()
    .map(|(name, kinds)| {
        let columns = kinds
            .iter()
            .filter_map(|k| profile.value_index(k))
            .collect::<Vec<_>>();
        (name, columns)
    })
    .filter(|(_, columns)| !columns.is_empty())
    .collect();
    let seen: Vec<u32> = profile.samples.iter().map(|s| s.labels.pid).collect();
    for (name, columns) in kinds {
        for (pid, sub) in split_by_process(profile, &columns) {
            let info = processes.get(pid, profile);
            let mut labels = vec![
                ("__name__", name.to_string()),
                ("service_name", info.service_name.clone()),
                ("host", options.host.clone()),
                ("pid", pid.to_string()),
                ("comm", info.comm.clone()),
                ("executable", info.executable.clone()),
                ("cgroup", info.cgroup.clone()),
            ];
            labels.retain(|(_, v)| !v.is_empty());
            let proto = render::pprof::to_proto(&sub, query::ValueView::Cpu);
            series.push(RawProfileSeries {
                labels: labels
                    .into_iter()
                    .map(|(name, value)| LabelPair {
                        name: name.to_string(),
                        value,
                    })
                    .collect(),
                samples: vec![RawSample {
                    raw_profile: gzip(&proto.encode_to_vec()),
                    id: String::new(),
                }],
            });
        }
    }
    processes.keep_only(&seen);
    if series.is_empty() {
        return None;
    }
    Some(Bytes::from(gzip(&PushRequest { series }.encode_to_vec())))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(bytes);
    gz.finish().unwrap_or_default()
}

/// Per process, a profile of its samples alone with the value columns
/// `columns` (samples whose values there are all zero are left out).
pub fn split_by_process(profile: &Profile, columns: &[usize]) -> BTreeMap<u32, Profile> {
    let types: Vec<ValueType> = columns
        .iter()
        .filter_map(|&c| profile.sample_types.get(c).cloned())
        .collect();
    let mut builders: BTreeMap<u32, (ProfileBuilder, HashMap<usize, usize>)> = BTreeMap::new();
    for sample in &profile.samples {
        let values: Vec<i64> = columns
            .iter()
            .map(|&c| sample.values.get(c).copied().unwrap_or(0))
            .collect();
        if values.iter().all(|&v| v == 0) {
            continue;
        }
        let (builder, copied) = builders
            .entry(sample.labels.pid)
            .or_insert_with(|| (ProfileBuilder::new(types.clone()), HashMap::new()));
        let mut locations = Vec::with_capacity(sample.locations.len());
        for &id in &sample.locations {
            let Some(location) = profile.locations.get(id) else {
                continue;
            };
            let new_id = match copied.get(&id) {
                Some(&new_id) => new_id,
                None => {
                    let mut copy = location.clone();
                    copy.mapping = location
                        .mapping
                        .and_then(|m| profile.mappings.get(m))
                        .map(|m| builder.mapping(m.clone()));
                    for line in &mut copy.lines {
                        if let Some(f) = profile.functions.get(line.function) {
                            line.function = builder.function(f.clone());
                        }
                    }
                    let new_id = builder.location(copy);
                    copied.insert(id, new_id);
                    new_id
                }
            };
            locations.push(new_id);
        }
        // Thread and time stay per sample (numeric pprof labels, which
        // Pyroscope ignores and `serve` keeps apart from the series); a
        // thread name would become a series label, so it is left out.
        builder.add_sample(Sample {
            locations,
            values,
            labels: SampleLabels {
                tid: sample.labels.tid,
                time_ns: sample.labels.time_ns,
                ..SampleLabels::default()
            },
        });
    }
    builders
        .into_iter()
        .map(|(pid, (builder, _))| {
            let mut sub = builder.finish();
            sub.start_time_ns = profile.start_time_ns;
            sub.duration_ns = profile.duration_ns;
            sub.period_type = profile.period_type.clone();
            sub.period = profile.period;
            (pid, sub)
        })
        .collect()
}

/// What a process's series are labelled with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessInfo {
    /// The command name.
    pub comm: String,
    /// Path of the executable (empty for kernel threads or when unreadable).
    pub executable: String,
    /// From the OpenTelemetry environment, else the executable's name, else comm.
    pub service_name: String,
    /// The cgroup v2 path (or the first v1 hierarchy's).
    pub cgroup: String,
}

/// Process labels by pid, read from `/proc` once per process.
#[derive(Default)]
struct ProcessCache {
    known: HashMap<u32, ProcessInfo>,
}

impl ProcessCache {
    fn get(&mut self, pid: u32, profile: &Profile) -> &ProcessInfo {
        self.known.entry(pid).or_insert_with(|| {
            let mut info = read_process(pid);
            if info.comm.is_empty() {
                // Gone already: its threads' names are in the profile.
                info.comm = profile
                    .samples
                    .iter()
                    .find(|s| s.labels.pid == pid)
                    .map(|s| s.labels.thread_name.clone())
                    .unwrap_or_default();
                if pid == 0 {
                    info.comm = "swapper".into();
                }
            }
            if info.service_name.is_empty() {
                info.service_name = info.comm.clone();
            }
            info
        })
    }

    /// Forgets processes that were not sampled this time (a pid may be reused).
    fn keep_only(&mut self, pids: &[u32]) {
        let pids: std::collections::HashSet<u32> = pids.iter().copied().collect();
        self.known.retain(|pid, _| pids.contains(pid));
    }
}

/// Reads a process's labels from `/proc/PID`.
pub fn read_process(pid: u32) -> ProcessInfo {
    if pid == 0 {
        return ProcessInfo::default();
    }
    let dir = format!("/proc/{pid}");
    let comm = std::fs::read_to_string(format!("{dir}/comm"))
        .map(|c| c.trim_end().to_string())
        .unwrap_or_default();
    let executable = std::fs::read_link(format!("{dir}/exe"))
        .map(|p| {
            p.to_string_lossy()
                .trim_end_matches(" (deleted)")
                .to_string()
        })
        .unwrap_or_default();
    let environ = std::fs::read(format!("{dir}/environ")).unwrap_or_default();
    let cgroup = std::fs::read_to_string(format!("{dir}/cgroup"))
        .map(|text| cgroup_path(&text))
        .unwrap_or_default();
    let exe_name = executable.rsplit('/').next().unwrap_or("").to_string();
    let service_name = otel_service_name(&environ).unwrap_or(exe_name);
    ProcessInfo {
        comm,
        executable,
        service_name,
        cgroup,
    }
}

/// `service.name` from a NUL-separated environment: `OTEL_SERVICE_NAME`
/// first (it wins in the OpenTelemetry SDKs), else `OTEL_RESOURCE_ATTRIBUTES`.
pub fn otel_service_name(environ: &[u8]) -> Option<String> {
    let vars: Vec<&[u8]> = environ.split(|&b| b == 0).collect();
    let value = |name: &str| {
        vars.iter().find_map(|v| {
            v.strip_prefix(name.as_bytes())
                .and_then(|rest| rest.strip_prefix(b"="))
                .map(|value| String::from_utf8_lossy(value).trim().to_string())
        })
    };
    if let Some(name) = value("OTEL_SERVICE_NAME").filter(|n| !n.is_empty()) {
        return Some(name);
    }
    value("OTEL_RESOURCE_ATTRIBUTES")?
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim() == "service.name")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The cgroup v2 path from `/proc/PID/cgroup`, else the first hierarchy's.
fn cgroup_path(text: &str) -> String {
    let paths: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let id = parts.next()?;
            let _controllers = parts.next()?;
            Some((id, parts.next()?))
        })
        .collect();
    paths
        .iter()
        .find(|(id, _)| *id == "0")
        .or(paths.first())
        .map(|(_, p)| p.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{FrameKind, Function, Line, Location};

    #[test]
    fn service_name_comes_from_the_otel_environment() {
        assert_eq!(
            otel_service_name(
                b"A=1\0OTEL_SERVICE_NAME=checkout\0OTEL_RESOURCE_ATTRIBUTES=service.name=x"
            ),
            Some("checkout".into())
        );
        assert_eq!(
            otel_service_name(
                b"OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod, service.name=cart \0"
            ),
            Some("cart".into())
        );
        assert_eq!(otel_service_name(b"PATH=/bin\0"), None);
    }

    #[test]
    fn cgroup_prefers_v2() {
        assert_eq!(
            cgroup_path("0::/system.slice/x.service\n"),
            "/system.slice/x.service"
        );
        assert_eq!(cgroup_path("12:cpu,cpuacct:/docker/abc\n"), "/docker/abc");
    }

    #[test]
    fn split_keeps_each_process_own_frames_and_columns() {
        let mut profile = Profile::new(vec![
            ValueType::new("samples", "count"),
            ValueType::new("cpu", "nanoseconds"),
            ValueType::new("off_cpu", "nanoseconds"),
        ]);
        for name in ["main", "a", "b"] {
            profile.functions.push(Function {
                name: name.into(),
                system_name: String::new(),
                filename: String::new(),
                start_line: 0,
            });
            profile.locations.push(Location {
                mapping: None,
                address: 0,
                lines: vec![Line {
                    function: profile.functions.len() - 1,
                    line: 0,
                }],
                kind: FrameKind::User,
            });
        }
        let sample = |pid, leaf, values: Vec<i64>| Sample {
            locations: vec![leaf, 0],
            values,
            labels: SampleLabels {
                pid,
                tid: pid,
                thread_name: "t".into(),
                time_ns: 0,
            },
        };
        profile.samples = vec![
            sample(10, 1, vec![2, 20, 0]),
            sample(11, 2, vec![1, 10, 0]),
            sample(11, 1, vec![0, 0, 99]),
        ];
        let cpu = split_by_process(&profile, &[0, 1]);
        assert_eq!(cpu.len(), 2);
        let p11 = &cpu[&11];
        assert_eq!(p11.samples.len(), 1);
        assert_eq!(p11.samples[0].values, vec![1, 10]);
        assert_eq!(p11.stack_names(&p11.samples[0]), vec!["main", "b"]);
        assert_eq!(p11.samples[0].labels.tid, 11);
        assert_eq!(p11.samples[0].labels.thread_name, "");
        let off = split_by_process(&profile, &[2]);
        assert_eq!(off.keys().copied().collect::<Vec<_>>(), vec![11]);
        assert_eq!(off[&11].samples[0].values, vec![99]);
    }
}
