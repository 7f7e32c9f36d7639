//! `whyslow top`'s screen rendered from fixed models on ratatui's
//! `TestBackend`: the header, summary lines, CPU bars, the sorted and
//! filtered process table, and how columns drop on narrow terminals.

use super::model::tests::row;
use super::model::{Model, SortKey};
use super::rates::{DiskRates, HostRates, NetRates};
use super::render::draw;
use super::summary::summarize;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::Terminal;
use std::time::Duration;

fn host() -> HostRates {
    HostRates {
        cpus: vec![0.25, 0.97],
        cpu_total: 0.61,
        psi_cpu_some: Some(0.02),
        psi_memory_some: Some(0.0),
        psi_memory_full: Some(0.0),
        psi_io_some: Some(0.001),
        mem_total: Some(16.0 * 1024.0 * 1024.0 * 1024.0),
        mem_available: Some(4.0 * 1024.0 * 1024.0 * 1024.0),
        swap_used: Some(0.0),
        disks: vec![DiskRates {
            device: "sda".into(),
            util: 0.12,
            queue: 0.05,
            read_bps: 2048.0,
            write_bps: 0.0,
        }],
        nets: vec![NetRates {
            device: "eth0".into(),
            rx_bps: 1024.0 * 1024.0,
            tx_bps: 300.0,
            trouble_per_s: 0.0,
        }],
        load: Some([0.52, 0.40, 0.30]),
        uptime: Some(3.0 * 86400.0 + 4.0 * 3600.0 + 12.0 * 60.0),
    }
}

fn model() -> Model {
    let host = host();
    let mut m = Model::new("testhost".into(), Duration::from_secs(1));
    m.uptime = host.uptime;
    m.load = host.load;
    m.cpus = host.cpus.clone();
    m.summary = summarize(&host);
    m.processes = vec![
        row(4242, "postgres", 12.5, 900 * 1024 * 1024, Some(4096.0)),
        row(17, "kworker", 0.0, 0, None),
        row(1, "systemd", 0.1, 12 * 1024 * 1024, Some(0.0)),
        row(880, "nginx", 48.0, 40 * 1024 * 1024, Some(1e6)),
    ];
    m.sampled = true;
    m
}

fn render(model: &Model, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| draw(frame, model))
        .expect("draw on the test backend");
    terminal.backend().buffer().clone()
}

