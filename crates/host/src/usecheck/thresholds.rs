//! Every threshold `whyslow use` grades with, in one place, and the next
//! command each finding points to. Ratios are shares of the interval (PSI:
//! stall time / wall time over the interval, from the `total=` counters, so a
//! 5 s run is not diluted by the kernel's 10 s average).
//!
//! | resource | cell | warn | saturated | source / why this number |
//! |---|---|---|---|---|
//! | CPU | utilisation | total > 90 %, one CPU > 95 %, steal > 10 % | — | busy is not queued; a pegged CPU is a single-thread bottleneck (Gregg, USE Linux checklist: per-CPU `mpstat`) |
//! | CPU | saturation | run queue > 1× CPUs, PSI cpu some > 10 % | run queue > 2× CPUs, PSI cpu some > 25 % | Gregg: `vmstat r` > CPU count is saturation; 2× leaves room for sampling noise; PSI some = share of time some task waited for a CPU |
//! | memory | utilisation | used (1 − MemAvailable/MemTotal) > 90 % | — | kube-prometheus `instance:node_memory_utilisation:ratio` |
//! | memory | saturation | PSI memory some > 10 % or full > 1 %, major faults > 100/s, any swap-in/out | PSI memory full > 5 %, major faults > 1000/s, swap > 2560 pages/s (10 MiB/s) | full = every task stalled on memory; 1000 faults/s × ~1 ms of disk each ≈ one second of waiting per second |
//! | memory | errors | — | any OOM kill (`oom_kill` of /proc/vmstat) | the kernel killed a process to free memory |
//! | disk (each) | utilisation | busy (Δio_time/Δt) > 70 % | — (never: NVMe and RAID serve requests in parallel, 100 % busy ≠ saturated) | iostat `%util`; research note §6 pitfall |
//! | disk (each) | saturation | aqu-sz > 1, await > 20 ms | aqu-sz > 2, await > 100 ms | aqu-sz = Δweighted io time/Δt (iostat); await = Δ(read+write ms)/Δops, only with ≥ 10 ops; on a non-rotational device a queue > 2 whose await stays ≤ 20 ms is only warn (it serves the queue in parallel) |
//! | disk (each) | errors | any new `ioerr_cnt` | — | /sys/block/*/device/ioerr_cnt (SCSI/SATA; virtio and NVMe lack it: unavailable) |
//! | io (all disks) | saturation | PSI io some > 20 % or full > 2 % | PSI io full > 10 % | full = no task could run for waiting on I/O |
//! | network (each) | utilisation | max(rx, tx) > 70 % of link speed | > 90 % | /sys/class/net/*/speed (unknown for virtual links: throughput only) |
//! | network (each) | saturation | any drops or FIFO overruns | — | `node_network_*_drop_total`, `_fifo_total` |
//! | network (each) | errors | any errors | — | `node_network_*_errs_total` |
//! | tcp | saturation | retransmits > 1 % of segments sent | > 5 %; any listen overflow/drop | `Tcp_RetransSegs/Tcp_OutSegs` (only with ≥ 100 segments); `TcpExt_ListenOverflows`: the accept queue was full |
//! | tcp | errors | any `Tcp_InErrs` | — | bad segments received |
//! | file descriptors | utilisation | allocated > 80 % of fs.file-max | > 95 % | /proc/sys/fs/file-nr; at 100 % open() fails with ENFILE |
//! | cgroup cpu | utilisation | usage > 90 % of the quota | — | cpu.max / cpu.cfs_quota_us |
//! | cgroup cpu | saturation | throttled in > 5 % of periods, PSI cpu some > 10 % | > 25 % of periods, PSI some > 25 % | cpu.stat nr_throttled/nr_periods |
//! | cgroup memory | utilisation | usage > 90 % of the limit | — | memory.max / memory.limit_in_bytes: reclaim, then OOM, start at the limit |
//! | cgroup memory | saturation | PSI memory some > 10 % or full > 1 %, memory.events high/max | PSI memory full > 5 % | cgroup v2 only |
//! | cgroup memory | errors | — | any oom_kill | memory.events (v2), memory.oom_control (v1) |

/// CPU saturated: run queue per CPU.
pub const RUN_QUEUE_PER_CPU_WARN: f64 = 1.0;
pub const RUN_QUEUE_PER_CPU_SATURATED: f64 = 2.0;
pub const PSI_CPU_SOME_WARN: f64 = 0.10;
pub const PSI_CPU_SOME_SATURATED: f64 = 0.25;
pub const CPU_BUSY_WARN: f64 = 0.90;
pub const ONE_CPU_PEGGED_WARN: f64 = 0.95;
pub const CPU_STEAL_WARN: f64 = 0.10;

pub const MEMORY_USED_WARN: f64 = 0.90;
pub const PSI_MEMORY_SOME_WARN: f64 = 0.10;
pub const PSI_MEMORY_FULL_WARN: f64 = 0.01;
pub const PSI_MEMORY_FULL_SATURATED: f64 = 0.05;
pub const MAJOR_FAULTS_WARN: f64 = 100.0;
pub const MAJOR_FAULTS_SATURATED: f64 = 1000.0;
/// Pages swapped in + out per second.
pub const SWAP_PAGES_WARN: f64 = 0.0;
pub const SWAP_PAGES_SATURATED: f64 = 2560.0;

pub const DISK_BUSY_WARN: f64 = 0.70;
pub const DISK_QUEUE_WARN: f64 = 1.0;
pub const DISK_QUEUE_SATURATED: f64 = 2.0;
pub const DISK_AWAIT_MS_WARN: f64 = 20.0;
pub const DISK_AWAIT_MS_SATURATED: f64 = 100.0;
/// Fewer operations than this in the interval: await is not graded.
pub const DISK_AWAIT_MIN_OPS: f64 = 10.0;
pub const PSI_IO_SOME_WARN: f64 = 0.20;
pub const PSI_IO_FULL_WARN: f64 = 0.02;
pub const PSI_IO_FULL_SATURATED: f64 = 0.10;

pub const LINK_WARN: f64 = 0.70;
pub const LINK_SATURATED: f64 = 0.90;
pub const TCP_RETRANS_WARN: f64 = 0.01;
pub const TCP_RETRANS_SATURATED: f64 = 0.05;
/// Fewer segments sent than this in the interval: retransmits are not graded.
pub const TCP_RETRANS_MIN_SEGMENTS: f64 = 100.0;

pub const FD_WARN: f64 = 0.80;
pub const FD_SATURATED: f64 = 0.95;

pub const CGROUP_QUOTA_WARN: f64 = 0.90;
pub const CGROUP_THROTTLED_WARN: f64 = 0.05;
pub const CGROUP_THROTTLED_SATURATED: f64 = 0.25;
pub const CGROUP_MEMORY_WARN: f64 = 0.90;

/// CPU queued: who waits for a CPU, and what they wait on.
pub const NEXT_CPU_SATURATED: &str = "whyslow record -a --off-cpu -d 10s";
/// CPU busy: where the CPU time goes.
pub const NEXT_CPU_BUSY: &str = "whyslow record -a -d 10s";
/// Memory: the biggest processes (sort by RSS).
pub const NEXT_MEMORY: &str = "whyslow top";
/// Disk: who waits on I/O (off-CPU stacks); `whyslow top` sorted by I/O shows who issues it.
pub const NEXT_DISK: &str = "whyslow record -a --off-cpu -d 10s";
/// Network: who blocks on the network.
pub const NEXT_NETWORK: &str = "whyslow record -a --off-cpu -d 10s";
/// Descriptors: which processes hold them.
pub const NEXT_FDS: &str = "whyslow top";
