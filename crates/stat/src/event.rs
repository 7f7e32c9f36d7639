//! The events `whyslow stat` counts: perf's default set, and `-e` lists of the
//! named software, generic hardware and tracepoint events perf knows, with
//! the same names and aliases (`cs`, `faults`, `cycles` …) and the `:u`/`:k`
//! modifiers. Pure parsing; opening the events is `linux/counter.rs`'s job.

use crate::error::StatError;

/// perf's event types (`perf_event_attr.type`).
pub const TYPE_HARDWARE: u32 = 0;
/// Software events (task-clock, page-faults …).
pub const TYPE_SOFTWARE: u32 = 1;

/// Software event configs (`enum perf_sw_ids`).
pub mod sw {
    /// cpu-clock.
    pub const CPU_CLOCK: u64 = 0;
    /// task-clock.
    pub const TASK_CLOCK: u64 = 1;
    /// page-faults.
    pub const PAGE_FAULTS: u64 = 2;
    /// context-switches.
    pub const CONTEXT_SWITCHES: u64 = 3;
    /// cpu-migrations.
    pub const CPU_MIGRATIONS: u64 = 4;
    /// minor-faults.
    pub const MINOR_FAULTS: u64 = 5;
    /// major-faults.
    pub const MAJOR_FAULTS: u64 = 6;
    /// alignment-faults.
    pub const ALIGNMENT_FAULTS: u64 = 7;
    /// emulation-faults.
    pub const EMULATION_FAULTS: u64 = 8;
}

/// Generic hardware event configs (`enum perf_hw_id`).
pub mod hw {
    /// cycles.
    pub const CYCLES: u64 = 0;
    /// instructions.
    pub const INSTRUCTIONS: u64 = 1;
    /// cache-references.
    pub const CACHE_REFERENCES: u64 = 2;
    /// cache-misses.
    pub const CACHE_MISSES: u64 = 3;
    /// branches.
    pub const BRANCHES: u64 = 4;
    /// branch-misses.
    pub const BRANCH_MISSES: u64 = 5;
    /// bus-cycles.
    pub const BUS_CYCLES: u64 = 6;
    /// stalled-cycles-frontend.
    pub const STALLED_FRONTEND: u64 = 7;
    /// stalled-cycles-backend.
    pub const STALLED_BACKEND: u64 = 8;
    /// ref-cycles.
    pub const REF_CYCLES: u64 = 9;
}

/// What to open for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `PERF_TYPE_HARDWARE` / `PERF_TYPE_SOFTWARE` / a raw PMU type with its config.
    Counter {
        /// `perf_event_attr.type`.
        type_: u32,
        /// `perf_event_attr.config`.
        config: u64,
    },
    /// A tracepoint `category:name`; its id comes from tracefs when opened.
    Tracepoint {
        /// The tracefs category (`sched`).
        category: String,
        /// The event name (`sched_switch`).
        name: String,
    },
}

/// One event as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSel {
    /// The name printed in the output, as typed (`cs`, `cycles:u`).
    pub name: String,
    /// What to open.
    pub kind: EventKind,
    /// `:k` (count kernel only).
    pub exclude_user: bool,
    /// `:u` (count user space only).
    pub exclude_kernel: bool,
}

