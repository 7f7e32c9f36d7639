//! Whether and how `whyslow stat` shows top-down level 1: with perf's default
//! events and a hardware PMU, the [`topdown`](crate::topdown) events of this
//! CPU are counted after the visible ones and printed as level-1 rows;
//! otherwise one line says why not.

use crate::event::{EventKind, EventSel};
use crate::print::topdown as rows;
use crate::topdown::{self, Level1, Vendor};

/// The top-down part of a run.
#[derive(Debug, Clone)]
pub enum TopdownPlan {
    /// Not asked for (`-e` given).
    Off,
    /// Cannot be measured here, and why.
    Unavailable(String),
    /// Counted: the CPU, where its events start among all events, and the events.
    Count {
        /// The CPU family.
        vendor: Vendor,
        /// Index of its first event.
        first: usize,
        /// Its events.
        events: Vec<EventSel>,
    },
}

impl TopdownPlan {
    /// Picks the plan; `first` is the number of visible events before ours.
    pub fn choose(pmu_present: bool, virtual_machine: bool, first: usize) -> Self {
        if !pmu_present {
            let vm = if virtual_machine {
                " (virtual machine)"
            } else {
                ""
            };
            return TopdownPlan::Unavailable(format!("no hardware PMU{vm}"));
        }
        let Some(vendor) = topdown::detect() else {
            return TopdownPlan::Unavailable(
                "no level-1 event table for this CPU model".to_string(),
            );
        };
        let events: Vec<EventSel> = topdown::events(vendor)
            .iter()
            .map(|spec| EventSel {
                name: spec.name.to_string(),
                kind: EventKind::Counter {
                    type_: spec.perf_type,
                    config: spec.config,
                },
                exclude_user: false,
                exclude_kernel: false,
            })
            .collect();
        if events.is_empty() {
            return TopdownPlan::Unavailable(format!("{vendor} has no level-1 events"));
        }
        TopdownPlan::Count {
            vendor,
            first,
            events,
        }
    }

    /// The events to count after the visible ones.
    pub fn events(&self) -> Vec<EventSel> {
        match self {
            TopdownPlan::Count { events, .. } => events.clone(),
            _ => Vec::new(),
        }
    }

    /// The level-1 rows from the mean counts of all events, or why there are none.
    pub fn render(&self, means: &[Option<f64>]) -> Result<String, Option<String>> {
        let TopdownPlan::Count {
            vendor,
            first,
            events,
        } = self
        else {
            return Err(match self {
                TopdownPlan::Unavailable(reason) => Some(reason.clone()),
                _ => None,
            });
        };
        let counts: Option<Vec<u64>> = means
            .iter()
            .skip(*first)
            .take(events.len())
            .map(|m| m.map(|v| v.round() as u64))
            .collect();
        let level1 = counts
            .filter(|c| c.len() == events.len())
            .and_then(|c| topdown::level1(*vendor, &c))
            .ok_or_else(|| {
                Some(format!(
                    "the {vendor} level-1 events could not be counted (perf_event_paranoid, or in use)"
                ))
            })?;
        Ok(level1_rows(*vendor, &level1))
    }
}

/// perf's labels: TopdownL1 with `tma_` names on Intel, PipelineL1 on AMD.
pub fn level1_rows(vendor: Vendor, l: &Level1) -> String {
    let mut metrics = vec![
        ("retiring", l.retiring),
        ("bad_speculation", l.bad_speculation),
        ("frontend_bound", l.frontend_bound),
        ("backend_bound", l.backend_bound),
    ];
    if let Some(smt) = l.smt_contention {
        metrics.push(("smt_contention", smt));
    }
    match vendor {
        Vendor::AmdZen { .. } => rows::rows("PipelineL1", &metrics),
        _ => {
            let named: Vec<(String, f64)> = metrics
                .iter()
                .map(|(n, v)| (format!("tma_{n}"), *v))
                .collect();
            let refs: Vec<(&str, f64)> = named.iter().map(|(n, v)| (n.as_str(), *v)).collect();
            rows::rows("TopdownL1", &refs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canned() -> Level1 {
        Level1 {
            retiring: 0.274,
            bad_speculation: 0.084,
            frontend_bound: 0.193,
            backend_bound: 0.449,
            smt_contention: None,
        }
    }

    #[test]
    fn intel_rows_use_tma_names() {
        let text = level1_rows(Vendor::IntelIcelake, &canned());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].contains("TopdownL1") && lines[0].ends_with("44.9 %  tma_backend_bound"));
        assert!(lines[3].ends_with("27.4 %  tma_retiring"));
    }

    #[test]
    fn amd_rows_add_smt_contention() {
        let mut l = canned();
        l.smt_contention = Some(0.05);
        let text = level1_rows(Vendor::AmdZen { generation: 5 }, &l);
        assert!(text.lines().next().unwrap_or("").contains("PipelineL1"));
        assert!(text.contains("     5.0 %  smt_contention"));
    }

    #[test]
    fn unavailable_without_pmu() {
        let plan = TopdownPlan::choose(false, true, 8);
        assert!(plan.events().is_empty());
        assert_eq!(
            plan.render(&[]),
            Err(Some("no hardware PMU (virtual machine)".to_string()))
        );
        assert_eq!(TopdownPlan::Off.render(&[]), Err(None));
    }

    #[test]
    fn counted_plan_renders_from_means() {
        let vendor = Vendor::AmdZen { generation: 5 };
        let plan = TopdownPlan::Count {
            vendor,
            first: 1,
            events: vec![EventSel::counter("x", 4, 0); 6],
        };
        // 8 slots per cycle: 1000 cycles = 8000 slots.
        let means = [
            Some(5.0),
            Some(1000.0),
            Some(2000.0),
            Some(2400.0),
            Some(1600.0),
            Some(3200.0),
            Some(400.0),
        ];
        let text = plan.render(&means).unwrap();
        assert!(text.contains("25.0 %  retiring"), "{text}");
        assert!(text.contains("40.0 %  backend_bound"), "{text}");
        assert!(plan.render(&[Some(1.0), None]).is_err());
    }
}
