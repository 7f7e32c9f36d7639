//! Analysis over the model: what views ask of the data.
//!
//! For profiles: which value to show (`view`), the call tree (`tree`), the top
//! functions (`top`) and the comparison of two profiles (`diff`). No I/O and no
//! rendering here; `stacks` is the shared fast path that expands every location
//! into frame names once, so the analyses never allocate per sample.
//!
//! For traces (`trace`): the span tree, self times, critical path, per-operation
//! statistics, the trace summary and the comparison of two traces.

pub mod diff;
pub mod stacks;
pub mod top;
pub mod trace;
pub mod tree;
pub mod view;

pub use diff::{diff_tree, top_changes, ChangeRow, DiffNode, DiffTree};
pub use stacks::{FrameNames, NameId};
pub use top::{top_functions, TopRow};
pub use tree::{CallNode, CallTree, NodeId};
pub use view::{ParseViewError, ValueExtractor, ValueView};

#[cfg(test)]
pub(crate) mod test_support {
    //! Small hand-built profiles for the unit tests.
    use model::{FrameKind, Profile, ProfileBuilder, Sample, SampleLabels, ValueType};

    /// A profile from `(stack root-first, cpu value)` pairs; each sample also counts 1.
    pub(crate) fn profile_of(stacks: &[(&[&str], i64)]) -> Profile {
        let mut b = ProfileBuilder::new(vec![
            ValueType::new("samples", "count"),
            ValueType::new("cpu", "nanoseconds"),
        ]);
        for (stack, value) in stacks {
            let locations = stack
                .iter()
                .rev()
                .map(|n| b.named_location(n, "", 0, FrameKind::User))
                .collect();
            b.add_sample(Sample {
                locations,
                values: vec![1, *value],
                labels: SampleLabels::default(),
            });
        }
        b.finish()
    }
}
