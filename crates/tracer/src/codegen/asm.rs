//! A tiny assembler: instructions plus forward/backward labels, resolved to
//! relative jump offsets at the end. Knows nothing of the language.

use bpf::insn::Insn;

/// A jump target created before it is placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(usize);

/// Instructions being emitted.
#[derive(Default)]
pub struct Asm {
    insns: Vec<Insn>,
    labels: Vec<Option<usize>>,
    fixups: Vec<(usize, Label)>,
}

impl Asm {
    /// Appends one instruction.
    pub fn push(&mut self, insn: Insn) {
        self.insns.push(insn);
    }

    /// Appends a two-slot instruction (`ld_imm64`, `ld_map_fd`).
    pub fn wide(&mut self, pair: [Insn; 2]) {
        self.insns.extend(pair);
    }

    /// A new, unplaced label.
    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Places `label` at the next instruction.
    pub fn bind(&mut self, label: Label) {
        self.labels[label.0] = Some(self.insns.len());
    }

    /// Appends a jump (built with offset 0) to `label`.
    pub fn jump(&mut self, insn: Insn, label: Label) {
        self.fixups.push((self.insns.len(), label));
        self.insns.push(insn);
    }

    /// Resolves jumps; None if a label was never placed or a jump is too far.
    pub fn finish(mut self) -> Option<Vec<Insn>> {
        for &(at, label) in &self.fixups {
            let target = self.labels[label.0]?;
            let off = i16::try_from(target as i64 - at as i64 - 1).ok()?;
            self.insns[at].off = off;
        }
        Some(self.insns)
    }
}
