//! End-to-end: `whyslow agent --server` profiles the whole host and ships
//! to a real `whyslow serve` with Pyroscope's push API. The test workload
//! (built without frame pointers, so its stacks need DWARF unwinding) runs
//! with `OTEL_SERVICE_NAME` set while `perf record` samples it too; in the
//! profile serve stores for that service `hot_a`'s share of `hot_a` +
//! `hot_b` must be within 5 points of perf's reading. And `serve` killed -9 while the agent ships
//! loses no push the agent saw acknowledged. An OpenTelemetry span of the
//! workload's main thread (no profiler tagged samples with its id) gets its
//! profile from the agent's samples of that thread during the span. A
//! stripped copy of the workload is stored with its build id and file
//! offsets, and named once `serve --debuginfo-dir` has the unstripped file.
//! Needs
//! perf_event access (root or
//! `kernel.perf_event_paranoid` ≤ 0 for other processes); skips with a
//! message otherwise.
#![allow(clippy::unwrap_used)]

mod agent;
mod common;
#[path = "serve_metrics/support.rs"]
mod support;

use agent::Running;
use common::{workload, Build};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CPU: &str = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";

/// Each test's agent profiles the whole host: one at a time, so neither
/// sees the other's workload or competes for the CPUs.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn can_profile_others() -> bool {
    let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok());
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    paranoid.is_some() && (root || paranoid.is_some_and(|p| p <= 0))
}

/// The lock that runs these tests one at a time, or `None` (saying why)
/// when this process may not profile others.
fn one_at_a_time_if_allowed() -> Option<std::sync::MutexGuard<'static, ()>> {
    let guard = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !can_profile_others() {
        eprintln!("SKIPPED: needs root (or perf_event_paranoid <= 0)");
        return None;
    }
    Some(guard)
}

/// Leaf share (%) of frames whose name contains `needle`, from flamebearer
/// levels (`[x_delta, total, self, name]` per node).
fn self_share(flamebearer: &serde_json::Value, needle: &str) -> f64 {
    let hit: i64 = common::flamebearer::nodes(flamebearer)
        .into_iter()
        .filter(|(name, _, _)| name.contains(needle))
        .map(|(_, _, self_value)| self_value)
        .sum();
    let ticks = flamebearer["numTicks"].as_i64().unwrap().max(1);
    100.0 * hit as f64 / ticks as f64
}

/// `a` as a share (%) of `a + b`.
fn split(a: f64, b: f64) -> f64 {
    100.0 * a / (a + b).max(f64::MIN_POSITIVE)
}

/// perf's leaf share (%) of symbols containing `needle`.
fn perf_share(data: &std::path::Path, needle: &str) -> f64 {
    let out = Command::new("perf")
        .args([
            "report",
            "--stdio",
            "--no-children",
            "--sort",
            "sym",
            "-q",
            "-i",
        ])
        .arg(data)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter(|l| l.contains(needle))
        .filter_map(|l| {
            l.split_whitespace()
                .next()?
                .trim_end_matches('%')
                .parse::<f64>()
                .ok()
        })
        .sum()
}

