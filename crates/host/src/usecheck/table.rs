//! A [`UseReport`] as text: the USE table (one row per resource, a status word
//! and the measured value per cell), the findings (why each warn or saturated
//! cell is so, and the command to run next), the sources this machine lacks,
//! and the top processes. ANSI colour on the status words when asked.

use super::metrics::bytes;
use super::{Cell, Status, TopProcess, UseReport};
use std::fmt::Write as _;

/// The status word, padded to 4 columns and coloured when `colour`.
fn word(status: Status, colour: bool) -> String {
    let (text, code) = match status {
        Status::Ok => ("ok  ", "32"),
        Status::Warn => ("WARN", "33"),
        Status::Saturated => ("SAT ", "1;31"),
        Status::Unavailable => ("n/a ", "2"),
    };
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn cell_text(cell: Option<&Cell>, colour: bool) -> (String, usize) {
    match cell {
        Some(cell) => {
            let value = if cell.status == Status::Unavailable {
                String::new()
            } else {
                cell.value.clone()
            };
            let plain = 5 + value.chars().count();
            (format!("{} {value}", word(cell.status, colour)), plain)
        }
        None => ("-".to_string(), 1),
    }
}

/// Renders the whole report.
pub fn render(report: &UseReport, colour: bool) -> String {
    let mut out = String::new();
    let headers = ["RESOURCE", "UTILISATION", "SATURATION", "ERRORS"];
    let mut lines: Vec<[(String, usize); 4]> = Vec::new();
    for row in &report.rows {
        let label = short_label(&row.label());
        let n = label.chars().count();
        lines.push([
            (label, n),
            cell_text(row.utilisation.as_ref(), colour),
            cell_text(row.saturation.as_ref(), colour),
            cell_text(row.errors.as_ref(), colour),
        ]);
    }
    let mut widths = headers.map(str::len);
    for line in &lines {
        for (w, (_, n)) in widths.iter_mut().zip(line) {
            *w = (*w).max(*n);
        }
    }
    let _ = writeln!(
        out,
        "USE over {:.1} s, {} CPUs: {}",
        report.interval_seconds,
        report.cpus,
        match report.status {
            Status::Saturated => "SATURATED",
            Status::Warn => "warnings",
            _ => "all ok",
        }
    );
    for (i, h) in headers.iter().enumerate() {
        let _ = write!(out, "{h:<w$}  ", w = widths[i]);
    }
    trim_end(&mut out);
    for line in &lines {
        for (i, (text, n)) in line.iter().enumerate() {
            out.push_str(text);
            if i < 3 {
                out.push_str(&" ".repeat(widths[i] - n + 2));
            }
        }
        trim_end(&mut out);
    }

    if !report.per_cpu.is_empty() {
        out.push_str("per CPU busy:");
        for (i, c) in report.per_cpu.iter().enumerate() {
            if i > 0 && i % 16 == 0 {
                out.push_str("\n             ");
            }
            let _ = write!(out, " cpu{} {:.0}%", c.cpu, c.utilisation * 100.0);
        }
        out.push('\n');
    }

    let mut findings = Vec::new();
    let mut missing = Vec::new();
    for row in &report.rows {
        for (name, cell) in row.cells() {
            match (cell.status, &cell.why) {
                (Status::Warn | Status::Saturated, Some(why)) => {
                    let next = cell
                        .next
                        .as_deref()
                        .map(|n| format!("\n      next: {n}"))
                        .unwrap_or_default();
                    findings.push(format!(
                        "  {} {} {name}: {why}{next}",
                        word(cell.status, colour),
                        row.label()
                    ));
                }
                (Status::Unavailable, Some(why)) => {
                    missing.push(format!("  {} {name}: {why}", row.label()));
                }
                _ => {}
            }
        }
    }
    if !findings.is_empty() {
        out.push_str("\nFindings:\n");
        for f in findings {
            out.push_str(&f);
            out.push('\n');
        }
    }
    if !missing.is_empty() {
        out.push_str("\nUnavailable on this machine:\n");
        for m in missing {
            out.push_str(&m);
            out.push('\n');
        }
    }
    render_top(report, &mut out);
    out
}

/// Labels longer than this (deep cgroup paths) keep their start and end.
const LABEL_WIDTH: usize = 32;

fn short_label(label: &str) -> String {
    let chars: Vec<char> = label.chars().collect();
    if chars.len() <= LABEL_WIDTH {
        return label.to_string();
    }
    let head: String = chars[..LABEL_WIDTH / 2].iter().collect();
    let tail: String = chars[chars.len() - (LABEL_WIDTH / 2 - 1)..]
        .iter()
        .collect();
    format!("{head}…{tail}")
}

fn trim_end(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
    out.push('\n');
}

fn render_top(report: &UseReport, out: &mut String) {
    let top = &report.top;
    if let Some(why) = &top.unavailable {
        let _ = writeln!(out, "\nTop processes unavailable: {why}");
        return;
    }
    let io = |p: &TopProcess| match (p.read_bytes_per_second, p.write_bytes_per_second) {
        (Some(r), Some(w)) => format!("r {}/s w {}/s", bytes(r), bytes(w)),
        _ => "io n/a".into(),
    };
    let sections: [(&str, &Vec<TopProcess>); 3] = [
        ("by CPU", &top.by_cpu),
        ("by memory (RSS)", &top.by_memory),
        ("by I/O", &top.by_io),
    ];
    for (title, list) in sections {
        let _ = writeln!(out, "\nTop processes {title}:");
        let _ = writeln!(
            out,
            "  {:>7}  {:<15}  {:>6}  {:>9}  {:>21}  {:>9}",
            "PID", "COMMAND", "CPU%", "RSS", "I/O", "MAJFLT/s"
        );
        for p in list {
            let _ = writeln!(
                out,
                "  {:>7}  {:<15}  {:>6.1}  {:>9}  {:>21}  {:>9.0}",
                p.pid,
                p.comm,
                p.cpu_percent,
                bytes(p.rss_bytes as f64),
                io(p),
                p.major_faults_per_second
            );
        }
    }
    if top.io_unreadable > 0 {
        let _ = writeln!(
            out,
            "  (I/O of {} processes not readable: /proc/PID/io needs ptrace rights, run as root to see them)",
            top.io_unreadable
        );
    }
}
