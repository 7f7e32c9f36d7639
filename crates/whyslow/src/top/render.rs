//! Drawing `whyslow top`: a pure function of the [`Model`], so tests render
//! it on ratatui's `TestBackend`. Top to bottom: a header (host, uptime,
//! load, CPUs), one USE summary line per resource, per-CPU bars, the process
//! table, and a help line. ASCII only (`|` bars, no box drawing), so it reads
//! the same in any locale and in `tmux capture-pane`. The table's columns
//! are chosen in `table.rs`.

use super::format::{percent, uptime};
use super::model::Model;
use super::summary::Status;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// At most this many rows of CPU bars; more CPUs become a one-character-per-CPU strip.
const MAX_BAR_ROWS: usize = 4;
/// The narrowest bar worth drawing: "12[||  5%]".
const MIN_BAR_INNER: usize = 6;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, model: &Model) {
    let area = frame.area();
    let summary_rows = if model.sampled {
        model.summary.len().max(1)
    } else {
        1
    };
    let bars = cpu_lines(&model.cpus, usize::from(area.width));
    let [header, summary, cpus, table, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(summary_rows as u16),
        Constraint::Length(bars.len() as u16),
        Constraint::Min(2),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(header_line(model)), header);
    frame.render_widget(Paragraph::new(summary_lines(model)), summary);
    frame.render_widget(Paragraph::new(bars), cpus);
    super::table::draw_table(frame, table, model);
    frame.render_widget(Paragraph::new(help_line(model)), help);
}

fn header_line(model: &Model) -> Line<'static> {
    let mut spans = vec![
        Span::styled("whyslow top", Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(format!("  {}", model.hostname)),
    ];
    if let Some(up) = model.uptime {
        spans.push(Span::raw(format!("  up {}", uptime(up))));
    }
    if let Some([a, b, c]) = model.load {
        spans.push(Span::raw(format!("  load {a:.2} {b:.2} {c:.2}")));
    }
    if !model.cpus.is_empty() {
        spans.push(Span::raw(format!("  {} CPUs", model.cpus.len())));
    }
    spans.push(Span::raw(format!(
        "  every {}",
        humanize(model.interval.as_secs_f64())
    )));
    Line::from(spans)
}

fn humanize(secs: f64) -> String {
    if secs >= 1.0 {
        format!("{}s", (secs * 10.0).round() / 10.0)
    } else {
        format!("{}ms", (secs * 1000.0).round())
    }
}

pub fn status_style(status: Status) -> Style {
    match status {
        Status::Ok => Style::new().fg(Color::Green),
        Status::Warn => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        Status::Saturated => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        Status::Unavailable => Style::new().fg(Color::DarkGray),
    }
}

fn summary_lines(model: &Model) -> Vec<Line<'static>> {
    if !model.sampled {
        return vec![Line::raw(format!(
            "measuring the first {} ...",
            humanize(model.interval.as_secs_f64())
        ))];
    }
    model
        .summary
        .iter()
        .map(|cell| {
            Line::from(vec![
                Span::styled(
                    format!("{:<5}", cell.resource),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::styled(
                    format!("{:<10}", cell.status.label()),
                    status_style(cell.status),
                ),
                Span::raw(cell.text.clone()),
            ])
        })
        .collect()
}

fn util_color(util: f64) -> Color {
    if util >= 0.95 {
        Color::Red
    } else if util >= 0.80 {
        Color::Yellow
    } else {
        Color::Green
    }
}

/// Per-CPU bars, htop-style (` 0[|||||    23%]`), as many per line as fit in
/// [`MAX_BAR_ROWS`] lines; too many CPUs for that become a strip of one
/// character per CPU (` .:|#` by utilisation).
fn cpu_lines(cpus: &[f64], width: usize) -> Vec<Line<'static>> {
    let n = cpus.len();
    if n == 0 || width == 0 {
        return Vec::new();
    }
    let label = (n - 1).to_string().len();
    let mut per_line = (width / 20).clamp(1, n);
    if n.div_ceil(per_line) > MAX_BAR_ROWS {
        per_line = n.div_ceil(MAX_BAR_ROWS);
    }
    let cell = width / per_line;
    if cell < label + 3 + MIN_BAR_INNER {
        return cpu_strip(cpus, width);
    }
    let inner = cell - label - 3; // "N[" + "]" + a space between cells
    cpus.chunks(per_line)
        .enumerate()
        .map(|(line, chunk)| {
            let mut spans = Vec::new();
            for (i, &util) in chunk.iter().enumerate() {
                let cpu = line * per_line + i;
                spans.extend(bar(cpu, label, inner, util));
                spans.push(Span::raw(" "));
            }
            Line::from(spans)
        })
        .collect()
}

fn bar(cpu: usize, label: usize, inner: usize, util: f64) -> Vec<Span<'static>> {
    let pct = percent(util);
    let fill = ((util.clamp(0.0, 1.0) * inner as f64).round() as usize).min(inner);
    let mut chars: Vec<char> = (0..inner)
        .map(|i| if i < fill { '|' } else { ' ' })
        .collect();
    let start = inner.saturating_sub(pct.len());
    for (slot, c) in chars[start..].iter_mut().zip(pct.chars()) {
        *slot = c;
    }
    let filled: String = chars[..fill].iter().collect();
    let rest: String = chars[fill..].iter().collect();
    vec![
        Span::styled(
            format!("{cpu:>label$}["),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::styled(filled, Style::new().fg(util_color(util))),
        Span::raw(rest),
        Span::raw("]"),
    ]
}

fn cpu_strip(cpus: &[f64], width: usize) -> Vec<Line<'static>> {
    let prefix = format!("cpu 0-{} ", cpus.len() - 1);
    let per_line = width.saturating_sub(prefix.len()).max(1);
    cpus.chunks(per_line)
        .take(MAX_BAR_ROWS)
        .enumerate()
        .map(|(i, chunk)| {
            let head = if i == 0 {
                prefix.clone()
            } else {
                " ".repeat(prefix.len())
            };
            let mut spans = vec![Span::raw(head)];
            spans.extend(chunk.iter().map(|&u| {
                let c = match u {
                    u if u >= 0.95 => "#",
                    u if u >= 0.50 => "|",
                    u if u >= 0.20 => ":",
                    u if u >= 0.05 => ".",
                    _ => " ",
                };
                Span::styled(c, Style::new().fg(util_color(u)))
            }));
            Line::from(spans)
        })
        .collect()
}

fn help_line(model: &Model) -> Line<'static> {
    let key = Style::new().add_modifier(Modifier::REVERSED);
    if model.editing_filter {
        return Line::from(vec![
            Span::styled("filter:", key),
            Span::raw(format!(" {}_", model.filter)),
            Span::raw("   Enter keep  Esc clear"),
        ]);
    }
    let mut spans = vec![Span::raw(format!(
        "sort {}  {} procs",
        model.sort.column(),
        model.visible().len()
    ))];
    if !model.filter.is_empty() {
        spans.push(Span::raw(format!("  filter \"{}\"", model.filter)));
    }
    if let Some(error) = &model.error {
        spans.push(Span::styled(
            format!("  {error}"),
            Style::new().fg(Color::Red),
        ));
    }
    spans.push(Span::raw("   "));
    for (k, what) in [
        ("q", " quit  "),
        ("c/m/i/p", " sort  "),
        ("/", " filter  "),
        ("Esc", " clear"),
    ] {
        spans.push(Span::styled(k, key));
        spans.push(Span::raw(what));
    }
    Line::from(spans)
}
