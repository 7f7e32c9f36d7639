//! The HTTP/1.1 client connection of the load generator's hot path: writes a
//! pre-serialized request and reads one response (Content-Length, chunked, or
//! until close) in the caller's task, keeping the connection alive until the
//! server asks to close it. A connection that ends before any byte of the
//! response is told apart ([`SendError::Closed`]) so a stale keep-alive
//! connection can be replaced; one that ends mid-response is a reset.
//!
//! Written by hand, which DESIGN.md asks to justify: hyper's client (still used
//! for HTTP/2) runs each connection as a separate task fed through channels, so
//! every request costs several task wake-ups and a re-encoding of the same head;
//! against nginx on this project's 2-core machines that made the closed model
//! ~0.8× wrk. A load generator sends the same bytes over and over, which is what
//! this does, as wrk does. Response heads are parsed by `httparse`. Not a general
//! client: no pipelining, no upgrades, bodies are counted and dropped.

use crate::client::{Completed, SendError};
use crate::config::RequestTemplate;
use crate::recorder::ErrorKind;
use crate::target::Target;
use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest response head accepted.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most headers parsed in a response head.
const MAX_HEADERS: usize = 64;
/// Bytes asked of each read.
const READ_CHUNK: usize = 16 * 1024;

/// A byte stream a connection runs over: TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A request serialized once: its head (request line and headers, without the
/// blank line, so a `traceparent` can be appended) and its body.
#[derive(Debug, Clone)]
pub struct EncodedRequest {
    head: Bytes,
    body: Bytes,
    head_only: bool,
}

