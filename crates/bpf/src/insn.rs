//! BPF instruction encoding: the 8-byte `struct bpf_insn` of the kernel's
//! `include/uapi/linux/bpf.h` (`code`, `dst_reg:4`, `src_reg:4`, `off`,
//! `imm`), constructors for every instruction the tracer emits, and the
//! helper ids it calls.
//!
//! Encoding only: no labels (the compiler turns them into jump offsets, counted
//! in instructions after the jump), no register allocation, no checks beyond
//! what the types enforce. The kernel verifier has the last word.

/// Instruction classes (the low three bits of `code`).
mod class {
    pub const LD: u8 = 0x00;
    pub const LDX: u8 = 0x01;
    pub const ST: u8 = 0x02;
    pub const STX: u8 = 0x03;
    pub const ALU: u8 = 0x04;
    pub const JMP: u8 = 0x05;
    pub const JMP32: u8 = 0x06;
    pub const ALU64: u8 = 0x07;
}

/// Load/store modes.
mod mode {
    pub const IMM: u8 = 0x00;
    pub const MEM: u8 = 0x60;
    pub const ATOMIC: u8 = 0xc0;
}

/// Operand source: the immediate (`K`) or the source register (`X`).
const SRC_K: u8 = 0x00;
const SRC_X: u8 = 0x08;
/// `BPF_NEG`, `BPF_END` (with `BPF_TO_BE`), `BPF_JA`, `BPF_CALL`, `BPF_EXIT`.
const OP_NEG: u8 = 0x80;
const OP_END: u8 = 0xd0;
const TO_BE: u8 = 0x08;
const OP_JA: u8 = 0x00;
const OP_CALL: u8 = 0x80;
const OP_EXIT: u8 = 0x90;
/// `imm` of an atomic add without fetch (`lock xadd`).
const ATOMIC_ADD: i32 = 0x00;

/// `src_reg` of an `ld_imm64` whose `imm` is a map file descriptor.
pub const PSEUDO_MAP_FD: u8 = 1;

/// One of the eleven registers: r0 return value, r1-r5 arguments (clobbered
/// by calls), r6-r9 callee-saved, r10 the read-only frame pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(u8);

impl Reg {
    pub const R0: Reg = Reg(0);
    pub const R1: Reg = Reg(1);
    pub const R2: Reg = Reg(2);
    pub const R3: Reg = Reg(3);
    pub const R4: Reg = Reg(4);
    pub const R5: Reg = Reg(5);
    pub const R6: Reg = Reg(6);
    pub const R7: Reg = Reg(7);
    pub const R8: Reg = Reg(8);
    pub const R9: Reg = Reg(9);
    /// The frame pointer; the stack is the 512 bytes below it.
    pub const R10: Reg = Reg(10);

    /// Register `n`, if it exists (0..=10).
    pub const fn new(n: u8) -> Option<Reg> {
        if n <= 10 {
            Some(Reg(n))
        } else {
            None
        }
    }

    /// Its number.
    pub const fn index(self) -> u8 {
        self.0
    }
}

/// Width of a memory access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Size {
    /// 1 byte.
    B,
    /// 2 bytes.
    H,
    /// 4 bytes.
    W,
    /// 8 bytes.
    DW,
}

impl Size {
    const fn code(self) -> u8 {
        match self {
            Size::W => 0x00,
            Size::H => 0x08,
            Size::B => 0x10,
            Size::DW => 0x18,
        }
    }

    /// The access of `bytes` bytes, if one exists (1, 2, 4, 8).
    pub const fn from_bytes(bytes: u32) -> Option<Size> {
        match bytes {
            1 => Some(Size::B),
            2 => Some(Size::H),
            4 => Some(Size::W),
            8 => Some(Size::DW),
            _ => None,
        }
    }

    /// Bytes accessed.
    pub const fn bytes(self) -> u32 {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }
}

