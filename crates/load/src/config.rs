//! What a load test does, as plain data: the model (open with an arrival
//! schedule, or closed), limits, concurrency, the weighted requests to send and
//! the tracing options. The binary builds one from the command line.

use crate::client::RequestBody;
use crate::error::LoadError;
use crate::schedule::ArrivalSchedule;
use crate::target::Target;
use crate::tls::TlsOptions;
use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue, HOST};
use hyper::{Method, Request, Uri};
use std::time::Duration;

/// How requests arrive.
#[derive(Debug, Clone)]
pub enum Model {
    /// Requests are sent at scheduled times whether or not earlier ones finished;
    /// latency counts from the scheduled (intended) send time.
    Open(ArrivalSchedule),
    /// Each connection sends its next request as soon as the previous one finished.
    Closed,
}

/// One kind of request the test sends.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    /// HTTP method.
    pub method: Method,
    /// Path and query (`/api?x=1`).
    pub path_and_query: String,
    /// Extra headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Body (empty for none).
    pub body: Bytes,
    /// Relative weight among the templates (≥ 1).
    pub weight: u32,
}

impl RequestTemplate {
    /// Builds a template from command-line style parts: `-m`, `-H 'K: V'`, body.
    pub fn new(
        method: &str,
        path_and_query: &str,
        headers: &[String],
        body: Bytes,
        weight: u32,
    ) -> Result<Self, LoadError> {
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| LoadError::Config(format!("bad HTTP method '{method}'")))?;
        let headers = headers
            .iter()
            .map(|line| parse_header(line))
            .collect::<Result<_, _>>()?;
        if !path_and_query.starts_with('/') {
            return Err(LoadError::Config(format!(
                "request path '{path_and_query}' must start with '/'"
            )));
        }
        Ok(RequestTemplate {
            method,
            path_and_query: path_and_query.to_string(),
            headers,
            body,
            weight: weight.max(1),
        })
    }

    /// Builds the request for `target` with an optional `traceparent` value.
    pub fn build(
        &self,
        target: &Target,
        http2: bool,
        traceparent: Option<&str>,
    ) -> Result<Request<RequestBody>, hyper::http::Error> {
        let uri: Uri = if http2 {
            let scheme = if target.tls { "https" } else { "http" };
            format!("{scheme}://{}{}", target.authority, self.path_and_query).parse()?
        } else {
            self.path_and_query.parse()?
        };
        let mut builder = Request::builder().method(self.method.clone()).uri(uri);
        if !http2 {
            builder = builder.header(HOST, target.authority.as_str());
        }
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        if let Some(value) = traceparent {
            builder = builder.header("traceparent", value);
        }
        builder.body(RequestBody::new(self.body.clone()))
    }
}

/// Parses `Name: value`.
pub fn parse_header(line: &str) -> Result<(HeaderName, HeaderValue), LoadError> {
    let bad = |why: &str| {
        LoadError::Config(format!(
            "bad header '{line}': {why} (expected 'Name: value')"
        ))
    };
    let (name, value) = line.split_once(':').ok_or_else(|| bad("no ':'"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad("bad name"))?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| bad("bad value"))?;
    Ok((name, value))
}

/// A whole load test.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Where requests go.
    pub target: Target,
    /// Open or closed.
    pub model: Model,
    /// Stop after this long (closed model; the open model's schedule has its own length).
    pub duration: Option<Duration>,
    /// Stop after this many requests.
    pub max_requests: Option<u64>,
    /// Worker threads, each with its own event loop.
    pub threads: usize,
    /// TCP connections (each carries one request at a time).
    pub connections: usize,
    /// HTTP/2 with prior knowledge instead of HTTP/1.1.
    pub http2: bool,
    /// HTTP/2: concurrent streams per connection, each one request at a time (1 for HTTP/1.1).
    pub streams: usize,
    /// Per-request timeout (connect, send and the whole response).
    pub timeout: Duration,
    /// Requests to send, chosen by weight.
    pub requests: Vec<RequestTemplate>,
    /// Fraction of requests (0..=1) that carry a W3C `traceparent`; `None` for none.
    pub traceparent_fraction: Option<f64>,
    /// How many of the slowest requests to keep.
    pub slowest: usize,
    /// Certificate trust for https:// targets.
    pub tls: TlsOptions,
}

impl LoadConfig {
    /// Checks the numbers that the types do not.
    pub fn validate(&self) -> Result<(), LoadError> {
        if self.connections == 0 {
            return Err(LoadError::Config(
                "-c/--connections must be at least 1".into(),
            ));
        }
        if self.threads == 0 {
            return Err(LoadError::Config("--threads must be at least 1".into()));
        }
        if self.streams == 0 || (self.streams > 1 && !self.http2) {
            return Err(LoadError::Config(
                "--streams must be at least 1, and above 1 only with --http2".into(),
            ));
        }
        if self.requests.is_empty() {
            return Err(LoadError::Config("no requests to send".into()));
        }
        if self.timeout.is_zero() {
            return Err(LoadError::Config("--timeout must be positive".into()));
        }
        if let Some(fraction) = self.traceparent_fraction {
            if !(0.0..=1.0).contains(&fraction) {
                return Err(LoadError::Config(format!(
                    "--traceparent-sample must be between 0 and 1, got {fraction}"
                )));
            }
        }
        if matches!(self.model, Model::Closed)
            && self.duration.is_none()
            && self.max_requests.is_none()
        {
            return Err(LoadError::Config(
                "give --duration or -n so the run ends".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_and_reject_junk() {
        let (name, value) = parse_header("X-Test:  yes ").expect("valid");
        assert_eq!(name.as_str(), "x-test");
        assert_eq!(value, "yes");
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: x").is_err());
    }

    #[test]
    fn requests_carry_host_headers_and_traceparent() {
        let target = Target::resolve("http://127.0.0.1:8080/x", false).expect("target");
        let template = RequestTemplate::new("post", "/x", &["A: b".into()], Bytes::from("hi"), 1)
            .expect("valid");
        let request = template
            .build(&target, false, Some("00-ab-cd-01"))
            .expect("request");
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.headers()["host"], "127.0.0.1:8080");
        assert_eq!(request.headers()["a"], "b");
        assert_eq!(request.headers()["traceparent"], "00-ab-cd-01");
        let h2 = template.build(&target, true, None).expect("request");
        assert_eq!(h2.uri().to_string(), "http://127.0.0.1:8080/x");
    }
}