impl EncodedRequest {
    /// Serializes `template` for `target`.
    pub fn new(template: &RequestTemplate, target: &Target) -> Self {
        let mut head = format!(
            "{} {} HTTP/1.1\r\n",
            template.method, template.path_and_query
        )
        .into_bytes();
        let has = |name: &str| template.headers.iter().any(|(n, _)| n.as_str() == name);
        if !has("host") {
            head.extend_from_slice(format!("host: {}\r\n", target.authority).as_bytes());
        }
        for (name, value) in &template.headers {
            head.extend_from_slice(name.as_str().as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        let method = template.method.as_str();
        let needs_length = !template.body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH");
        if needs_length && !has("content-length") {
            head.extend_from_slice(
                format!("content-length: {}\r\n", template.body.len()).as_bytes(),
            );
        }
        EncodedRequest {
            head: head.into(),
            body: template.body.clone(),
            head_only: method == "HEAD",
        }
    }
}

/// How the response body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

/// One HTTP/1.1 keep-alive connection.
pub struct Http1Connection {
    stream: Box<dyn Io>,
    buffer: BytesMut,
    write_buffer: Vec<u8>,
    reusable: bool,
    /// Whether any byte of the current response has arrived.
    response_started: bool,
}

/// Whether `error` means the peer closed or reset the connection.
fn is_closed(error: &std::io::Error) -> bool {
    use std::io::ErrorKind as Io;
    matches!(
        error.kind(),
        Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe | Io::UnexpectedEof
    )
}

fn io_error(error: &std::io::Error) -> ErrorKind {
    if is_closed(error) {
        ErrorKind::Reset
    } else if error.kind() == std::io::ErrorKind::TimedOut {
        ErrorKind::Timeout
    } else {
        ErrorKind::Other
    }
}

impl Http1Connection {
    /// Wraps an open stream.
    pub fn new(stream: Box<dyn Io>) -> Self {
        Http1Connection {
            stream,
            buffer: BytesMut::with_capacity(READ_CHUNK),
            write_buffer: Vec::new(),
            reusable: true,
            response_started: false,
        }
    }

    /// False once the server asked to close or a response ended with the connection.
    pub fn is_reusable(&self) -> bool {
        self.reusable
    }

    /// Sends `request` (plus a `traceparent` header) and reads the whole response.
    /// A failed write, or an end of the connection before any byte of the
    /// response, is [`SendError::Closed`].
    pub async fn send(
        &mut self,
        request: &EncodedRequest,
        traceparent: Option<&str>,
    ) -> Result<Completed, SendError> {
        self.write_buffer.clear();
        self.write_buffer.extend_from_slice(&request.head);
        if let Some(value) = traceparent {
            self.write_buffer.extend_from_slice(b"traceparent: ");
            self.write_buffer.extend_from_slice(value.as_bytes());
            self.write_buffer.extend_from_slice(b"\r\n");
        }
        self.write_buffer.extend_from_slice(b"\r\n");
        self.write_buffer.extend_from_slice(&request.body);
        self.reusable = false; // until a complete response says otherwise
        self.response_started = !self.buffer.is_empty();
        self.stream
            .write_all(&self.write_buffer)
            .await
            .map_err(|error| {
                if is_closed(&error) {
                    SendError::Closed
                } else {
                    SendError::Failed(io_error(&error))
                }
            })?;
        let (status, framing, keep_alive) = self.read_head(request.head_only).await?;
        let body_bytes = self.read_body(framing).await?;
        self.reusable = keep_alive && framing != Framing::UntilClose;
        Ok(Completed { status, body_bytes })
    }

    /// Reads more bytes into the buffer. The end of the stream is an error here:
    /// [`SendError::Closed`] before the response's first byte, a reset after it.
    async fn fill(&mut self) -> Result<(), SendError> {
        self.buffer.reserve(READ_CHUNK);
        match self.stream.read_buf(&mut self.buffer).await {
            Ok(0) => {}
            Ok(_) => {
                self.response_started = true;
                return Ok(());
            }
            Err(error) if is_closed(&error) => {}
            Err(error) => return Err(SendError::Failed(io_error(&error))),
        }
        Err(if self.response_started {
            SendError::Failed(ErrorKind::Reset)
        } else {
            SendError::Closed
        })
    }

    /// Status, framing and keep-alive of the next final (non-1xx) response head.
    async fn read_head(&mut self, head_only: bool) -> Result<(u16, Framing, bool), SendError> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut headers);
            let parsed = response.parse(&self.buffer).map_err(|_| ErrorKind::Other)?;
            let httparse::Status::Complete(head_length) = parsed else {
                if self.buffer.len() > MAX_HEAD_BYTES {
                    return Err(ErrorKind::Other.into());
                }
                self.fill().await?;
                continue;
            };
            let status = response.code.unwrap_or(0);
            let mut length = None;
            let (mut chunked, mut close, mut keep_alive) = (false, false, false);
            for header in response.headers.iter() {
                let value = std::str::from_utf8(header.value).unwrap_or("").trim();
                if header.name.eq_ignore_ascii_case("content-length") {
                    length = Some(value.parse::<u64>().map_err(|_| ErrorKind::Other)?);
                } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.to_ascii_lowercase().ends_with("chunked");
                } else if header.name.eq_ignore_ascii_case("connection") {
                    let value = value.to_ascii_lowercase();
                    close |= value.contains("close");
                    keep_alive |= value.contains("keep-alive");
                }
            }
            let http10 = response.version == Some(0);
            self.buffer.advance(head_length);
            if (100..200).contains(&status) && status != 101 {
                continue; // 100 Continue and friends: the real response follows
            }
            let framing = if head_only || status == 204 || status == 304 {
                Framing::Length(0)
            } else if chunked {
                Framing::Chunked
            } else if let Some(length) = length {
                Framing::Length(length)
            } else {
                Framing::UntilClose
            };
            let reuse = !close && (!http10 || keep_alive);
            return Ok((status, framing, reuse));
        }
    }

    async fn read_body(&mut self, framing: Framing) -> Result<u64, SendError> {
        match framing {
            Framing::Length(length) => {
                self.skip(length).await?;
                Ok(length)
            }
            Framing::Chunked => self.read_chunked().await,
            Framing::UntilClose => {
                let mut total = self.buffer.len() as u64;
                self.buffer.clear();
                loop {
                    self.buffer.reserve(READ_CHUNK);
                    match self.stream.read_buf(&mut self.buffer).await {
                        Ok(0) => return Ok(total),
                        Ok(n) => total += n as u64,
                        Err(error) => return Err(SendError::Failed(io_error(&error))),
                    }
                    self.buffer.clear();
                }
            }
        }
    }

    /// Drops `length` body bytes, reading as needed.
    async fn skip(&mut self, mut length: u64) -> Result<(), SendError> {
        loop {
            let take = (self.buffer.len() as u64).min(length) as usize;
            self.buffer.advance(take);
            length -= take as u64;
            if length == 0 {
                return Ok(());
            }
            self.fill().await?;
        }
    }

    /// One CRLF-terminated line (without the CRLF), consumed from the buffer.
    async fn line(&mut self) -> Result<Bytes, SendError> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\r\n") {
                let line = self.buffer.split_to(end).freeze();
                self.buffer.advance(2);
                return Ok(line);
            }
            if self.buffer.len() > MAX_HEAD_BYTES {
                return Err(ErrorKind::Other.into());
            }
            self.fill().await?;
        }
    }

    async fn read_chunked(&mut self) -> Result<u64, SendError> {
        let mut total = 0u64;
        loop {
            let line = self.line().await?;
            let size_text = std::str::from_utf8(&line).map_err(|_| ErrorKind::Other)?;
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size_text, 16).map_err(|_| ErrorKind::Other)?;
            if size == 0 {
                // Trailers, then the empty line that ends the message.
                while !self.line().await?.is_empty() {}
                return Ok(total);
            }
            self.skip(size).await?;
            if !self.line().await?.is_empty() {
                return Err(ErrorKind::Other.into());
            }
            total += size;
        }
    }
}

