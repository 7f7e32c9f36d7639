//! `biolatency`: block device I/O latency as a log2 histogram, like
//! libbpf-tools' biolatency, from classic tracepoints only. libbpf-tools
//! keys a request by its `struct request *`, which classic tracepoints do
//! not give; here a request is keyed by (dev, sector) from
//! `block:block_rq_issue` (or `block_rq_insert` with `-Q`) to
//! `block:block_rq_complete`, as perf-tools' iolatency does. Two requests in
//! flight at once on the same sector of one disk (flushes at sector 0, say)
//! share a key: the later start wins.
//!
//! With `-Q` the insert stamps the request and the issue stamps it only when
//! no insert did (`BPF_NOEXIST`): requests that bypass the scheduler are
//! issued without an insert.

use crate::args::{Arg, Lexer, Parsed};
use crate::asm::Asm;
use crate::error::Result;
use crate::hist::{self, SLOTS};
use crate::probe::{self, Probes};
use crate::runtime;
use bpf::insn::{AluOp, Helper, Insn, JmpOp, Reg, Size};
use bpf::map::{Map, MapType};
use std::collections::HashMap;
use std::io::Write;

pub const USAGE: &str = "USAGE: biolatency [-h] [-T] [-m] [-Q] [-D] [-d DISK] [interval] [count]";

const HELP: &str = "Summarize block device I/O latency as a histogram.

USAGE: biolatency [-h] [-T] [-m] [-Q] [-D] [-d DISK] [interval] [count]

EXAMPLES:
    biolatency              # summarize block I/O latency as a histogram
    biolatency 1 10         # print 1 second summaries, 10 times
    biolatency -mT 1        # 1s summaries, milliseconds, and timestamps
    biolatency -Q           # include OS queued time in I/O time
    biolatency -D           # show each disk device separately
    biolatency -d sdc       # Trace sdc only

  -T, --timestamp      Include timestamp on output
  -m, --milliseconds   Millisecond histogram
  -Q, --queued         Include OS queued time in I/O time
  -D, --disk           Print a histogram per disk device
  -d DISK              Trace this disk only
  -h, --help           Show this help
";

const VALUE_LEN: i16 = (SLOTS * 8) as i16;

/// What `biolatency` was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    /// Seconds between summaries (`None`: one summary at Ctrl-C).
    pub interval: Option<u64>,
    /// Summaries before exiting.
    pub count: Option<u64>,
    pub timestamp: bool,
    pub milliseconds: bool,
    /// From insert rather than issue (`-Q`).
    pub queued: bool,
    /// A histogram per disk (`-D`).
    pub per_disk: bool,
    /// Only this disk (`-d`).
    pub disk: Option<String>,
}

/// Parses `biolatency`'s arguments.
pub fn parse(args: &[String]) -> Result<Parsed<Options>> {
    let mut lx = Lexer::new("biolatency", USAGE, args);
    let mut o = Options::default();
    let mut positionals = 0;
    while let Some(arg) = lx.next() {
        let long = arg.long_name();
        match (&arg, long) {
            (Arg::Short('h'), _) | (_, "help") => return Ok(Parsed::Help),
            (Arg::Short('T'), _) | (_, "timestamp") => o.timestamp = true,
            (Arg::Short('m'), _) | (_, "milliseconds") => o.milliseconds = true,
            (Arg::Short('Q'), _) | (_, "queued") => o.queued = true,
            // libbpf-tools names both -D and -d `--disk`; argp takes the
            // first, -D.
            (Arg::Short('D'), _) | (_, "disk") => o.per_disk = true,
            (Arg::Short('d'), _) => o.disk = Some(lx.value("DISK")?),
            (Arg::Positional(p), _) if positionals == 0 => {
                o.interval = Some(lx.parse_number("interval", p, 1, u32::MAX as u64)?);
                positionals += 1;
            }
            (Arg::Positional(p), _) if positionals == 1 => {
                o.count = Some(lx.parse_number("count", p, 1, u32::MAX as u64)?);
                positionals += 1;
            }
            _ => return Err(lx.unknown(&arg)),
        }
    }
    if let Some(d) = &o.disk {
        if d.is_empty() || d.len() + 1 > 32 || d.contains('/') {
            return Err(lx.error(format!("invalid disk name: {d:?}")));
        }
    }
    Ok(Parsed::Run(o))
}

/// One histogram: its disk (the kernel's `dev_t`, 0 without `-D`) and counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hist {
    pub dev: u32,
    pub slots: [u64; SLOTS],
}

impl Hist {
    /// I/Os counted.
    pub fn total(&self) -> u64 {
        self.slots.iter().sum()
    }
}

/// The kernel's `dev_t` encoding (`MKDEV`: 12-bit major, 20-bit minor), as
/// block tracepoints report it.
pub fn mkdev(major: u32, minor: u32) -> u32 {
    (major << 20) | (minor & 0xfffff)
}

/// `MAJ:MIN` text (a sysfs `dev` file) as a kernel `dev_t`.
pub fn parse_dev(text: &str) -> Option<u32> {
    let (major, minor) = text.trim().split_once(':')?;
    Some(mkdev(major.parse().ok()?, minor.parse().ok()?))
}