/// Named events perf knows: (names, type, config); the first name is canonical.
const NAMED: &[(&[&str], u32, u64)] = &[
    (&["task-clock"], TYPE_SOFTWARE, sw::TASK_CLOCK),
    (&["cpu-clock"], TYPE_SOFTWARE, sw::CPU_CLOCK),
    (
        &["context-switches", "cs"],
        TYPE_SOFTWARE,
        sw::CONTEXT_SWITCHES,
    ),
    (
        &["cpu-migrations", "migrations"],
        TYPE_SOFTWARE,
        sw::CPU_MIGRATIONS,
    ),
    (&["page-faults", "faults"], TYPE_SOFTWARE, sw::PAGE_FAULTS),
    (&["minor-faults"], TYPE_SOFTWARE, sw::MINOR_FAULTS),
    (&["major-faults"], TYPE_SOFTWARE, sw::MAJOR_FAULTS),
    (&["alignment-faults"], TYPE_SOFTWARE, sw::ALIGNMENT_FAULTS),
    (&["emulation-faults"], TYPE_SOFTWARE, sw::EMULATION_FAULTS),
    (&["cycles", "cpu-cycles"], TYPE_HARDWARE, hw::CYCLES),
    (&["instructions"], TYPE_HARDWARE, hw::INSTRUCTIONS),
    (&["cache-references"], TYPE_HARDWARE, hw::CACHE_REFERENCES),
    (&["cache-misses"], TYPE_HARDWARE, hw::CACHE_MISSES),
    (
        &["branches", "branch-instructions"],
        TYPE_HARDWARE,
        hw::BRANCHES,
    ),
    (&["branch-misses"], TYPE_HARDWARE, hw::BRANCH_MISSES),
    (&["bus-cycles"], TYPE_HARDWARE, hw::BUS_CYCLES),
    (
        &["stalled-cycles-frontend", "idle-cycles-frontend"],
        TYPE_HARDWARE,
        hw::STALLED_FRONTEND,
    ),
    (
        &["stalled-cycles-backend", "idle-cycles-backend"],
        TYPE_HARDWARE,
        hw::STALLED_BACKEND,
    ),
    (&["ref-cycles"], TYPE_HARDWARE, hw::REF_CYCLES),
];

impl EventSel {
    /// A software or hardware event by perf's config.
    pub fn counter(name: &str, type_: u32, config: u64) -> Self {
        EventSel {
            name: name.to_string(),
            kind: EventKind::Counter { type_, config },
            exclude_user: false,
            exclude_kernel: false,
        }
    }

    /// Whether this is `PERF_TYPE_<type_>` with `config`.
    pub fn is(&self, type_: u32, config: u64) -> bool {
        self.kind == EventKind::Counter { type_, config }
    }

    /// task-clock or cpu-clock: counted in ns, shown in msec.
    pub fn is_clock(&self) -> bool {
        self.is(TYPE_SOFTWARE, sw::TASK_CLOCK) || self.is(TYPE_SOFTWARE, sw::CPU_CLOCK)
    }

    /// A generic hardware event (needs a hardware PMU).
    pub fn is_hardware(&self) -> bool {
        matches!(self.kind, EventKind::Counter { type_, .. } if type_ == TYPE_HARDWARE)
    }

    /// The unit column: `msec` for clocks, empty otherwise.
    pub fn unit(&self) -> &'static str {
        if self.is_clock() {
            "msec"
        } else {
            ""
        }
    }

    /// The value shown for a raw count (clocks count ns and show msec).
    pub fn scaled(&self, raw: f64) -> f64 {
        if self.is_clock() {
            raw / 1e6
        } else {
            raw
        }
    }
}

/// perf stat's default events: `cpu-clock` instead of `task-clock` system-wide;
/// the stalled-cycles pair only where the CPU PMU lists them (as perf does).
pub fn default_events(system_wide: bool, stalled_cycles: bool) -> Vec<EventSel> {
    let mut events = vec![
        if system_wide {
            EventSel::counter("cpu-clock", TYPE_SOFTWARE, sw::CPU_CLOCK)
        } else {
            EventSel::counter("task-clock", TYPE_SOFTWARE, sw::TASK_CLOCK)
        },
        EventSel::counter("context-switches", TYPE_SOFTWARE, sw::CONTEXT_SWITCHES),
        EventSel::counter("cpu-migrations", TYPE_SOFTWARE, sw::CPU_MIGRATIONS),
        EventSel::counter("page-faults", TYPE_SOFTWARE, sw::PAGE_FAULTS),
    ];
    if stalled_cycles {
        events.push(EventSel::counter(
            "stalled-cycles-frontend",
            TYPE_HARDWARE,
            hw::STALLED_FRONTEND,
        ));
        events.push(EventSel::counter(
            "stalled-cycles-backend",
            TYPE_HARDWARE,
            hw::STALLED_BACKEND,
        ));
    }
    for (name, config) in [
        ("cycles", hw::CYCLES),
        ("instructions", hw::INSTRUCTIONS),
        ("branches", hw::BRANCHES),
        ("branch-misses", hw::BRANCH_MISSES),
    ] {
        events.push(EventSel::counter(name, TYPE_HARDWARE, config));
    }
    events
}

