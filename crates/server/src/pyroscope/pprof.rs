//! Merged stacks ([`MergedStacks`]) as a pprof profile ([`Profile`]), what
//! `SelectMergeProfile` answers and `GET /pyroscope/pprof` downloads gzipped.
//!
//! The string table starts with `""`; the one sample type and the period
//! type come from the profile type ID
//! (`name:sample_type:sample_unit:period_type:period_unit`), the period is
//! 0 (unknown once profiles of any rate are merged), `time_nanos` and
//! `duration_nanos` are the queried range (duration 0 when it has no end).
//! Each distinct function name gets one Function and one Location (one Line,
//! no file or line number: the store keeps names only); a frame the agent
//! could not symbolize, `FILE+0xOFFSET` in one of the series' object files
//! ([`ObjectFile`]), also gets that file as its Mapping (path, build id,
//! `has_functions` false) and the file offset as its address, so
//! `go tool pprof` with the binary at hand (`PPROF_BINARY_PATH`) names it.
//! Each call tree node
//! with a positive self value becomes one Sample whose location ids run leaf
//! first, as pprof wants. Negative self values count as 0, as in
//! [`super::flamegraph`].
//!
//! With `max_nodes`, the nodes with the biggest totals are kept (ties in
//! tree order, so ancestors come with their children) and what a kept
//! parent loses becomes one `"other"` child, as in the flame graphs: totals
//! still add up. Without it, every node is kept.

use super::connect::ConnectError;
use super::flamegraph::OTHER_NAME;
use super::pprof_proto::{Function, Line, Location, Mapping, Profile, Sample, ValueType};
use super::query;
use super::selector::ProfileType;
use crate::AppState;
use rustc_hash::FxHashMap;
use std::io::Write;
use store::profiles::{MergedStacks, ObjectFile, ProfileQuery};

/// The merged pprof profile of `query` (empty, not an error, when nothing matched).
pub async fn merge(
    state: &AppState,
    query: ProfileQuery,
    max_nodes: Option<usize>,
) -> Result<Profile, ConnectError> {
    let profile_type = ProfileType::require(&query.profile_type).map_err(ConnectError::invalid)?;
    let duration_ns = if query.end_ns == i64::MAX {
        0
    } else {
        query.end_ns.saturating_sub(query.start_ns)
    };
    query::blocking(state, move |store| {
        let stacks = store.merge(&query)?;
        let objects = store.objects(&query)?;
        Ok(from_stacks(
            &stacks,
            &objects,
            &profile_type,
            query.start_ns,
            duration_ns,
            max_nodes,
        ))
    })
    .await
}

/// The binary protobuf of `profile`, gzipped (what `go tool pprof` reads).
pub fn gzip(profile: &Profile) -> Result<Vec<u8>, ConnectError> {
    let bytes = prost::Message::encode_to_vec(profile);
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4 + 64),
        flate2::Compression::default(),
    );
    gz.write_all(&bytes)
        .and_then(|()| gz.finish())
        .map_err(|e| ConnectError::internal(format!("gzipping the profile: {e}")))
}

/// Builds the profile of `stacks`; see the module doc.
pub fn from_stacks(
    stacks: &MergedStacks,
    objects: &[ObjectFile],
    profile_type: &ProfileType,
    time_nanos: i64,
    duration_nanos: i64,
    max_nodes: Option<usize>,
) -> Profile {
    let mut out = Builder {
        objects,
        mapping_ids: vec![0; objects.len()],
        ..Builder::default()
    };
    out.strings.push(String::new());
    let sample_type = out.value_type(&profile_type.sample_type, &profile_type.sample_unit);
    let period_type = out.value_type(&profile_type.period_type, &profile_type.period_unit);

    let totals = totals(stacks);
    let kept = kept(&totals, max_nodes);
    let n = stacks.nodes.len();
    // What each kept parent (index + 1; 0: the root level) loses to truncation.
    let mut other = vec![0i64; if kept.is_some() { n + 1 } else { 0 }];
    let mut samples = Vec::new();
    for i in 0..n {
        let parent = parent(stacks, i);
        let keep = kept.as_ref().is_none_or(|k| k[i]);
        if keep {
            let value = stacks.self_values.get(i).copied().unwrap_or(0);
            if value > 0 {
                samples.push(Sample {
                    location_id: out.chain(stacks, Some(i)),
                    value: vec![value],
                });
            }
        } else if parent.is_none_or(|p| kept.as_ref().is_some_and(|k| k[p])) {
            let slot = parent.map_or(0, |p| p + 1);
            other[slot] = other[slot].saturating_add(totals[i]);
        }
    }
    for (slot, &value) in other.iter().enumerate() {
        if value > 0 {
            let mut location_id = vec![out.location(OTHER_NAME)];
            location_id.extend(out.chain(stacks, slot.checked_sub(1)));
            samples.push(Sample {
                location_id,
                value: vec![value],
            });
        }
    }

    Profile {
        sample_type: vec![sample_type],
        sample: samples,
        mapping: out.mappings,
        location: out.locations,
        function: out.functions,
        string_table: out.strings,
        time_nanos,
        duration_nanos,
        period_type: Some(period_type),
        period: 0,
    }
}