#[test]
fn agent_profile_of_the_workload_matches_perf() {
    let Some(_serial) = one_at_a_time_if_allowed() else {
        return;
    };
    if Command::new("perf").arg("--version").output().is_err() {
        eprintln!("SKIPPED: needs perf");
        return;
    }
    // 499 Hz for both: at 99 Hz the two shares (about 400 samples each)
    // differ by more than 5 points in about one run in ten from sampling
    // noise alone.
    let data = support::TempDir::new("agent-profiles");
    let serve = support::Serve::start(&data.0, 0);
    let agent = start_agent(&serve, "499");
    // Let the agent open its events before the workload starts.
    std::thread::sleep(Duration::from_secs(2));
    let work_start = now_ns();
    let mut work = Command::new(workload(Build::NoFramePointers))
        .args(["4", "0"])
        .env("OTEL_SERVICE_NAME", "wsworkload")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let perf_data = data.0.join("perf.data");
    let perf = Command::new("perf")
        .args(["record", "-q", "-F", "499", "-o"])
        .arg(&perf_data)
        .args(["-p", &work.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let work_pid = work.id();
    assert!(work.wait().unwrap().success());
    let work_end = now_ns();
    let perf_out = perf.wait_with_output().unwrap();
    assert!(perf_out.status.success(), "perf record failed");
    // The split between the two hot functions: what is outside them
    // (start-up, the exporter, frames of an exited process) varies with the
    // machine's load and is not what this test compares.
    let (perf_a, perf_b) = (
        perf_share(&perf_data, "hot_a"),
        perf_share(&perf_data, "hot_b"),
    );
    assert!(perf_a > 40.0, "perf saw hot_a at {perf_a:.1} %");
    let expected = split(perf_a, perf_b);

    // Within a few cuts the workload's profile is in serve (a debug build
    // of the agent can lag behind by tens of seconds).
    let query = format!("{CPU}{{service_name=\"wsworkload\"}}");
    let path = format!(
        "/pyroscope/render?query={}&from=now-5m&until=now&format=json",
        support::encode(&query)
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = serde_json::Value::Null;
    let mut seconds = 0.0;
    let mut stable = 0;
    while Instant::now() < deadline {
        let (status, body) = support::try_http(&serve.http, "GET", &path, &[], b"").unwrap();
        assert_eq!(status, 200, "{body}");
        last = serde_json::from_str(&body).unwrap();
        // numTicks are CPU nanoseconds; done when a few cuts added nothing.
        let now = last["flamebearer"]["numTicks"].as_i64().unwrap_or(0) as f64 / 1e9;
        stable = if now > 0.0 && now == seconds {
            stable + 1
        } else {
            0
        };
        seconds = now;
        if stable >= 6 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        seconds >= 1.5,
        "only {seconds:.2} s of the workload's CPU arrived: {last}"
    );
    let (got_a, got_b) = (
        self_share(&last["flamebearer"], "hot_a"),
        self_share(&last["flamebearer"], "hot_b"),
    );
    let got = split(got_a, got_b);
    eprintln!(
        "hot_a of hot_a + hot_b: agent {got:.1} %, perf {expected:.1} % \
         (of all samples: agent {got_a:.1} + {got_b:.1} %, perf {perf_a:.1} + {perf_b:.1} %), \
         {seconds:.2} s of CPU"
    );
    assert!(
        got_a + got_b > 60.0,
        "the agent put only {got_a:.1} + {got_b:.1} % of the workload in hot_a and hot_b"
    );
    assert!(
        (got - expected).abs() <= 5.0,
        "hot_a of hot_a + hot_b: agent {got:.1} %, perf {expected:.1} %"
    );
    // Series labels name the process.
    let (status, body) = support::try_http(
        &serve.http,
        "GET",
        "/pyroscope/label-values?label=comm",
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("workload"), "{body}");

    // An untagged span of the workload's main thread over its run.
    let span = span_of_thread(&serve, work_pid, work_start, work_end);
    let path = format!(
        "/api/profiles/span?spanID={}&inTrace={}&from=0",
        span.1, span.0
    );
    let (status, body) = support::try_http(&serve.http, "GET", &path, &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["matched"], "thread", "{answer}");
    assert_eq!(answer["threadID"], work_pid, "{answer}");
    let in_span = split(
        self_share(&answer["flamebearer"], "hot_a"),
        self_share(&answer["flamebearer"], "hot_b"),
    );
    eprintln!("hot_a of hot_a + hot_b in the span's thread profile: {in_span:.1} %");
    assert!(
        (in_span - got).abs() <= 2.0,
        "hot_a: span profile {in_span:.1} %, the service's profile {got:.1} %"
    );
    drop(agent);
    serve.stop();
}

/// The workload, stripped, profiled by the agent: its frames are stored as
/// `wsstripped+0xOFFSET` with the file's build id. The pprof download
/// carries them as addresses in a mapping of that build (`go tool pprof
/// -raw` shows it), and `serve` restarted over the same data with
/// `--debuginfo-dir` holding the unstripped file names them: `hot_a` gets
/// its share back.
#[test]
fn stripped_binaries_are_named_later_from_debuginfo_of_their_build() {
    let Some(_serial) = one_at_a_time_if_allowed() else {
        return;
    };
    let data = support::TempDir::new("agent-profiles-stripped");
    let stripped = data.0.join("wsstripped");
    std::fs::copy(workload(Build::NoFramePointers), &stripped).unwrap();
    let status = Command::new("strip").arg(&stripped).status().unwrap();
    assert!(status.success(), "strip failed");
    let symbols = data.0.join("symbols");
    std::fs::create_dir_all(&symbols).unwrap();
    // Under another name: found by build id.
    std::fs::copy(
        workload(Build::NoFramePointers),
        symbols.join("workload.unstripped"),
    )
    .unwrap();

    let port = support::free_port();
    let serve = support::Serve::start(&data.0, port);
    let agent = start_agent(&serve, "199");
    std::thread::sleep(Duration::from_secs(2));
    let status = Command::new(&stripped)
        .args(["3", "0"])
        .env("OTEL_SERVICE_NAME", "wsstripped")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let query = support::encode(&format!("{CPU}{{service_name=\"wsstripped\"}}"));
    let render = format!("/pyroscope/render?query={query}&from=now-5m&until=now&format=json");
    let flamegraph = |serve: &support::Serve| -> serde_json::Value {
        let (status, body) = support::try_http(&serve.http, "GET", &render, &[], b"").unwrap();
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["flamebearer"].clone()
    };
    let (mut seconds, mut stable) = (0.0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut stored = serde_json::Value::Null;
    while Instant::now() < deadline && stable < 4 {
        stored = flamegraph(&serve);
        let now = stored["numTicks"].as_i64().unwrap_or(0) as f64 / 1e9;
        stable = if now > 0.0 && now == seconds {
            stable + 1
        } else {
            0
        };
        seconds = now;
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(agent);
    assert!(
        seconds >= 1.0,
        "only {seconds:.2} s of CPU arrived: {stored}"
    );
    let offsets = self_share(&stored, "wsstripped+0x");
    assert!(
        self_share(&stored, "hot_a") == 0.0 && offsets > 40.0,
        "the stripped workload's frames should be file offsets: {stored}"
    );

    // The download names the build: `go tool pprof -raw` lists the mapping.
    let notes = Command::new("readelf")
        .arg("-n")
        .arg(&stripped)
        .output()
        .unwrap();
    let notes = String::from_utf8_lossy(&notes.stdout).to_string();
    let build_id = notes
        .lines()
        .find_map(|l| l.trim().strip_prefix("Build ID: "))
        .unwrap_or_else(|| panic!("no build id in readelf -n: {notes}"))
        .to_string();
    if Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        let url = format!(
            "http://{}/pyroscope/pprof?query={query}&from=now-5m&until=now",
            serve.http
        );
        let out = Command::new("go")
            .args(["tool", "pprof", "-raw", "-symbolize=none"])
            .arg(&url)
            .env("PPROF_TMPDIR", &data.0)
            .env("HOME", &data.0)
            .output()
            .unwrap();
        let raw = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "go tool pprof: {raw}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            raw.lines()
                .any(|l| l.contains("wsstripped") && l.contains(&build_id)),
            "no mapping of build {build_id} in:\n{raw}"
        );
    } else {
        eprintln!("note: no `go` (Debian golang-go): the pprof mapping was not checked");
    }
    serve.stop();

    // Later, with the unstripped file at hand: the stored frames get names.
    let symbols_arg = symbols.to_string_lossy().to_string();
    let serve = support::Serve::start_with(&data.0, port, &["--debuginfo-dir", &symbols_arg]);
    let named = flamegraph(&serve);
    let hot_a = self_share(&named, "hot_a");
    eprintln!("hot_a once named from debuginfo: {hot_a:.1} % (offsets were {offsets:.1} %)");
    assert!(hot_a > 30.0, "hot_a at {hot_a:.1} %: {named}");
    assert_eq!(
        named["numTicks"], stored["numTicks"],
        "naming changes no totals"
    );
    serve.stop();
}

/// `whyslow agent` profiling at `hz`, shipping to `serve` every 2 s.
fn start_agent(serve: &support::Serve, hz: &str) -> Running {
    Running(
        Command::new(env!("CARGO_BIN_EXE_whyslow"))
            .args(["agent", "--listen", "off", "--interval", "60s"])
            .args(["--profile-hz", hz, "--profile-interval", "2s"])
            .args(["--server", &format!("http://{}", serve.http)])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    )
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// Sends (OTLP/HTTP JSON) a span of service `wsworkload` on thread `pid` of
/// process `pid` on this host from `start` to `end` (Unix ns), as an SDK
/// with the process resource detector would; returns (trace id, span id).
fn span_of_thread(serve: &support::Serve, pid: u32, start: u64, end: u64) -> (String, String) {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let (trace, span) = (format!("{:032x}", start), format!("{:016x}", end));
    let body = serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "wsworkload"}},
            {"key": "process.pid", "value": {"intValue": pid.to_string()}},
            {"key": "host.name", "value": {"stringValue": host.trim()}},
        ]},
        "scopeSpans": [{"spans": [{
            "traceId": trace, "spanId": span, "name": "run workload", "kind": 2,
            "startTimeUnixNano": start.to_string(), "endTimeUnixNano": end.to_string(),
            "attributes": [{"key": "thread.id", "value": {"intValue": pid.to_string()}}],
        }]}],
    }]});
    let (status, text) = support::try_http(
        &serve.otlp_http,
        "POST",
        "/v1/traces",
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(status, 200, "{text}");
    (trace, span)
}

