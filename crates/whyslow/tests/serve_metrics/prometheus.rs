//! Debian's `/usr/bin/prometheus` scrapes itself every second and
//! remote_writes to `whyslow serve`, which is SIGKILLed and restarted on the
//! same port and data directory several times; afterwards every sample that
//! Prometheus stored for a few series is in serve with the same timestamp
//! and value.

use crate::prometheus_bin::{self, Prometheus};
use crate::support::{instant_query, now_ms, points, Serve, TempDir};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

fn start_prometheus(dir: &Path, serve_port: u16) -> Prometheus {
    Prometheus::start(
        dir,
        |addr| {
            format!(
                "global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: prom
    static_configs:
      - targets: ['{addr}']
remote_write:
  - url: http://127.0.0.1:{serve_port}/api/v1/write
    remote_timeout: 5s
    queue_config:
      batch_send_deadline: 100ms
      min_backoff: 30ms
      max_backoff: 300ms
      retry_on_http_429: true
"
            )
        },
        &[],
    )
}

/// Samples of every series `selector` matches over `(end - range, end]`, by label set.
fn samples(
    addr: &str,
    selector: &str,
    range_ms: i64,
    end_ms: i64,
) -> BTreeMap<String, Vec<(i64, f64)>> {
    instant_query(addr, &format!("{selector}[{range_ms}ms]"), end_ms)
        .iter()
        .map(|s| {
            let labels: BTreeMap<&String, &serde_json::Value> = s["metric"]
                .as_object()
                .expect("a label set")
                .iter()
                .collect();
            (format!("{labels:?}"), points(s))
        })
        .collect()
}

/// A small xorshift, seeded from the clock: kill moments vary run to run.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

pub fn remote_write_across_kill_9() {
    if !prometheus_bin::available("prometheus_remote_write_loses_nothing_across_kill_9") {
        return;
    }
    let dir = TempDir::new("metrics-prom-kill9");
    let data_dir = dir.0.join("serve");
    let port = crate::support::free_port();
    let mut serve = Some(Serve::start(&data_dir, port));
    let start_ms = now_ms();
    let prometheus = start_prometheus(&dir.0, port);
    let prom_addr = prometheus.addr.clone();

    let mut seed = (now_ms() as u64) | 1;
    let kills = 3 + next_random(&mut seed) % 3;
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(1500 + next_random(&mut seed) % 3000));
        serve.take().unwrap().kill9();
        // Down for a moment: Prometheus meets refused connections and backs off.
        std::thread::sleep(Duration::from_millis(next_random(&mut seed) % 800));
        serve = Some(Serve::start(&data_dir, port));
    }
    let serve = serve.unwrap();
    std::thread::sleep(Duration::from_secs(2));
    // Samples up to `end` are settled in Prometheus one scrape later.
    let end_ms = now_ms();
    std::thread::sleep(Duration::from_millis(1500));
    let range_ms = end_ms - start_ms + 5000;

    let selectors = [
        "up{job=\"prom\"}",
        "prometheus_http_requests_total{job=\"prom\",handler=\"/metrics\"}",
        "scrape_samples_scraped{job=\"prom\"}",
        "prometheus_tsdb_head_samples_appended_total{job=\"prom\"}",
    ];
    let mut checked = 0;
    for selector in selectors {
        let want = samples(&prom_addr, selector, range_ms, end_ms);
        assert!(!want.is_empty(), "Prometheus has no {selector}");
        // Serve catches up as Prometheus's queue drains: poll, bounded.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = samples(&serve.http, selector, range_ms, end_ms);
            let missing: Vec<String> = want
                .iter()
                .flat_map(|(labels, points)| {
                    let have = got.get(labels);
                    points
                        .iter()
                        .filter(move |p| !have.is_some_and(|h| h.contains(p)))
                        .map(move |p| format!("{labels} {p:?}"))
                })
                .collect();
            if missing.is_empty() {
                checked += want.values().map(Vec::len).sum::<usize>();
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} of Prometheus's samples of {selector} are not in serve after kill -9 \
                 ×{kills}, e.g. {:?}",
                missing.len(),
                &missing[..missing.len().min(10)]
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    // Nothing refused as non-recoverable (Prometheus drops such batches) in
    // any of the ~1000 series it sends, not only the ones compared.
    let counter = |name: &str| -> f64 {
        instant_query(
            &prom_addr,
            &format!("sum({name}{{job=\"prom\"}})"),
            now_ms(),
        )
        .first()
        .map_or(0.0, |r| r["value"][1].as_str().unwrap().parse().unwrap())
    };
    let failed = counter("prometheus_remote_storage_samples_failed_total");
    assert_eq!(
        failed, 0.0,
        "serve refused {failed} samples as non-recoverable"
    );
    let retried = counter("prometheus_remote_storage_samples_retried_total");
    eprintln!(
        "prometheus remote_write across {kills} kill -9: all {checked} samples of {} series \
         selectors in serve ({retried} samples retried by Prometheus)",
        selectors.len()
    );
    drop(prometheus);
    serve.stop();
}