/// Arithmetic operations (`BPF_ADD` ... `BPF_ARSH`); `dst = dst OP src`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AluOp {
    Add = 0x00,
    Sub = 0x10,
    Mul = 0x20,
    /// Unsigned division; division by zero gives 0.
    Div = 0x30,
    Or = 0x40,
    And = 0x50,
    Lsh = 0x60,
    /// Logical shift right.
    Rsh = 0x70,
    /// Unsigned modulo; modulo zero leaves `dst`.
    Mod = 0x90,
    Xor = 0xa0,
    Mov = 0xb0,
    /// Arithmetic (sign-extending) shift right.
    Arsh = 0xc0,
}

/// Conditional jumps: taken when `dst OP src` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JmpOp {
    Eq = 0x10,
    /// Unsigned `>`.
    Gt = 0x20,
    /// Unsigned `>=`.
    Ge = 0x30,
    /// `dst & src != 0`.
    Set = 0x40,
    Ne = 0x50,
    /// Signed `>`.
    Sgt = 0x60,
    /// Signed `>=`.
    Sge = 0x70,
    /// Unsigned `<`.
    Lt = 0xa0,
    /// Unsigned `<=`.
    Le = 0xb0,
    /// Signed `<`.
    Slt = 0xc0,
    /// Signed `<=`.
    Sle = 0xd0,
}

/// Kernel helper functions by their `enum bpf_func_id` number (uapi
/// `___BPF_FUNC_MAPPER`). Arguments go in r1-r5, the result comes back in r0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Helper {
    /// `void *(map, key)`: value pointer or NULL.
    MapLookupElem = 1,
    /// `long (map, key, value, flags)`.
    MapUpdateElem = 2,
    /// `long (map, key)`.
    MapDeleteElem = 3,
    /// `long (dst, size, unsafe_ptr)`: the old, address-space-agnostic read.
    ProbeRead = 4,
    /// `u64 ()`: CLOCK_MONOTONIC nanoseconds.
    KtimeGetNs = 5,
    /// `long (fmt, fmt_size, ...)`: debug output to trace_pipe.
    TracePrintk = 6,
    /// `u32 ()`.
    GetSmpProcessorId = 8,
    /// `u64 ()`: `tgid << 32 | pid` (bpftrace's `pid` is the upper half).
    GetCurrentPidTgid = 14,
    /// `u64 ()`: `gid << 32 | uid`.
    GetCurrentUidGid = 15,
    /// `long (buf, size)`: the task's comm, NUL-padded.
    GetCurrentComm = 16,
    /// `long (ctx, map, flags, data, size)`.
    PerfEventOutput = 25,
    /// `long (ctx, map, flags)`: stack id in a STACK_TRACE map.
    GetStackid = 27,
    /// `u64 ()`: the `struct task_struct *` of the current task.
    GetCurrentTask = 35,
    /// `long (dst, size, unsafe_ptr)`.
    ProbeReadStr = 45,
    /// `long (ctx, buf, size, flags)`.
    GetStack = 67,
    /// `u64 ()`.
    GetCurrentCgroupId = 80,
    /// `long (sig)`.
    SendSignal = 109,
    /// `long (dst, size, user_ptr)`.
    ProbeReadUser = 112,
    /// `long (dst, size, kernel_ptr)`.
    ProbeReadKernel = 113,
    /// `long (dst, size, user_ptr)`: length including the NUL, or < 0.
    ProbeReadUserStr = 114,
    /// `long (dst, size, kernel_ptr)`.
    ProbeReadKernelStr = 115,
    /// `u64 ()`: CLOCK_BOOTTIME nanoseconds.
    KtimeGetBootNs = 125,
    /// `long (ringbuf, data, size, flags)`.
    RingbufOutput = 130,
    /// `void *(ringbuf, size, flags)`.
    RingbufReserve = 131,
    /// `void (data, flags)`.
    RingbufSubmit = 132,
    /// `void (data, flags)`.
    RingbufDiscard = 133,
    /// `u64 (ctx)`: address of the probed function.
    GetFuncIp = 173,
}

