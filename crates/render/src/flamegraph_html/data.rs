//! The profile as a flamegraph page embeds it: compact JSON with interned
//! strings, a frame table and a stack prefix tree (root first), one value
//! array per sample type, and interned labels.
//!
//! The page's script builds every view's call tree from this; `read` turns it
//! back into a `Profile`. Mappings and addresses of symbolized frames are not
//! kept (a flamegraph needs names, files and lines). Not the HTML around it.

use model::{FrameKind, Profile, SampleLabels};
use query::stacks::FrameRef;
use query::{FrameNames, ValueExtractor, ValueView};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// `format` field of an embedded profile.
pub(crate) const FORMAT: &str = "whyslow-profile";
/// `version` field this code writes and reads.
pub(crate) const VERSION: u32 = 1;

/// A value view the page can switch to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ViewData {
    /// `--view` spelling: `samples`, `cpu`, `off-cpu`, `wall`.
    pub name: String,
    /// Columns of [`ProfileData::sample_types`] whose values add up to the view's value.
    pub columns: Vec<usize>,
    /// Unit of the values (`count`, `nanoseconds`, …).
    pub unit: String,
}

/// The samples, column by column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SamplesData {
    /// Leaf stack of each sample (index into the stack table), -1 for an empty stack.
    pub stack: Vec<i64>,
    /// Label of each sample (index into [`ProfileData::labels`]).
    pub label: Vec<u32>,
    /// `values[column][sample]`, columns aligned with [`ProfileData::sample_types`].
    pub values: Vec<Vec<i64>>,
}

/// Everything a flamegraph page embeds about one profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ProfileData {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`] when written by this code.
    pub version: u32,
    /// Title shown in the page header.
    pub title: String,
    /// The view shown first.
    pub view: String,
    /// Views the profile has values for.
    pub views: Vec<ViewData>,
    /// `[kind, unit]` of each value column.
    pub sample_types: Vec<(String, String)>,
    /// `[kind, unit]` of the sampling period, if known.
    pub period_type: Option<(String, String)>,
    /// Sampling period in `period_type` units.
    pub period: i64,
    /// Recording start, nanoseconds since the Unix epoch (0 when unknown).
    pub start_time_ns: i64,
    /// Recording length in nanoseconds (0 when unknown).
    pub duration_ns: i64,
    /// Free-form notes (event, lost samples).
    pub comments: Vec<String>,
    /// String table: frame names, file names, thread names.
    pub strings: Vec<String>,
    /// Frames as `[name, file, line, kind]`; names and files index `strings`,
    /// kind is 0 user, 1 kernel, 2 JIT, 3 synthetic.
    pub frames: Vec<(u32, u32, u32, u8)>,
    /// Distance back to each stack entry's parent (`entry - parent`), 0 for a
    /// root frame: entries are created depth first, so most distances are 1.
    pub stack_parent_delta: Vec<u32>,
    /// Frame of each stack entry.
    pub stack_frame: Vec<u32>,
    /// Labels as `[pid, tid, thread name]`; the name indexes `strings`.
    pub labels: Vec<(u32, u32, u32)>,
    /// The samples.
    pub samples: SamplesData,
}

/// The number a frame kind is written as.
pub(crate) fn kind_code(kind: FrameKind) -> u8 {
    match kind {
        FrameKind::User => 0,
        FrameKind::Kernel => 1,
        FrameKind::Jit => 2,
        FrameKind::Synthetic => 3,
    }
}

/// The frame kind of a written number (unknown numbers read as user code).
pub(crate) fn kind_of_code(code: u8) -> FrameKind {
    match code {
        1 => FrameKind::Kernel,
        2 => FrameKind::Jit,
        3 => FrameKind::Synthetic,
        _ => FrameKind::User,
    }
}

