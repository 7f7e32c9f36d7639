//! What tcplife's program sends for each closed session (the record layout
//! both sides agree on), decoded into an [`Event`], and the text lines:
//! libbpf-tools' table (`%-7d %-16s %-15s %-5d …`, `-w` widening the
//! address columns to 39), or BCC tcplife's CSV under `-s`.

use super::Options;
use crate::runtime;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// `AF_INET` and `AF_INET6`, as the tracepoint's `family` has them.
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;

/// Offsets in the record (all little-endian):
/// `u64 closed_ns, span_ns, rx, tx; u32 pid; u16 sport, dport, family;
/// pad; u8 saddr[16], daddr[16], comm[16]`.
pub(super) mod at {
    pub const CLOSED_NS: i16 = 0;
    pub const SPAN_NS: i16 = 8;
    pub const RX: i16 = 16;
    pub const TX: i16 = 24;
    pub const PID: i16 = 32;
    pub const SPORT: i16 = 36;
    pub const DPORT: i16 = 38;
    pub const FAMILY: i16 = 40;
    pub const SADDR: i16 = 48;
    pub const DADDR: i16 = 64;
    pub const COMM: i16 = 80;
    pub const LEN: i16 = 96;
}

/// One TCP session, reported when its socket reached `TCP_CLOSE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The process that opened it (`SYN_SENT`) or closed it last
    /// (`LAST_ACK`), else whoever was running at the close.
    pub pid: u32,
    pub comm: String,
    pub family: u16,
    pub laddr: IpAddr,
    pub lport: u16,
    pub raddr: IpAddr,
    pub rport: u16,
    /// `tcp_sock.bytes_acked`: bytes sent and acknowledged.
    pub tx_bytes: u64,
    /// `tcp_sock.bytes_received`.
    pub rx_bytes: u64,
    /// From the first state below `FIN_WAIT1` to `CLOSE`.
    pub span: Duration,
    /// CLOCK_MONOTONIC at the close (for `-t`).
    pub closed_ns: u64,
}

impl Event {
    /// Decodes a record (zeros where it is short).
    pub fn parse(bytes: &[u8]) -> Event {
        let u16_at = |off: i16| {
            let off = off as usize;
            bytes
                .get(off..off + 2)
                .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
        };
        let family = u16_at(at::FAMILY);
        let addr = |off: i16| {
            let off = off as usize;
            let mut raw = [0u8; 16];
            if let Some(b) = bytes.get(off..off + 16) {
                raw.copy_from_slice(b);
            }
            if family == AF_INET6 {
                IpAddr::V6(Ipv6Addr::from(raw))
            } else {
                IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
            }
        };
        let comm = at::COMM as usize;
        Event {
            pid: runtime::u32_at(bytes, at::PID as usize),
            comm: runtime::c_str(bytes.get(comm..comm + 16).unwrap_or(&[])),
            family,
            laddr: addr(at::SADDR),
            lport: u16_at(at::SPORT),
            raddr: addr(at::DADDR),
            rport: u16_at(at::DPORT),
            tx_bytes: runtime::u64_at(bytes, at::TX as usize),
            rx_bytes: runtime::u64_at(bytes, at::RX as usize),
            span: Duration::from_nanos(runtime::u64_at(bytes, at::SPAN_NS as usize)),
            closed_ns: runtime::u64_at(bytes, at::CLOSED_NS as usize),
        }
    }

    /// The MS column: whole microseconds over 1000, as libbpf-tools
    /// computes it.
    pub fn ms(&self) -> f64 {
        self.span.as_micros() as f64 / 1000.0
    }
}

/// Width of the address columns.
fn width(o: &Options) -> usize {
    if o.wide {
        39
    } else {
        15
    }
}

/// The column header for `o`.
pub fn header(o: &Options) -> String {
    let mut s = String::new();
    if o.csv {
        if o.time {
            s.push_str("TIME,");
        }
        if o.timestamp {
            s.push_str("TIME(s),");
        }
        s.push_str("PID,COMM,IP,LADDR,LPORT,RADDR,RPORT,TX_KB,RX_KB,MS");
        return s;
    }
    if o.time {
        s.push_str(&format!("{:<8} ", "TIME"));
    }
    if o.timestamp {
        s.push_str(&format!("{:<9} ", "TIME(s)"));
    }
    let w = width(o);
    s.push_str(&format!(
        "{:<7} {:<16} {:<w$} {:<5} {:<w$} {:<5} {:<6} {:<6} MS",
        "PID", "COMM", "LADDR", "LPORT", "RADDR", "RPORT", "TX_KB", "RX_KB"
    ));
    s
}

