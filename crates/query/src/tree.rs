//! The call tree of a profile under one value view: what a flamegraph draws.
//!
//! Nodes are keyed by frame name along the path from the root (inlined frames
//! expanded as in [`model::Profile::stack_names`]); children are sorted by name
//! so output is deterministic. Building is one pass over the samples with
//! interned names, no allocation or hashing per frame. Not a renderer.

use crate::stacks::{FrameNames, FrameRef, NameId};
use crate::view::ValueView;
use model::{FrameKind, Profile};
use std::collections::HashMap;

/// Index into [`CallTree::nodes`]; the root is 0.
pub type NodeId = usize;

/// Name of the root node, which holds the grand total.
pub const ROOT_NAME: &str = "all";

/// One node: a frame reached by one path of callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallNode {
    /// Frame name (function, or hex address when unsymbolized); [`ROOT_NAME`] for the root.
    pub name: String,
    /// Kind of the first frame seen at this node (frames of one name rarely differ).
    pub kind: FrameKind,
    /// Value of all samples whose stack passes through this node, in the view's unit.
    pub total: i64,
    /// Value of the samples whose stack ends at this node, in the view's unit.
    pub self_value: i64,
    /// Child node ids, sorted by name.
    pub children: Vec<NodeId>,
}

/// The call tree of one profile under one view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTree {
    /// All nodes; `nodes[0]` is the root.
    pub nodes: Vec<CallNode>,
}

impl CallTree {
    /// Builds the tree of `profile` with values of `view`. Samples whose value
    /// is 0 in this view add nothing (and create no nodes).
    pub fn new(profile: &Profile, view: ValueView) -> Self {
        let names = FrameNames::new(profile);
        let extractor = view.extractor(profile);
        let mut builder = Builder::default();
        let mut stack: Vec<FrameRef> = Vec::new();
        for sample in &profile.samples {
            let value = extractor.value(sample);
            if value == 0 {
                continue;
            }
            names.stack_into(sample, &mut stack);
            builder.add(&stack, value);
        }
        builder.finish(&names)
    }

    /// The root node (grand total).
    pub fn root(&self) -> &CallNode {
        &self.nodes[0]
    }

    /// The node with id `id`.
    pub fn node(&self, id: NodeId) -> Option<&CallNode> {
        self.nodes.get(id)
    }

    /// Children of node `id`, sorted by name.
    pub fn children(&self, id: NodeId) -> impl Iterator<Item = &CallNode> {
        self.nodes
            .get(id)
            .into_iter()
            .flat_map(|n| n.children.iter())
            .filter_map(|&c| self.nodes.get(c))
    }

    /// The grand total of the view's values.
    pub fn total(&self) -> i64 {
        self.root().total
    }

    /// The child of `id` named `name`, if any.
    pub fn child_named(&self, id: NodeId, name: &str) -> Option<NodeId> {
        let node = self.nodes.get(id)?;
        node.children
            .binary_search_by(|&c| self.nodes[c].name.as_str().cmp(name))
            .ok()
            .map(|i| node.children[i])
    }

    /// The node at the end of `path` (names from the root's child down), if any.
    pub fn find(&self, path: &[&str]) -> Option<NodeId> {
        path.iter()
            .try_fold(0, |node, name| self.child_named(node, name))
    }
}

/// A node while building: children with their interned names.
#[derive(Default)]
struct RawNode {
    name: NameId,
    kind: FrameKind,
    total: i64,
    self_value: i64,
    children: Vec<(NameId, NodeId)>,
}

/// Fan-out up to which children are found by a linear scan (faster than
/// hashing for the few children most nodes have); wider nodes use `wide`.
const SCAN_CHILDREN: usize = 16;

#[derive(Default)]
struct Builder {
    nodes: Vec<RawNode>,
    /// Children of nodes with more than [`SCAN_CHILDREN`] children.
    wide: HashMap<(NodeId, NameId), NodeId>,
}

impl Builder {
    fn child(&mut self, node: NodeId, frame: &FrameRef) -> NodeId {
        let children = &self.nodes[node].children;
        let found = if children.len() <= SCAN_CHILDREN {
            children
                .iter()
                .find(|(name, _)| *name == frame.name)
                .map(|&(_, c)| c)
        } else {
            self.wide.get(&(node, frame.name)).copied()
        };
        if let Some(c) = found {
            return c;
        }
        let c = self.nodes.len();
        self.nodes.push(RawNode {
            name: frame.name,
            kind: frame.kind,
            ..RawNode::default()
        });
        let children = &mut self.nodes[node].children;
        children.push((frame.name, c));
        if children.len() == SCAN_CHILDREN + 1 {
            self.wide
                .extend(children.iter().map(|&(name, child)| ((node, name), child)));
        } else if children.len() > SCAN_CHILDREN + 1 {
            self.wide.insert((node, frame.name), c);
        }
        c
    }

