//! Specification of top-down level 1: CPU detection on sample cpuinfo texts,
//! the raw encodings of each vendor's events, and the fractions for canned
//! counter values with the arithmetic worked out by hand (CI has no PMU).

use super::*;

/// Cpuinfo text with one processor block per entry of `core_ids`, all on
/// package 0, as the kernel prints it (the `ht` flag set on every CPU,
/// as AMD and Intel both do for multi-core parts).
fn cpuinfo(vendor_id: &str, family: u32, model: u32, core_ids: &[u32]) -> String {
    let mut distinct = core_ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let (siblings, cores) = (core_ids.len(), distinct.len());
    core_ids
        .iter()
        .enumerate()
        .map(|(cpu, core)| {
            format!(
                "processor\t: {cpu}\nvendor_id\t: {vendor_id}\ncpu family\t: {family}\n\
                 model\t\t: {model}\nmodel name\t: sample\nstepping\t: 1\n\
                 physical id\t: 0\nsiblings\t: {siblings}\ncore id\t\t: {core}\n\
                 cpu cores\t: {cores}\nflags\t\t: fpu tsc msr ht syscall lm\n"
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const SMT_4C8T: &[u32] = &[0, 1, 2, 3, 0, 1, 2, 3];
const NO_SMT_4C: &[u32] = &[0, 1, 2, 3];

#[test]
fn intel_skylake_is_pre_icelake_with_its_smt_state() {
    // Skylake desktop, family 6 model 94 (0x5E), 4 cores 8 threads.
    let text = cpuinfo("GenuineIntel", 6, 94, SMT_4C8T);
    assert_eq!(
        detect_from(&text),
        Some(Vendor::IntelPreIcelake { smt: true })
    );
    // Cascade Lake (0x55) with SMT off in the BIOS.
    let text = cpuinfo("GenuineIntel", 6, 85, NO_SMT_4C);
    assert_eq!(
        detect_from(&text),
        Some(Vendor::IntelPreIcelake { smt: false })
    );
}

#[test]
fn intel_icelake_and_later_use_perf_metrics() {
    for model in [
        0x7E, // Ice Lake client
        0x6A, // Ice Lake-X
        0x8F, // Sapphire Rapids
        0xCF, // Emerald Rapids
        0x97, // Alder Lake (hybrid)
    ] {
        let text = cpuinfo("GenuineIntel", 6, model, SMT_4C8T);
        assert_eq!(
            detect_from(&text),
            Some(Vendor::IntelIcelake),
            "model {model:#x}"
        );
    }
}

#[test]
fn amd_generation_follows_the_kernel_model_ranges() {
    let cases = [
        (25, 0x01, 3), // Milan
        (25, 0x21, 3), // Vermeer (Ryzen 5000)
        (25, 0x11, 4), // Genoa (this build machine reports 25/17)
        (25, 0x61, 4), // Raphael (Ryzen 7000)
        (26, 0x02, 5), // Turin
        (26, 0x44, 5), // Granite Ridge (Ryzen 9000)
    ];
    for (family, model, generation) in cases {
        let text = cpuinfo("AuthenticAMD", family, model, SMT_4C8T);
        assert_eq!(
            detect_from(&text),
            Some(Vendor::AmdZen { generation }),
            "family {family:#x} model {model:#x}"
        );
    }
}

#[test]
fn zen5_with_smt_off_is_still_zen5() {
    // Two vCPUs on two cores, as a KVM guest prints them.
    let text = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\n\
                model name\t: AMD EPYC sample\nphysical id\t: 0\nsiblings\t: 2\ncore id\t\t: 0\n\
                cpu cores\t: 2\nflags\t\t: fpu ht hypervisor topoext\n\n\
                processor\t: 1\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\n\
                model name\t: AMD EPYC sample\nphysical id\t: 0\nsiblings\t: 2\ncore id\t\t: 1\n\
                cpu cores\t: 2\nflags\t\t: fpu ht hypervisor topoext\n";
    assert_eq!(detect_from(text), Some(Vendor::AmdZen { generation: 5 }));
}

#[test]
fn unknown_cpus_are_none() {
    let cases = [
        ("GenuineIntel", 6, 0x1A),  // Nehalem: no top-down events
        ("GenuineIntel", 6, 0xBE),  // Alder Lake-N, Atom cores only
        ("GenuineIntel", 6, 0xAF),  // Sierra Forest, Atom cores only
        ("AuthenticAMD", 23, 0x31), // Zen 2
        ("AuthenticAMD", 26, 0x50), // Zen 6: width not published here
        ("HygonGenuine", 24, 0x02),
    ];
    for (vendor_id, family, model) in cases {
        let text = cpuinfo(vendor_id, family, model, NO_SMT_4C);
        assert_eq!(detect_from(&text), None, "{vendor_id} {family} {model:#x}");
    }
    let arm = "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n";
    assert_eq!(detect_from(arm), None);
}

fn configs(vendor: Vendor) -> Vec<u64> {
    events(vendor).iter().map(|e| e.config).collect()
}

#[test]
fn every_event_is_raw() {
    for vendor in [
        Vendor::IntelPreIcelake { smt: false },
        Vendor::IntelPreIcelake { smt: true },
        Vendor::IntelIcelake,
        Vendor::AmdZen { generation: 4 },
        Vendor::AmdZen { generation: 5 },
    ] {
        assert!(events(vendor).iter().all(|e| e.perf_type == 4), "{vendor}");
    }
}

#[test]
fn intel_pre_icelake_encodings() {
    // event | umask << 8 | any << 21 | cmask << 24
    assert_eq!(
        configs(Vendor::IntelPreIcelake { smt: false }),
        [0x3c, 0x010e, 0x02c2, 0x019c, 0x0100_030d]
    );
    // With SMT, cycles and recovery cycles get AnyThread (bit 21).
    assert_eq!(
        configs(Vendor::IntelPreIcelake { smt: true }),
        [0x20_003c, 0x010e, 0x02c2, 0x019c, 0x0120_030d]
    );
}

#[test]
fn intel_icelake_group_is_led_by_slots() {
    let events = events(Vendor::IntelIcelake);
    assert_eq!(events[0].name, "slots");
    assert_eq!(
        configs(Vendor::IntelIcelake),
        [0x0400, 0x8000, 0x8100, 0x8200, 0x8300]
    );
}

#[test]
fn amd_encodings_split_the_event_code() {
    // 0x1a0 umask 0x01 -> 0xa0 | 0x01 << 8 | 0x1 << 32.
    let expected = [
        0x76,
        0xc1,
        0x07aa,
        0x1_0000_01a0,
        0x1_0000_1ea0,
        0x1_0000_60a0,
    ];
    assert_eq!(configs(Vendor::AmdZen { generation: 4 }), expected);
    assert_eq!(configs(Vendor::AmdZen { generation: 5 }), expected);
    assert!(events(Vendor::AmdZen { generation: 3 }).is_empty());
}

fn assert_close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
}

fn assert_level1(l1: Level1, [ret, bad, fe, be]: [f64; 4], smt: Option<f64>) {
    assert_close(l1.retiring, ret);
    assert_close(l1.bad_speculation, bad);
    assert_close(l1.frontend_bound, fe);
    assert_close(l1.backend_bound, be);
    match (l1.smt_contention, smt) {
        (Some(actual), Some(expected)) => assert_close(actual, expected),
        (actual, expected) => assert_eq!(actual, expected),
    }
    let sum: f64 = l1.rows().iter().map(|(_, f)| f).sum();
    assert_close(sum, 1.0);
}

#[test]
fn intel_pre_icelake_level1() {
    // SLOTS = 4 × 1_000_000 = 4_000_000
    // FE  = 800_000 / 4e6 = 0.2
    // BS  = (2_200_000 − 2_000_000 + 4 × 25_000) / 4e6 = 300_000 / 4e6 = 0.075
    // Ret = 2_000_000 / 4e6 = 0.5
    // BE  = 1 − (0.2 + 0.075 + 0.5) = 0.225
    let counts = [1_000_000, 2_200_000, 2_000_000, 800_000, 25_000];
    let l1 = level1(Vendor::IntelPreIcelake { smt: false }, &counts).unwrap();
    assert_level1(l1, [0.5, 0.075, 0.2, 0.225], None);
}

#[test]
fn intel_pre_icelake_smt_halves_core_cycles() {
    // THREAD_ANY = 2_000_000 core cycles -> CORE_CLKS = 1_000_000,
    // SLOTS = 4 × 1_000_000 = 4e6; RECOVERY_CYCLES_ANY 50_000 / 2 = 25_000.
    // Same fractions as without SMT: 0.5, 0.075, 0.2, 0.225.
    let counts = [2_000_000, 2_200_000, 2_000_000, 800_000, 50_000];
    let l1 = level1(Vendor::IntelPreIcelake { smt: true }, &counts).unwrap();
    assert_level1(l1, [0.5, 0.075, 0.2, 0.225], None);
}

#[test]
fn intel_pre_icelake_clamps_skewed_counts() {
    // SLOTS = 4e6; Ret = 3_000_000 / 4e6 = 0.75; FE = 1_200_000 / 4e6 = 0.3;
    // BS = (2_900_000 − 3_000_000 + 0) / 4e6 = −0.025 -> 0;
    // BE = 1 − (0.3 − 0.025 + 0.75) = −0.025 -> 0.
    let counts = [1_000_000, 2_900_000, 3_000_000, 1_200_000, 0];
    let l1 = level1(Vendor::IntelPreIcelake { smt: false }, &counts).unwrap();
    assert_close(l1.bad_speculation, 0.0);
    assert_close(l1.backend_bound, 0.0);
    assert_close(l1.retiring, 0.75);
    assert_close(l1.frontend_bound, 0.3);
}

#[test]
fn intel_icelake_level1_is_each_metric_over_their_sum() {
    // slots 10_000_000; metrics sum to 10_000_000:
    // Ret 3e6 / 1e7 = 0.3, BS 1e6 / 1e7 = 0.1, FE 2.5e6 / 1e7 = 0.25, BE 3.5e6 / 1e7 = 0.35.
    let counts = [10_000_000, 3_000_000, 1_000_000, 2_500_000, 3_500_000];
    let l1 = level1(Vendor::IntelIcelake, &counts).unwrap();
    assert_level1(l1, [0.3, 0.1, 0.25, 0.35], None);
    // 8-bit rounding left the metrics 10_000 slots short of SLOTS:
    // sum = 2_997_000 + 999_000 + 2_497_500 + 3_496_500 = 9_990_000, and
    // 2_997_000 / 9_990_000 = 0.3 (not 0.2997), etc.
    let counts = [10_000_000, 2_997_000, 999_000, 2_497_500, 3_496_500];
    let l1 = level1(Vendor::IntelIcelake, &counts).unwrap();
    assert_level1(l1, [0.3, 0.1, 0.25, 0.35], None);
}

#[test]
fn amd_zen4_level1_uses_six_slots_per_cycle() {
    // slots = 6 × 1_000_000 = 6e6
    // Ret = 2_400_000 / 6e6 = 0.4; BS = (3_000_000 − 2_400_000) / 6e6 = 0.1
    // FE = 1_200_000 / 6e6 = 0.2; BE = 1_500_000 / 6e6 = 0.25; SMT = 300_000 / 6e6 = 0.05
    let counts = [
        1_000_000, 2_400_000, 3_000_000, 1_200_000, 1_500_000, 300_000,
    ];
    let l1 = level1(Vendor::AmdZen { generation: 4 }, &counts).unwrap();
    assert_level1(l1, [0.4, 0.1, 0.2, 0.25], Some(0.05));
}

#[test]
fn amd_zen5_level1_uses_eight_slots_per_cycle() {
    // slots = 8 × 1_000_000 = 8e6
    // Ret = 2_000_000 / 8e6 = 0.25; BS = (2_800_000 − 2_000_000) / 8e6 = 0.1
    // FE = 2_400_000 / 8e6 = 0.3; BE = 2_400_000 / 8e6 = 0.3; SMT = 400_000 / 8e6 = 0.05
    let counts = [
        1_000_000, 2_000_000, 2_800_000, 2_400_000, 2_400_000, 400_000,
    ];
    let l1 = level1(Vendor::AmdZen { generation: 5 }, &counts).unwrap();
    assert_level1(l1, [0.25, 0.1, 0.3, 0.3], Some(0.05));
}

#[test]
fn missing_or_zero_counts_give_none() {
    let supported = [
        Vendor::IntelPreIcelake { smt: false },
        Vendor::IntelPreIcelake { smt: true },
        Vendor::IntelIcelake,
        Vendor::AmdZen { generation: 4 },
        Vendor::AmdZen { generation: 5 },
    ];
    for vendor in supported {
        let n = events(vendor).len();
        assert!(level1(vendor, &vec![1; n]).is_some(), "{vendor}");
        assert_eq!(level1(vendor, &vec![1; n - 1]), None, "{vendor}: one short");
        let mut zero_cycles = vec![1; n];
        zero_cycles[0] = 0;
        assert_eq!(level1(vendor, &zero_cycles), None, "{vendor}: zero cycles");
    }
    // Ice Lake metrics that are all zero have no fractions either.
    assert_eq!(level1(Vendor::IntelIcelake, &[100, 0, 0, 0, 0]), None);
    // Zen 3 has no level 1, whatever the counts.
    assert_eq!(level1(Vendor::AmdZen { generation: 3 }, &[1; 6]), None);
}

#[test]
fn rows_list_smt_contention_only_when_measured() {
    let l1 = Level1 {
        retiring: 0.4,
        bad_speculation: 0.1,
        frontend_bound: 0.2,
        backend_bound: 0.25,
        smt_contention: Some(0.05),
    };
    let labels: Vec<_> = l1.rows().iter().map(|(label, _)| *label).collect();
    assert_eq!(
        labels,
        [
            "retiring",
            "bad speculation",
            "frontend bound",
            "backend bound",
            "smt contention"
        ]
    );
    let intel = Level1 {
        smt_contention: None,
        ..l1
    };
    assert_eq!(intel.rows().len(), 4);
}
