//! tcplife's one program, on `sock:inet_sock_set_state`, as libbpf-tools
//! and BCC's tcplife do it: TCP only, the family and port filters first;
//! the birth time (CLOCK_MONOTONIC) of a socket at its first state below
//! `FIN_WAIT1`; pid and comm at `SYN_SENT` (the connecting process) and
//! `LAST_ACK` (the process closing after its peer did), where `-p`
//! filters; at `CLOSE` one record to the ring buffer with the span, the
//! byte counters read from the `struct tcp_sock` behind `skaddr`
//! (`bpf_probe_read_kernel` at offsets from BTF), addresses and ports from
//! the record; then both map entries go.
//!
//! Unlike libbpf-tools, the birth time is kept from the *first* early
//! state (`BPF_NOEXIST`), so a client's span includes its handshake.

use super::event::{at, AF_INET};
use super::Options;
use crate::asm::Asm;
use crate::probe::Field;
use bpf::btf::Member;
use bpf::insn::{AluOp, Helper, Insn, JmpOp, Reg, Size};
use bpf::map::Map;

/// `IPPROTO_TCP`.
const IPPROTO_TCP: i32 = 6;
/// TCP states (include/net/tcp_states.h).
const TCP_SYN_SENT: i32 = 2;
const TCP_FIN_WAIT1: i32 = 4;
const TCP_CLOSE: i32 = 7;
const TCP_LAST_ACK: i32 = 9;

/// `struct ident { u32 pid; u32 pad; char comm[16]; }`, the `idents` value.
pub(super) const IDENT_LEN: u32 = 24;

/// Stack: the socket address (the maps' key), a timestamp, an ident, the
/// record being built.
const KEY: i16 = -8;
const TS: i16 = -16;
const IDENT: i16 = -16 - IDENT_LEN as i16;
const EV: i16 = IDENT - at::LEN;

/// The tracepoint fields the program reads.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fields {
    pub skaddr: Field,
    pub newstate: Field,
    pub sport: Field,
    pub dport: Field,
    pub family: Field,
    pub protocol: Field,
    pub saddr: Field,
    pub daddr: Field,
    pub saddr_v6: Field,
    pub daddr_v6: Field,
}

/// The maps: birth times and idents keyed by socket address, the ring.
pub(super) struct Maps<'a> {
    pub birth: &'a Map,
    pub idents: &'a Map,
    pub events: &'a Map,
}

/// Where `tcp_sock.bytes_received` and `bytes_acked` are (from BTF).
#[derive(Debug, Clone, Copy)]
pub(super) struct Counters {
    pub rx: Member,
    pub tx: Member,
}

