//! WAL payloads of the profile store: one [`Record`] per write, encoded with
//! postcard and framed by the span store's WAL framing
//! ([`crate::embedded::wal`]). A record first declares the names, call-tree
//! nodes and series it introduces (their ids continue the head's counts),
//! then the profiles that use them, so replay rebuilds the same ids in the
//! same order. Records are queued under the head's write lock, so the log's
//! order is the order of interning.

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
    postcard::from_bytes(bytes)
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
        };
        assert_eq!(decode(&encode(&record)).unwrap(), record);
    }
}