/// One instruction, in the fields of `struct bpf_insn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Insn {
    /// Class, size/op and mode/source bits.
    pub code: u8,
    /// Destination register (low nibble of byte 1).
    pub dst: u8,
    /// Source register (high nibble of byte 1).
    pub src: u8,
    /// Signed offset: memory displacement or jump distance in instructions.
    pub off: i16,
    /// Signed immediate.
    pub imm: i32,
}

impl Insn {
    /// An instruction from its raw fields.
    pub const fn new(code: u8, dst: Reg, src: Reg, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            dst: dst.0,
            src: src.0,
            off,
            imm,
        }
    }

    /// The 8 bytes the kernel reads (little-endian, as on x86-64 and arm64).
    pub fn to_bytes(&self) -> [u8; 8] {
        let off = self.off.to_le_bytes();
        let imm = self.imm.to_le_bytes();
        [
            self.code,
            (self.src << 4) | (self.dst & 0x0f),
            off[0],
            off[1],
            imm[0],
            imm[1],
            imm[2],
            imm[3],
        ]
    }

    /// Decodes 8 bytes (the inverse of [`Insn::to_bytes`]).
    pub fn from_bytes(bytes: [u8; 8]) -> Insn {
        Insn {
            code: bytes[0],
            dst: bytes[1] & 0x0f,
            src: bytes[1] >> 4,
            off: i16::from_le_bytes([bytes[2], bytes[3]]),
            imm: i32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
        }
    }

    /// `dst = dst OP imm` on 64 bits (imm sign-extended).
    pub const fn alu64_imm(op: AluOp, dst: Reg, imm: i32) -> Insn {
        Insn::new(class::ALU64 | op as u8 | SRC_K, dst, Reg::R0, 0, imm)
    }

    /// `dst = dst OP src` on 64 bits.
    pub const fn alu64_reg(op: AluOp, dst: Reg, src: Reg) -> Insn {
        Insn::new(class::ALU64 | op as u8 | SRC_X, dst, src, 0, 0)
    }

    /// `dst = (u32)dst OP imm`, upper half zeroed.
    pub const fn alu32_imm(op: AluOp, dst: Reg, imm: i32) -> Insn {
        Insn::new(class::ALU | op as u8 | SRC_K, dst, Reg::R0, 0, imm)
    }

    /// `dst = (u32)dst OP (u32)src`, upper half zeroed.
    pub const fn alu32_reg(op: AluOp, dst: Reg, src: Reg) -> Insn {
        Insn::new(class::ALU | op as u8 | SRC_X, dst, src, 0, 0)
    }

    /// `dst = imm` (sign-extended to 64 bits).
    pub const fn mov64_imm(dst: Reg, imm: i32) -> Insn {
        Insn::alu64_imm(AluOp::Mov, dst, imm)
    }

    /// `dst = src`.
    pub const fn mov64_reg(dst: Reg, src: Reg) -> Insn {
        Insn::alu64_reg(AluOp::Mov, dst, src)
    }

    /// `dst = (u32)imm`.
    pub const fn mov32_imm(dst: Reg, imm: i32) -> Insn {
        Insn::alu32_imm(AluOp::Mov, dst, imm)
    }

    /// `dst = (u32)src`: also the way to zero-extend the low half.
    pub const fn mov32_reg(dst: Reg, src: Reg) -> Insn {
        Insn::alu32_reg(AluOp::Mov, dst, src)
    }

    /// `dst = -dst` on 64 bits.
    pub const fn neg64(dst: Reg) -> Insn {
        Insn::new(class::ALU64 | OP_NEG | SRC_K, dst, Reg::R0, 0, 0)
    }

    /// Converts the low `bits` (16, 32 or 64) of `dst` to big-endian
    /// (network order, e.g. ports), zeroing the rest.
    pub const fn to_be(dst: Reg, bits: i32) -> Insn {
        Insn::new(class::ALU | OP_END | TO_BE, dst, Reg::R0, 0, bits)
    }

    /// `dst = *(size *)(src + off)`, zero-extended.
    pub const fn ldx(size: Size, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::new(class::LDX | mode::MEM | size.code(), dst, src, off, 0)
    }

    /// `*(size *)(dst + off) = src`.
    pub const fn stx(size: Size, dst: Reg, off: i16, src: Reg) -> Insn {
        Insn::new(class::STX | mode::MEM | size.code(), dst, src, off, 0)
    }

    /// `*(size *)(dst + off) = imm`.
    pub const fn st(size: Size, dst: Reg, off: i16, imm: i32) -> Insn {
        Insn::new(class::ST | mode::MEM | size.code(), dst, Reg::R0, off, imm)
    }

    /// `lock *(size *)(dst + off) += src` (`size` W or DW): a shared counter
    /// safe across CPUs.
    pub const fn atomic_add(size: Size, dst: Reg, off: i16, src: Reg) -> Insn {
        Insn::new(
            class::STX | mode::ATOMIC | size.code(),
            dst,
            src,
            off,
            ATOMIC_ADD,
        )
    }

    /// `if dst OP imm goto +off` on 64 bits (imm sign-extended).
    pub const fn jmp_imm(op: JmpOp, dst: Reg, imm: i32, off: i16) -> Insn {
        Insn::new(class::JMP | op as u8 | SRC_K, dst, Reg::R0, off, imm)
    }

    /// `if dst OP src goto +off` on 64 bits.
    pub const fn jmp_reg(op: JmpOp, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::new(class::JMP | op as u8 | SRC_X, dst, src, off, 0)
    }

    /// `if (u32)dst OP imm goto +off`.
    pub const fn jmp32_imm(op: JmpOp, dst: Reg, imm: i32, off: i16) -> Insn {
        Insn::new(class::JMP32 | op as u8 | SRC_K, dst, Reg::R0, off, imm)
    }

    /// `if (u32)dst OP (u32)src goto +off`.
    pub const fn jmp32_reg(op: JmpOp, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::new(class::JMP32 | op as u8 | SRC_X, dst, src, off, 0)
    }

    /// `goto +off`.
    pub const fn ja(off: i16) -> Insn {
        Insn::new(class::JMP | OP_JA, Reg::R0, Reg::R0, off, 0)
    }

    /// Calls a kernel helper; clobbers r1-r5, result in r0.
    pub const fn call(helper: Helper) -> Insn {
        Insn::new(class::JMP | OP_CALL, Reg::R0, Reg::R0, 0, helper as i32)
    }

    /// Returns r0.
    pub const fn exit() -> Insn {
        Insn::new(class::JMP | OP_EXIT, Reg::R0, Reg::R0, 0, 0)
    }

    /// `dst = value`: the one 16-byte instruction (two slots; the second
    /// carries the upper 32 bits).
    pub const fn ld_imm64(dst: Reg, value: u64) -> [Insn; 2] {
        Insn::ld_imm64_src(dst, Reg::R0, value)
    }

    /// `dst = map` for map helpers: `ld_imm64` with `src = BPF_PSEUDO_MAP_FD`
    /// and the map's file descriptor, which the kernel swaps for the map.
    pub const fn ld_map_fd(dst: Reg, fd: i32) -> [Insn; 2] {
        Insn::ld_imm64_src(dst, Reg(PSEUDO_MAP_FD), fd as u32 as u64)
    }

    const fn ld_imm64_src(dst: Reg, src: Reg, value: u64) -> [Insn; 2] {
        [
            Insn::new(
                class::LD | mode::IMM | Size::DW.code(),
                dst,
                src,
                0,
                value as u32 as i32,
            ),
            Insn::new(0, Reg::R0, Reg::R0, 0, (value >> 32) as u32 as i32),
        ]
    }
}

