//! `tcplife`: one line per TCP session when it closes (pid, comm, local
//! and remote address and port, KB sent and received, lifespan in ms),
//! like libbpf-tools' tcplife, from `sock:inet_sock_set_state` alone (the
//! program is in `prog.rs`, the record and the lines in `event.rs`); the
//! byte counters come from `struct tcp_sock` at offsets the kernel's BTF
//! gives ([`bpf::btf`]).
//!
//! Options are libbpf-tools' (`-p -4 -6 -L -D -T -w`), plus BCC tcplife's
//! `-t` (seconds since the first session) and `-s` (CSV, BCC's columns).
//! `-T` heads its column `TIME` as BCC does: libbpf-tools prints the same
//! clock under `TIME(s)`, which here belongs to `-t`.

mod event;
mod prog;

pub use event::{header, line, Event, AF_INET, AF_INET6};

use crate::args::{Arg, Lexer, Parsed};
use crate::error::{Error, Result};
use crate::probe::{self, Probes};
use crate::runtime;
use bpf::btf::{Btf, Member};
use bpf::map::MapType;
use bpf::ringbuf::RingBuf;
use std::io::Write;
use std::time::Duration;

pub const USAGE: &str =
    "USAGE: tcplife [-h] [-p PID] [-4] [-6] [-L LOCALPORT] [-D REMOTEPORT] [-T] [-t] [-w] [-s]";

const HELP: &str = "Trace the lifespan of TCP sessions and summarize.

USAGE: tcplife [-h] [-p PID] [-4] [-6] [-L LOCALPORT] [-D REMOTEPORT] [-T] [-t]
               [-w] [-s]

EXAMPLES:
    ./tcplife -p 1215             # only trace PID 1215
    ./tcplife -p 1215 -4          # trace IPv4 only
    ./tcplife -L 80,81            # only trace local ports 80 and 81
    ./tcplife -D 80               # only trace remote port 80
    ./tcplife -w                  # wide columns (fit IPv6 addresses)
    ./tcplife -stT                # CSV output, with times & timestamps

  -p, --pid=PID                  Process ID to trace
  -4, --ipv4                     Trace IPv4 only
  -6, --ipv6                     Trace IPv6 only
  -L, --localport=LOCALPORT      Comma-separated list of local ports to trace.
  -D, --remoteport=REMOTEPORT    Comma-separated list of remote ports to trace.
  -T, --time                     Include time column on output (HH:MM:SS)
  -t, --timestamp                Include timestamp on output (seconds)
  -w, --wide                     Wide column output (fits IPv6 addresses)
  -s, --csv                      Comma separated values output
  -v, --verbose                  Accepted for compatibility (no effect)
  -h, --help                     Show this help
";

/// Ports one `-L` or `-D` may list (libbpf-tools' MAX_PORTS).
pub const MAX_PORTS: usize = 1024;
/// Sockets tracked at once (libbpf-tools' MAX_ENTRIES).
const MAX_SOCKETS: u32 = 10240;

/// What `tcplife` was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    /// Process (tgid) to trace.
    pub pid: Option<u32>,
    /// [`AF_INET`] or [`AF_INET6`] only (the last of `-4`/`-6` wins).
    pub family: Option<u16>,
    /// `-L`: local ports to trace (all when empty).
    pub local_ports: Vec<u16>,
    /// `-D`: remote ports to trace (all when empty).
    pub remote_ports: Vec<u16>,
    /// `HH:MM:SS` column.
    pub time: bool,
    /// Seconds since the first session column.
    pub timestamp: bool,
    /// Address columns 39 wide instead of 15.
    pub wide: bool,
    /// Comma-separated values.
    pub csv: bool,
}