/// Disk names by kernel `dev_t`, from /sys/block/*/dev.
pub fn disk_names() -> HashMap<u32, String> {
    let mut names = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/sys/block") else {
        return names;
    };
    for entry in dir.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let dev = std::fs::read_to_string(entry.path().join("dev")).ok();
        if let Some(dev) = dev.as_deref().and_then(parse_dev) {
            names.insert(dev, name);
        }
    }
    names
}

/// The `dev_t` of block device `name` (a disk or partition), from sysfs.
fn disk_dev(name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(format!("/sys/class/block/{name}/dev")).ok()?;
    parse_dev(&text)
}

/// The attached tracer.
#[derive(Debug)]
pub struct Biolatency {
    options: Options,
    hists: Map,
    names: HashMap<u32, String>,
    _probes: Probes,
}

impl Biolatency {
    /// Loads and attaches the programs.
    pub fn start(options: &Options) -> Result<Biolatency> {
        let names = disk_names();
        let filter = match &options.disk {
            Some(d) => Some(disk_dev(d).ok_or_else(|| crate::Error::Usage {
                tool: "biolatency",
                message: format!("invalid partition name: {d:?} does not exist"),
                usage: USAGE,
            })?),
            None => None,
        };
        let mut probes = Probes::new()?;
        let start = probe::map(MapType::Hash, "bio_start", 16, 8, 10240)?;
        let hists = probe::map(MapType::Hash, "bio_hists", 4, VALUE_LEN as u32, 10240)?;
        let mut starts = vec![("block_rq_issue", if options.queued { 1 } else { 0 })];
        if options.queued {
            starts.insert(0, ("block_rq_insert", 0));
        }
        for (tp, flags) in starts {
            let fields = Fields {
                dev: probes.field("block", tp, "dev")?,
                sector: probes.field("block", tp, "sector")?,
            };
            probes.attach("block", tp, &start_prog(&fields, &start, filter, flags))?;
        }
        let fields = Fields {
            dev: probes.field("block", "block_rq_complete", "dev")?,
            sector: probes.field("block", "block_rq_complete", "sector")?,
        };
        let insns = complete_prog(options, &fields, &start, &hists);
        probes.attach("block", "block_rq_complete", &insns)?;
        Ok(Biolatency {
            options: options.clone(),
            hists,
            names,
            _probes: probes,
        })
    }

    /// The histograms so far, sorted by disk, and clears them.
    pub fn take(&self) -> Result<Vec<Hist>> {
        let mut out = Vec::new();
        for key in self.hists.keys()? {
            if let Some(value) = self.hists.lookup(&key)? {
                let mut slots = [0u64; SLOTS];
                for (i, slot) in slots.iter_mut().enumerate() {
                    *slot = runtime::u64_at(&value, i * 8);
                }
                out.push(Hist {
                    dev: runtime::u32_at(&key, 0),
                    slots,
                });
            }
            self.hists.delete(&key)?;
        }
        out.sort_by_key(|h| h.dev);
        Ok(out)
    }

    /// `take` printed in libbpf-tools' layout.
    pub fn render(&self, hists: &[Hist]) -> String {
        render(&self.options, &self.names, hists)
    }

    /// The name `-D` prints for `dev`.
    pub fn disk_name(&self, dev: u32) -> Option<&str> {
        self.names.get(&dev).map(String::as_str)
    }
}

/// The histograms as libbpf-tools prints them: `disk = NAME\t` lines
/// under `-D`, a blank line before each histogram.
pub fn render(options: &Options, names: &HashMap<u32, String>, hists: &[Hist]) -> String {
    let unit = if options.milliseconds {
        "msecs"
    } else {
        "usecs"
    };
    let mut out = String::new();
    for h in hists {
        if options.per_disk {
            let name = names.get(&h.dev).map_or("Unknown", String::as_str);
            out.push_str(&format!("\ndisk = {name}\t"));
        }
        out.push('\n');
        out.push_str(&hist::log2_hist(&h.slots, unit));
    }
    out
}

/// `biolatency ARGS`, printing to `out`.
pub fn main(args: &[String], out: &mut dyn Write) -> Result<i32> {
    let Some(options) = crate::args::options_or_help(parse(args)?, HELP, out)? else {
        return Ok(0);
    };
    let tracer = Biolatency::start(&options)?;
    runtime::catch_ctrl_c();
    writeln!(out, "Tracing block device I/O... Hit Ctrl-C to end.")?;
    out.flush()?;
    runtime::report_every(
        out,
        options.interval,
        options.count,
        options.timestamp,
        || Ok(tracer.render(&tracer.take()?)),
    )
}

struct Fields {
    dev: probe::Field,
    sector: probe::Field,
}

/// Stack slots: the (dev, pad, sector) key, a timestamp, a histogram key
/// and the zeroed value a new histogram starts from.
const KEY: i16 = -16;
const TS: i16 = -24;
const HIST_KEY: i16 = -32;
const SCRATCH: i16 = HIST_KEY - VALUE_LEN;