fn lines(buffer: &Buffer) -> Vec<String> {
    let area = buffer.area;
    (0..area.height)
        .map(|y| {
            (0..area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect()
}

/// The PIDs of the table's rows, top to bottom.
fn table_pids(lines: &[String]) -> Vec<u32> {
    let header = lines
        .iter()
        .position(|l| l.trim_start().starts_with("PID"))
        .expect("table header");
    lines[header + 1..]
        .iter()
        .map_while(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn header_summary_bars_and_table_fit_80x24() {
    let buffer = render(&model(), 80, 24);
    let lines = lines(&buffer);
    let screen = lines.join("\n");
    assert_eq!(
        lines[0],
        "whyslow top  testhost  up 3d 04:12  load 0.52 0.40 0.30  2 CPUs  every 1s"
    );
    assert!(
        lines[1].starts_with("CPU  ok        util 61% (max 97%)  PSI some 2.0%  load 0.52/2"),
        "{screen}"
    );
    assert!(
        lines[2].starts_with("MEM  ok        used 75% of 16G  avail 4.0G"),
        "{screen}"
    );
    assert!(
        lines[3].starts_with("DISK ok        sda util 12% aqu 0.05  r 2.0K/s w 0/s"),
        "{screen}"
    );
    assert!(
        lines[4].starts_with("NET  ok        rx 1.0M/s tx 300/s (busiest eth0)"),
        "{screen}"
    );
    // One line of two 40-column bars, htop-style, the busy one in red.
    assert!(lines[5].starts_with("0[||||||||"), "{}", lines[5]);
    assert!(lines[5].contains("25%] 1[||||"), "{}", lines[5]);
    assert!(lines[5].ends_with("97%]"), "{}", lines[5]);
    assert_eq!(buffer[(42, 5)].fg, Color::Red);
    assert_eq!(buffer[(2, 5)].fg, Color::Green);
    // Every column fits at 80; sorted by CPU % with the busiest first.
    let header: Vec<&str> = lines[6].split_whitespace().collect();
    assert_eq!(
        header,
        ["PID", "USER", "S", "THR", "CPU%", "RSS", "READ/s", "WRITE/s", "COMMAND"]
    );
    assert_eq!(table_pids(&lines), [880, 4242, 1, 17]);
    assert!(
        screen.contains("    880 www-data S    1   48.0   40M   977K       0 nginx --flag"),
        "{screen}"
    );
    assert!(
        screen.contains("     17 root     S    1    0.0     0      -       - [kworker]"),
        "{screen}"
    );
    assert!(lines[23].starts_with("sort CPU%  4 procs   q quit  c/m/i/p sort  / filter  Esc clear"));
    assert!(lines.iter().all(|l| l.chars().count() <= 80));
    assert_eq!(buffer[(5, 1)].fg, Color::Green);

    // A saturated resource says so, in red.
    let mut hot = host();
    hot.psi_cpu_some = Some(0.3);
    let mut m = model();
    m.summary = summarize(&hot);
    let buffer = render(&m, 80, 24);
    assert!(super::render_tests::lines(&buffer)[1].starts_with("CPU  saturated util 61%"));
    assert_eq!(buffer[(5, 1)].fg, Color::Red);
}

#[test]
fn sort_keys_reorder_the_table_and_the_filter_narrows_it() {
    let mut m = model();
    m.sort = SortKey::Memory;
    let lines1 = lines(&render(&m, 80, 24));
    assert_eq!(table_pids(&lines1), [4242, 880, 1, 17]);
    assert!(lines1[23].contains("sort RSS"));
    m.sort = SortKey::Pid;
    assert_eq!(table_pids(&lines(&render(&m, 80, 24))), [1, 17, 880, 4242]);

    m.editing_filter = true;
    m.filter = "post".into();
    let typing = lines(&render(&m, 80, 24));
    assert_eq!(table_pids(&typing), [4242]);
    assert!(typing[23].starts_with("filter: post_   Enter keep  Esc clear"));
    m.editing_filter = false;
    m.filter = "nothing-like-this".into();
    let none = lines(&render(&m, 80, 24));
    assert!(none
        .join("\n")
        .contains("no process matches \"nothing-like-this\""));
    assert!(
        none[23].starts_with("sort PID  0 procs  filter \"nothing-like-this\""),
        "{}",
        none.join("\n")
    );
}

#[test]
fn narrow_terminals_drop_columns_and_many_cpus_become_a_strip() {
    let lines40 = lines(&render(&model(), 40, 24));
    let header: Vec<&str> = lines40[6].split_whitespace().collect();
    assert_eq!(header, ["PID", "S", "CPU%", "RSS", "COMMAND"]);
    assert_eq!(table_pids(&lines40), [880, 4242, 1, 17]);

    let mut m = model();
    m.cpus = (0..16).map(|i| f64::from(i) / 16.0).collect();
    let sixteen = lines(&render(&m, 80, 24));
    assert!(sixteen[5].starts_with(" 0["), "{}", sixteen[5]);
    assert!(sixteen[8].starts_with("12["), "{}", sixteen[8]);
    assert!(sixteen[9].trim_start().starts_with("PID"), "{}", sixteen[9]);

    m.cpus = vec![1.0; 256];
    let many = lines(&render(&m, 80, 24));
    assert!(many[5].starts_with("cpu 0-255 ####"), "{}", many[5]);
    assert!(many[9].trim_start().starts_with("PID"), "{}", many[9]);
}

#[test]
fn before_the_first_interval_it_says_it_is_measuring() {
    let m = Model::new("testhost".into(), Duration::from_millis(500));
    let lines = lines(&render(&m, 80, 24));
    assert_eq!(lines[0], "whyslow top  testhost  every 500ms");
    assert_eq!(lines[1], "measuring the first 500ms ...");
    assert!(lines[2].trim_start().starts_with("PID"));
    assert!(table_pids(&lines).is_empty());
}