/// `e`'s line, stamped `clock` (`-T`) and `seconds` since the first event
/// (`-t`).
pub fn line(o: &Options, e: &Event, clock: &str, seconds: f64) -> String {
    let mut s = String::new();
    let (tx_kb, rx_kb) = (e.tx_bytes as f64 / 1024.0, e.rx_bytes as f64 / 1024.0);
    if o.csv {
        if o.time {
            s.push_str(&format!("{clock},"));
        }
        if o.timestamp {
            s.push_str(&format!("{seconds:.6},"));
        }
        let ip = if e.family == AF_INET6 { 6 } else { 4 };
        s.push_str(&format!(
            "{},{},{ip},{},{},{},{},{},{},{:.2}",
            e.pid,
            e.comm,
            e.laddr,
            e.lport,
            e.raddr,
            e.rport,
            e.tx_bytes / 1024,
            e.rx_bytes / 1024,
            e.ms()
        ));
        return s;
    }
    if o.time {
        s.push_str(&format!("{clock:<8} "));
    }
    if o.timestamp {
        s.push_str(&format!("{seconds:<9.6} "));
    }
    let w = width(o);
    s.push_str(&format!(
        "{:<7} {:<16} {:<w$} {:<5} {:<w$} {:<5} {tx_kb:<6.2} {rx_kb:<6.2} {:.2}",
        e.pid,
        e.comm,
        e.laddr.to_string(),
        e.lport,
        e.raddr.to_string(),
        e.rport,
        e.ms()
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(family: u16, saddr: &[u8], daddr: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; at::LEN as usize];
        let mut put = |off: i16, bytes: &[u8]| {
            b[off as usize..off as usize + bytes.len()].copy_from_slice(bytes)
        };
        put(at::CLOSED_NS, &5_000_000_000u64.to_le_bytes());
        put(at::SPAN_NS, &51_234_999u64.to_le_bytes());
        put(at::RX, &2049u64.to_le_bytes());
        put(at::TX, &1537u64.to_le_bytes());
        put(at::PID, &4242u32.to_le_bytes());
        put(at::SPORT, &40000u16.to_le_bytes());
        put(at::DPORT, &8080u16.to_le_bytes());
        put(at::FAMILY, &family.to_le_bytes());
        put(at::SADDR, saddr);
        put(at::DADDR, daddr);
        put(at::COMM, b"curl");
        b
    }

    #[test]
    fn decodes_records() {
        let e = Event::parse(&record(AF_INET, &[127, 0, 0, 1], &[10, 1, 2, 3]));
        assert_eq!(e.pid, 4242);
        assert_eq!(e.comm, "curl");
        assert_eq!(e.laddr.to_string(), "127.0.0.1");
        assert_eq!(e.raddr.to_string(), "10.1.2.3");
        assert_eq!((e.lport, e.rport), (40000, 8080));
        assert_eq!((e.tx_bytes, e.rx_bytes), (1537, 2049));
        assert_eq!(e.ms(), 51.234);
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        let e = Event::parse(&record(AF_INET6, &v6, &v6));
        assert_eq!(e.laddr.to_string(), "::1");
        // A short record gives zeros, not a panic.
        assert_eq!(Event::parse(&[1, 2, 3]).pid, 0);
    }

    #[test]
    fn libbpf_tools_table() {
        let o = Options::default();
        assert_eq!(
            header(&o),
            "PID     COMM             LADDR           LPORT RADDR           RPORT TX_KB  RX_KB  MS"
        );
        let e = Event::parse(&record(AF_INET, &[127, 0, 0, 1], &[10, 1, 2, 3]));
        assert_eq!(
            line(&o, &e, "12:34:56", 0.5),
            "4242    curl             127.0.0.1       40000 10.1.2.3        8080  1.50   2.00   51.23"
        );
        let o = Options {
            wide: true,
            time: true,
            timestamp: true,
            ..Options::default()
        };
        let h = header(&o);
        assert!(h.starts_with("TIME     TIME(s)   PID     COMM             LADDR "));
        assert!(h.contains(&format!("LADDR{} LPORT", " ".repeat(34))), "{h}");
        let l = line(&o, &e, "12:34:56", 0.5);
        assert!(
            l.starts_with("12:34:56 0.500000  4242    curl             127.0.0.1 "),
            "{l}"
        );
        assert!(
            l.contains(&format!("127.0.0.1{} 40000", " ".repeat(30))),
            "{l}"
        );
    }

    #[test]
    fn bcc_csv() {
        let o = Options {
            csv: true,
            time: true,
            timestamp: true,
            ..Options::default()
        };
        assert_eq!(
            header(&o),
            "TIME,TIME(s),PID,COMM,IP,LADDR,LPORT,RADDR,RPORT,TX_KB,RX_KB,MS"
        );
        let e = Event::parse(&record(AF_INET, &[127, 0, 0, 1], &[10, 1, 2, 3]));
        assert_eq!(
            line(&o, &e, "12:34:56", 1.25),
            "12:34:56,1.250000,4242,curl,4,127.0.0.1,40000,10.1.2.3,8080,1,2,51.23"
        );
    }
}
