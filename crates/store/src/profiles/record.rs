//! WAL payloads of the profile store: one [`Record`] per write, encoded with
//! postcard and framed by the span store's WAL framing
//! ([`crate::embedded::wal`]). A record first declares the names, call-tree
//! nodes and series it introduces (their ids continue the head's counts),
//! then the profiles that use them, so replay rebuilds the same ids in the
//! same order. Records are queued under the head's write lock, so the log's
//! order is the order of interning.
//!
//! Timed samples ([`super::Tick`]) came later, and object files after them:
//! each was added as the record's last field, so a record written before
//! fails to decode as a [`Record`] (postcard runs out of bytes) and is read
//! as the older shape instead.

use super::ObjectFile;
use model::metrics::Labels;
use serde::{Deserialize, Serialize};

/// One write's log entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Id of `names[0]`.
    pub first_name: u32,
    /// Function names new in this write.
    pub names: Vec<String>,
    /// Id of `nodes[0]`.
    pub first_node: u32,
    /// Call-tree nodes new in this write: `(parent + 1 or 0, name id)`.
    pub nodes: Vec<(u32, u32)>,
    /// Series new in this write: `(id, labels)`.
    pub series: Vec<(u32, Labels)>,
    /// The profiles.
    pub profiles: Vec<RecordProfile>,
    /// Timed samples: `(profile index in this record, leaf node, thread,
    /// Unix ns, value)`.
    pub ticks: Vec<RecordTick>,
    /// Object files new to a series: `(series id, file)`.
    pub objects: Vec<(u32, ObjectFile)>,
}

/// A record as written before object files were kept: the older shape
/// and then the timed samples (postcard writes a nested struct's fields in
/// place, so this reads the same bytes as the flat struct did).
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct RecordWithoutObjects {
    older: RecordWithoutTicks,
    ticks: Vec<RecordTick>,
}

/// One timed sample of a record: `(profile index, leaf node, thread, Unix ns, value)`.
pub type RecordTick = (u32, u32, u32, i64, i64);

/// A record as written before timed samples existed.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct RecordWithoutTicks {
    first_name: u32,
    names: Vec<String>,
    first_node: u32,
    nodes: Vec<(u32, u32)>,
    series: Vec<(u32, Labels)>,
    profiles: Vec<RecordProfile>,
}

/// One profile of a record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordProfile {
    /// Series id.
    pub series: u32,
    /// Start, Unix ns.
    pub time_ns: i64,
    /// Duration, ns.
    pub duration_ns: i64,
    /// Leaf node of each sample's stack.
    pub nodes: Vec<u32>,
    /// Value of each sample.
    pub values: Vec<i64>,
    /// Span and trace ids: `(sample index, span, trace)` for the samples that have them.
    pub links: Vec<(u32, Option<u64>, Option<u128>)>,
}

/// Encodes a record.
pub fn encode(record: &Record) -> Vec<u8> {
    // Serializing plain owned data into a Vec cannot fail.
    postcard::to_allocvec(record).unwrap_or_default()
}

/// Decodes a record.
pub fn decode(bytes: &[u8]) -> Result<Record, postcard::Error> {
    let e = match postcard::from_bytes(bytes) {
        Ok(record) => return Ok(record),
        Err(e) => e,
    };
    let RecordWithoutObjects { older, ticks } = postcard::from_bytes(bytes).or_else(|_| {
        postcard::from_bytes(bytes)
            .map(|older| RecordWithoutObjects {
                older,
                ticks: Vec::new(),
            })
            .map_err(|_| e)
    })?;
    Ok(Record {
        first_name: older.first_name,
        names: older.names,
        first_node: older.first_node,
        nodes: older.nodes,
        series: older.series,
        profiles: older.profiles,
        ticks,
        objects: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let record = Record {
            first_name: 3,
            names: vec!["main".into(), "work".into()],
            first_node: 7,
            nodes: vec![(0, 3), (8, 4)],
            series: vec![(
                2,
                Labels::from_pairs([("service_name", "app"), ("__name__", "process_cpu")]),
            )],
            profiles: vec![RecordProfile {
                series: 2,
                time_ns: 1_700_000_000_000_000_000,
                duration_ns: 10_000_000_000,
                nodes: vec![8, 7],
                values: vec![10_000_000, 20_000_000],
                links: vec![(
                    1,
                    Some(0xabc),
                    Some(0x1234_5678_9abc_def0_1234_5678_9abc_def0),
                )],
            }],
            ticks: vec![(0, 8, 4242, 1_700_000_000_500_000_000, 52_631_578)],
            objects: vec![(
                2,
                ObjectFile {
                    path: "/usr/bin/app".into(),
                    build_id: "0a1b2c".into(),
                    offset: 0x1000,
                    size: 0x8000,
                },
            )],
        };
        assert_eq!(decode(&encode(&record)).unwrap(), record);
    }

    /// A record of the first shape: one profile of one sample.
    fn oldest() -> RecordWithoutTicks {
        RecordWithoutTicks {
            first_name: 0,
            names: vec!["main".into()],
            first_node: 0,
            nodes: vec![(0, 0)],
            series: vec![(0, Labels::from_pairs([("service_name", "app")]))],
            profiles: vec![RecordProfile {
                series: 0,
                time_ns: 5,
                duration_ns: 1,
                nodes: vec![0],
                values: vec![3],
                links: Vec::new(),
            }],
        }
    }

    #[test]
    fn records_written_before_object_files_still_decode() {
        let old = RecordWithoutObjects {
            older: oldest(),
            ticks: vec![(0, 0, 7, 5, 3)],
        };
        let record = decode(&postcard::to_allocvec(&old).unwrap()).unwrap();
        assert_eq!(record.ticks, [(0, 0, 7, 5, 3)]);
        assert!(record.objects.is_empty());
    }

    #[test]
    fn records_written_before_ticks_still_decode() {
        let old = oldest();
        let record = decode(&postcard::to_allocvec(&old).unwrap()).unwrap();
        assert_eq!(record.names, ["main"]);
        assert_eq!(record.profiles[0].values, [3]);
        assert!(record.ticks.is_empty());
        assert!(decode(&[0xff, 0xff]).is_err());
    }
}
