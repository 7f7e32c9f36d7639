//! Steps 1 to 3 of a run: the program checked against the machine
//! (tracefs mounted when missing), BEGIN/END checked for user space, maps,
//! stack maps and the ring buffer created, every attach point expanded to
//! its targets and one program generated and loaded per target (a
//! verifier rejection points at the probe, with the log's tail). Nothing
//! is attached here.

use super::maps::{self, LiveMap};
use super::targets::{self, Target};
use super::user::{self, Action};
use super::{probe_id, RunError, RINGBUF_BYTES};
use crate::ast::{Probe, Provider};
use crate::codegen::{self, PrintfSite, Shared, Site};
use crate::diag::{Diagnostic, Diagnostics};
use crate::env::TracefsEnvironment;
use bpf::map::{Map, MapSpec, MapType};
use bpf::prog::Program;
use bpf::tracefs::Tracefs;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// Everything loaded and created, ready to attach.
pub(super) struct Prepared {
    /// BEGIN's statements, run in user space.
    pub begin: Vec<Action>,
    /// END's statements.
    pub end: Vec<Action>,
    /// The program's maps.
    pub live: Vec<LiveMap>,
    /// STACK_TRACE maps by frame limit.
    pub stack_maps: BTreeMap<u16, Map>,
    /// The ring buffer programs send records through.
    pub ring_map: Map,
    /// printf sites by record id.
    pub printfs: Vec<PrintfSite>,
    /// One loaded program per target.
    pub loaded: Vec<(Program, Target)>,
    /// Probes as bpftrace counts them (`Attaching N probes...`).
    pub probe_count: usize,
    /// Full probe names, indexed by `probe` values.
    pub probe_names: Vec<String>,
    /// Where this run mounted tracefs, if it had to.
    pub mounted_tracefs: Option<PathBuf>,
}

/// Whether the program needs tracefs (it has tracepoints).
fn needs_tracefs(source_probes: &[Probe]) -> bool {
    source_probes.iter().any(|p| {
        p.attach_points
            .iter()
            .any(|a| matches!(a.provider, Provider::Tracepoint { .. }))
    })
}

/// Checks, creates and loads; `notes` gets one-line notices.
pub(super) fn prepare(source: &str, notes: &mut dyn FnMut(&str)) -> Result<Prepared, RunError> {
    let mut mounted_tracefs = None;
    let parsed = crate::parse(source).map_err(|diagnostics| RunError::Compile {
        diagnostics,
        detail: String::new(),
    })?;
    let tracefs = if needs_tracefs(&parsed.probes) {
        let tracefs = Tracefs::open()?;
        if tracefs.mounted_now() {
            notes(&format!(
                "tracefs was not mounted; mounted it at {}",
                tracefs.root().display()
            ));
            mounted_tracefs = Some(tracefs.root().to_path_buf());
        }
        Some(tracefs)
    } else {
        None
    };
    let checked = match &tracefs {
        Some(t) => crate::check(parsed, &TracefsEnvironment::new(t)),
        None => crate::check(parsed, &crate::NoEnvironment),
    }
    .map_err(|diagnostics| RunError::Compile {
        diagnostics,
        detail: String::new(),
    })?;

    // `probe` is an index into these names.
    let mut probe_names: Vec<String> = Vec::new();
    // BEGIN/END run in user space: check them before touching the kernel.
    let mut begin = Vec::new();
    let mut end = Vec::new();
    for probe in &checked.program.probes {
        for point in &probe.attach_points {
            let (list, which) = match point.provider {
                Provider::Begin => (&mut begin, "BEGIN"),
                Provider::End => (&mut end, "END"),
                _ => continue,
            };
            if let Some(pred) = &probe.predicate {
                return Err(RunError::compile(Diagnostic::new(
                    pred.span,
                    format!("a predicate on {which} is not supported yet by whyslow trace"),
                )));
            }
            let id = probe_id(&mut probe_names, which);
            list.extend(user::actions(&probe.body, which, id).map_err(RunError::compile)?);
        }
    }

    let live = maps::create(&checked.maps)?;
    let map_refs = maps::refs(&live);
    let stack_maps = maps::create_stacks(&checked.stacks)?;
    let stack_fds: BTreeMap<u16, i32> = stack_maps.iter().map(|(&l, m)| (l, m.fd())).collect();
    let ring_map = Map::create(MapSpec::new(
        MapType::RingBuf,
        "ws_output",
        0,
        0,
        RINGBUF_BYTES,
    ))?;

    let mut printfs: Vec<PrintfSite> = Vec::new();
    let mut printf_ids = HashMap::new();
    let mut loaded: Vec<(Program, Target)> = Vec::new();
    let mut probe_count = 0;
    for probe in &checked.program.probes {
        for point in &probe.attach_points {
            if matches!(point.provider, Provider::Begin | Provider::End) {
                probe_count += 1;
                continue;
            }
            for target in targets::expand(point, tracefs.as_ref())? {
                let fields = match &target {
                    Target::Tracepoint { fields, .. } => fields.as_slice(),
                    _ => &[],
                };
                let mut shared = Shared {
                    maps: &map_refs,
                    stack_maps: &stack_fds,
                    ringbuf_fd: ring_map.fd(),
                    printfs: &mut printfs,
                    printf_ids: &mut printf_ids,
                };
                let site = Site {
                    provider: &point.provider,
                    fields,
                    probe_id: probe_id(&mut probe_names, &target.probe_name()),
                };
                let insns =
                    codegen::compile_probe(probe, site, &mut shared).map_err(RunError::compile)?;
                let prog = match Program::load(target.prog_type(), &target.prog_name(), &insns) {
                    Ok(prog) => prog,
                    Err(bpf::Error::Verifier { log, .. }) => {
                        let tail: Vec<&str> = log.lines().rev().take(12).collect();
                        let tail: Vec<&str> = tail.into_iter().rev().collect();
                        return Err(RunError::Compile {
                            diagnostics: Diagnostics(vec![Diagnostic::new(
                                probe.span,
                                format!(
                                    "the kernel verifier rejected the program of {} (a whyslow bug: please report it with this program)",
                                    point.raw
                                ),
                            )]),
                            detail: format!("verifier log (last lines):\n{}\n", tail.join("\n")),
                        });
                    }
                    Err(e) => return Err(e.into()),
                };
                loaded.push((prog, target));
                probe_count += 1;
            }
        }
    }

    Ok(Prepared {
        begin,
        end,
        live,
        stack_maps,
        ring_map,
        printfs,
        loaded,
        probe_count,
        probe_names,
        mounted_tracefs,
    })
}
