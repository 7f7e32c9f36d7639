//! The unary half of the Connect protocol (connectrpc.com/docs/protocol), as
//! connect-go clients (Grafana's Pyroscope data source) speak it: `POST`
//! with a `application/proto` or `application/json` body, optionally
//! `Content-Encoding: gzip`; the answer in the request's codec; errors as
//! `{"code","message"}` JSON with the HTTP status of connect-go's current
//! code mapping.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::Read;
use store::StoreError;

/// Most bytes a gzipped request may inflate to.
pub const MAX_DECODED_BYTES: u64 = 64 << 20;

/// How messages are serialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Binary protobuf, `application/proto`.
    Proto,
    /// proto3 JSON, `application/json`.
    Json,
}

impl Codec {
    /// The codec a request's `Content-Type` names, if supported.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
        let media = value.split(';').next()?.trim().to_ascii_lowercase();
        match media.as_str() {
            "application/proto" | "application/protobuf" | "application/x-protobuf" => {
                Some(Self::Proto)
            }
            "application/json" => Some(Self::Json),
            _ => None,
        }
    }

    /// The `Content-Type` of answers.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Proto => "application/proto",
            Self::Json => "application/json",
        }
    }
}

/// Connect error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Bad request data.
    InvalidArgument,
    /// Not found.
    NotFound,
    /// Over a limit (retry later).
    ResourceExhausted,
    /// The procedure (or this variant of it) is not served.
    Unimplemented,
    /// Our failure.
    Internal,
    /// The store is going away.
    Unavailable,
}

impl Code {
    /// The code's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidArgument => "invalid_argument",
            Self::NotFound => "not_found",
            Self::ResourceExhausted => "resource_exhausted",
            Self::Unimplemented => "unimplemented",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
        }
    }

    /// The HTTP status (connect-go `connectCodeToHTTP`).
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidArgument => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Self::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A failed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    /// The code.
    pub code: Code,
    /// What went wrong.
    pub message: String,
    /// The HTTP status when it is not the code's (404 for unknown procedures).
    pub status: Option<StatusCode>,
}

impl ConnectError {
    /// An error with the code's status.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: None,
        }
    }

    /// `invalid_argument` (400).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message)
    }

    /// `unimplemented` (501).
    pub fn unimplemented(message: impl Into<String>) -> Self {
        Self::new(Code::Unimplemented, message)
    }

    /// `internal` (500).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Code::Internal, message)
    }

    /// A procedure that does not exist: `unimplemented` with status 404, as
    /// an HTTP mux answers for an unregistered path.
    pub fn no_such_procedure(path: &str) -> Self {
        Self {
            status: Some(StatusCode::NOT_FOUND),
            ..Self::unimplemented(format!("{path} is not implemented"))
        }
    }
}

impl From<StoreError> for ConnectError {
    fn from(e: StoreError) -> Self {
        let code = match e {
            StoreError::Overloaded { .. } | StoreError::TooManySamples { .. } => {
                Code::ResourceExhausted
            }
            StoreError::Closed | StoreError::Unavailable(_) => Code::Unavailable,
            _ => Code::Internal,
        };
        Self::new(code, e.to_string())
    }
}

impl IntoResponse for ConnectError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"code": self.code.as_str(), "message": self.message});
        (
            self.status.unwrap_or_else(|| self.code.status()),
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}

/// 415 for a content type that is not served (the Connect spec's answer).
pub fn unsupported_media_type() -> Response {
    (
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        [(
            header::HeaderName::from_static("accept-post"),
            HeaderValue::from_static("application/json, application/proto"),
        )],
    )
        .into_response()
}

/// Checks the protocol version header and inflates a gzipped body.
fn body_bytes(headers: &HeaderMap, body: Bytes) -> Result<Bytes, ConnectError> {
    if let Some(version) = headers.get("connect-protocol-version") {
        if version.as_bytes() != b"1" {
            return Err(ConnectError::invalid(
                "connect-protocol-version must be \"1\"",
            ));
        }
    }
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("") | Some("identity") => Ok(body),
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(body.as_ref())
                .take(MAX_DECODED_BYTES + 1)
                .read_to_end(&mut out)
                .map_err(|e| ConnectError::invalid(format!("bad gzip body: {e}")))?;
            if out.len() as u64 > MAX_DECODED_BYTES {
                return Err(ConnectError::new(
                    Code::ResourceExhausted,
                    format!("request inflates to more than {MAX_DECODED_BYTES} bytes"),
                ));
            }
            Ok(Bytes::from(out))
        }
        Some(other) => Err(ConnectError::unimplemented(format!(
            "unknown compression {other:?}: supported encodings are gzip, identity"
        ))),
    }
}

/// Decodes a request message (an empty body is the default message).
pub fn decode<T>(codec: Codec, headers: &HeaderMap, body: Bytes) -> Result<T, ConnectError>
where
    T: prost::Message + Default + DeserializeOwned,
{
    let bytes = body_bytes(headers, body)?;
    if bytes.is_empty() {
        return Ok(T::default());
    }
    match codec {
        Codec::Proto => T::decode(bytes.as_ref())
            .map_err(|e| ConnectError::invalid(format!("bad protobuf request: {e}"))),
        Codec::Json => serde_json::from_slice(&bytes)
            .map_err(|e| ConnectError::invalid(format!("bad JSON request: {e}"))),
    }
}

/// Encodes a response message in `codec`.
pub fn encode<T>(codec: Codec, message: &T) -> Response
where
    T: prost::Message + Serialize,
{
    let body = match codec {
        Codec::Proto => message.encode_to_vec(),
        Codec::Json => match serde_json::to_vec(message) {
            Ok(body) => body,
            Err(e) => return ConnectError::internal(format!("encoding JSON: {e}")).into_response(),
        },
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, codec.content_type())],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn codecs_gzip_and_errors() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert_eq!(Codec::from_headers(&headers), Some(Codec::Json));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert_eq!(Codec::from_headers(&headers), None);

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(br#"{"start":"5","end":7}"#).expect("write");
        let body = Bytes::from(gz.finish().expect("finish"));
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        let req: super::super::proto::ProfileTypesRequest =
            decode(Codec::Json, &headers, body).expect("decodes");
        assert_eq!((req.start, req.end), (5, 7));

        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        let err = decode::<super::super::proto::Empty>(Codec::Json, &headers, Bytes::from("x"))
            .expect_err("unknown encoding");
        assert_eq!(err.code, Code::Unimplemented);
        assert_eq!(
            ConnectError::no_such_procedure("/x")
                .into_response()
                .status(),
            404
        );
        assert_eq!(ConnectError::invalid("bad").into_response().status(), 400);
    }
}
