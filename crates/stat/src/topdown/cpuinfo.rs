//! Reads the few facts top-down needs out of `/proc/cpuinfo` text: vendor,
//! family, model and whether SMT siblings share a core. Only parsing; which
//! CPUs have which top-down events is decided by the parent module.

/// What `/proc/cpuinfo` says about the CPU, from the first processor block
/// (vendor, family, model) and from all blocks (SMT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CpuId {
    /// `vendor_id`, e.g. "GenuineIntel" or "AuthenticAMD".
    pub vendor_id: String,
    /// `cpu family`, decimal in the file (25 = 0x19).
    pub family: u32,
    /// `model`, decimal in the file (85 = 0x55).
    pub model: u32,
    /// Two or more online logical CPUs share one core.
    pub smt: bool,
}

/// Parses cpuinfo text; `None` when it lacks a vendor, family or model (e.g.
/// arm64, whose cpuinfo has neither).
///
/// SMT: true when two processor blocks name the same (`physical id`,
/// `core id`); without core ids, when `siblings` exceeds `cpu cores`. The
/// `ht` flag is not used: AMD sets it on every multi-core part, SMT or not.
pub(super) fn parse(cpuinfo: &str) -> Option<CpuId> {
    let mut vendor_id = None;
    let mut family = None;
    let mut model = None;
    let mut siblings = None;
    let mut cores = None;
    let mut cores_seen = std::collections::HashSet::new();
    let mut smt_by_core_id = false;
    let mut any_core_id = false;

    for block in cpuinfo.split("\n\n") {
        let mut physical_id = None;
        let mut core_id = None;
        for (key, value) in block.lines().filter_map(|line| line.split_once(':')) {
            let value = value.trim();
            match key.trim() {
                "vendor_id" if vendor_id.is_none() => vendor_id = Some(value.to_owned()),
                "cpu family" if family.is_none() => family = value.parse().ok(),
                "model" if model.is_none() => model = value.parse().ok(),
                "siblings" if siblings.is_none() => siblings = value.parse::<u32>().ok(),
                "cpu cores" if cores.is_none() => cores = value.parse::<u32>().ok(),
                "physical id" => physical_id = Some(value.to_owned()),
                "core id" => core_id = Some(value.to_owned()),
                _ => {}
            }
        }
        if let Some(core_id) = core_id {
            any_core_id = true;
            if !cores_seen.insert((physical_id, core_id)) {
                smt_by_core_id = true;
            }
        }
    }

    let smt = if any_core_id {
        smt_by_core_id
    } else {
        matches!((siblings, cores), (Some(s), Some(c)) if s > c)
    };
    Some(CpuId {
        vendor_id: vendor_id?,
        family: family?,
        model: model?,
        smt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vendor_family_model_in_decimal() {
        let text = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n\
                    model\t\t: 17\nmodel name\t: AMD EPYC\nphysical id\t: 0\ncore id\t\t: 0\n";
        let id = parse(text).unwrap();
        assert_eq!(id.vendor_id, "AuthenticAMD");
        assert_eq!((id.family, id.model), (0x19, 0x11));
        assert!(!id.smt);
    }

    #[test]
    fn two_blocks_on_one_core_are_smt() {
        let block = |cpu: u32, core: u32| {
            format!(
                "processor\t: {cpu}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 94\n\
                 physical id\t: 0\nsiblings\t: 2\ncore id\t\t: {core}\ncpu cores\t: 2\n"
            )
        };
        let shared = [block(0, 0), block(1, 0)].join("\n");
        assert!(parse(&shared).unwrap().smt);
        let separate = [block(0, 0), block(1, 1)].join("\n");
        assert!(!parse(&separate).unwrap().smt);
    }

    #[test]
    fn siblings_above_cores_is_smt_when_core_ids_are_absent() {
        let text =
            "vendor_id : GenuineIntel\ncpu family : 6\nmodel : 94\nsiblings : 8\ncpu cores : 4\n";
        assert!(parse(text).unwrap().smt);
        let text =
            "vendor_id : GenuineIntel\ncpu family : 6\nmodel : 94\nsiblings : 4\ncpu cores : 4\n";
        assert!(!parse(text).unwrap().smt);
    }

    #[test]
    fn text_without_family_and_model_is_none() {
        let arm =
            "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\n";
        assert_eq!(parse(arm), None);
        assert_eq!(parse(""), None);
        let bad_model = "vendor_id : GenuineIntel\ncpu family : 6\nmodel : sixty\n";
        assert_eq!(parse(bad_model), None);
    }
}
