//! The run's maps in the kernel: created from the checker's [`MapInfo`]s,
//! written from user space (BEGIN/END constants), and read back at the end
//! into [`MapSnapshot`]s (per-CPU values combined: counts, sums, averages
//! and histogram buckets summed, min/max over the CPUs that saw a value;
//! stacks, `func` and `probe` named by [`Resolver`]).

use super::resolve::Resolver;
use crate::check::MapInfo;
use crate::codegen::MapRef;
use crate::diag::Diagnostic;
use crate::format::{Key, MapSnapshot, MapValue};
use crate::layout::{slot_size, MapLayout, MAX_ENTRIES};
use crate::span::Span;
use crate::types::StackType;
use crate::types::{AggKind, Type};
use bpf::map::{stack_trace_value_size, Map, MapSpec, MapType, UpdateFlag};
use std::collections::BTreeMap;

/// One created map.
pub struct LiveMap {
    pub info: MapInfo,
    pub map: Map,
    pub layout: MapLayout,
    pub index: u32,
}

/// Creates every map, in name order (their index is that order).
pub fn create(infos: &BTreeMap<String, MapInfo>) -> Result<Vec<LiveMap>, super::RunError> {
    let mut maps = Vec::new();
    for (index, info) in infos.values().enumerate() {
        let layout = MapLayout::new(&info.keys, info.value);
        let kind = if layout.percpu {
            MapType::PercpuHash
        } else {
            MapType::Hash
        };
        let name = format!("ws_{}", info.name.trim_start_matches('@'));
        let spec = MapSpec::new(
            kind,
            &name,
            layout.key_size as u32,
            layout.value_size as u32,
            MAX_ENTRIES,
        );
        maps.push(LiveMap {
            info: info.clone(),
            map: Map::create(spec)?,
            layout,
            index: index as u32,
        });
    }
    Ok(maps)
}

/// Creates one STACK_TRACE map per frame limit in `stacks` (the default
/// limit 0: the kernel's `perf_event_max_stack` frames).
pub fn create_stacks(
    stacks: &BTreeMap<StackType, Span>,
) -> Result<BTreeMap<u16, Map>, super::RunError> {
    let mut maps = BTreeMap::new();
    let most = stack_trace_value_size();
    for (stack, span) in stacks {
        if maps.contains_key(&stack.limit) {
            continue;
        }
        let value_size = if stack.limit == 0 {
            most
        } else {
            u32::from(stack.limit) * 8
        };
        if value_size > most {
            return Err(super::RunError::compile(Diagnostic::new(
                *span,
                format!(
                    "{} frames asked, but the kernel keeps at most {} (sysctl kernel.perf_event_max_stack)",
                    stack.limit,
                    most / 8
                ),
            )));
        }
        let name = format!("ws_stack_{}", stack.limit);
        let spec = MapSpec::new(MapType::StackTrace, &name, 4, value_size, MAX_ENTRIES);
        maps.insert(stack.limit, Map::create(spec)?);
    }
    Ok(maps)
}

/// What the code generator needs of each map.
pub fn refs(maps: &[LiveMap]) -> BTreeMap<String, MapRef> {
    maps.iter()
        .map(|m| {
            (
                m.info.name.clone(),
                MapRef {
                    fd: m.map.fd(),
                    index: m.index,
                    layout: m.layout.clone(),
                    value: m.info.value,
                },
            )
        })
        .collect()
}

/// A constant as a map key or value component.
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    Int(i64),
    Str(String),
}

fn encode(value: &Constant, ty: Type, out: &mut Vec<u8>) {
    let size = slot_size(ty);
    let start = out.len();
    match value {
        Constant::Int(v) => out.extend_from_slice(&v.to_le_bytes()),
        Constant::Str(s) => {
            let bytes = s.as_bytes();
            out.extend_from_slice(&bytes[..bytes.len().min(size - 1)]);
        }
    }
    out.resize(start + size, 0);
}

/// `@m[keys] = value` from user space (plain, non-aggregated maps).
pub fn store(map: &LiveMap, keys: &[Constant], value: &Constant) -> bpf::Result<()> {
    let mut key = Vec::new();
    for (k, &ty) in keys.iter().zip(&map.layout.keys) {
        encode(k, ty, &mut key);
    }
    key.resize(map.layout.key_size, 0);
    let mut val = Vec::new();
    encode(value, map.info.value, &mut val);
    val.resize(map.layout.value_size, 0);
    map.map.update(&key, &val, UpdateFlag::Any)
}

/// The value of `@m[keys]` from user space (plain maps; absent: 0 or "").
pub fn load(map: &LiveMap, keys: &[Constant]) -> bpf::Result<Constant> {
    let mut key = Vec::new();
    for (k, &ty) in keys.iter().zip(&map.layout.keys) {
        encode(k, ty, &mut key);
    }
    key.resize(map.layout.key_size, 0);
    let value = if map.layout.percpu {
        None
    } else {
        map.map.lookup(&key)?
    };
    Ok(match value {
        Some(bytes) if map.info.value.is_str() => Constant::Str(c_string(&bytes)),
        Some(bytes) => Constant::Int(word(&bytes, 0) as i64),
        None if map.info.value.is_str() => Constant::Str(String::new()),
        None => Constant::Int(0),
    })
}