/// Fuzzing entry point (see `fuzz/fuzz_targets/http1_response.rs`): sends
/// up to three keep-alive requests to a peer that answers with `response`
/// and then closes. Any outcome but a panic or a hang is fine.
#[doc(hidden)]
pub fn fuzz_response(response: &[u8]) {
    use tokio::io::AsyncWriteExt;
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let Ok(target) = Target::resolve("http://127.0.0.1:8080/x", false) else {
        return;
    };
    let Ok(template) = RequestTemplate::new("GET", "/x", &[], Bytes::new(), 1) else {
        return;
    };
    let request = EncodedRequest::new(&template, &target);
    runtime.block_on(async move {
        // Larger than any fuzz input, so the peer's write never waits for us.
        let (client, mut server) = tokio::io::duplex(response.len() + 4096);
        let _ = server.write_all(response).await;
        let _ = server.shutdown().await;
        let mut connection = Http1Connection::new(Box::new(client));
        for _ in 0..3 {
            if connection.send(&request, None).await.is_err() || !connection.is_reusable() {
                break;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    fn target() -> Target {
        Target::resolve("http://127.0.0.1:8080/x", false).expect("target")
    }

    /// Runs `send` against a scripted server answering `responses` in order.
    fn exchange(
        requests: usize,
        responses: &'static [u8],
    ) -> (Vec<Result<Completed, SendError>>, Vec<u8>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let (client, mut server) = tokio::io::duplex(1 << 20);
            let template =
                RequestTemplate::new("POST", "/x", &["A: b".into()], Bytes::from("hi"), 1)
                    .expect("valid");
            let request = EncodedRequest::new(&template, &target());
            server.write_all(responses).await.expect("write");
            let _ = server.shutdown().await;
            let mut connection = Http1Connection::new(Box::new(client));
            let mut results = Vec::new();
            for _ in 0..requests {
                results.push(connection.send(&request, Some("00-ab-cd-01")).await);
            }
            drop(connection);
            let mut sent = Vec::new();
            let _ = server.read_to_end(&mut sent).await;
            (results, sent)
        })
    }

    #[test]
    fn requests_are_serialized_once_with_host_length_and_traceparent() {
        let (results, sent) = exchange(1, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        assert_eq!(
            String::from_utf8_lossy(&sent),
            "POST /x HTTP/1.1\r\nhost: 127.0.0.1:8080\r\na: b\r\ncontent-length: 2\r\ntraceparent: 00-ab-cd-01\r\n\r\nhi"
        );
        let completed = results[0].expect("response");
        assert_eq!((completed.status, completed.body_bytes), (200, 2));
    }

    #[test]
    fn keep_alive_chunked_continue_and_close_are_framed() {
        let responses = b"HTTP/1.1 100 Continue\r\n\r\n\
            HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: 1\r\n\r\n\
            HTTP/1.1 204 No Content\r\n\r\n\
            HTTP/1.1 503 Busy\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy";
        let (results, _) = exchange(4, responses);
        let got: Vec<(u16, u64)> = results[..3]
            .iter()
            .map(|r| r.map(|c| (c.status, c.body_bytes)).expect("response"))
            .collect();
        assert_eq!(got, vec![(200, 11), (204, 0), (503, 4)]);
        assert_eq!(
            results[3].err(),
            Some(SendError::Closed),
            "the server closed before the response's first byte"
        );
    }

    #[test]
    fn bodies_until_close_and_garbage() {
        let (results, _) = exchange(1, b"HTTP/1.0 200 OK\r\n\r\nabcdef");
        assert_eq!(results[0].map(|c| c.body_bytes), Ok(6));
        let (results, _) = exchange(1, b"SMTP ready\r\n\r\n");
        assert_eq!(results[0].err(), Some(SendError::Failed(ErrorKind::Other)));
        let (results, _) = exchange(1, b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort");
        assert_eq!(
            results[0].err(),
            Some(SendError::Failed(ErrorKind::Reset)),
            "truncated body"
        );
        let (results, _) = exchange(1, b"HTTP/1.1 200 OK\r\ncontent-");
        assert_eq!(
            results[0].err(),
            Some(SendError::Failed(ErrorKind::Reset)),
            "truncated head"
        );
    }
}
