//! The loadavg collector: `node_load1`, `node_load5`, `node_load15` from
//! /proc/loadavg.
//!
//! Parsed by hand: `procfs-core`'s `LoadAverage` holds `f32`, which turns
//! the kernel's `0.71` into 0.7099999785; node_exporter parses `float64`.

use crate::read::{number, parse_error, read};
use crate::{CollectError, Family, Kind, Paths};

pub(crate) fn collect(paths: &Paths, out: &mut Vec<Family>) -> Result<(), CollectError> {
    let path = paths.proc.join("loadavg");
    let text = read(&path)?;
    let fields: Vec<&str> = text.split_ascii_whitespace().take(3).collect();
    if fields.len() < 3 {
        return Err(parse_error(
            &path,
            format!("expected 3 load averages in {text:?}"),
        ));
    }
    for (field, (name, help)) in fields.iter().zip([
        ("node_load1", "1m load average."),
        ("node_load5", "5m load average."),
        ("node_load15", "15m load average."),
    ]) {
        out.push(Family::single(
            name,
            help,
            Kind::Gauge,
            number(&path, name, field)?,
        ));
    }
    Ok(())
}
