//! Attaching loaded programs through `perf_event_open`: a tracepoint (one
//! event on CPU 0 — the program hangs off the tracepoint itself, so it runs
//! for hits on every CPU), a uprobe or uretprobe through the `uprobe` PMU
//! (no text `uprobe_events` file), and a cpu-clock event per online CPU
//! (`profile:hz:N`) or on one CPU (`interval`). Each returns an
//! [`Attachment`] that disables and closes its events on drop.
//!
//! Every perf-side `unsafe` block lives here.

use crate::cpus;
use crate::error::{Error, Result};
use crate::prog::{ProgType, Program};
use perf_event_open_sys as perf;
use perf_event_open_sys::bindings::perf_event_attr;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Where the uprobe PMU describes itself.
const UPROBE_PMU: &str = "/sys/bus/event_source/devices/uprobe";

/// Events keeping one program attached; dropping it detaches.
#[derive(Debug)]
pub struct Attachment {
    fds: Vec<OwnedFd>,
    /// The uprobe path `config1` pointed at (the kernel copies it at open;
    /// kept so the pointer stays valid for the event's whole life anyway).
    _path: Option<CString>,
}

impl Attachment {
    /// Perf events opened (one per CPU for `profile`).
    pub fn event_count(&self) -> usize {
        self.fds.len()
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        for fd in &self.fds {
            // SAFETY: plain ioctl on a perf event descriptor we own; a
            // failure is harmless since the close that follows detaches too.
            unsafe { perf::ioctls::DISABLE(fd.as_raw_fd(), 0) };
        }
    }
}

/// Where a uprobe goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UprobeTarget {
    /// The ELF file (executable or library), as the kernel opens it.
    pub path: PathBuf,
    /// File offset of the probed instruction (see `elf::function_offset`).
    pub file_offset: u64,
    /// Fire on return (uretprobe) instead of entry.
    pub retprobe: bool,
    /// Only this process (`-p`); `None` for every process.
    pub pid: Option<i32>,
}

/// Attaches a TRACEPOINT program to the tracepoint with perf id `id`
/// (`events/CAT/NAME/id`).
pub fn tracepoint(prog: &Program, id: u64) -> Result<Attachment> {
    let target = format!("tracepoint id {id}");
    require(prog, ProgType::Tracepoint, &target)?;
    let mut attr = base_attr(perf::bindings::PERF_TYPE_TRACEPOINT, id);
    attr.__bindgen_anon_1.sample_period = 1;
    let fd = open(&mut attr, -1, 0, &target)?;
    let fd = set_bpf_and_enable(fd, prog, &target)?;
    Ok(Attachment {
        fds: vec![fd],
        _path: None,
    })
}

/// Attaches a KPROBE-type program as a uprobe or uretprobe.
pub fn uprobe(prog: &Program, target: &UprobeTarget) -> Result<Attachment> {
    let what = format!(
        "{}:{}+{:#x}",
        if target.retprobe {
            "uretprobe"
        } else {
            "uprobe"
        },
        target.path.display(),
        target.file_offset
    );
    require(prog, ProgType::Kprobe, &what)?;
    let pmu_type = read_number(&Path::new(UPROBE_PMU).join("type"))?;
    let mut config = 0;
    if target.retprobe {
        config = 1u64 << retprobe_bit()?;
    }
    let path = CString::new(target.path.as_os_str().as_bytes()).map_err(|_| Error::Format {
        path: target.path.clone(),
        detail: "path contains a NUL byte".into(),
    })?;
    let pmu_type = u32::try_from(pmu_type).map_err(|_| Error::Format {
        path: Path::new(UPROBE_PMU).join("type"),
        detail: format!("PMU type {pmu_type} out of range"),
    })?;
    let mut attr = base_attr(pmu_type, config);
    attr.__bindgen_anon_1.sample_period = 1;
    attr.__bindgen_anon_3.uprobe_path = path.as_ptr() as u64;
    attr.__bindgen_anon_4.probe_offset = target.file_offset;
    let (pid, cpu) = match target.pid {
        Some(pid) => (pid, -1),
        None => (-1, 0),
    };
    let fd = open(&mut attr, pid, cpu, &what)?;
    let fd = set_bpf_and_enable(fd, prog, &what)?;
    Ok(Attachment {
        fds: vec![fd],
        _path: Some(path),
    })
}

/// Attaches a PERF_EVENT program to a cpu-clock event sampling at
/// `frequency_hz` on every online CPU (`profile:hz:N`).
pub fn profile(prog: &Program, frequency_hz: u64) -> Result<Attachment> {
    let what = format!("cpu-clock at {frequency_hz} Hz");
    require(prog, ProgType::PerfEvent, &what)?;
    let online = cpus::online().map_err(|source| Error::Read {
        path: PathBuf::from("/sys/devices/system/cpu/online"),
        source,
    })?;
    let mut fds = Vec::with_capacity(online.len());
    for cpu in online {
        let mut attr = base_attr(
            perf::bindings::PERF_TYPE_SOFTWARE,
            u64::from(perf::bindings::PERF_COUNT_SW_CPU_CLOCK),
        );
        attr.set_freq(1);
        attr.__bindgen_anon_1.sample_freq = frequency_hz;
        let cpu = i32::try_from(cpu).unwrap_or(i32::MAX);
        let fd = open(&mut attr, -1, cpu, &format!("{what} on CPU {cpu}"))?;
        fds.push(set_bpf_and_enable(fd, prog, &what)?);
    }
    Ok(Attachment { fds, _path: None })
}