/// Deletes every element (`clear(@m)`).
pub fn clear(map: &LiveMap) -> bpf::Result<()> {
    for key in map.map.keys()? {
        map.map.delete(&key)?;
    }
    Ok(())
}

fn word(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .unwrap_or(0)
}

/// A NUL-terminated string from a buffer.
pub fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn decode_keys(bytes: &[u8], types: &[Type], resolver: &mut Resolver<'_>) -> Vec<Key> {
    let mut pos = 0;
    types
        .iter()
        .map(|&ty| {
            let size = slot_size(ty);
            let part = &bytes[pos.min(bytes.len())..(pos + size).min(bytes.len())];
            pos += size;
            resolver.key(ty, part)
        })
        .collect()
}

/// A plain (not aggregated) value of type `ty` from its stored bytes.
fn plain_value(ty: Type, bytes: &[u8], resolver: &mut Resolver<'_>) -> MapValue {
    match resolver.key(ty, bytes) {
        Key::Int(v) if ty == Type::UINT => MapValue::UInt(v as u64),
        Key::Int(v) => MapValue::Int(v),
        Key::Str(s) | Key::Probe(s) => MapValue::Str(s),
        Key::Sym(s) => MapValue::Sym(s),
        Key::Stack(stack) => MapValue::Stack(stack),
    }
}

/// Reads the map and combines its per-CPU values; stacks, symbols and probe
/// names are resolved to text.
pub fn snapshot(map: &LiveMap, resolver: &mut Resolver<'_>) -> bpf::Result<MapSnapshot> {
    let layout = &map.layout;
    let mut entries = Vec::new();
    let mut buckets: BTreeMap<Vec<u8>, Vec<u64>> = BTreeMap::new();
    for key in map.map.keys()? {
        if !layout.percpu {
            let Some(value) = map.map.lookup(&key)? else {
                continue;
            };
            let v = plain_value(map.info.value, &value, resolver);
            entries.push((decode_keys(&key, &layout.keys, resolver), v));
            continue;
        }
        let Some(cpus) = map.map.lookup_percpu(&key)? else {
            continue;
        };
        let sum0: u64 = cpus.iter().map(|c| word(c, 0)).fold(0, u64::wrapping_add);
        let sum8: u64 = cpus.iter().map(|c| word(c, 8)).fold(0, u64::wrapping_add);
        let set: Vec<i64> = cpus
            .iter()
            .filter(|c| word(c, 8) != 0)
            .map(|c| word(c, 0) as i64)
            .collect();
        let Type::Agg(kind) = map.info.value else {
            continue;
        };
        if layout.bucketed {
            let split = layout.key_size - 8;
            let bucket = word(&key, split) as usize;
            let counts = buckets.entry(key[..split].to_vec()).or_default();
            if counts.len() <= bucket {
                counts.resize(bucket + 1, 0);
            }
            counts[bucket] += sum0;
            continue;
        }
        let value = match kind {
            AggKind::Count => MapValue::Count(sum0),
            AggKind::Sum => MapValue::Sum(sum0 as i64),
            AggKind::Min => MapValue::Min(set.iter().copied().min().unwrap_or(0)),
            AggKind::Max => MapValue::Max(set.iter().copied().max().unwrap_or(0)),
            AggKind::Avg => MapValue::Avg {
                count: sum0,
                total: sum8 as i64,
            },
            AggKind::Stats => MapValue::Stats {
                count: sum0,
                total: sum8 as i64,
            },
            AggKind::Hist | AggKind::Lhist { .. } => continue,
        };
        entries.push((decode_keys(&key, &layout.keys, resolver), value));
    }
    for (key, mut counts) in buckets {
        let value = match map.info.value {
            Type::Agg(AggKind::Lhist { min, max, step }) => {
                counts.resize(crate::format::hist::lhist_buckets(min, max, step) + 2, 0);
                MapValue::Lhist {
                    min,
                    max,
                    step,
                    buckets: counts,
                }
            }
            _ => MapValue::Hist(counts),
        };
        entries.push((decode_keys(&key, &layout.keys, resolver), value));
    }
    // bpftrace 0.17 prints a key-less count() that never ran as `@c: 0`
    // (every other empty map as blank lines).
    if entries.is_empty() && layout.keys.is_empty() && map.info.value == Type::Agg(AggKind::Count) {
        entries.push((Vec::new(), MapValue::Count(0)));
    }
    Ok(MapSnapshot {
        name: map.info.name.clone(),
        kind: map.info.value,
        entries,
    })
}
