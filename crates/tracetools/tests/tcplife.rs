//! tcplife on the real kernel, over loopback only: N sessions to a listener
//! on a free 127.0.0.1 port, each sending exactly K bytes client→server and
//! J bytes server→client, held open ~50 ms, closed by the client first.
//! Each side's socket closes, so every session shows up twice: the client
//! side (remote port = the listener's) with tx K / rx J, and the accepted
//! side (local port = the listener's) with tx J / rx K (plus the SYN and
//! FIN bytes the kernel counts, see below), both with our pid (the
//! client's from SYN_SENT, the server thread's from LAST_ACK) and spans of
//! at least the hold. The filters (-L, -D, -p, -4, -6) run in the program
//! and are checked the same way.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};
use tracetools::runtime::EventTool;
use tracetools::tcplife::{Event, Options, Tcplife, AF_INET, AF_INET6};

const N: usize = 5;
/// Bytes client → server, and server → client.
const K: usize = 3000;
const J: usize = 7000;
const HOLD: Duration = Duration::from_millis(50);

/// `bytes_acked` and `bytes_received` count sequence space, so control
/// flags add a byte each: the receiver's `bytes_received` counts the peer's
/// FIN (the SYN sets `rcv_nxt` without counting), the sender's
/// `bytes_acked` counts its FIN once acknowledged, and the client's also
/// its SYN (an accepted socket is only created once its SYN-ACK has been
/// acknowledged, so that one is never counted).
const CLIENT_TX_EXTRA: u64 = 2;
const SERVER_TX_EXTRA: u64 = 1;
const RX_EXTRA: u64 = 1;

/// A listener on a free 127.0.0.1 port, and the port.
fn listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen on loopback");
    let port = listener.local_addr().expect("addr").port();
    (listener, port)
}

/// Runs `n` sessions against `listener`; the clients' ports.
fn sessions(listener: TcpListener, n: usize) -> Vec<u16> {
    let addr = listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        for _ in 0..n {
            let (mut s, _) = listener.accept().expect("accept");
            let mut got = vec![0u8; K];
            s.read_exact(&mut got).expect("read K");
            s.write_all(&[b'j'; J]).expect("write J");
            // Wait for the client's FIN, so the client closes first.
            let mut rest = Vec::new();
            s.read_to_end(&mut rest).expect("read to EOF");
            assert!(rest.is_empty());
        }
    });
    let mut clients = Vec::new();
    for _ in 0..n {
        let mut c = TcpStream::connect(addr).expect("connect");
        c.write_all(&[b'k'; K]).expect("write K");
        let mut got = vec![0u8; J];
        c.read_exact(&mut got).expect("read J");
        std::thread::sleep(HOLD);
        clients.push(c.local_addr().expect("addr").port());
    }
    server.join().expect("server thread");
    clients
}

/// Events about `port` (either side) until `want` of them arrived and a
/// little longer (so extra ones would show), or 3 s. The sessions have
/// all closed by now, so their events are already in the ring.
fn collect(tracer: &mut Tcplife, port: u16, want: usize) -> Vec<Event> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut grace: Option<Instant> = None;
    while Instant::now() < deadline && grace.is_none_or(|g| Instant::now() < g) {
        for e in tracer.poll(Duration::from_millis(50)).expect("poll") {
            if e.lport == port || e.rport == port {
                seen.push(e);
            }
        }
        if seen.len() >= want && grace.is_none() {
            grace = Some(Instant::now() + Duration::from_millis(300));
        }
    }
    seen
}

fn show(tracer: &Tcplife, events: &[Event]) {
    eprintln!("{}", tracer.header());
    for e in events {
        eprintln!("{}", tracer.line(e));
    }
}

