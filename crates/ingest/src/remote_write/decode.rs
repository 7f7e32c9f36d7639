//! Turning a remote_write body into a [`WriteRequest`]: snappy *block*
//! format (not the framed stream), with the decompressed size read from the
//! block's header and checked against the request limit and the in-flight
//! budget before the output is allocated, then prost.
//!
//! A snappy bomb (a small body claiming or expanding to more than
//! [`crate::Limits::max_request_bytes`]) is refused with
//! [`IngestError::TooLarge`] (413) before any large allocation.

use super::proto::WriteRequest;
use crate::error::IngestError;
use prost::Message;

/// The first bytes of a snappy *framed* stream (stream identifier chunk).
const FRAMED_MAGIC: &[u8] = b"\xff\x06\x00\x00sNaPpY";

/// Decompresses a snappy block of at most `limit` bytes decompressed.
///
/// `reserve` is told the decompressed size before the buffer is allocated
/// (so the caller can charge it to the in-flight budget and refuse).
pub fn decompress(
    body: &[u8],
    limit: usize,
    reserve: &mut dyn FnMut(usize) -> Result<(), IngestError>,
) -> Result<Vec<u8>, IngestError> {
    if body.is_empty() {
        return Err(IngestError::Malformed(
            "empty remote_write body: expected a snappy-compressed prometheus.WriteRequest".into(),
        ));
    }
    if body.starts_with(FRAMED_MAGIC) {
        return Err(IngestError::Malformed(
            "remote_write body is in the snappy framed (stream) format; remote_write 1.0 uses the snappy block format (Go: snappy.Encode, Rust: snap::raw::Encoder)".into(),
        ));
    }
    let len = snap::raw::decompress_len(body).map_err(|e| {
        IngestError::Malformed(format!(
            "malformed snappy body: {e} (remote_write needs `Content-Encoding: snappy`, block format)"
        ))
    })?;
    if len > limit {
        return Err(IngestError::TooLarge {
            limit_bytes: limit,
            decompressed: true,
        });
    }
    reserve(len)?;
    let mut out = vec![0u8; len];
    let written = snap::raw::Decoder::new()
        .decompress(body, &mut out)
        .map_err(|e| IngestError::Malformed(format!("malformed snappy body: {e}")))?;
    out.truncate(written);
    Ok(out)
}

/// Decodes the decompressed protobuf.
pub fn decode_request(bytes: &[u8]) -> Result<WriteRequest, IngestError> {
    WriteRequest::decode(bytes).map_err(|e| {
        IngestError::Malformed(format!("malformed protobuf prometheus.WriteRequest: {e}"))
    })
}

/// Snappy then protobuf, with no in-flight accounting (tests, fuzzing).
pub fn decode_body(body: &[u8], limit: usize) -> Result<WriteRequest, IngestError> {
    let bytes = decompress(body, limit, &mut |_| Ok(()))?;
    decode_request(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote_write::proto::{Label, Sample, TimeSeries};

    fn snappy(data: &[u8]) -> Vec<u8> {
        snap::raw::Encoder::new()
            .compress_vec(data)
            .expect("snappy compresses")
    }

    #[test]
    fn round_trip() {
        let request = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![Label {
                    name: "__name__".into(),
                    value: "up".into(),
                }],
                samples: vec![Sample {
                    value: 1.0,
                    timestamp: 1000,
                }],
                exemplars: Vec::new(),
            }],
            metadata: Vec::new(),
        };
        let body = snappy(&request.encode_to_vec());
        assert_eq!(decode_body(&body, 1 << 20).expect("decodes"), request);
    }

    #[test]
    fn bombs_are_refused_before_allocating() {
        // A real bomb: 8 MiB of zeros compresses to a few hundred KiB.
        let body = snappy(&vec![0u8; 8 << 20]);
        let err = decode_body(&body, 1 << 20).expect_err("over the limit");
        assert!(
            matches!(
                err,
                IngestError::TooLarge {
                    decompressed: true,
                    ..
                }
            ),
            "{err}"
        );
        // A lying header: claims 2^32-1 bytes in five bytes.
        let err = decode_body(&[0xff, 0xff, 0xff, 0xff, 0x0f], 1 << 20).expect_err("bomb");
        assert!(matches!(err, IngestError::TooLarge { .. }), "{err}");
        // The reservation sees the size first and can refuse.
        let mut seen = 0;
        let err = decompress(&snappy(b"hello"), 100, &mut |n| {
            seen = n;
            Err(IngestError::Malformed("no room".into()))
        })
        .expect_err("refused");
        assert_eq!(seen, 5);
        assert_eq!(err.to_string(), "no room");
    }

    #[test]
    fn bad_snappy_and_framed_streams_are_named() {
        let err = decode_body(b"\x10not snappy at all", 1 << 20).expect_err("bad");
        assert!(
            err.to_string().starts_with("malformed snappy body"),
            "{err}"
        );
        let framed = [FRAMED_MAGIC, b"rest"].concat();
        let err = decode_body(&framed, 1 << 20).expect_err("framed");
        assert!(err.to_string().contains("framed"), "{err}");
        let err = decode_body(&snappy(b"\xff\xff\xff"), 1 << 20).expect_err("bad proto");
        assert!(
            err.to_string()
                .starts_with("malformed protobuf prometheus.WriteRequest"),
            "{err}"
        );
    }
}
