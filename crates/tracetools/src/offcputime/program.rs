//! `offcputime`'s BPF program on the classic `sched:sched_switch`
//! tracepoint, where the current task is still `prev`:
//!
//! - switching out, a task that passes the filters gets a start record
//!   keyed by its thread id: the time, its pid and tgid, its user and kernel
//!   stack ids (`get_stackid` with `BPF_F_USER_STACK` and 0; -1 when not
//!   collected) and its comm;
//! - switching in, `next_pid`'s record is taken and, when the time off CPU
//!   in microseconds is within the bounds, added to the total of its
//!   (pid, tgid, user stack, kernel stack, comm) key.
//!
//! The idle task (pid 0, one per CPU) is keyed by `IDLE_KEY | cpu` in the
//! start map so the CPUs' idle tasks stay apart.

use super::options::Options;
use crate::asm::Asm;
use crate::probe::Field;
use bpf::insn::{AluOp, Helper, Insn, JmpOp, Reg, Size};
use bpf::map::Map;

/// Bytes of a start record: time, then the aggregate key.
pub const START_LEN: u32 = 8 + KEY_LEN;
/// Bytes of an aggregate key: pid, tgid, user and kernel stack ids, comm.
pub const KEY_LEN: u32 = 16 + 16;
/// The aggregate value: total microseconds off CPU.
pub const VALUE_LEN: u32 = 8;

/// `task_struct.flags` bit of kernel threads (include/linux/sched.h).
const PF_KTHREAD: i32 = 0x0020_0000;
/// `get_stackid` flag for the user stack.
const BPF_F_USER_STACK: i32 = 1 << 8;
/// Start-map key bit of the idle tasks (thread ids stay below 2^22).
const IDLE_KEY: i32 = 0x4000_0000;

/// Stack slots.
const KEY: i16 = -8;
const START: i16 = -48;
const FLAGS: i16 = -56;
const AGG: i16 = -88;
const SCRATCH: i16 = -96;
/// Fields of the start record (offsets from its start).
const TS_AT: i16 = 0;
const PID_AT: i16 = 8;
const TGID_AT: i16 = 12;
const USTACK_AT: i16 = 16;
const KSTACK_AT: i16 = 20;
const COMM_AT: i16 = 24;

/// The `sched_switch` record fields the program reads.
#[derive(Debug, Clone, Copy)]
pub struct SwitchFields {
    pub prev_pid: Field,
    pub prev_state: Field,
    pub next_pid: Field,
}

/// The maps the program uses.
#[derive(Debug, Clone, Copy)]
pub struct Maps<'a> {
    pub stacks: &'a Map,
    pub start: &'a Map,
    pub counts: &'a Map,
}

/// The program. `flags_offset` is `task_struct.flags`' offset, needed for
/// `-u` and `-k`.
pub fn switch_prog(
    o: &Options,
    f: &SwitchFields,
    maps: Maps<'_>,
    flags_offset: Option<u32>,
) -> Vec<Insn> {
    let mut a = Asm::new();
    a.i(Insn::mov64_reg(Reg::R6, Reg::R1));
    switch_out(&mut a, o, f, maps, flags_offset);
    a.label("switch_in");
    switch_in(&mut a, o, f, maps);
    a.exit_label("out");
    a.finish()
}

/// Filters `prev` and records its start; jumps to `switch_in` when
/// filtered out.
fn switch_out(
    a: &mut Asm,
    o: &Options,
    f: &SwitchFields,
    maps: Maps<'_>,
    flags_offset: Option<u32>,
) {
    a.i(Insn::ldx(Size::W, Reg::R7, Reg::R6, f.prev_pid.offset));
    one_of(a, Reg::R7, &o.tids);
    a.i(Insn::call(Helper::GetCurrentPidTgid))
        .i(Insn::alu64_imm(AluOp::Rsh, Reg::R0, 32))
        .i(Insn::mov64_reg(Reg::R8, Reg::R0));
    one_of(a, Reg::R8, &o.pids);
    if let Some(state) = o.state {
        a.i(Insn::ldx(
            f.prev_state.size,
            Reg::R1,
            Reg::R6,
            f.prev_state.offset,
        ));
        if state == 0 {
            // Runnable: 0, or TASK_REPORT_MAX (above the low byte) when
            // preempted.
            a.i(Insn::alu64_imm(AluOp::And, Reg::R1, 0xff))
                .jump(Insn::jmp_imm(JmpOp::Ne, Reg::R1, 0, 0), "switch_in");
        } else {
            a.i(Insn::jmp_imm(JmpOp::Set, Reg::R1, state as i32, 1))
                .jump(Insn::ja(0), "switch_in");
        }
    }
    if let Some(offset) = flags_offset.filter(|_| o.user_threads_only || o.kernel_threads_only) {
        a.i(Insn::call(Helper::GetCurrentTask))
            .i(Insn::mov64_reg(Reg::R3, Reg::R0))
            .i(Insn::alu64_imm(AluOp::Add, Reg::R3, offset as i32))
            .stack_ptr(Reg::R1, FLAGS)
            .i(Insn::mov64_imm(Reg::R2, 4))
            .i(Insn::call(Helper::ProbeReadKernel))
            .i(Insn::ldx(Size::W, Reg::R1, Reg::R10, FLAGS))
            .i(Insn::alu64_imm(AluOp::And, Reg::R1, PF_KTHREAD));
        let skip = if o.user_threads_only {
            JmpOp::Ne
        } else {
            JmpOp::Eq
        };
        a.jump(Insn::jmp_imm(skip, Reg::R1, 0, 0), "switch_in");
    }
    a.i(Insn::stx(Size::W, Reg::R10, START + PID_AT, Reg::R7))
        .i(Insn::stx(Size::W, Reg::R10, START + TGID_AT, Reg::R8));
    stack_id(
        a,
        maps.stacks,
        !o.kernel_stacks_only,
        BPF_F_USER_STACK,
        START + USTACK_AT,
    );
    stack_id(a, maps.stacks, !o.user_stacks_only, 0, START + KSTACK_AT);
    a.stack_ptr(Reg::R1, START + COMM_AT)
        .i(Insn::mov64_imm(Reg::R2, 16))
        .i(Insn::call(Helper::GetCurrentComm))
        .i(Insn::call(Helper::KtimeGetNs))
        .i(Insn::stx(Size::DW, Reg::R10, START + TS_AT, Reg::R0));
    start_key(a);
    a.update(maps.start, KEY, START, 0);
}

