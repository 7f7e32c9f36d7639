//! Reading an HTTP request body under the size limit and inflating
//! `Content-Encoding: gzip`/`deflate` without letting it expand past the limit.
//!
//! Used by the OTLP/HTTP and Zipkin receivers; the gRPC receiver relies on
//! tonic's own framing limits instead.

use crate::error::IngestError;
use axum::body::Body;
use axum::http::{header, HeaderMap};
use bytes::Bytes;
use flate2::read::{MultiGzDecoder, ZlibDecoder};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::io::Read;

/// Reads the whole body (at most `limit` bytes on the wire and after inflating).
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, IngestError> {
    let too_large = |decompressed| IngestError::TooLarge {
        limit_bytes: limit,
        decompressed,
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(false));
    }
    let encoding = content_encoding(headers)?;
    let raw = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return Err(too_large(false)),
        Err(e) => return Err(IngestError::Read(e.to_string())),
    };
    match encoding {
        Encoding::Identity => Ok(raw),
        Encoding::Gzip => inflate(MultiGzDecoder::new(&raw[..]), "gzip", limit),
        Encoding::Deflate => inflate(ZlibDecoder::new(&raw[..]), "deflate", limit),
    }
}

enum Encoding {
    Identity,
    Gzip,
    Deflate,
}

fn content_encoding(headers: &HeaderMap) -> Result<Encoding, IngestError> {
    let Some(value) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(Encoding::Identity);
    };
    let text = value
        .to_str()
        .map_err(|_| IngestError::UnsupportedEncoding(format!("{value:?}")))?
        .trim()
        .to_ascii_lowercase();
    match text.as_str() {
        "" | "identity" => Ok(Encoding::Identity),
        "gzip" | "x-gzip" => Ok(Encoding::Gzip),
        "deflate" => Ok(Encoding::Deflate),
        _ => Err(IngestError::UnsupportedEncoding(text)),
    }
}

/// Inflates at most `limit` bytes; one byte more means the body is too large.
fn inflate(decoder: impl Read, name: &str, limit: usize) -> Result<Bytes, IngestError> {
    let mut out = Vec::new();
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| IngestError::Malformed(format!("malformed {name} body: {e}")))?;
    if out.len() > limit {
        return Err(IngestError::TooLarge {
            limit_bytes: limit,
            decompressed: true,
        });
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn inflate_stops_at_the_limit() {
        let bomb = gzip(&vec![0u8; 1 << 20]);
        assert!(bomb.len() < 4096);
        let err = inflate(MultiGzDecoder::new(&bomb[..]), "gzip", 64 * 1024).unwrap_err();
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
        let ok = inflate(MultiGzDecoder::new(&bomb[..]), "gzip", 1 << 20).unwrap();
        assert_eq!(ok.len(), 1 << 20);
        let err = inflate(MultiGzDecoder::new(&b"not gzip"[..]), "gzip", 100).unwrap_err();
        assert!(err.to_string().starts_with("malformed gzip body"), "{err}");
    }
}