/// Node `i`'s parent index; `None` for a root (or a malformed forward pointer).
fn parent(stacks: &MergedStacks, i: usize) -> Option<usize> {
    let p = stacks.nodes.get(i)?.0 as usize;
    (1..=i).contains(&p).then(|| p - 1)
}

/// Each node's total: its positive self value plus its children's totals.
fn totals(stacks: &MergedStacks) -> Vec<i64> {
    let n = stacks.nodes.len();
    let mut totals: Vec<i64> = (0..n)
        .map(|i| stacks.self_values.get(i).copied().unwrap_or(0).max(0))
        .collect();
    for i in (0..n).rev() {
        if let Some(p) = parent(stacks, i) {
            totals[p] = totals[p].saturating_add(totals[i]);
        }
    }
    totals
}

/// The nodes to keep under `max_nodes` (`None`: all of them). A parent's
/// total is at least its child's and comes first, so ancestors are kept.
fn kept(totals: &[i64], max_nodes: Option<usize>) -> Option<Vec<bool>> {
    let max_nodes = max_nodes?.max(1);
    if totals.len() <= max_nodes {
        return None;
    }
    let mut sorted = totals.to_vec();
    let (_, &mut threshold, _) = sorted.select_nth_unstable_by(max_nodes - 1, |a, b| b.cmp(a));
    let mut ties = max_nodes - totals.iter().filter(|&&t| t > threshold).count();
    Some(
        totals
            .iter()
            .map(|&t| {
                if t > threshold {
                    true
                } else if t == threshold && t > 0 && ties > 0 {
                    ties -= 1;
                    true
                } else {
                    false
                }
            })
            .collect(),
    )
}

/// The string table, functions, locations and mappings built so far.
#[derive(Default)]
struct Builder<'o> {
    /// The object files frames may point into.
    objects: &'o [ObjectFile],
    /// Mapping id per object file (0: not made yet).
    mapping_ids: Vec<u64>,
    mappings: Vec<Mapping>,
    strings: Vec<String>,
    string_ids: FxHashMap<String, i64>,
    /// Location (= function) id per name's string index.
    location_ids: FxHashMap<i64, u64>,
    /// Location id per name id of the stacks (0: not made yet).
    name_locations: Vec<u64>,
    functions: Vec<Function>,
    locations: Vec<Location>,
}

impl Builder<'_> {
    fn string(&mut self, text: &str) -> i64 {
        if text.is_empty() {
            return 0;
        }
        if let Some(&id) = self.string_ids.get(text) {
            return id;
        }
        let id = self.strings.len() as i64;
        self.strings.push(text.to_string());
        self.string_ids.insert(text.to_string(), id);
        id
    }

    fn value_type(&mut self, r#type: &str, unit: &str) -> ValueType {
        ValueType {
            r#type: self.string(r#type),
            unit: self.string(unit),
        }
    }

    /// The mapping id and address of an unsymbolized frame `name` (zeros
    /// when it is not one).
    fn place(&mut self, name: &str) -> (u64, u64) {
        let objects = self.objects;
        let Some((at, offset)) = ObjectFile::locate(objects, name) else {
            return (0, 0);
        };
        let object = &objects[at];
        if self.mapping_ids[at] == 0 {
            let id = self.mappings.len() as u64 + 1;
            let mapping = Mapping {
                id,
                memory_start: object.offset,
                memory_limit: object.offset.saturating_add(object.size),
                file_offset: object.offset,
                filename: self.string(&object.path),
                build_id: self.string(&object.build_id),
                has_functions: false,
            };
            self.mappings.push(mapping);
            self.mapping_ids[at] = id;
        }
        (self.mapping_ids[at], offset)
    }

    /// The location of function `name`, made on first use.
    fn location(&mut self, text: &str) -> u64 {
        let name = self.string(text);
        if let Some(&id) = self.location_ids.get(&name) {
            return id;
        }
        let (mapping_id, address) = self.place(text);
        let id = self.locations.len() as u64 + 1;
        self.functions.push(Function {
            id,
            name,
            system_name: name,
            filename: 0,
        });
        self.locations.push(Location {
            id,
            mapping_id,
            address,
            line: vec![Line {
                function_id: id,
                line: 0,
            }],
        });
        self.location_ids.insert(name, id);
        id
    }

    /// The location of `stacks`' name `name_id` (cached by id).
    fn name_location(&mut self, stacks: &MergedStacks, name_id: u32) -> u64 {
        let at = name_id as usize;
        let Some(name) = stacks.names.get(at) else {
            return self.location("?");
        };
        if self.name_locations.len() < stacks.names.len() {
            self.name_locations.resize(stacks.names.len(), 0);
        }
        match self.name_locations.get(at) {
            Some(&id) if id != 0 => id,
            _ => {
                let id = self.location(name);
                if let Some(slot) = self.name_locations.get_mut(at) {
                    *slot = id;
                }
                id
            }
        }
    }

    /// The location ids from node `node` up to its root, leaf first.
    fn chain(&mut self, stacks: &MergedStacks, node: Option<usize>) -> Vec<u64> {
        let mut out = Vec::new();
        let mut at = node;
        while let Some(i) = at {
            let Some(&(_, name_id)) = stacks.nodes.get(i) else {
                break;
            };
            out.push(self.name_location(stacks, name_id));
            at = parent(stacks, i);
        }
        out
    }
}