#[test]
fn each_session_closes_once_per_side_with_its_bytes() {
    let Some(_lock) = common::root_or_skip("each_session_closes_once_per_side_with_its_bytes")
    else {
        return;
    };
    let (listener, port) = listener();
    let mut tracer = Tcplife::start(&Options::default()).expect("start");
    let clients = sessions(listener, N);
    let seen = collect(&mut tracer, port, 2 * N);
    show(&tracer, &seen);
    let me = std::process::id();
    let (client, server): (Vec<&Event>, Vec<&Event>) = seen.iter().partition(|e| e.rport == port);
    assert_eq!(client.len(), N, "client side: {client:?}");
    assert_eq!(server.len(), N, "accepted side: {server:?}");
    let mut client_ports: Vec<u16> = client.iter().map(|e| e.lport).collect();
    client_ports.sort_unstable();
    let mut expected = clients.clone();
    expected.sort_unstable();
    assert_eq!(client_ports, expected);
    for e in &client {
        assert_eq!(e.pid, me, "{e:?}");
        assert_eq!(e.family, AF_INET);
        assert_eq!(e.laddr.to_string(), "127.0.0.1");
        assert_eq!(e.raddr.to_string(), "127.0.0.1");
        assert_eq!(e.tx_bytes, K as u64 + CLIENT_TX_EXTRA, "client tx: {e:?}");
        assert_eq!(e.rx_bytes, J as u64 + RX_EXTRA, "client rx: {e:?}");
        assert!(e.span >= HOLD, "{e:?}");
        assert!(e.span < Duration::from_secs(5), "{e:?}");
    }
    for e in &server {
        assert_eq!(e.pid, me, "{e:?}");
        assert!(clients.contains(&e.rport), "{e:?}");
        assert_eq!(e.tx_bytes, J as u64 + SERVER_TX_EXTRA, "server tx: {e:?}");
        assert_eq!(e.rx_bytes, K as u64 + RX_EXTRA, "server rx: {e:?}");
        assert!(e.span >= HOLD, "{e:?}");
    }
    let line = tracer.line(client[0]);
    assert!(
        line.contains(&format!(
            "127.0.0.1       {:<5} 127.0.0.1       {port:<5} 2.93   6.84   ",
            client[0].lport
        )),
        "{line}"
    );
}

/// Starts tcplife with `options` (given the listener's port), runs
/// `n` sessions; the events about the port.
fn run(n: usize, want: usize, options: impl Fn(u16) -> Options) -> Vec<Event> {
    let (listener, port) = listener();
    let mut tracer = Tcplife::start(&options(port)).expect("start");
    sessions(listener, n);
    let seen = collect(&mut tracer, port, want);
    show(&tracer, &seen);
    seen
}

#[test]
fn port_pid_and_family_filters_run_in_the_program() {
    let Some(_lock) = common::root_or_skip("port_pid_and_family_filters_run_in_the_program") else {
        return;
    };
    let me = std::process::id();
    // -L: the accepted side only (its local port is the listener's).
    let seen = run(2, 2, |port| Options {
        local_ports: vec![9, port],
        ..Options::default()
    });
    assert_eq!(seen.len(), 2, "-L");
    assert!(seen
        .iter()
        .all(|e| e.rport != e.lport && e.lport == seen[0].lport));
    // -D: the client side only.
    let seen = run(2, 2, |port| Options {
        remote_ports: vec![port, 9],
        ..Options::default()
    });
    assert_eq!(seen.len(), 2, "-D");
    assert!(seen.iter().all(|e| e.rport == seen[0].rport));
    // -p ourselves: both sides; -p 1: none.
    let seen = run(2, 4, |_| Options {
        pid: Some(me),
        ..Options::default()
    });
    assert_eq!(seen.len(), 4, "-p {me}");
    assert!(seen.iter().all(|e| e.pid == me));
    let seen = run(1, 0, |_| Options {
        pid: Some(1),
        ..Options::default()
    });
    assert_eq!(seen.len(), 0, "-p 1");
    // -6 on IPv4 sessions: none; -4: both sides.
    let seen = run(1, 0, |_| Options {
        family: Some(AF_INET6),
        ..Options::default()
    });
    assert_eq!(seen.len(), 0, "-6");
    let seen = run(1, 2, |_| Options {
        family: Some(AF_INET),
        ..Options::default()
    });
    assert_eq!(seen.len(), 2, "-4");
}

#[test]
fn ipv6_loopback_sessions() {
    let Some(_lock) = common::root_or_skip("ipv6_loopback_sessions") else {
        return;
    };
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        eprintln!("ipv6_loopback_sessions: skipped: no IPv6 loopback");
        return;
    };
    let port = listener.local_addr().expect("addr").port();
    let options = Options {
        family: Some(AF_INET6),
        wide: true,
        ..Options::default()
    };
    let mut tracer = Tcplife::start(&options).expect("start -6");
    sessions(listener, 2);
    let seen = collect(&mut tracer, port, 4);
    show(&tracer, &seen);
    assert_eq!(seen.len(), 4, "{seen:?}");
    for e in &seen {
        assert_eq!(e.family, AF_INET6);
        assert_eq!(
            (e.laddr.to_string(), e.raddr.to_string()),
            ("::1".into(), "::1".into())
        );
        let (tx, rx) = if e.rport == port {
            (K as u64 + CLIENT_TX_EXTRA, J as u64 + RX_EXTRA)
        } else {
            (J as u64 + SERVER_TX_EXTRA, K as u64 + RX_EXTRA)
        };
        assert_eq!((e.tx_bytes, e.rx_bytes), (tx, rx), "{e:?}");
    }
}
