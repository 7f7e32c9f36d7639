//! The filefd collector: `node_filefd_allocated` and `node_filefd_maximum`
//! from /proc/sys/fs/file-nr (allocated, unused, maximum).
//!
//! Parsed by hand: `procfs-core` has no parser for it (the `procfs` crate's
//! `file_nr` would pull in `rustix` for three numbers).

use crate::read::{number, parse_error, read};
use crate::{CollectError, Family, Kind, Paths};

pub(crate) fn collect(paths: &Paths, out: &mut Vec<Family>) -> Result<(), CollectError> {
    let path = paths.proc.join("sys/fs/file-nr");
    let text = read(&path)?;
    let fields: Vec<&str> = text.split_ascii_whitespace().collect();
    let [allocated, _unused, maximum] = fields[..] else {
        return Err(parse_error(
            &path,
            format!("expected 3 numbers in {text:?}"),
        ));
    };
    out.push(Family::single(
        "node_filefd_allocated",
        "File descriptor statistics: allocated.",
        Kind::Gauge,
        number(&path, "allocated", allocated)?,
    ));
    out.push(Family::single(
        "node_filefd_maximum",
        "File descriptor statistics: maximum.",
        Kind::Gauge,
        number(&path, "maximum", maximum)?,
    ));
    Ok(())
}
