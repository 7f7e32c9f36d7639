//! The process table of `whyslow top`: which columns fit the width (THR
//! goes first, then USER, then the I/O columns, then S; COMMAND takes what is left and
//! is cut at the edge), the sorted column's title highlighted, "-" for I/O
//! the kernel does not let us read.

use super::format::bytes;
use super::model::{Model, ProcRow, SortKey};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

/// Give COMMAND at least this much before dropping other columns.
const MIN_COMMAND: u16 = 16;

/// One table column: title, width (0 = takes the rest), right-aligned, and its cell.
struct Column {
    title: &'static str,
    width: u16,
    right: bool,
    cell: fn(&ProcRow) -> String,
}

fn io_cell(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), bytes)
}

const PID: Column = Column {
    title: "PID",
    width: 7,
    right: true,
    cell: |p| p.pid.to_string(),
};
const USER: Column = Column {
    title: "USER",
    width: 8,
    right: false,
    cell: |p| p.user.chars().take(8).collect(),
};
const STATE: Column = Column {
    title: "S",
    width: 1,
    right: false,
    cell: |p| p.state.to_string(),
};
const THREADS: Column = Column {
    title: "THR",
    width: 4,
    right: true,
    cell: |p| p.threads.to_string(),
};
const CPU: Column = Column {
    title: "CPU%",
    width: 6,
    right: true,
    cell: |p| format!("{:.1}", p.cpu_percent),
};
const RSS: Column = Column {
    title: "RSS",
    width: 5,
    right: true,
    cell: |p| bytes(p.rss_bytes as f64),
};
const READ: Column = Column {
    title: "READ/s",
    width: 6,
    right: true,
    cell: |p| io_cell(p.read_bps),
};
const WRITE: Column = Column {
    title: "WRITE/s",
    width: 7,
    right: true,
    cell: |p| io_cell(p.write_bps),
};
const COMMAND: Column = Column {
    title: "COMMAND",
    width: 0,
    right: false,
    cell: ProcRow::command,
};

/// The columns that fit `width`, dropping THR, then USER, then I/O, then S.
fn columns(width: u16) -> Vec<&'static Column> {
    let fits = |cols: &[&Column]| {
        let fixed: u16 = cols.iter().map(|c| c.width + 1).sum();
        fixed + MIN_COMMAND <= width
    };
    let choices: [&[&'static Column]; 5] = [
        &[&PID, &USER, &STATE, &THREADS, &CPU, &RSS, &READ, &WRITE],
        &[&PID, &USER, &STATE, &CPU, &RSS, &READ, &WRITE],
        &[&PID, &STATE, &CPU, &RSS, &READ, &WRITE],
        &[&PID, &STATE, &CPU, &RSS],
        &[&PID, &CPU, &RSS],
    ];
    let chosen = choices
        .iter()
        .find(|c| fits(c))
        .copied()
        .unwrap_or(choices[4]);
    let mut cols = chosen.to_vec();
    cols.push(&COMMAND);
    cols
}

fn sorted_by(column: &Column, sort: SortKey) -> bool {
    column.title == sort.column() || (sort == SortKey::Io && column.title.ends_with("/s"))
}

pub fn draw_table(frame: &mut Frame, area: Rect, model: &Model) {
    let cols = columns(area.width);
    let title = Style::new().add_modifier(Modifier::REVERSED);
    let header = Row::new(cols.iter().map(|c| {
        let style = if sorted_by(c, model.sort) {
            title.fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            title
        };
        align(c.title.to_string(), c.right).style(style)
    }))
    .style(title);
    let visible = model.visible();
    let room = usize::from(area.height.saturating_sub(1));
    let rows: Vec<Row> = visible
        .iter()
        .take(room)
        .map(|p| Row::new(cols.iter().map(|c| align((c.cell)(p), c.right))))
        .collect();
    let widths = cols.iter().map(|c| match c.width {
        0 => Constraint::Fill(1),
        w => Constraint::Length(w),
    });
    frame.render_widget(Table::new(rows, widths).header(header), area);
    if model.sampled && visible.is_empty() && area.height > 1 {
        let note = Rect {
            y: area.y + 1,
            height: 1,
            ..area
        };
        let text = if model.filter.is_empty() {
            "no processes".to_string()
        } else {
            format!("no process matches \"{}\"", model.filter)
        };
        frame.render_widget(Paragraph::new(text), note);
    }
}

fn align(text: String, right: bool) -> Cell<'static> {
    let line = Line::raw(text);
    Cell::from(if right { line.right_aligned() } else { line })
}