/// A node of the trie of location classes that builds the stack table.
#[derive(Clone, Copy)]
struct TrieNode {
    /// Location class this node adds to its parent's path.
    class: u32,
    /// First child, or [`NONE`].
    first_child: u32,
    /// Next sibling, or [`NONE`].
    next_sibling: u32,
    /// Number of children.
    children: u32,
    /// Stack entry at the end of this node's frames (-1 for the root).
    stack: i64,
}

/// No node.
const NONE: u32 = u32::MAX;
/// Children past which a node's children are found through the hash map.
const MAX_SCANNED_CHILDREN: u32 = 8;

/// The stack prefix tree of a profile's samples.
struct StackTable {
    /// Parent entry of each entry, -1 for root frames.
    parent: Vec<i64>,
    /// Frame of each entry.
    frame: Vec<u32>,
    /// Leaf entry of each sample, -1 for an empty stack.
    sample_stack: Vec<i64>,
}

impl StackTable {
    /// Builds the table from each location's frames (caller first).
    ///
    /// Locations with the same frames are one class, so equal stacks share
    /// entries. Stacks are walked in a trie of classes whose nodes sit in one
    /// array in creation order: the callers near the root that every sample
    /// visits stay in cache, and a node with few children finds the next one by
    /// scanning them. Only nodes with many children use an Fx hash map; a hash
    /// lookup per frame (std's or Fx) misses the cache on every frame and was
    /// about 3× slower on 80k distinct deep samples.
    fn new(profile: &Profile, location_frames: &[Vec<u32>]) -> Self {
        let mut class_of_frames: HashMap<&[u32], u32> = HashMap::new();
        let class: Vec<u32> = location_frames
            .iter()
            .enumerate()
            .map(|(i, frames)| *class_of_frames.entry(frames).or_insert(i as u32))
            .collect();
        let mut table = Self {
            parent: Vec::new(),
            frame: Vec::new(),
            sample_stack: Vec::with_capacity(profile.samples.len()),
        };
        let mut nodes = vec![TrieNode {
            class: NONE,
            first_child: NONE,
            next_sibling: NONE,
            children: 0,
            stack: -1,
        }];
        let mut wide: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        for sample in &profile.samples {
            let mut node = 0u32;
            for &location in sample.locations.iter().rev() {
                let Some(&location_class) = class.get(location) else {
                    continue;
                };
                let at = node as usize;
                let found = if nodes[at].children > MAX_SCANNED_CHILDREN {
                    wide.get(&(node, location_class)).copied()
                } else {
                    let mut child = nodes[at].first_child;
                    while child != NONE && nodes[child as usize].class != location_class {
                        child = nodes[child as usize].next_sibling;
                    }
                    (child != NONE).then_some(child)
                };
                node = match found {
                    Some(child) => child,
                    None => {
                        let mut stack = nodes[at].stack;
                        for &frame in &location_frames[location_class as usize] {
                            table.parent.push(stack);
                            table.frame.push(frame);
                            stack = table.frame.len() as i64 - 1;
                        }
                        let child = nodes.len() as u32;
                        nodes.push(TrieNode {
                            class: location_class,
                            first_child: NONE,
                            next_sibling: nodes[at].first_child,
                            children: 0,
                            stack,
                        });
                        let parent = &mut nodes[at];
                        parent.first_child = child;
                        parent.children += 1;
                        if parent.children == MAX_SCANNED_CHILDREN + 1 {
                            // The node turns wide: index every child.
                            let mut sibling = child;
                            while sibling != NONE {
                                let n = &nodes[sibling as usize];
                                wide.insert((node, n.class), sibling);
                                sibling = n.next_sibling;
                            }
                        } else if parent.children > MAX_SCANNED_CHILDREN {
                            wide.insert((node, location_class), child);
                        }
                        child
                    }
                };
            }
            table.sample_stack.push(nodes[node as usize].stack);
        }
        table
    }
}

