//! Reading an HTTP request body under the size limit and the in-flight
//! budget, and inflating `Content-Encoding: gzip`/`deflate` without letting it
//! expand past either.
//!
//! The request is admitted (see `admission.rs`) from its `Content-Length`
//! before the first body byte is read; a body without one, and an inflating
//! body, grow the charge as bytes arrive. A refused body is read and dropped
//! in the background so the sender gets the 429 rather than a reset
//! connection. Used by the OTLP/HTTP and Zipkin receivers; the gRPC receiver
//! admits in `otlp_grpc.rs`.

use crate::admission::Admitted;
use crate::error::IngestError;
use crate::limits::Limits;
use axum::body::Body;
use axum::http::{header, HeaderMap};
use bytes::Bytes;
use flate2::read::{MultiGzDecoder, ZlibDecoder};
use http_body_util::BodyExt;
use std::io::Read;
use std::time::Duration;

/// How far ahead of the bytes received the charge grows when the final size
/// is unknown (no `Content-Length`, or inflating), in bytes on the wire.
pub(crate) const GROWTH_STEP_BYTES: usize = 64 * 1024;

/// How long a refused body is read and dropped before the connection is cut.
const DISCARD_TIMEOUT: Duration = Duration::from_secs(10);

/// Admits the request against `limits.in_flight` and reads the whole body (at
/// most `limits.max_request_bytes` on the wire and after inflating).
///
/// `expansion` is the format's decode expansion (`admission::EXPANSION_*`):
/// the charge is the wire bytes times it, or for a compressed body the wire
/// bytes plus the inflated bytes times it. The returned [`Admitted`] holds
/// that charge until the caller drops it.
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limits: &Limits,
    expansion: u64,
) -> Result<(Bytes, Admitted), IngestError> {
    let limit = limits.max_request_bytes;
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
    // What `wire` bytes on the wire inflating to `decoded` bytes cost in flight.
    let charge = |wire: usize, decoded: usize| match encoding {
        Encoding::Identity => wire as u64 * expansion,
        Encoding::Gzip | Encoding::Deflate => wire as u64 + decoded as u64 * expansion,
    };
    // Unknown sizes are first guessed one step ahead (and a compressed body
    // at least as large inflated as on the wire), then grown.
    let expected = declared.map_or(GROWTH_STEP_BYTES.min(limit), |n| n as usize);
    let mut admitted = match limits.in_flight.admit(charge(expected, expected)) {
        Ok(admitted) => admitted,
        Err(refused) => {
            discard_in_background(headers, body, limit);
            return Err(refused);
        }
    };

    let mut raw = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| IngestError::Read(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        let received = raw.len() + data.len();
        if received > limit {
            return Err(too_large(false));
        }
        let ahead = (received + GROWTH_STEP_BYTES).min(limit);
        if let Err(refused) = admitted.grow_ahead(charge(received, received), charge(ahead, ahead))
        {
            discard_in_background(headers, body, limit - received);
            return Err(refused);
        }
        raw.extend_from_slice(&data);
    }
    let wire = raw.len();
    let mut grow = |decoded: usize| admitted.grow_to(charge(wire, decoded));
    let bytes = match encoding {
        Encoding::Identity => Bytes::from(raw),
        Encoding::Gzip => inflate(MultiGzDecoder::new(&raw[..]), "gzip", limit, &mut grow)?,
        Encoding::Deflate => inflate(ZlibDecoder::new(&raw[..]), "deflate", limit, &mut grow)?,
    };
    Ok((bytes, admitted))
}