/// Distinct profile start times stored for `CPU` in `[from_ms, to_ms)`: each
/// agent push is one cut, whose per-process profiles share its start.
fn stored_cuts(http: &str, from_ms: i64, to_ms: i64) -> usize {
    let request = serde_json::json!({
        "profileTypeID": CPU,
        "labelSelector": "{}",
        "start": from_ms.to_string(),
        "end": to_ms.to_string(),
        "step": 0.1,
    });
    let (status, body) = support::try_http(
        http,
        "POST",
        "/querier.v1.QuerierService/SelectSeries",
        &[("content-type", "application/json")],
        request.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    answer["series"]
        .as_array()
        .map(|series| {
            series
                .iter()
                .map(|s| s["points"].as_array().map_or(0, Vec::len))
                .sum()
        })
        .unwrap_or(0)
}

/// `serve` is killed -9 three times while the agent ships a profile every
/// second: the agent keeps what was not acknowledged and retries, and after
/// a last kill -9 and restart every push it saw acknowledged is stored.
#[test]
fn acknowledged_agent_profiles_survive_kill_9_of_serve() {
    let Some(_serial) = one_at_a_time_if_allowed() else {
        return;
    };
    let data = support::TempDir::new("agent-profiles-kill9");
    let port = support::free_port();
    let mut serve = support::Serve::start(&data.0, port);
    let from_ms = support::now_ms() - 1_000;
    let mut work = Command::new(workload(Build::FramePointers))
        .args(["30", "0"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let log_path = data.0.join("agent.log");
    let mut agent = Command::new(env!("CARGO_BIN_EXE_whyslow"))
        .args(["agent", "--listen", "off", "--interval", "3600s"])
        .args(["--no-process-metrics", "--no-cgroup-metrics"])
        .args(["--profile-interval", "1s"])
        .args(["--server", &format!("http://127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    for round in 0..3u64 {
        std::thread::sleep(Duration::from_millis(2_500 + 700 * round));
        serve.kill9();
        std::thread::sleep(Duration::from_millis(1_500));
        serve = support::Serve::start(&data.0, port);
    }
    std::thread::sleep(Duration::from_secs(4));
    // SIGTERM: the agent ships what it holds (5 s at most) and says how many
    // pushes were acknowledged.
    let pid = libc::pid_t::try_from(agent.id()).unwrap();
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while agent.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the agent did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = work.kill();
    let _ = work.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    let acked: usize = log
        .lines()
        .find_map(|l| {
            l.split(" profile pushes acknowledged")
                .next()
                .filter(|_| l.contains("profile pushes acknowledged"))?
                .rsplit(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no acknowledgement count in the agent's log:\n{log}"));
    assert!(
        log.contains("profiles wait for the server"),
        "the agent never saw serve down:\n{log}"
    );
    assert!(acked >= 5, "only {acked} pushes acknowledged:\n{log}");
    // One more kill -9: what is stored must come back from disk.
    serve.kill9();
    let serve = support::Serve::start(&data.0, port);
    let stored = stored_cuts(&serve.http, from_ms, support::now_ms() + 1_000);
    eprintln!("{acked} pushes acknowledged, {stored} cuts stored");
    assert!(
        stored >= acked,
        "{acked} pushes acknowledged but only {stored} stored:\n{log}"
    );
    serve.stop();
}
