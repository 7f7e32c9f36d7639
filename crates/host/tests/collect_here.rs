//! Collects this machine's metrics once and checks the families every Linux
//! host has, in the exposition format a Prometheus parser reads back.

use host::{write_text, Host, Paths};

#[test]
fn collects_this_machine() {
    let mut host = Host::new(Paths::default());
    let collected = host.collect();
    let mut text = String::new();
    write_text(&collected.families, &mut text);
    for name in [
        "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}",
        "node_memory_MemTotal_bytes ",
        "node_load1 ",
        "node_boot_time_seconds ",
        "node_context_switches_total ",
        "node_filefd_maximum ",
        "node_uname_info{",
        "node_scrape_collector_success{collector=\"cpu\"} 1",
        "node_netstat_Tcp_RetransSegs ",
        "node_vmstat_pgmajfault ",
    ] {
        assert!(text.contains(name), "no {name} in\n{text}");
    }
    for (collector, error) in &collected.errors {
        eprintln!("collector {collector}: {error}");
    }
}

/// A machine without the sources (here: empty /proc and /sys) gets no
/// made-up zeros: only uname's family, and success 0 for every other collector.
#[test]
fn missing_sources_are_absent_and_reported() {
    let empty = std::env::temp_dir().join(format!("host-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("temp dir");
    let mut host = Host::new(Paths {
        proc: empty.clone(),
        sys: empty.clone(),
        udev_data: empty.clone(),
    });
    let collected = host.collect();
    let with_samples: Vec<&str> = collected
        .families
        .iter()
        .filter(|f| !f.samples.is_empty())
        .map(|f| f.name.as_ref())
        .collect();
    assert_eq!(
        with_samples,
        [
            "node_uname_info",
            "node_scrape_collector_success",
            "node_scrape_collector_duration_seconds"
        ]
    );
    let success = collected
        .families
        .iter()
        .find(|f| f.name == "node_scrape_collector_success")
        .expect("success family");
    for sample in &success.samples {
        let collector = &sample.labels[0].1;
        let expected = if collector == "uname" { 1.0 } else { 0.0 };
        assert_eq!(sample.value, expected, "collector {collector}");
    }
    assert_eq!(collected.errors.len(), 11);
    assert!(collected
        .errors
        .iter()
        .all(|(_, e)| matches!(e, host::CollectError::Unavailable { .. })));
    let _ = std::fs::remove_dir_all(empty);
}