/// The byte image of a program, as `BPF_PROG_LOAD` takes it.
pub fn encode(insns: &[Insn]) -> Vec<u8> {
    insns.iter().flat_map(Insn::to_bytes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden bytes, derived by hand from the uapi opcode values
    /// (class | op/size | mode/source; byte 1 = src << 4 | dst).
    fn bytes(insn: Insn) -> [u8; 8] {
        insn.to_bytes()
    }

    #[test]
    fn alu_and_mov() {
        assert_eq!(
            bytes(Insn::mov64_imm(Reg::R0, 0)),
            [0xb7, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::mov64_reg(Reg::R6, Reg::R1)),
            [0xbf, 0x16, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::mov32_imm(Reg::R1, -1)),
            [0xb4, 0x01, 0, 0, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            bytes(Insn::mov32_reg(Reg::R2, Reg::R3)),
            [0xbc, 0x32, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::alu64_imm(AluOp::Add, Reg::R2, -4)),
            [0x07, 0x02, 0, 0, 0xfc, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            bytes(Insn::alu64_imm(AluOp::Rsh, Reg::R0, 32)),
            [0x77, 0, 0, 0, 32, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::alu64_reg(AluOp::Sub, Reg::R1, Reg::R2)),
            [0x1f, 0x21, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::alu32_imm(AluOp::And, Reg::R3, 0xff)),
            [0x54, 0x03, 0, 0, 0xff, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::alu32_reg(AluOp::Xor, Reg::R4, Reg::R5)),
            [0xac, 0x54, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::alu64_imm(AluOp::Arsh, Reg::R7, 3)),
            [0xc7, 0x07, 0, 0, 3, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::alu64_imm(AluOp::Mod, Reg::R1, 10)),
            [0x97, 0x01, 0, 0, 10, 0, 0, 0]
        );
        assert_eq!(bytes(Insn::neg64(Reg::R1)), [0x87, 0x01, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            bytes(Insn::to_be(Reg::R1, 16)),
            [0xdc, 0x01, 0, 0, 16, 0, 0, 0]
        );
    }

    #[test]
    fn memory() {
        assert_eq!(
            bytes(Insn::ldx(Size::DW, Reg::R1, Reg::R0, 0)),
            [0x79, 0x01, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::ldx(Size::W, Reg::R2, Reg::R6, 24)),
            [0x61, 0x62, 24, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::ldx(Size::H, Reg::R2, Reg::R6, 26)),
            [0x69, 0x62, 26, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::ldx(Size::B, Reg::R2, Reg::R6, 1)),
            [0x71, 0x62, 1, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::stx(Size::W, Reg::R10, -4, Reg::R0)),
            [0x63, 0x0a, 0xfc, 0xff, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::stx(Size::DW, Reg::R10, -8, Reg::R1)),
            [0x7b, 0x1a, 0xf8, 0xff, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::st(Size::DW, Reg::R10, -16, 1)),
            [0x7a, 0x0a, 0xf0, 0xff, 1, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::st(Size::B, Reg::R10, -1, 0)),
            [0x72, 0x0a, 0xff, 0xff, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::st(Size::H, Reg::R10, -2, 7)),
            [0x6a, 0x0a, 0xfe, 0xff, 7, 0, 0, 0]
        );
        // lock xadd: BPF_STX | BPF_ATOMIC | BPF_DW, imm = BPF_ADD.
        assert_eq!(
            bytes(Insn::atomic_add(Size::DW, Reg::R0, 8, Reg::R1)),
            [0xdb, 0x10, 8, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::atomic_add(Size::W, Reg::R0, 0, Reg::R1)),
            [0xc3, 0x10, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn jumps_calls_exit() {
        assert_eq!(
            bytes(Insn::jmp_imm(JmpOp::Ne, Reg::R0, 42, 3)),
            [0x55, 0, 3, 0, 42, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, -2)),
            [0x15, 0, 0xfe, 0xff, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::jmp_reg(JmpOp::Gt, Reg::R1, Reg::R2, 1)),
            [0x2d, 0x21, 1, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::jmp_reg(JmpOp::Sle, Reg::R1, Reg::R2, 1)),
            [0xdd, 0x21, 1, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::jmp_imm(JmpOp::Set, Reg::R3, 1, 5)),
            [0x45, 0x03, 5, 0, 1, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::jmp32_imm(JmpOp::Ne, Reg::R0, 7, 1)),
            [0x56, 0, 1, 0, 7, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::jmp32_reg(JmpOp::Lt, Reg::R1, Reg::R2, 4)),
            [0xae, 0x21, 4, 0, 0, 0, 0, 0]
        );
        assert_eq!(bytes(Insn::ja(2)), [0x05, 0, 2, 0, 0, 0, 0, 0]);
        assert_eq!(
            bytes(Insn::call(Helper::GetCurrentPidTgid)),
            [0x85, 0, 0, 0, 14, 0, 0, 0]
        );
        assert_eq!(
            bytes(Insn::call(Helper::ProbeReadUserStr)),
            [0x85, 0, 0, 0, 114, 0, 0, 0]
        );
        assert_eq!(bytes(Insn::exit()), [0x95, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn wide_loads() {
        let [lo, hi] = Insn::ld_imm64(Reg::R2, 0x1122_3344_5566_7788);
        assert_eq!(bytes(lo), [0x18, 0x02, 0, 0, 0x88, 0x77, 0x66, 0x55]);
        assert_eq!(bytes(hi), [0, 0, 0, 0, 0x44, 0x33, 0x22, 0x11]);
        let [lo, hi] = Insn::ld_map_fd(Reg::R1, 5);
        assert_eq!(bytes(lo), [0x18, 0x11, 0, 0, 5, 0, 0, 0]);
        assert_eq!(bytes(hi), [0; 8]);
    }

    #[test]
    fn helper_ids_match_uapi() {
        let ids = [
            (Helper::MapLookupElem, 1),
            (Helper::MapUpdateElem, 2),
            (Helper::MapDeleteElem, 3),
            (Helper::KtimeGetNs, 5),
            (Helper::TracePrintk, 6),
            (Helper::GetSmpProcessorId, 8),
            (Helper::GetCurrentPidTgid, 14),
            (Helper::GetCurrentUidGid, 15),
            (Helper::GetCurrentComm, 16),
            (Helper::PerfEventOutput, 25),
            (Helper::GetStackid, 27),
            (Helper::GetCurrentTask, 35),
            (Helper::GetStack, 67),
            (Helper::ProbeReadUser, 112),
            (Helper::ProbeReadKernel, 113),
            (Helper::ProbeReadUserStr, 114),
            (Helper::ProbeReadKernelStr, 115),
            (Helper::KtimeGetBootNs, 125),
            (Helper::RingbufOutput, 130),
            (Helper::GetFuncIp, 173),
        ];
        for (helper, id) in ids {
            assert_eq!(Insn::call(helper).imm, id, "{helper:?}");
        }
    }

    #[test]
    fn round_trip_and_encode() {
        let prog = [
            Insn::mov64_reg(Reg::R6, Reg::R1),
            Insn::jmp_imm(JmpOp::Sge, Reg::R9, -100, -7),
            Insn::exit(),
        ];
        for insn in prog {
            assert_eq!(Insn::from_bytes(insn.to_bytes()), insn);
        }
        let image = encode(&prog);
        assert_eq!(image.len(), 24);
        assert_eq!(&image[16..], &[0x95, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Reg::new(11), None);
        assert_eq!(Reg::new(10), Some(Reg::R10));
        assert_eq!(Size::from_bytes(4), Some(Size::W));
        assert_eq!(Size::from_bytes(3), None);
    }
}