/// Parses `tcplife`'s arguments.
pub fn parse(args: &[String]) -> Result<Parsed<Options>> {
    let mut lx = Lexer::new("tcplife", USAGE, args);
    let mut o = Options::default();
    while let Some(arg) = lx.next() {
        let long = arg.long_name();
        match (&arg, long) {
            (Arg::Short('h'), _) | (_, "help") => return Ok(Parsed::Help),
            (Arg::Short('p'), _) | (_, "pid") => {
                o.pid = Some(lx.number("PID", 1, i32::MAX as u64)? as u32)
            }
            (Arg::Short('4'), _) | (_, "ipv4") => o.family = Some(AF_INET),
            (Arg::Short('6'), _) | (_, "ipv6") => o.family = Some(AF_INET6),
            (Arg::Short('L'), _) | (_, "localport") => {
                let text = lx.value("LOCALPORT")?;
                o.local_ports = ports(&lx, "LOCALPORT", &text)?;
            }
            (Arg::Short('D'), _) | (_, "remoteport") => {
                let text = lx.value("REMOTEPORT")?;
                o.remote_ports = ports(&lx, "REMOTEPORT", &text)?;
            }
            (Arg::Short('T'), _) | (_, "time") => o.time = true,
            (Arg::Short('t'), _) | (_, "timestamp") => o.timestamp = true,
            (Arg::Short('w'), _) | (_, "wide") => o.wide = true,
            (Arg::Short('s'), _) | (_, "csv") => o.csv = true,
            (Arg::Short('v'), _) | (_, "verbose") => {}
            _ => return Err(lx.unknown(&arg)),
        }
    }
    Ok(Parsed::Run(o))
}

/// A comma-separated port list (`80,443`).
fn ports(lx: &Lexer, what: &str, text: &str) -> Result<Vec<u16>> {
    let ports = text
        .split(',')
        .map(|p| lx.parse_number(what, p.trim(), 1, u64::from(u16::MAX)))
        .map(|p| p.map(|p| p as u16))
        .collect::<Result<Vec<u16>>>()?;
    if ports.len() > MAX_PORTS {
        return Err(lx.error(format!("{what}: more than {MAX_PORTS} ports")));
    }
    Ok(ports)
}

/// The attached tracer.
#[derive(Debug)]
pub struct Tcplife {
    options: Options,
    ring: RingBuf,
    /// Close time of the first session seen (`-t` counts from it).
    first_ns: Option<u64>,
    _probes: Probes,
}

impl Tcplife {
    /// Reads the tcp_sock counter offsets from BTF, loads and attaches the
    /// program.
    pub fn start(options: &Options) -> Result<Tcplife> {
        let counters = counters(&Btf::kernel()?)?;
        let mut probes = Probes::new()?;
        let field = |name: &str| probes.field("sock", "inet_sock_set_state", name);
        let fields = prog::Fields {
            skaddr: field("skaddr")?,
            newstate: field("newstate")?,
            sport: field("sport")?,
            dport: field("dport")?,
            family: field("family")?,
            protocol: field("protocol")?,
            saddr: address(field("saddr")?, "saddr", 4)?,
            daddr: address(field("daddr")?, "daddr", 4)?,
            saddr_v6: address(field("saddr_v6")?, "saddr_v6", 16)?,
            daddr_v6: address(field("daddr_v6")?, "daddr_v6", 16)?,
        };
        let birth = probe::map(MapType::Hash, "tcplife_birth", 8, 8, MAX_SOCKETS)?;
        let idents = probe::map(
            MapType::Hash,
            "tcplife_idents",
            8,
            prog::IDENT_LEN,
            MAX_SOCKETS,
        )?;
        let events = probe::map(MapType::RingBuf, "tcplife_events", 0, 0, 1 << 20)?;
        let maps = prog::Maps {
            birth: &birth,
            idents: &idents,
            events: &events,
        };
        let insns = prog::program(options, &fields, &maps, &counters);
        probes.attach("sock", "inet_sock_set_state", &insns)?;
        Ok(Tcplife {
            options: options.clone(),
            ring: RingBuf::new(&events)?,
            first_ns: None,
            _probes: probes,
        })
    }
}

impl runtime::EventTool for Tcplife {
    type Event = Event;

