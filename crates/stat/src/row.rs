//! What one measurement produced, as plain data shared by the counting side
//! and every printer: a row per event (its count, or why there is none) and
//! the wall time the rows cover.

use crate::event::EventSel;

/// An event's value over a run or an interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Count {
    /// The event ran: its count (scaled up when multiplexed) and times.
    Counted {
        /// Raw count (ns for the clocks), scaled by enabled/running.
        value: f64,
        /// Nanoseconds the event was on the PMU.
        running_ns: u64,
        /// Nanoseconds the event was enabled.
        enabled_ns: u64,
    },
    /// Opened but never scheduled in this span (perf's `<not counted>`).
    NotCounted,
    /// Could not be opened here (perf's `<not supported>`).
    NotSupported,
}

/// One output row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The event.
    pub event: EventSel,
    /// Its value.
    pub count: Count,
    /// With `-r`: the relative standard error of the mean, in %.
    pub noise_pct: Option<f64>,
}

impl Row {
    /// The counted value as shown (msec for clocks), if counted.
    pub fn shown_value(&self) -> Option<f64> {
        match self.count {
            Count::Counted { value, .. } => Some(self.event.scaled(value)),
            _ => None,
        }
    }

    /// The raw counted value, if counted.
    pub fn raw_value(&self) -> Option<f64> {
        match self.count {
            Count::Counted { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Nanoseconds running (0 when not counted).
    pub fn running_ns(&self) -> u64 {
        match self.count {
            Count::Counted { running_ns, .. } => running_ns,
            _ => 0,
        }
    }

    /// running / enabled in %, 100 when equal (perf's `pcnt-running`).
    pub fn running_pct(&self) -> f64 {
        match self.count {
            Count::Counted {
                running_ns,
                enabled_ns,
                ..
            } if running_ns != enabled_ns && enabled_ns > 0 => {
                100.0 * running_ns as f64 / enabled_ns as f64
            }
            _ => 100.0,
        }
    }
}

/// The rows of one run (or interval, or the mean of `-r` runs).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// One per event, in the order asked for.
    pub rows: Vec<Row>,
    /// Wall-clock nanoseconds covered (for "CPUs utilized").
    pub wall_ns: f64,
}
