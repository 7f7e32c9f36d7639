//! The Parquet schema of a block and the compact `details` blob: one row
//! per span, flat required columns only (so DuckDB or pandas read it as a
//! plain table), the rarely-filtered remainder of a span (attributes,
//! events, links, …) in a postcard-encoded `details` column that zstd
//! compresses well.

use model::{KeyValue, SpanEvent, SpanLink};
use serde::{Deserialize, Serialize};

/// Encoding of the `scope` and `details` blobs, recorded in each block's
/// `meta.json`: 2 added span-link flags and scope attributes; blocks without
/// the field are format 1 and decode through `embedded::legacy`.
pub const FORMAT: u32 = 2;

/// Column order of [`SCHEMA`].
pub mod col {
    pub const TRACE_ID: usize = 0;
    pub const SPAN_ID: usize = 1;
    pub const PARENT_SPAN_ID: usize = 2;
    pub const SERVICE: usize = 3;
    pub const NAME: usize = 4;
    pub const KIND: usize = 5;
    pub const START: usize = 6;
    pub const DURATION: usize = 7;
    pub const STATUS_CODE: usize = 8;
    pub const RESOURCE: usize = 9;
    pub const SCOPE: usize = 10;
    pub const DETAILS: usize = 11;
    pub const COUNT: usize = 12;
}

/// Parquet message type of a block; `parent_span_id` is all zeros for roots.
pub const SCHEMA: &str = "message span {
  REQUIRED FIXED_LEN_BYTE_ARRAY (16) trace_id;
  REQUIRED FIXED_LEN_BYTE_ARRAY (8) span_id;
  REQUIRED FIXED_LEN_BYTE_ARRAY (8) parent_span_id;
  REQUIRED BYTE_ARRAY service (UTF8);
  REQUIRED BYTE_ARRAY name (UTF8);
  REQUIRED INT32 kind;
  REQUIRED INT64 start_unix_nano;
  REQUIRED INT64 duration_nanos;
  REQUIRED INT32 status_code;
  REQUIRED BYTE_ARRAY resource;
  REQUIRED BYTE_ARRAY scope;
  REQUIRED BYTE_ARRAY details;
}";

/// Borrowed details for encoding; field order must match [`DetailsOwned`].
#[derive(Serialize)]
pub struct DetailsRef<'a> {
    pub trace_state: &'a str,
    pub flags: u32,
    pub attributes: &'a [KeyValue],
    pub dropped_attributes_count: u32,
    pub events: &'a [SpanEvent],
    pub dropped_events_count: u32,
    pub links: &'a [SpanLink],
    pub dropped_links_count: u32,
    pub status_message: &'a str,
    /// `Some(end)` only when end < start (otherwise end = start + duration).
    pub end_if_before_start: Option<u64>,
}

/// Owned details for decoding; field order must match [`DetailsRef`]. `L`
/// is the stored link type (format 1 had no link flags).
#[derive(Deserialize)]
pub struct DetailsOwned<L = SpanLink> {
    pub trace_state: String,
    pub flags: u32,
    pub attributes: Vec<KeyValue>,
    pub dropped_attributes_count: u32,
    pub events: Vec<SpanEvent>,
    pub dropped_events_count: u32,
    pub links: Vec<L>,
    pub dropped_links_count: u32,
    pub status_message: String,
    /// `Some(end)` only when end < start (otherwise end = start + duration).
    pub end_if_before_start: Option<u64>,
}

/// Span kind as stored.
pub fn kind_code(kind: model::SpanKind) -> i32 {
    use model::SpanKind::*;
    match kind {
        Unspecified => 0,
        Internal => 1,
        Server => 2,
        Client => 3,
        Producer => 4,
        Consumer => 5,
    }
}

/// Span kind from its stored code.
pub fn kind_from_code(code: i32) -> model::SpanKind {
    use model::SpanKind::*;
    match code {
        1 => Internal,
        2 => Server,
        3 => Client,
        4 => Producer,
        5 => Consumer,
        _ => Unspecified,
    }
}

/// Status code as stored.
pub fn status_code(code: model::StatusCode) -> i32 {
    match code {
        model::StatusCode::Unset => 0,
        model::StatusCode::Ok => 1,
        model::StatusCode::Error => 2,
    }
}

/// Status code from its stored form.
pub fn status_from_code(code: i32) -> model::StatusCode {
    match code {
        1 => model::StatusCode::Ok,
        2 => model::StatusCode::Error,
        _ => model::StatusCode::Unset,
    }
}

/// Borrowed view of an attribute value, decoded without allocating strings;
/// variant order must match [`model::AttrValue`].
#[derive(Deserialize)]
pub enum ValueRef<'a> {
    Str(&'a str),
    Bool(bool),
    Int(i64),
    Double(f64),
    Bytes(&'a [u8]),
    Array(Vec<ValueRef<'a>>),
    Map(Vec<KeyValueRef<'a>>),
    Empty,
}

/// Borrowed view of an attribute.
#[derive(Deserialize)]
pub struct KeyValueRef<'a> {
    #[serde(borrow)]
    pub key: &'a str,
    #[serde(borrow)]
    pub value: ValueRef<'a>,
}

/// The leading fields of [`DetailsOwned`], borrowed: what tag search reads.
#[derive(Deserialize)]
pub struct DetailsAttributes<'a> {
    pub _trace_state: &'a str,
    pub _flags: u32,
    #[serde(borrow)]
    pub attributes: Vec<KeyValueRef<'a>>,
}

impl ValueRef<'_> {
    /// Whether the value's text form ([`model::AttrValue::to_text`]) is `text`.
    pub fn text_is(&self, text: &str) -> bool {
        match self {
            Self::Str(s) => *s == text,
            Self::Bool(b) => (if *b { "true" } else { "false" }) == text,
            Self::Int(i) => text.parse::<i64>().is_ok_and(|t| t == *i) && is_canonical_int(text),
            other => other.to_owned_value().to_text() == text,
        }
    }

    fn to_owned_value(&self) -> model::AttrValue {
        use model::AttrValue;
        match self {
            Self::Str(s) => AttrValue::Str(s.to_string()),
            Self::Bool(b) => AttrValue::Bool(*b),
            Self::Int(i) => AttrValue::Int(*i),
            Self::Double(d) => AttrValue::Double(*d),
            Self::Bytes(b) => AttrValue::Bytes(b.to_vec()),
            Self::Array(a) => AttrValue::Array(a.iter().map(Self::to_owned_value).collect()),
            Self::Map(m) => AttrValue::Map(
                m.iter()
                    .map(|kv| model::KeyValue {
                        key: kv.key.to_string(),
                        value: kv.value.to_owned_value(),
                    })
                    .collect(),
            ),
            Self::Empty => AttrValue::Empty,
        }
    }
}

/// Whether `text` is how `i64::to_string` writes its value (no `+`, no
/// leading zeros, no `-0`), so parsing compares like formatting would.
fn is_canonical_int(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && !digits.starts_with('+')
        && (digits == "0" && !text.starts_with('-') || !digits.starts_with('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_text_comparison_matches_formatting() {
        let v = ValueRef::Int(500);
        assert!(v.text_is("500"));
        assert!(!v.text_is("0500"));
        assert!(!v.text_is("+500"));
        assert!(ValueRef::Int(0).text_is("0"));
        assert!(!ValueRef::Int(0).text_is("-0"));
        assert!(ValueRef::Int(-7).text_is("-7"));
        assert!(!ValueRef::Int(-7).text_is("-07"));
        assert!(ValueRef::Double(1.5).text_is("1.5"));
        assert!(ValueRef::Bool(true).text_is("true"));
    }
}