/// Reads and drops up to `limit` more bytes of a refused body in the
/// background, for at most [`DISCARD_TIMEOUT`], so an HTTP/1 sender still
/// writing it reads the refusal instead of a connection reset. Nothing is
/// kept, so this costs no memory. A sender waiting for `100 Continue` has not
/// sent the body: dropping it lets the server answer and close cleanly.
fn discard_in_background(headers: &HeaderMap, body: Body, limit: usize) {
    let expects_continue = headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if expects_continue {
        return;
    }
    tokio::spawn(async move {
        let mut body = body;
        let mut discarded = 0usize;
        let _ = tokio::time::timeout(DISCARD_TIMEOUT, async {
            while let Some(Ok(frame)) = body.frame().await {
                discarded += frame.data_ref().map_or(0, Bytes::len);
                if discarded > limit {
                    break;
                }
            }
        })
        .await;
    });
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
/// `grow` is told the inflated size before each chunk is kept, so the
/// in-flight charge covers the output before it is allocated.
fn inflate(
    decoder: impl Read,
    name: &str,
    limit: usize,
    grow: &mut dyn FnMut(usize) -> Result<(), IngestError>,
) -> Result<Bytes, IngestError> {
    let mut decoder = decoder.take(limit as u64 + 1);
    let mut out = Vec::new();
    let mut chunk = vec![0u8; GROWTH_STEP_BYTES];
    loop {
        let n = match decoder.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(IngestError::Malformed(format!(
                    "malformed {name} body: {e}"
                )))
            }
        };
        if out.len() + n > limit {
            return Err(IngestError::TooLarge {
                limit_bytes: limit,
                decompressed: true,
            });
        }
        grow(out.len() + n)?;
        out.extend_from_slice(&chunk[..n]);
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::InFlightBudget;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn no_growth(_: usize) -> Result<(), IngestError> {
        Ok(())
    }

    #[test]
    fn inflate_stops_at_the_limit() {
        let bomb = gzip(&vec![0u8; 1 << 20]);
        assert!(bomb.len() < 4096);
        let err = inflate(
            MultiGzDecoder::new(&bomb[..]),
            "gzip",
            64 * 1024,
            &mut no_growth,
        )
        .unwrap_err();
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
        let ok = inflate(
            MultiGzDecoder::new(&bomb[..]),
            "gzip",
            1 << 20,
            &mut no_growth,
        )
        .unwrap();
        assert_eq!(ok.len(), 1 << 20);
        let err = inflate(
            MultiGzDecoder::new(&b"not gzip"[..]),
            "gzip",
            100,
            &mut no_growth,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("malformed gzip body"), "{err}");
    }

    /// A body delivered in the given chunks, without a known length.
    struct Chunked(std::collections::VecDeque<Bytes>);

    impl http_body::Body for Chunked {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Ready(self.0.pop_front().map(|b| Ok(http_body::Frame::data(b))))
        }
    }

    fn chunked(chunk_bytes: usize, chunks: usize) -> Body {
        Body::new(Chunked(
            (0..chunks)
                .map(|_| Bytes::from(vec![b'x'; chunk_bytes]))
                .collect(),
        ))
    }

    fn limits(in_flight_bytes: u64) -> Limits {
        Limits {
            max_request_bytes: 1 << 20,
            in_flight: InFlightBudget::new(in_flight_bytes),
            ..Limits::default()
        }
    }

    fn with_length(bytes: usize) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, bytes.into());
        headers
    }

    const KIB: u64 = 1024;

    #[tokio::test]
    async fn content_length_is_charged_times_the_expansion_before_reading() {
        let limits = limits(100 * KIB);
        let (bytes, admitted) = read_body(
            &with_length(10 * 1024),
            Body::from(vec![b'x'; 10 * 1024]),
            &limits,
            4,
        )
        .await
        .unwrap();
        assert_eq!(bytes.len(), 10 * 1024);
        assert_eq!(admitted.held_bytes(), 40 * KIB);

        // 40 KiB held: 20 KiB × 4 does not fit next to it and is refused
        // without waiting; 15 KiB × 4 does.
        let err = read_body(
            &with_length(20 * 1024),
            Body::from(vec![b'x'; 20 * 1024]),
            &limits,
            4,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, IngestError::InFlightBudget { needed_bytes, .. } if needed_bytes == 80 * KIB),
            "{err}"
        );
        assert_eq!(limits.in_flight.in_use_bytes(), 40 * KIB);
        let (_, second) = read_body(
            &with_length(15 * 1024),
            Body::from(vec![b'x'; 15 * 1024]),
            &limits,
            4,
        )
        .await
        .unwrap();
        assert_eq!(limits.in_flight.in_use_bytes(), 100 * KIB);
        drop((admitted, second));
        assert_eq!(limits.in_flight.in_use_bytes(), 0);
    }

    #[tokio::test]
    async fn a_body_without_length_grows_its_charge_as_bytes_arrive() {
        let limits = limits(4096 * KIB);
        // 300 KiB in 10 KiB chunks: charged one 64 KiB step ahead, times 2.
        let (bytes, admitted) = read_body(&HeaderMap::new(), chunked(10 * 1024, 30), &limits, 2)
            .await
            .unwrap();
        assert_eq!(bytes.len(), 300 * 1024);
        let held = admitted.held_bytes();
        assert!((600 * KIB..=(300 + 64) * 2 * KIB).contains(&held), "{held}");
    }

    #[tokio::test]
    async fn a_body_without_length_is_refused_when_its_growth_does_not_fit() {
        let limits = limits(400 * KIB);
        let _other = limits.in_flight.admit(200 * KIB).unwrap();
        // 300 KiB × 2 cannot fit in the 200 KiB left; the first 64 KiB step can.
        let err = read_body(&HeaderMap::new(), chunked(10 * 1024, 30), &limits, 2)
            .await
            .unwrap_err();
        assert!(matches!(err, IngestError::InFlightBudget { .. }), "{err}");
        assert_eq!(limits.in_flight.in_use_bytes(), 200 * KIB);
    }

    #[tokio::test]
    async fn gzip_is_charged_for_the_inflated_size() {
        let wire = gzip(&vec![0u8; 512 * 1024]);
        let mut headers = with_length(wire.len());
        headers.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());

        let roomy = limits(4096 * KIB);
        let (bytes, admitted) = read_body(&headers, Body::from(wire.clone()), &roomy, 2)
            .await
            .unwrap();
        assert_eq!(bytes.len(), 512 * 1024);
        assert!(admitted.held_bytes() >= 1024 * KIB, "{admitted:?}");

        // Inflating to 512 KiB × 2 does not fit next to another request.
        let tight = limits(1024 * KIB);
        let _other = tight.in_flight.admit(512 * KIB).unwrap();
        let err = read_body(&headers, Body::from(wire), &tight, 2)
            .await
            .unwrap_err();
        assert!(matches!(err, IngestError::InFlightBudget { .. }), "{err}");
        assert_eq!(tight.in_flight.in_use_bytes(), 512 * KIB);
    }

    #[tokio::test]
    async fn a_body_larger_than_the_budget_is_read_when_alone() {
        let limits = limits(64 * KIB);
        let (bytes, admitted) = read_body(
            &with_length(100 * 1024),
            Body::from(vec![b'x'; 100 * 1024]),
            &limits,
            4,
        )
        .await
        .unwrap();
        assert_eq!(bytes.len(), 100 * 1024);
        assert_eq!(admitted.held_bytes(), 64 * KIB);
        let err = read_body(&with_length(10), Body::from(vec![b'x'; 10]), &limits, 4)
            .await
            .unwrap_err();
        assert!(matches!(err, IngestError::InFlightBudget { .. }), "{err}");
    }
}