/// `r7 = dev`; the (dev, sector) key at `KEY`. Expects the context in r6.
fn request_key(a: &mut Asm, f: &Fields) {
    a.i(Insn::ldx(Size::W, Reg::R7, Reg::R6, f.dev.offset))
        .i(Insn::stx(Size::W, Reg::R10, KEY, Reg::R7))
        .i(Insn::st(Size::W, Reg::R10, KEY + 4, 0))
        .i(Insn::ldx(f.sector.size, Reg::R1, Reg::R6, f.sector.offset))
        .i(Insn::stx(Size::DW, Reg::R10, KEY + 8, Reg::R1));
}

/// `start[(dev, sector)] = now` (update flags `flags`), for disk `filter`
/// only when given.
fn start_prog(f: &Fields, start: &Map, filter: Option<u32>, flags: i32) -> Vec<Insn> {
    let mut a = Asm::new();
    a.i(Insn::mov64_reg(Reg::R6, Reg::R1));
    request_key(&mut a, f);
    if let Some(dev) = filter {
        a.jump(Insn::jmp_imm(JmpOp::Ne, Reg::R7, dev as i32, 0), "out");
    }
    a.i(Insn::call(Helper::KtimeGetNs))
        .i(Insn::stx(Size::DW, Reg::R10, TS, Reg::R0))
        .update(start, KEY, TS, flags)
        .exit_label("out");
    a.finish()
}

/// The latency since the request's start into its disk's (or the one)
/// histogram.
fn complete_prog(o: &Options, f: &Fields, start: &Map, hists: &Map) -> Vec<Insn> {
    let mut a = Asm::new();
    a.i(Insn::mov64_reg(Reg::R6, Reg::R1));
    request_key(&mut a, f);
    a.lookup(start, KEY)
        .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), "out")
        .i(Insn::ldx(Size::DW, Reg::R8, Reg::R0, 0))
        .delete(start, KEY)
        .i(Insn::call(Helper::KtimeGetNs))
        .i(Insn::alu64_reg(AluOp::Sub, Reg::R0, Reg::R8))
        .i(Insn::mov64_reg(Reg::R8, Reg::R0))
        .jump(Insn::jmp_imm(JmpOp::Slt, Reg::R8, 0, 0), "out")
        .i(Insn::alu64_imm(
            AluOp::Div,
            Reg::R8,
            if o.milliseconds { 1_000_000 } else { 1000 },
        ));
    if !o.per_disk {
        a.i(Insn::mov64_imm(Reg::R7, 0));
    }
    a.i(Insn::stx(Size::W, Reg::R10, HIST_KEY, Reg::R7))
        .log2(Reg::R8, Reg::R1, Reg::R2)
        .clamp(Reg::R8, SLOTS as i32 - 1)
        .lookup_or_init(hists, HIST_KEY, SCRATCH, VALUE_LEN, "out")
        .count_slot(Reg::R0, Reg::R8, Reg::R1)
        .exit_label("out");
    a.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::args::strings as args;

    #[test]
    fn parses_libbpf_tools_options() {
        let Parsed::Run(o) = parse(&args(&["-mTQD", "-d", "vda", "1", "5"])).expect("ok") else {
            panic!("help")
        };
        assert_eq!(
            o,
            Options {
                interval: Some(1),
                count: Some(5),
                timestamp: true,
                milliseconds: true,
                queued: true,
                per_disk: true,
                disk: Some("vda".into()),
            }
        );
        assert_eq!(parse(&args(&["-h"])).expect("ok"), Parsed::Help);
        assert!(parse(&args(&["1", "2", "3"])).is_err());
        assert!(parse(&args(&["0"])).is_err());
        assert!(parse(&args(&["-x"])).is_err());
        assert!(parse(&args(&["-d", "../x"])).is_err());
    }

    #[test]
    fn devs_and_render() {
        assert_eq!(parse_dev("254:0\n"), Some(254 << 20));
        assert_eq!(parse_dev("8:17"), Some((8 << 20) | 17));
        assert_eq!(parse_dev("x"), None);
        let mut slots = [0u64; SLOTS];
        slots[4] = 3;
        let h = Hist {
            dev: mkdev(254, 0),
            slots,
        };
        let mut names = HashMap::new();
        names.insert(mkdev(254, 0), "vda".to_string());
        let row =
            "        16 -> 31         : 3        |****************************************|\n";
        let head = "     usecs               : count    distribution\n";
        let plain = render(&Options::default(), &names, std::slice::from_ref(&h));
        assert!(plain.starts_with(&format!("\n{head}")), "{plain}");
        assert!(plain.ends_with(row), "{plain}");
        let o = Options {
            per_disk: true,
            milliseconds: true,
            ..Options::default()
        };
        let other = Hist {
            dev: mkdev(8, 0),
            ..h.clone()
        };
        let text = render(&o, &names, &[h, other]);
        assert!(
            text.starts_with("\ndisk = vda\t\n     msecs               : count"),
            "{text}"
        );
        assert!(text.contains("\ndisk = Unknown\t\n"), "{text}");
    }
}