/// The columns a view reads, as the page adds them up.
fn view_data(profile: &Profile, view: ValueView) -> Option<ViewData> {
    let columns = match view.extractor(profile) {
        ValueExtractor::Missing => return None,
        ValueExtractor::Column(i) => vec![i],
        ValueExtractor::Sum(a, b) => vec![a, b],
    };
    Some(ViewData {
        name: view.name().to_string(),
        columns,
        unit: view.unit(profile).to_string(),
    })
}

/// Encodes `profile` for a page titled `title` that opens on `view`.
pub(crate) fn encode(profile: &Profile, view: ValueView, title: &str) -> ProfileData {
    let names = FrameNames::new(profile);
    let mut strings: Vec<String> = (0..names.len() as u32)
        .map(|id| names.name(id).to_string())
        .collect();

    // Frame table, and each location's frames (caller first) as frame ids.
    let mut frames: Vec<(u32, u32, u32, u8)> = Vec::new();
    let mut frame_ids: HashMap<(u32, u8), u32> = HashMap::new();
    let mut location_frames: Vec<Vec<u32>> = Vec::with_capacity(profile.locations.len());
    for location in 0..profile.locations.len() {
        let ids = names
            .location(location)
            .iter()
            .map(|f: &FrameRef| {
                let kind = kind_code(f.kind);
                *frame_ids.entry((f.line_key, kind)).or_insert_with(|| {
                    frames.push((f.name, f.filename, f.line, kind));
                    (frames.len() - 1) as u32
                })
            })
            .collect();
        location_frames.push(ids);
    }

    let stacks = StackTable::new(profile, &location_frames);
    let mut samples = SamplesData {
        stack: stacks.sample_stack,
        label: Vec::with_capacity(profile.samples.len()),
        values: vec![Vec::with_capacity(profile.samples.len()); profile.sample_types.len()],
    };
    let mut labels: Vec<(u32, u32, u32)> = Vec::new();
    let mut label_ids: HashMap<&SampleLabels, u32> = HashMap::new();
    let mut thread_names: HashMap<&str, u32> = HashMap::new();
    let mut last_label: Option<(&SampleLabels, u32)> = None;
    for sample in &profile.samples {
        let label = match last_label {
            Some((labels_of_last, id)) if *labels_of_last == sample.labels => id,
            _ => {
                let id = *label_ids.entry(&sample.labels).or_insert_with(|| {
                    let name = *thread_names
                        .entry(sample.labels.thread_name.as_str())
                        .or_insert_with(|| {
                            strings.push(sample.labels.thread_name.clone());
                            (strings.len() - 1) as u32
                        });
                    labels.push((sample.labels.pid, sample.labels.tid, name));
                    (labels.len() - 1) as u32
                });
                last_label = Some((&sample.labels, id));
                id
            }
        };
        samples.label.push(label);
        for (column, values) in samples.values.iter_mut().enumerate() {
            values.push(sample.values.get(column).copied().unwrap_or(0));
        }
    }

    let views: Vec<ViewData> = ValueView::available(profile)
        .into_iter()
        .filter_map(|v| view_data(profile, v))
        .collect();
    let pair = |t: &model::ValueType| (t.kind.clone(), t.unit.clone());
    ProfileData {
        format: FORMAT.to_string(),
        version: VERSION,
        title: title.to_string(),
        view: view.name().to_string(),
        views,
        sample_types: profile.sample_types.iter().map(pair).collect(),
        period_type: profile.period_type.as_ref().map(pair),
        period: profile.period,
        start_time_ns: profile.start_time_ns,
        duration_ns: profile.duration_ns,
        comments: profile.comments.clone(),
        strings,
        frames,
        stack_parent_delta: stacks
            .parent
            .iter()
            .enumerate()
            .map(|(i, &p)| if p < 0 { 0 } else { (i as i64 - p) as u32 })
            .collect(),
        stack_frame: stacks.frame,
        labels,
        samples,
    }
}
