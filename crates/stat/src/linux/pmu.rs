//! Is there a hardware PMU, and if not, why: the sentence printed under
//! `<not supported>` rows (e.g. "no hardware PMU (virtual machine;
//! /sys/bus/event_source/devices/cpu is absent)"), never a guess at the counts.

use std::io;
use std::path::Path;

/// Where the kernel lists PMUs.
const DEVICES: &str = "/sys/bus/event_source/devices";

/// Core PMU directory names (hybrid Intel splits the core PMU in two).
const CORE_PMUS: [&str; 3] = ["cpu", "cpu_core", "cpu_atom"];

/// Whether a core hardware PMU is registered.
pub fn hardware_pmu_present() -> bool {
    CORE_PMUS
        .iter()
        .any(|p| Path::new(DEVICES).join(p).exists())
        || arm_pmu_present()
}

fn arm_pmu_present() -> bool {
    std::fs::read_dir(DEVICES).is_ok_and(|dir| {
        dir.filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with("armv"))
    })
}

/// Whether the CPU PMU lists the stalled-cycles events (perf then adds them
/// to the default set).
pub fn stalled_cycles_listed() -> bool {
    Path::new(DEVICES)
        .join("cpu/events/stalled-cycles-frontend")
        .exists()
}

/// Whether /proc/cpuinfo says we run under a hypervisor.
pub fn is_virtual_machine() -> bool {
    std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|t| {
        t.lines()
            .filter(|l| l.starts_with("flags"))
            .any(|l| l.split_whitespace().any(|f| f == "hypervisor"))
    })
}

/// Why hardware events could not be opened, as one phrase.
pub fn hardware_reason(open_error: Option<&io::Error>) -> String {
    reason(hardware_pmu_present(), is_virtual_machine(), open_error)
}

/// The phrase for the given facts (pure, for tests).
pub fn reason(pmu_present: bool, virtual_machine: bool, open_error: Option<&io::Error>) -> String {
    if !pmu_present {
        let machine = if virtual_machine {
            "virtual machine; "
        } else {
            ""
        };
        return format!("no hardware PMU ({machine}{DEVICES}/cpu is absent)");
    }
    match open_error {
        Some(e) => format!("perf_event_open: {e}"),
        None => "the PMU refused these events".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons() {
        assert_eq!(
            reason(false, true, None),
            "no hardware PMU (virtual machine; /sys/bus/event_source/devices/cpu is absent)"
        );
        assert_eq!(
            reason(false, false, None),
            "no hardware PMU (/sys/bus/event_source/devices/cpu is absent)"
        );
        let e = io::Error::from_raw_os_error(libc::EOPNOTSUPP);
        assert!(reason(true, false, Some(&e)).starts_with("perf_event_open: "));
    }
}