/// The program for `o`.
pub(super) fn program(o: &Options, f: &Fields, m: &Maps, c: &Counters) -> Vec<Insn> {
    let mut a = Asm::new();
    // r6: the record; r7: the socket address; r8: the new state.
    a.i(Insn::mov64_reg(Reg::R6, Reg::R1))
        .i(load(f.protocol, Reg::R1))
        .jump(Insn::jmp32_imm(JmpOp::Ne, Reg::R1, IPPROTO_TCP, 0), "out");
    if let Some(family) = o.family {
        a.i(load(f.family, Reg::R1)).jump(
            Insn::jmp32_imm(JmpOp::Ne, Reg::R1, i32::from(family), 0),
            "out",
        );
    }
    port_filter(&mut a, f.sport, &o.local_ports);
    port_filter(&mut a, f.dport, &o.remote_ports);
    a.i(Insn::ldx(Size::DW, Reg::R7, Reg::R6, f.skaddr.offset))
        .i(Insn::stx(Size::DW, Reg::R10, KEY, Reg::R7))
        .i(load(f.newstate, Reg::R8));

    // Birth: the first early state seen.
    a.jump(
        Insn::jmp32_imm(JmpOp::Sge, Reg::R8, TCP_FIN_WAIT1, 0),
        "no_birth",
    )
    .i(Insn::call(Helper::KtimeGetNs))
    .i(Insn::stx(Size::DW, Reg::R10, TS, Reg::R0))
    .update(m.birth, KEY, TS, 1)
    .label("no_birth");

    // Who: the process connecting, or closing after its peer.
    a.jump(
        Insn::jmp32_imm(JmpOp::Eq, Reg::R8, TCP_SYN_SENT, 0),
        "ident",
    )
    .jump(
        Insn::jmp32_imm(JmpOp::Ne, Reg::R8, TCP_LAST_ACK, 0),
        "closing",
    )
    .label("ident")
    .current_tgid(Reg::R9);
    if let Some(pid) = o.pid {
        a.jump(Insn::jmp32_imm(JmpOp::Ne, Reg::R9, pid as i32, 0), "out");
    }
    a.i(Insn::stx(Size::W, Reg::R10, IDENT, Reg::R9))
        .i(Insn::st(Size::W, Reg::R10, IDENT + 4, 0))
        .stack_ptr(Reg::R1, IDENT + 8)
        .i(Insn::mov64_imm(Reg::R2, 16))
        .i(Insn::call(Helper::GetCurrentComm))
        .update(m.idents, KEY, IDENT, 0)
        .label("closing")
        .jump(Insn::jmp32_imm(JmpOp::Ne, Reg::R8, TCP_CLOSE, 0), "out");

    // Close: span from the birth time (none: a socket born before we
    // started, forgotten).
    a.lookup(m.birth, KEY)
        .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), "forget")
        .i(Insn::ldx(Size::DW, Reg::R9, Reg::R0, 0))
        .zero_stack(EV, at::LEN)
        .i(Insn::call(Helper::KtimeGetNs))
        .i(Insn::stx(Size::DW, Reg::R10, EV + at::CLOSED_NS, Reg::R0))
        .i(Insn::alu64_reg(AluOp::Sub, Reg::R0, Reg::R9))
        .i(Insn::stx(Size::DW, Reg::R10, EV + at::SPAN_NS, Reg::R0));

    // Pid and comm from the ident, else the current task.
    a.lookup(m.idents, KEY)
        .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), "no_ident")
        .i(Insn::ldx(Size::W, Reg::R9, Reg::R0, 0))
        .i(Insn::ldx(Size::DW, Reg::R1, Reg::R0, 8))
        .i(Insn::stx(Size::DW, Reg::R10, EV + at::COMM, Reg::R1))
        .i(Insn::ldx(Size::DW, Reg::R1, Reg::R0, 16))
        .i(Insn::stx(Size::DW, Reg::R10, EV + at::COMM + 8, Reg::R1))
        .jump(Insn::ja(0), "have_ident")
        .label("no_ident")
        .current_tgid(Reg::R9)
        .stack_ptr(Reg::R1, EV + at::COMM)
        .i(Insn::mov64_imm(Reg::R2, 16))
        .i(Insn::call(Helper::GetCurrentComm))
        .label("have_ident");
    if let Some(pid) = o.pid {
        a.jump(
            Insn::jmp32_imm(JmpOp::Ne, Reg::R9, pid as i32, 0),
            "cleanup",
        );
    }
    a.i(Insn::stx(Size::W, Reg::R10, EV + at::PID, Reg::R9));

    // The byte counters of the tcp_sock.
    for (member, off) in [(c.rx, at::RX), (c.tx, at::TX)] {
        a.stack_ptr(Reg::R1, EV + off)
            .i(Insn::mov64_imm(Reg::R2, member.size as i32))
            .i(Insn::mov64_reg(Reg::R3, Reg::R7))
            .i(Insn::alu64_imm(AluOp::Add, Reg::R3, member.offset as i32))
            .i(Insn::call(Helper::ProbeReadKernel));
    }

    // Ports, family and addresses from the record.
    for (field, off) in [
        (f.sport, at::SPORT),
        (f.dport, at::DPORT),
        (f.family, at::FAMILY),
    ] {
        a.i(load(field, Reg::R1))
            .i(Insn::stx(Size::H, Reg::R10, EV + off, Reg::R1));
    }
    a.i(load(f.family, Reg::R9))
        .jump(
            Insn::jmp32_imm(JmpOp::Eq, Reg::R9, i32::from(AF_INET), 0),
            "v4",
        )
        .copy_ctx(
            Reg::R6,
            f.saddr_v6.offset,
            Reg::R10,
            EV + at::SADDR,
            16,
            Reg::R1,
        )
        .copy_ctx(
            Reg::R6,
            f.daddr_v6.offset,
            Reg::R10,
            EV + at::DADDR,
            16,
            Reg::R1,
        )
        .jump(Insn::ja(0), "send")
        .label("v4")
        .copy_ctx(
            Reg::R6,
            f.saddr.offset,
            Reg::R10,
            EV + at::SADDR,
            4,
            Reg::R1,
        )
        .copy_ctx(
            Reg::R6,
            f.daddr.offset,
            Reg::R10,
            EV + at::DADDR,
            4,
            Reg::R1,
        )
        .label("send")
        .wide(Insn::ld_map_fd(Reg::R1, m.events.fd()))
        .stack_ptr(Reg::R2, EV)
        .i(Insn::mov64_imm(Reg::R3, i32::from(at::LEN)))
        .i(Insn::mov64_imm(Reg::R4, 0))
        .i(Insn::call(Helper::RingbufOutput))
        .label("cleanup")
        .delete(m.birth, KEY)
        .label("forget")
        .delete(m.idents, KEY)
        .exit_label("out");
    a.finish()
}

/// `dst = field`, at the field's own width.
fn load(field: Field, dst: Reg) -> Insn {
    Insn::ldx(field.size, dst, Reg::R6, field.offset)
}

/// Continues only when `field` is one of `ports` (no filter when empty).
fn port_filter(a: &mut Asm, field: Field, ports: &[u16]) {
    if ports.is_empty() {
        return;
    }
    let ok = a.fresh("port_ok");
    a.i(load(field, Reg::R1));
    for &port in ports {
        a.jump(Insn::jmp32_imm(JmpOp::Eq, Reg::R1, i32::from(port), 0), &ok);
    }
    a.jump(Insn::ja(0), "out").label(&ok);
}