    fn add(&mut self, stack: &[FrameRef], value: i64) {
        if self.nodes.is_empty() {
            self.nodes.push(RawNode::default());
        }
        self.nodes[0].total += value;
        let mut node = 0;
        for frame in stack {
            node = self.child(node, frame);
            self.nodes[node].total += value;
        }
        self.nodes[node].self_value += value;
    }

    fn finish(mut self, names: &FrameNames) -> CallTree {
        if self.nodes.is_empty() {
            self.nodes.push(RawNode::default());
        }
        // Rank of every name in sort order, so children sort by integer.
        let mut order: Vec<NameId> = (0..names.len() as NameId).collect();
        order.sort_by(|&a, &b| names.name(a).cmp(names.name(b)));
        let mut rank = vec![0u32; names.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        let nodes = self
            .nodes
            .into_iter()
            .enumerate()
            .map(|(i, mut raw)| {
                raw.children
                    .sort_unstable_by_key(|&(name, _)| rank.get(name as usize).copied());
                let root = i == 0;
                CallNode {
                    name: if root {
                        ROOT_NAME.to_string()
                    } else {
                        names.name(raw.name).to_string()
                    },
                    kind: if root { FrameKind::Synthetic } else { raw.kind },
                    total: raw.total,
                    self_value: raw.self_value,
                    children: raw.children.into_iter().map(|(_, c)| c).collect(),
                }
            })
            .collect();
        CallTree { nodes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::profile_of;

    #[test]
    fn totals_and_self_values_add_up() {
        let p = profile_of(&[
            (&["main", "b", "leaf"], 30),
            (&["main", "a"], 60),
            (&["main"], 10),
        ]);
        let tree = CallTree::new(&p, ValueView::Cpu);
        assert_eq!(tree.total(), 100);
        let main = tree.find(&["main"]).unwrap();
        assert_eq!(tree.nodes[main].total, 100);
        assert_eq!(tree.nodes[main].self_value, 10);
        let names: Vec<&str> = tree.children(main).map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["a", "b"], "children sorted by name");
        let leaf = tree.find(&["main", "b", "leaf"]).unwrap();
        assert_eq!(tree.nodes[leaf].self_value, 30);
        assert_eq!(tree.find(&["main", "c"]), None);
    }

    #[test]
    fn view_selects_values() {
        let p = profile_of(&[(&["main", "a"], 60), (&["main", "b"], 40)]);
        let tree = CallTree::new(&p, ValueView::Samples);
        assert_eq!(tree.total(), 2);
        let empty = CallTree::new(&p, ValueView::OffCpu);
        assert_eq!(empty.total(), 0);
        assert_eq!(empty.nodes.len(), 1);
    }

    #[test]
    fn recursion_makes_nested_nodes() {
        let p = profile_of(&[(&["main", "f", "f", "f"], 5)]);
        let tree = CallTree::new(&p, ValueView::Cpu);
        let deepest = tree.find(&["main", "f", "f", "f"]).unwrap();
        assert_eq!(tree.nodes[deepest].self_value, 5);
        assert_eq!(tree.nodes.len(), 5);
    }

    #[test]
    fn wide_fan_out_keeps_every_child() {
        let names: Vec<String> = (0..40).map(|i| format!("f{i:02}")).collect();
        let stacks: Vec<[&str; 2]> = names.iter().map(|n| ["main", n.as_str()]).collect();
        let mut input: Vec<(&[&str], i64)> = stacks.iter().map(|s| (&s[..], 1)).collect();
        input.extend(stacks.iter().map(|s| (&s[..], 2)));
        let p = profile_of(&input);
        let tree = CallTree::new(&p, ValueView::Cpu);
        let main = tree.find(&["main"]).unwrap();
        let children: Vec<(&str, i64)> = tree
            .children(main)
            .map(|n| (n.name.as_str(), n.total))
            .collect();
        assert_eq!(children.len(), 40);
        assert!(children.iter().all(|&(_, t)| t == 3));
        assert!(children.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn a_million_samples_build_quickly() {
        let mut p = profile_of(&[
            (&["main", "work", "hot_a"], 1),
            (&["main", "work", "hot_b"], 1),
            (&["main", "idle"], 1),
        ]);
        let template = p.samples.clone();
        p.samples = (0..1_000_000)
            .map(|i| template[i % template.len()].clone())
            .collect();
        let start = std::time::Instant::now();
        let tree = CallTree::new(&p, ValueView::Cpu);
        let elapsed = start.elapsed();
        assert_eq!(tree.total(), 1_000_000);
        // Generous bound: debug build on a busy 2-core machine.
        assert!(elapsed.as_secs_f64() < 5.0, "took {elapsed:?}");
    }
}