    /// Sessions that closed within `timeout`.
    fn poll(&mut self, timeout: Duration) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        if self.ring.poll(timeout)? {
            self.ring.consume(|r| events.push(Event::parse(r)))?;
        }
        if let Some(first) = events.first() {
            self.first_ns.get_or_insert(first.closed_ns);
        }
        Ok(events)
    }

    /// The column header.
    fn header(&self) -> String {
        header(&self.options)
    }

    /// One session's line.
    fn line(&self, e: &Event) -> String {
        let first = self.first_ns.unwrap_or(e.closed_ns);
        let seconds = e.closed_ns.saturating_sub(first) as f64 / 1e9;
        line(&self.options, e, &runtime::clock(), seconds)
    }
}

/// Where `tcp_sock.bytes_received` and `bytes_acked` are on this kernel.
fn counters(btf: &Btf) -> Result<prog::Counters> {
    let member = |name: &str| -> Result<Member> {
        let m = btf.member("tcp_sock", name)?;
        if !(1..=8).contains(&m.size) || i32::try_from(m.offset).is_err() {
            return Err(Error::Bpf(bpf::Error::BtfMember {
                path: btf.source().to_path_buf(),
                structure: "tcp_sock".into(),
                member: name.into(),
                detail: format!(
                    "{} bytes at {}: not a counter we can read",
                    m.size, m.offset
                ),
            }));
        }
        Ok(m)
    };
    Ok(prog::Counters {
        rx: member("bytes_received")?,
        tx: member("bytes_acked")?,
    })
}

/// An address array of the record, checked to be `len` bytes.
fn address(field: probe::Field, name: &str, len: u32) -> Result<probe::Field> {
    if field.len == len {
        Ok(field)
    } else {
        Err(Error::MissingField {
            tracepoint: "sock:inet_sock_set_state".into(),
            field: name.into(),
        })
    }
}

/// `tcplife ARGS`, printing to `out` until Ctrl-C.
pub fn main(args: &[String], out: &mut dyn Write) -> Result<i32> {
    let Some(options) = crate::args::options_or_help(parse(args)?, HELP, out)? else {
        return Ok(0);
    };
    let mut tracer = Tcplife::start(&options)?;
    runtime::print_events(&mut tracer, out, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::args::strings as args;

    #[test]
    fn parses_options() {
        let parsed = parse(&args(&[
            "-p", "1215", "-4", "-L", "80,81", "-D443", "-Ttws", "-v",
        ]));
        let Parsed::Run(o) = parsed.expect("ok") else {
            panic!("help")
        };
        assert_eq!(
            o,
            Options {
                pid: Some(1215),
                family: Some(AF_INET),
                local_ports: vec![80, 81],
                remote_ports: vec![443],
                time: true,
                timestamp: true,
                wide: true,
                csv: true,
            }
        );
        let Parsed::Run(o) = parse(&args(&["-4", "--ipv6", "--localport=22"])).expect("ok") else {
            panic!("help")
        };
        assert_eq!((o.family, o.local_ports), (Some(AF_INET6), vec![22]));
        assert_eq!(parse(&args(&["-h"])).expect("ok"), Parsed::Help);
        for bad in [
            &["-p", "0"][..],
            &["-p", "x"],
            &["-L", "0"],
            &["-L", "80,"],
            &["-D", "65536"],
            &["-D"],
            &["-x"],
            &["extra"],
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?}");
        }
        let many = (1..=MAX_PORTS + 1)
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let e = parse(&args(&["-L", &many])).expect_err("too many");
        assert!(e.to_string().contains("more than 1024"), "{e}");
    }

    #[test]
    fn registered_with_help() {
        let mut out = Vec::new();
        let code = crate::run_to("tcplife", &args(&["-h"]), &mut out).expect("help");
        assert_eq!(code, 0);
        let text = String::from_utf8(out).expect("utf-8");
        assert!(
            text.starts_with("Trace the lifespan of TCP sessions"),
            "{text}"
        );
        assert!(crate::TOOLS.iter().any(|t| t.0 == "tcplife"));
        let e = crate::run_to("tcplife", &args(&["-L"]), &mut Vec::new()).expect_err("usage");
        assert!(e.to_string().ends_with(USAGE), "{e}");
    }
}