/// Takes `next`'s start record and adds its time off CPU to its total.
fn switch_in(a: &mut Asm, o: &Options, f: &SwitchFields, maps: Maps<'_>) {
    a.i(Insn::ldx(Size::W, Reg::R7, Reg::R6, f.next_pid.offset));
    start_key(a);
    a.lookup(maps.start, KEY)
        .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), "out")
        .i(Insn::ldx(Size::DW, Reg::R9, Reg::R0, TS_AT));
    for part in (0..KEY_LEN as i16).step_by(8) {
        a.i(Insn::ldx(Size::DW, Reg::R1, Reg::R0, PID_AT + part))
            .i(Insn::stx(Size::DW, Reg::R10, AGG + part, Reg::R1));
    }
    a.delete(maps.start, KEY)
        .i(Insn::call(Helper::KtimeGetNs))
        .i(Insn::alu64_reg(AluOp::Sub, Reg::R0, Reg::R9))
        .jump(Insn::jmp_imm(JmpOp::Slt, Reg::R0, 0, 0), "out")
        .i(Insn::alu64_imm(AluOp::Div, Reg::R0, 1000))
        .i(Insn::mov64_reg(Reg::R8, Reg::R0));
    if o.min_block_us > 0 {
        bound(a, JmpOp::Lt, o.min_block_us);
    }
    if o.max_block_us < u64::MAX {
        bound(a, JmpOp::Gt, o.max_block_us);
    }
    a.lookup_or_init(maps.counts, AGG, SCRATCH, VALUE_LEN as i16, "out")
        .i(Insn::atomic_add(Size::DW, Reg::R0, 0, Reg::R8));
}

/// Continues when `reg` is one of `ids` (or `ids` is empty), else jumps to
/// `switch_in`.
fn one_of(a: &mut Asm, reg: Reg, ids: &[u32]) {
    if ids.is_empty() {
        return;
    }
    let keep = a.fresh("keep");
    for &id in ids {
        a.jump(Insn::jmp_imm(JmpOp::Eq, reg, id as i32, 0), &keep);
    }
    a.jump(Insn::ja(0), "switch_in").label(&keep);
}

/// Stores the stack id (`get_stackid(ctx, stacks, flags)`) at `at`, or -1
/// when not `wanted`.
fn stack_id(a: &mut Asm, stacks: &Map, wanted: bool, flags: i32, at: i16) {
    if !wanted {
        a.i(Insn::st(Size::W, Reg::R10, at, -1));
        return;
    }
    a.i(Insn::mov64_reg(Reg::R1, Reg::R6))
        .wide(Insn::ld_map_fd(Reg::R2, stacks.fd()))
        .i(Insn::mov64_imm(Reg::R3, flags))
        .i(Insn::call(Helper::GetStackid))
        .i(Insn::stx(Size::W, Reg::R10, at, Reg::R0));
}

/// The start-map key of thread `r7` at `KEY`: the thread id, or
/// `IDLE_KEY | cpu` for an idle task.
fn start_key(a: &mut Asm) {
    let keyed = a.fresh("keyed");
    a.i(Insn::mov64_reg(Reg::R1, Reg::R7))
        .jump(Insn::jmp_imm(JmpOp::Ne, Reg::R1, 0, 0), &keyed)
        .i(Insn::call(Helper::GetSmpProcessorId))
        .i(Insn::mov64_reg(Reg::R1, Reg::R0))
        .i(Insn::alu64_imm(AluOp::Or, Reg::R1, IDLE_KEY))
        .label(&keyed)
        .i(Insn::stx(Size::W, Reg::R10, KEY, Reg::R1));
}

/// Jumps to `out` when `r8 OP limit` (unsigned).
fn bound(a: &mut Asm, op: JmpOp, limit: u64) {
    match i32::try_from(limit) {
        Ok(imm) => a.jump(Insn::jmp_imm(op, Reg::R8, imm, 0), "out"),
        Err(_) => a
            .wide(Insn::ld_imm64(Reg::R1, limit))
            .jump(Insn::jmp_reg(op, Reg::R8, Reg::R1, 0), "out"),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_fits_the_stack_and_keys_copy_whole_words() {
        assert_eq!(START_LEN, 40);
        assert_eq!(i32::from(START) + START_LEN as i32, i32::from(KEY));
        assert!(AGG + KEY_LEN as i16 <= FLAGS);
        assert_eq!(COMM_AT + 16, START_LEN as i16);
        assert_eq!(KEY_LEN % 8, 0);
        assert!(IDLE_KEY as u32 > 1 << 22);
    }
}
