//! Blocks written in storage format 1 (before span-link flags and scope
//! attributes) still read back: the row below is encoded exactly as the
//! previous release wrote it.

use super::meta::BlockMeta;
use super::read::{Columns, SharedDecoded};
use crate::embedded::legacy::{ScopeV1, SpanLinkV1};
use crate::embedded::testdata::{resource, trace_id, BASE};
use model::{KeyValue, SpanEvent, SpanId};
use parquet::data_type::{ByteArray, FixedLenByteArray};
use serde::Serialize;

/// `schema::DetailsRef` as format 1 laid it out.
#[derive(Serialize)]
struct DetailsV1 {
    trace_state: String,
    flags: u32,
    attributes: Vec<KeyValue>,
    dropped_attributes_count: u32,
    events: Vec<SpanEvent>,
    dropped_events_count: u32,
    links: Vec<SpanLinkV1>,
    dropped_links_count: u32,
    status_message: String,
    end_if_before_start: Option<u64>,
}

fn format_1_row() -> Columns {
    let details = DetailsV1 {
        trace_state: "k=v".into(),
        flags: 1,
        attributes: vec![KeyValue::str("http.route", "/x")],
        dropped_attributes_count: 0,
        events: Vec::new(),
        dropped_events_count: 0,
        links: vec![SpanLinkV1 {
            trace_id: trace_id(9),
            span_id: SpanId([9; 8]),
            trace_state: String::new(),
            attributes: vec![KeyValue::str("link.kind", "follows")],
            dropped_attributes_count: 0,
        }],
        dropped_links_count: 2,
        status_message: "ok".into(),
        end_if_before_start: None,
    };
    let scope = ScopeV1 {
        name: "lib".into(),
        version: "1.0".into(),
    };
    let bytes = |v: Vec<u8>| ByteArray::from(v);
    Columns {
        trace_id: vec![FixedLenByteArray::from(trace_id(1).0.to_vec())],
        span_id: vec![FixedLenByteArray::from(vec![1; 8])],
        parent_span_id: vec![FixedLenByteArray::from(vec![0; 8])],
        service: vec![ByteArray::from("backend")],
        name: vec![ByteArray::from("GET /x")],
        kind: vec![2],
        start: vec![BASE as i64],
        duration: vec![5_000],
        status_code: vec![1],
        resource: vec![bytes(
            postcard::to_stdvec(resource("backend").as_ref()).unwrap(),
        )],
        scope: vec![bytes(postcard::to_stdvec(&scope).unwrap())],
        details: vec![bytes(postcard::to_stdvec(&details).unwrap())],
    }
}

#[test]
fn format_1_rows_read_with_link_flags_and_scope_attributes_unset() {
    let span = format_1_row()
        .span(0, &mut SharedDecoded::for_format(1))
        .unwrap();
    assert_eq!(span.trace_state, "k=v");
    assert_eq!(span.attributes, vec![KeyValue::str("http.route", "/x")]);
    assert_eq!(span.end_unix_nano, BASE + 5_000);
    assert_eq!(span.status.message, "ok");
    assert_eq!(span.dropped_links_count, 2);
    assert_eq!(span.links.len(), 1);
    assert_eq!(span.links[0].span_id, SpanId([9; 8]));
    assert_eq!(span.links[0].attributes[0].key, "link.kind");
    assert_eq!(span.links[0].flags, 0);
    assert_eq!(
        (span.scope.name.as_str(), span.scope.version.as_str()),
        ("lib", "1.0")
    );
    assert!(span.scope.attributes.is_empty());
}

#[test]
fn meta_without_a_format_is_format_1() {
    let json = r#"{"id":"x","rows":0,"min_start":0,"max_start":0,"services":[],
        "operations":[],"row_groups":[],"wal_upto":0,"replaces":[],"bytes":0}"#;
    let meta: BlockMeta = serde_json::from_str(json).unwrap();
    assert_eq!(meta.format, 1);
}