/// Parses an `-e` list such as `task-clock,cs,cycles:u,sched:sched_switch`.
/// Several `-e` options are joined by the caller with commas.
pub fn parse_event_list(text: &str) -> Result<Vec<EventSel>, StatError> {
    let events: Vec<EventSel> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_event)
        .collect::<Result<_, _>>()?;
    if events.is_empty() {
        return Err(StatError::UnknownEvent {
            event: text.to_string(),
        });
    }
    Ok(events)
}

/// Parses one event name with optional `:u`, `:k` modifiers, or `cat:name`.
pub fn parse_event(text: &str) -> Result<EventSel, StatError> {
    let unknown = || StatError::UnknownEvent {
        event: text.to_string(),
    };
    let named = |base: &str| NAMED.iter().find(|(names, _, _)| names.contains(&base));
    let (base, modifiers) = match text.split_once(':') {
        Some((base, m)) if named(base).is_some() => {
            if m.is_empty() || !m.chars().all(|c| "ukh".contains(c)) {
                return Err(unknown());
            }
            (base, m)
        }
        Some((category, name)) => {
            let valid = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            };
            if !valid(category) || !valid(name) {
                return Err(unknown());
            }
            return Ok(EventSel {
                name: text.to_string(),
                kind: EventKind::Tracepoint {
                    category: category.to_string(),
                    name: name.to_string(),
                },
                exclude_user: false,
                exclude_kernel: false,
            });
        }
        None => (text, ""),
    };
    let (_, type_, config) = named(base).ok_or_else(unknown)?;
    let user = modifiers.contains('u');
    let kernel = modifiers.contains('k');
    Ok(EventSel {
        name: text.to_string(),
        kind: EventKind::Counter {
            type_: *type_,
            config: *config,
        },
        exclude_user: kernel && !user,
        exclude_kernel: user && !kernel,
    })
}

/// Every named event, for the error message of an unknown one.
pub fn known_names() -> String {
    NAMED
        .iter()
        .map(|(names, _, _)| names.join("/"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_aliases_and_modifiers() {
        let events = parse_event_list("task-clock, cs,faults,cycles:u,sched:sched_switch").unwrap();
        let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "task-clock",
                "cs",
                "faults",
                "cycles:u",
                "sched:sched_switch"
            ]
        );
        assert!(events[0].is_clock());
        assert!(events[1].is(TYPE_SOFTWARE, sw::CONTEXT_SWITCHES));
        assert!(events[2].is(TYPE_SOFTWARE, sw::PAGE_FAULTS));
        assert!(events[3].is(TYPE_HARDWARE, hw::CYCLES));
        assert!(events[3].exclude_kernel && !events[3].exclude_user);
        assert_eq!(
            events[4].kind,
            EventKind::Tracepoint {
                category: "sched".into(),
                name: "sched_switch".into()
            }
        );
        assert_eq!(events[0].unit(), "msec");
        assert_eq!(events[1].unit(), "");
    }

    #[test]
    fn rejects_unknown_events() {
        assert!(parse_event_list("nosuch").is_err());
        assert!(parse_event_list("").is_err());
        assert!(parse_event("cycles:x").is_err());
        assert!(parse_event("sched:").is_err());
        assert!(parse_event("a/b:c").is_err());
    }

    #[test]
    fn default_set_is_perfs() {
        let names = |v: Vec<EventSel>| v.into_iter().map(|e| e.name).collect::<Vec<_>>();
        assert_eq!(
            names(default_events(false, false)),
            [
                "task-clock",
                "context-switches",
                "cpu-migrations",
                "page-faults",
                "cycles",
                "instructions",
                "branches",
                "branch-misses"
            ]
        );
        assert_eq!(names(default_events(true, false))[0], "cpu-clock");
        assert_eq!(default_events(false, true).len(), 10);
    }
}