/// Attaches a PERF_EVENT program to a cpu-clock event firing every
/// `period_ns` on CPU `cpu` (`interval:ms:N`).
pub fn interval(prog: &Program, period_ns: u64, cpu: i32) -> Result<Attachment> {
    let what = format!("cpu-clock every {period_ns} ns on CPU {cpu}");
    require(prog, ProgType::PerfEvent, &what)?;
    let mut attr = base_attr(
        perf::bindings::PERF_TYPE_SOFTWARE,
        u64::from(perf::bindings::PERF_COUNT_SW_CPU_CLOCK),
    );
    attr.__bindgen_anon_1.sample_period = period_ns;
    let fd = open(&mut attr, -1, cpu, &what)?;
    let fd = set_bpf_and_enable(fd, prog, &what)?;
    Ok(Attachment {
        fds: vec![fd],
        _path: None,
    })
}

/// Whether the uprobe PMU exists (CONFIG_UPROBE_EVENTS and a kernel ≥ 4.17).
pub fn uprobe_pmu_available() -> bool {
    Path::new(UPROBE_PMU).join("type").exists()
}

fn require(prog: &Program, needed: ProgType, target: &str) -> Result<()> {
    if prog.kind() == needed {
        return Ok(());
    }
    Err(Error::ProgramType {
        program: prog.name().to_string(),
        actual: prog.kind().name(),
        needed: needed.name(),
        target: target.to_string(),
    })
}

/// An attr of `type_`/`config`, disabled until the program is set, one
/// wakeup per sample (the ring is unused: the program does the work).
fn base_attr(type_: u32, config: u64) -> perf_event_attr {
    let mut attr = perf_event_attr {
        type_,
        size: std::mem::size_of::<perf_event_attr>() as u32,
        config,
        ..perf_event_attr::default()
    };
    attr.__bindgen_anon_2.wakeup_events = 1;
    attr.set_disabled(1);
    attr
}

fn open(attr: &mut perf_event_attr, pid: i32, cpu: i32, what: &str) -> Result<OwnedFd> {
    // SAFETY: `attr` is a fully initialised perf_event_attr with `size` set;
    // any pointer in it (uprobe path) is a live NUL-terminated string owned
    // by the caller for the duration of the call.
    let fd = unsafe {
        perf::perf_event_open(
            attr,
            pid,
            cpu,
            -1,
            perf::bindings::PERF_FLAG_FD_CLOEXEC as libc::c_ulong,
        )
    };
    if fd < 0 {
        return Err(Error::perf(
            format!("perf_event_open for {what}"),
            io::Error::last_os_error(),
        ));
    }
    // SAFETY: perf_event_open just returned this new descriptor; we own it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn set_bpf_and_enable(fd: OwnedFd, prog: &Program, what: &str) -> Result<OwnedFd> {
    let prog_fd = u32::try_from(prog.fd()).unwrap_or(u32::MAX);
    // SAFETY: PERF_EVENT_IOC_SET_BPF takes a program descriptor by value; both
    // descriptors are open and owned by us.
    if unsafe { perf::ioctls::SET_BPF(fd.as_raw_fd(), prog_fd) } < 0 {
        return Err(Error::perf(
            format!("attaching program `{}` to {what}", prog.name()),
            io::Error::last_os_error(),
        ));
    }
    // SAFETY: plain ioctl on a perf event descriptor we own.
    if unsafe { perf::ioctls::ENABLE(fd.as_raw_fd(), 0) } < 0 {
        return Err(Error::perf(
            format!("enabling {what}"),
            io::Error::last_os_error(),
        ));
    }
    Ok(fd)
}

/// The config bit marking a return probe (`format/retprobe`, `config:0`).
fn retprobe_bit() -> Result<u32> {
    let path = Path::new(UPROBE_PMU).join("format/retprobe");
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    parse_config_bit(&text).ok_or_else(|| Error::Format {
        path,
        detail: format!("expected `config:N`, found {:?}", text.trim()),
    })
}

/// Parses `config:N` (a single bit of `config`).
fn parse_config_bit(text: &str) -> Option<u32> {
    let bit: u32 = text.trim().strip_prefix("config:")?.parse().ok()?;
    (bit < 64).then_some(bit)
}

fn read_number(path: &Path) -> Result<u64> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    text.trim().parse().map_err(|_| Error::Format {
        path: path.to_path_buf(),
        detail: format!("expected a number, found {:?}", text.trim()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pmu_format_bits() {
        assert_eq!(parse_config_bit("config:0\n"), Some(0));
        assert_eq!(parse_config_bit("config:63"), Some(63));
        assert_eq!(parse_config_bit("config:64"), None);
        assert_eq!(parse_config_bit("config1:0-63"), None);
    }
}
