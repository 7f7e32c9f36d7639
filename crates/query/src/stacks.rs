//! Frame names of a profile, expanded once per location: the shared fast path
//! of the call tree, top table and diff.
//!
//! Expands inlined lines the way [`model::Profile::stack_names`] does (caller
//! first, unsymbolized locations named by hex address) but interns the names so
//! walking a million samples allocates nothing. Not a symbolizer.

use model::{FrameKind, Profile, Sample};
use std::collections::HashMap;

/// Index into [`FrameNames`]' string table.
pub type NameId = u32;

/// One frame of an expanded stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameRef {
    /// Function name (or hex address when unsymbolized).
    pub name: NameId,
    /// Source file of the function, the empty string when unknown.
    pub filename: NameId,
    /// Source line, 0 when unknown.
    pub line: u32,
    /// Kernel, user, JIT or synthetic.
    pub kind: FrameKind,
    /// Id of this (name, filename, line) triple, below [`FrameNames::line_count`].
    pub line_key: u32,
}

/// Interned frame names of every location of one profile.
#[derive(Debug, Clone, Default)]
pub struct FrameNames {
    strings: Vec<String>,
    frames: Vec<FrameRef>,
    /// `frames[offsets[l]..offsets[l + 1]]` are location `l`'s frames, caller first.
    offsets: Vec<usize>,
    /// (name, filename, line) of every [`FrameRef::line_key`].
    lines: Vec<(NameId, NameId, u32)>,
}

/// Interns strings into a table.
#[derive(Default)]
struct Interner<'a> {
    ids: HashMap<&'a str, NameId>,
    strings: Vec<String>,
}

impl<'a> Interner<'a> {
    fn intern(&mut self, s: &'a str) -> NameId {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.strings.len() as NameId;
        self.strings.push(s.to_string());
        self.ids.insert(s, id);
        id
    }

    fn intern_owned(&mut self, s: String) -> NameId {
        let id = self.strings.len() as NameId;
        self.strings.push(s);
        id
    }
}

impl FrameNames {
    /// Expands and interns the frames of every location of `profile`.
    pub fn new(profile: &Profile) -> Self {
        let mut interner = Interner::default();
        let empty = interner.intern("");
        let functions: Vec<(NameId, NameId)> = profile
            .functions
            .iter()
            .map(|f| (interner.intern(&f.name), interner.intern(&f.filename)))
            .collect();
        let mut addresses: HashMap<u64, NameId> = HashMap::new();
        let mut line_keys: HashMap<(NameId, NameId, u32), u32> = HashMap::new();
        let mut lines: Vec<(NameId, NameId, u32)> = Vec::new();
        let mut line_key = |triple: (NameId, NameId, u32)| {
            *line_keys.entry(triple).or_insert_with(|| {
                lines.push(triple);
                (lines.len() - 1) as u32
            })
        };
        let mut frames = Vec::with_capacity(profile.locations.len());
        let mut offsets = Vec::with_capacity(profile.locations.len() + 1);
        offsets.push(0);
        for location in &profile.locations {
            if location.lines.is_empty() {
                let name = *addresses
                    .entry(location.address)
                    .or_insert_with(|| interner.intern_owned(format!("{:#x}", location.address)));
                frames.push(FrameRef {
                    name,
                    filename: empty,
                    line: 0,
                    kind: location.kind,
                    line_key: line_key((name, empty, 0)),
                });
            } else {
                for line in location.lines.iter().rev() {
                    if let Some(&(name, filename)) = functions.get(line.function) {
                        frames.push(FrameRef {
                            name,
                            filename,
                            line: line.line,
                            kind: location.kind,
                            line_key: line_key((name, filename, line.line)),
                        });
                    }
                }
            }
            offsets.push(frames.len());
        }
        Self {
            strings: interner.strings,
            frames,
            offsets,
            lines,
        }
    }

    /// Number of distinct (name, filename, line) triples.
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// The (name, filename, line) of a [`FrameRef::line_key`].
    pub fn line(&self, line_key: u32) -> Option<(NameId, NameId, u32)> {
        self.lines.get(line_key as usize).copied()
    }

    /// The string of an interned name.
    pub fn name(&self, id: NameId) -> &str {
        self.strings.get(id as usize).map_or("", String::as_str)
    }

    /// Number of interned strings (every [`NameId`] is below this).
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Whether no string is interned (never true after [`FrameNames::new`]).
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    /// Frames of one location, caller first; empty for an unknown location id.
    pub fn location(&self, location: usize) -> &[FrameRef] {
        match (self.offsets.get(location), self.offsets.get(location + 1)) {
            (Some(&a), Some(&b)) => &self.frames[a..b],
            _ => &[],
        }
    }

    /// Fills `out` with the frames of `sample`, root first (clearing it first).
    pub fn stack_into(&self, sample: &Sample, out: &mut Vec<FrameRef>) {
        out.clear();
        for &location in sample.locations.iter().rev() {
            out.extend_from_slice(self.location(location));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Line, Location, ProfileBuilder, SampleLabels, ValueType};

    #[test]
    fn matches_model_stack_names() {
        let mut b = ProfileBuilder::new(vec![ValueType::new("samples", "count")]);
        let main = b.named_location("main", "main.rs", 1, FrameKind::User);
        let outer = b.function_named("outer", "lib.rs");
        let inner = b.function_named("inner", "lib.rs");
        let inlined = b.location(Location {
            mapping: None,
            address: 0x20,
            lines: vec![
                Line {
                    function: inner,
                    line: 9,
                },
                Line {
                    function: outer,
                    line: 4,
                },
            ],
            kind: FrameKind::User,
        });
        let raw = b.location(Location {
            mapping: None,
            address: 0xdead,
            lines: vec![],
            kind: FrameKind::Kernel,
        });
        b.add_sample(Sample {
            locations: vec![raw, inlined, main],
            values: vec![1],
            labels: SampleLabels::default(),
        });
        let p = b.finish();
        let names = FrameNames::new(&p);
        let mut stack = Vec::new();
        names.stack_into(&p.samples[0], &mut stack);
        let got: Vec<&str> = stack.iter().map(|f| names.name(f.name)).collect();
        assert_eq!(got, p.stack_names(&p.samples[0]));
        assert_eq!(stack[2].line, 9);
        assert_eq!(names.name(stack[2].filename), "lib.rs");
        assert_eq!(stack[3].kind, FrameKind::Kernel);
    }
}
