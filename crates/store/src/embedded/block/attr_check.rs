//! Whether a span's stored attributes include given `key=value` tags,
//! decided while postcard decodes its `details` blob (layout as in
//! `schema::DetailsAttributes`) without building the attribute list or
//! validating keys as UTF-8: the inner loop of a tag search over many rows.
//! Written as serde seeds because serde's derive always collects a `Vec`.

use serde::de::{DeserializeSeed, Deserializer, Error, SeqAccess, Visitor};
use std::fmt;

use super::schema::ValueRef;

/// Most tags one check handles (one bit each).
pub const MAX_TAGS: usize = 64;

/// Whether the span attributes in `details` include every `(key, text)` of
/// `tags` (at most [`MAX_TAGS`]; text as `AttrValue::to_text` writes it).
pub fn has_attributes(details: &[u8], tags: &[(&str, &str)]) -> Result<bool, postcard::Error> {
    if tags.len() > MAX_TAGS {
        return Err(postcard::Error::custom("too many tags for one check"));
    }
    // One bit per tag; no bits for no tags.
    let all = u64::MAX
        .checked_shr((MAX_TAGS - tags.len()) as u32)
        .unwrap_or(0);
    let mut de = postcard::Deserializer::from_bytes(details);
    let found = Details { tags, all }.deserialize(&mut de)?;
    Ok(found == all)
}

/// The leading fields of the blob; yields the bit mask of tags found.
struct Details<'t> {
    tags: &'t [(&'t str, &'t str)],
    all: u64,
}

impl<'de> DeserializeSeed<'de> for Details<'_> {
    type Value = u64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_tuple(3, self)
    }
}

impl<'de> Visitor<'de> for Details<'_> {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("span details")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let truncated = || A::Error::custom("truncated span details");
        seq.next_element::<&[u8]>()?.ok_or_else(truncated)?; // trace_state
        seq.next_element::<u32>()?.ok_or_else(truncated)?; // flags
        seq.next_element_seed(Attributes(self))?
            .ok_or_else(truncated)
    }
}

/// The attribute list.
struct Attributes<'t>(Details<'t>);

impl<'de> DeserializeSeed<'de> for Attributes<'_> {
    type Value = u64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Attributes<'_> {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("span attributes")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut found = 0;
        // The rest of the blob is not needed once every tag is found.
        while found != self.0.all {
            match seq.next_element_seed(Attribute(self.0.tags))? {
                Some(mask) => found |= mask,
                None => break,
            }
        }
        Ok(found)
    }
}

/// One attribute; yields the bits of the tags it equals.
struct Attribute<'t>(&'t [(&'t str, &'t str)]);

impl<'de> DeserializeSeed<'de> for Attribute<'_> {
    type Value = u64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_tuple(2, self)
    }
}

impl<'de> Visitor<'de> for Attribute<'_> {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let truncated = || A::Error::custom("truncated attribute");
        let key: &[u8] = seq.next_element()?.ok_or_else(truncated)?;
        let value: ValueRef<'de> = seq.next_element()?.ok_or_else(truncated)?;
        let mut mask = 0;
        for (bit, (k, text)) in self.0.iter().enumerate() {
            if k.as_bytes() == key && value.text_is(text) {
                mask |= 1 << bit;
            }
        }
        Ok(mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::block::schema::DetailsRef;
    use model::{AttrValue, KeyValue};

    fn details(attributes: &[KeyValue]) -> Vec<u8> {
        postcard::to_stdvec(&DetailsRef {
            trace_state: "k=v",
            flags: 1,
            attributes,
            dropped_attributes_count: 0,
            events: &[],
            dropped_events_count: 0,
            links: &[],
            dropped_links_count: 0,
            status_message: "",
            end_if_before_start: None,
        })
        .unwrap()
    }

    #[test]
    fn every_tag_must_match_key_and_text() {
        let blob = details(&[
            KeyValue::str("http.method", "GET"),
            KeyValue {
                key: "user.id".into(),
                value: AttrValue::Int(7),
            },
            KeyValue {
                key: "ratio".into(),
                value: AttrValue::Double(0.5),
            },
            KeyValue {
                key: "list".into(),
                value: AttrValue::Array(vec![AttrValue::Int(1)]),
            },
            KeyValue {
                key: "thread.id".into(),
                value: AttrValue::Int(1),
            },
        ]);
        let check = |tags: &[(&str, &str)]| has_attributes(&blob, tags).unwrap();
        assert!(check(&[]));
        assert!(check(&[("user.id", "7"), ("thread.id", "1")]));
        assert!(check(&[
            ("thread.id", "1"),
            ("ratio", "0.5"),
            ("http.method", "GET")
        ]));
        assert!(!check(&[("user.id", "7"), ("thread.id", "2")]));
        assert!(!check(&[("user.id", "07")]));
        assert!(!check(&[("http.method", "get")]));
        assert!(
            !check(&[("thread.id", "7")]),
            "key and value of one attribute"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let blob = details(&[KeyValue::str("a", "b")]);
        assert!(has_attributes(&blob[..blob.len() / 2], &[("x", "y")]).is_err());
        assert!(has_attributes(&[0xff, 0xff, 0xff], &[("x", "y")]).is_err());
        let many: Vec<(&str, &str)> = vec![("a", "b"); MAX_TAGS + 1];
        assert!(has_attributes(&blob, &many).is_err());
    }
}
