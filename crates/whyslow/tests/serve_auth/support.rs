//! Helpers for the authentication end-to-end tests (serve_auth.rs): an auth
//! file with one token per role made by `whyslow auth hash`, plain HTTP/1.1
//! requests with any headers (and any request target, for path tricks), and
//! one OTLP/gRPC export over HTTP/2 with or without `authorization` metadata.
#![allow(dead_code)]

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The ingest token (line NAME `agents`).
pub const INGEST: &str = "ingest-token-of-the-e2e-tests-000001";
/// The read token (line NAME `grafana`).
pub const READ: &str = "read-token-of-the-e2e-tests-0000001";
/// The admin token (a line without NAME).
pub const ADMIN: &str = "admin-token-of-the-e2e-tests-000001";

/// A directory with `auth.txt` (the three tokens' lines) and each token in a
/// file of its own (`ingest.token`, …); removed on drop.
pub struct AuthDir {
    pub dir: PathBuf,
    pub auth_file: PathBuf,
}

impl AuthDir {
    pub fn new(name: &str) -> AuthDir {
        let dir = std::env::temp_dir().join(format!("whyslow-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut lines = String::from("# made by serve_auth.rs\n");
        for (role, token, name) in [
            ("ingest", INGEST, Some("agents")),
            ("read", READ, Some("grafana")),
            ("admin", ADMIN, None),
        ] {
            lines.push_str(&auth_hash(role, token, name));
            std::fs::write(dir.join(format!("{role}.token")), format!("{token}\n")).unwrap();
        }
        let auth_file = dir.join("auth.txt");
        std::fs::write(&auth_file, lines).unwrap();
        AuthDir { dir, auth_file }
    }

    /// The file holding the token of `role`.
    pub fn token_file(&self, role: &str) -> PathBuf {
        self.dir.join(format!("{role}.token"))
    }

    /// `--auth-file PATH` as serve arguments.
    pub fn auth_file_str(&self) -> String {
        self.auth_file.display().to_string()
    }
}

impl Drop for AuthDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The auth-file line `whyslow auth hash` prints for `token`.
fn auth_hash(role: &str, token: &str, name: Option<&str>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_whyslow"));
    command.args(["auth", "hash", "--role", role]);
    if let Some(name) = name {
        command.args(["--name", name]);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{token}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "whyslow auth hash failed");
    let line = String::from_utf8(output.stdout).unwrap();
    assert!(line.starts_with(&format!("{role} $argon2id$")), "{line}");
    assert!(!line.contains(token), "the line must not hold the token");
    line
}

/// `Bearer TOKEN`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// `Basic base64(USER:TOKEN)`.
pub fn basic(user: &str, token: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"));
    format!("Basic {encoded}")
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header named `name`.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// One HTTP/1.1 request (`Connection: close`) with `target` sent as given.
pub fn request(
    addr: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut stream =
        TcpStream::connect(addr).unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.get(9..12))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: dechunk(&text, body),
    }
}

/// The body, with chunked transfer coding undone when the head says so.
fn dechunk(response: &str, body: &str) -> String {
    if !response
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// GET with one `Authorization` header (none when `authorization` is `None`).
pub fn get(addr: &str, target: &str, authorization: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = authorization
        .map(|a| ("Authorization", a))
        .into_iter()
        .collect();
    request(addr, "GET", target, &headers, b"")
}

/// POST `body` as `content_type` with one `Authorization` header (or none).
pub fn post(
    addr: &str,
    target: &str,
    content_type: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> Answer {
    let mut headers = vec![("Content-Type", content_type)];
    headers.extend(authorization.map(|a| ("Authorization", a)));
    request(addr, "POST", target, &headers, body)
}

/// What a gRPC call answered: `grpc-status`, `grpc-message` and whether
/// `grpc-status-details-bin` holds a `google.rpc.RetryInfo`.
#[derive(Debug)]
pub struct GrpcAnswer {
    pub code: i32,
    pub message: String,
    pub retry_info: bool,
}

/// The OTLP trace export path.
pub const TRACE_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
/// The OTLP metrics export path.
pub const METRICS_EXPORT: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// One unary gRPC call to `path` with an empty export request (a valid
/// message: nothing to store), over HTTP/2 without TLS.
pub fn grpc_export(addr: &str, path: &str, authorization: Option<&str>) -> GrpcAnswer {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .unwrap();
        tokio::spawn(connection);
        let mut request = hyper::Request::post(format!("http://{addr}{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        // One uncompressed message frame of 0 bytes: an empty request.
        let request = request
            .body(Full::new(Bytes::from_static(&[0, 0, 0, 0, 0])))
            .unwrap();
        let response = tokio::time::timeout(Duration::from_secs(20), sender.send_request(request))
            .await
            .expect("the gRPC call answers within 20 s")
            .unwrap();
        let (parts, body) = response.into_parts();
        assert_eq!(parts.status, 200, "gRPC answers HTTP 200");
        let collected = body.collect().await.unwrap();
        let mut metadata = parts.headers;
        if let Some(trailers) = collected.trailers() {
            metadata.extend(trailers.clone());
        }
        let text = |name: &str| {
            metadata
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let details = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(text("grpc-status-details-bin").trim_end_matches('='))
            .unwrap_or_default();
        GrpcAnswer {
            code: text("grpc-status").parse().unwrap_or(-1),
            message: text("grpc-message"),
            retry_info: String::from_utf8_lossy(&details).contains("google.rpc.RetryInfo"),
        }
    })
}

/// An OTLP/JSON export request of one span named `name` in trace `trace` of service `service`.
pub fn otlp_json_span(trace: &str, service: &str, name: &str) -> String {
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let name = serde_json::to_string(name).unwrap();
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},"scopeSpans":[{{"spans":[{{"traceId":"{trace}","spanId":"00000000000000a1","name":{name},"kind":2,"startTimeUnixNano":"{s}","endTimeUnixNano":"{e}"}}]}}]}}]}}"#,
        s = now_ns - 2_000_000,
        e = now_ns
    )
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
