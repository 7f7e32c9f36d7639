//! `POST /ingest` (also at `/pyroscope/ingest`): Pyroscope's legacy HTTP
//! ingest, as pyroscope-go (multipart pprof) and pyroscope-rs ≤ 0.8
//! (`format=pprof`, or folded text) use it.
//!
//! Query parameters: `name` (required, `app.name{k=v}`), `from`/`until`
//! (see [`super::time`]; missing means now), `format` (`pprof`, `groups` —
//! the default folded text —, or `lines`), `sampleRate` (default 100),
//! `spyName` (stored as `pyroscope_spy`); `units` and `aggregationType` are
//! accepted and ignored. A `multipart/form-data` body is pprof whatever the
//! format says. Success is 200 with an empty body (pyroscope-go treats
//! anything else as a failure); errors are Connect JSON ([`super::error`]).

use super::error::{error_response, Api, ProfileError};
use super::folded::{self, split_suffix, Folded, FoldedSeries};
use super::labels::{parse_app_name, AppName, SERVICE_NAME};
use super::limits::Budget;
use super::pprof::{self, PprofSeries};
use super::time::{now_ns, parse_time};
use super::{multipart, write_durably, Receiver};
use crate::body::read_body;
use crate::http;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;
use store::profiles::ProfileWrite;

/// Pyroscope's default `sampleRate`.
pub const DEFAULT_SAMPLE_RATE: u32 = 100;

/// The query parameters that matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestParams {
    /// The parsed `name`.
    pub name: AppName,
    /// Profile start, Unix ns.
    pub from_ns: i64,
    /// Profile end, Unix ns.
    pub until_ns: i64,
    /// `format`, when given.
    pub format: Option<String>,
    /// Samples per second (folded CPU and wall profiles).
    pub sample_rate: u32,
    /// `spyName`, when given.
    pub spy_name: Option<String>,
}

impl IngestParams {
    /// Reads the parameters of `uri` (the first value of each one counts).
    pub fn from_uri(uri: &Uri, now_ns: i64) -> Result<Self, ProfileError> {
        let Query(pairs): Query<Vec<(String, String)>> = Query::try_from_uri(uri)
            .map_err(|e| ProfileError::Invalid(format!("malformed query string: {e}")))?;
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        let name = get("name").ok_or_else(|| {
            ProfileError::Invalid(
                "the name query parameter is required: name=<application>{key=value,...}".into(),
            )
        })?;
        let time = |key: &str| match get(key) {
            Some(text) => parse_time(text, now_ns).map_err(|e| e.context(key)),
            None => Ok(now_ns),
        };
        let sample_rate = match get("sampleRate") {
            None => DEFAULT_SAMPLE_RATE,
            Some(text) => match text.trim().parse::<u32>() {
                Ok(rate) if rate > 0 => rate,
                _ => {
                    return Err(ProfileError::Invalid(format!(
                        "sampleRate '{}' is not a positive whole number of samples per second",
                        super::labels::shorten(text)
                    )))
                }
            },
        };
        Ok(Self {
            name: parse_app_name(name)?,
            from_ns: time("from")?,
            until_ns: time("until")?,
            format: get("format").map(str::to_ascii_lowercase),
            sample_rate,
            spy_name: get("spyName").map(str::to_string),
        })
    }

    /// Labels besides the name: the tags and `pyroscope_spy`.
    fn labels(&self) -> Vec<(String, String)> {
        let mut labels = self.name.tags.clone();
        if let Some(spy) = &self.spy_name {
            labels.push(("pyroscope_spy".into(), spy.clone()));
        }
        labels
    }

    fn duration_ns(&self) -> i64 {
        self.until_ns.saturating_sub(self.from_ns).max(0)
    }
}

/// How the body is to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Input {
    /// `multipart/form-data` with a `profile` field.
    Multipart(String),
    /// The body is a pprof.
    Pprof,
    /// Folded text.
    Folded(Folded),
}

impl Input {
    fn of(params: &IngestParams, headers: &HeaderMap) -> Result<Self, ProfileError> {
        let (raw, essence) = http::content_type(headers).unwrap_or_default();
        let unsupported = |what: &str| {
            ProfileError::Invalid(format!(
                "{what} is not supported; send pprof (format=pprof or multipart/form-data), folded stacks (format=groups, the default) or format=lines"
            ))
        };
        if let Some(tree) = essence.strip_prefix("binary/octet-stream+") {
            return Err(unsupported(&format!("the {tree} format")));
        }
        if essence == "multipart/form-data" {
            return Ok(Self::Multipart(multipart::boundary(&raw)?));
        }
        match params.format.as_deref() {
            Some("pprof") => Ok(Self::Pprof),
            None | Some("groups" | "folded") => Ok(Self::Folded(Folded::Groups)),
            Some("lines") => Ok(Self::Folded(Folded::Lines)),
            Some(other) => Err(unsupported(&format!(
                "format '{}'",
                super::labels::shorten(other)
            ))),
        }
    }
}

/// The handler.
pub(crate) async fn ingest(
    State(receiver): State<Arc<Receiver>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match receive(&receiver, &uri, &headers, body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => error_response(&e, Api::Ingest),
    }
}

async fn receive(
    receiver: &Receiver,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<(), ProfileError> {
    let params = IngestParams::from_uri(uri, now_ns())?;
    let input = Input::of(&params, headers)?;
    let (bytes, mut admitted) = read_body(headers, body, &receiver.limits, 1).await?;
    let wire = bytes.len() as u64;
    let writes = {
        let mut reserve = |charge: u64| admitted.grow_to(wire + charge);
        let mut budget = Budget::new(&mut reserve);
        convert(&params, &input, &bytes, &mut budget)?
    };
    drop(bytes);
    write_durably(receiver.store.as_ref(), writes, admitted).await
}

/// Converts an `/ingest` body.
fn convert(
    params: &IngestParams,
    input: &Input,
    body: &[u8],
    budget: &mut Budget<'_>,
) -> Result<Vec<ProfileWrite>, ProfileError> {
    match input {
        Input::Folded(format) => {
            let series = FoldedSeries {
                app: params.name.app.clone(),
                labels: params.labels(),
                sample_rate: params.sample_rate,
                time_ns: params.from_ns,
                duration_ns: params.duration_ns(),
            };
            folded::parse_folded(body, *format, &series, budget)
        }
        Input::Pprof => pprof::convert(body, &pprof_series(params, HashMap::new()), budget),
        Input::Multipart(boundary) => {
            let parts = multipart::parse(body, boundary)?;
            if parts.iter().any(|p| p.name == "prev_profile") {
                return Err(ProfileError::Invalid(
                    "unsupported client version: the body has a prev_profile field (cumulative profiles); update github.com/grafana/pyroscope-go to the latest version".into(),
                ));
            }
            let profile = parts.iter().find(|p| p.name == "profile").ok_or_else(|| {
                ProfileError::Invalid("the multipart body has no 'profile' field".into())
            })?;
            let display_names = match parts.iter().find(|p| p.name == "sample_type_config") {
                Some(part) => display_names(part.data)?,
                None => HashMap::new(),
            };
            if profile.data.is_empty() {
                return Ok(Vec::new());
            }
            pprof::convert(profile.data, &pprof_series(params, display_names), budget)
        }
    }
}

/// The series of a pprof sent to `/ingest`: `service_name` is the app
/// name without a known profile-type suffix (a `service_name` tag wins),
/// `__name__` is derived from the sample types.
fn pprof_series(params: &IngestParams, display_names: HashMap<String, String>) -> PprofSeries {
    let (service, _, _) = split_suffix(&params.name.app);
    let mut labels = vec![(SERVICE_NAME.to_string(), service.to_string())];
    labels.extend(params.labels());
    PprofSeries {
        labels,
        display_names,
        default_time_ns: params.from_ns,
        default_duration_ns: params.duration_ns(),
    }
}

/// `display-name`s of a `sample_type_config` JSON object
/// (`{"<sample type>": {"display-name": "...", "units": ..., ...}}`).
pub fn display_names(json: &[u8]) -> Result<HashMap<String, String>, ProfileError> {
    let config: HashMap<String, serde_json::Value> = serde_json::from_slice(json)
        .map_err(|e| ProfileError::Invalid(format!("malformed sample_type_config JSON: {e}")))?;
    Ok(config
        .into_iter()
        .filter_map(|(sample_type, v)| {
            let name = v.get("display-name")?.as_str()?.to_string();
            Some((sample_type, name))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> Result<IngestParams, ProfileError> {
        let uri: Uri = format!("/ingest?{query}").parse().unwrap();
        IngestParams::from_uri(&uri, 42)
    }

    #[test]
    fn parameters_and_defaults() {
        let p = params("name=app.cpu%7Benv%3Dprod%7D&from=1700000000&until=1700000010&spyName=gospy&format=PPROF").unwrap();
        assert_eq!(p.name.app, "app.cpu");
        assert_eq!(p.name.tags, vec![("env".to_string(), "prod".to_string())]);
        assert_eq!(
            (p.from_ns, p.duration_ns()),
            (1_700_000_000_000_000_000, 10_000_000_000)
        );
        assert_eq!((p.format.as_deref(), p.sample_rate), (Some("pprof"), 100));
        assert_eq!(
            p.labels().last().unwrap(),
            &("pyroscope_spy".to_string(), "gospy".to_string())
        );
        let p = params("name=app&sampleRate=97&units=samples&aggregationType=sum").unwrap();
        assert_eq!((p.from_ns, p.until_ns, p.sample_rate), (42, 42, 97));
    }

    #[test]
    fn bad_parameters_are_refused() {
        for (query, why) in [
            ("from=1", "name query parameter is required"),
            ("name=app&sampleRate=0", "sampleRate"),
            ("name=app&sampleRate=x", "sampleRate"),
            ("name=app&from=123", "from: cannot read the time"),
            ("name=app{a", "invalid name parameter"),
        ] {
            let err = params(query).unwrap_err().to_string();
            assert!(err.contains(why), "{query}: {err}");
        }
    }

    #[test]
    fn the_body_kind_follows_content_type_then_format() {
        let p = params("name=app&format=lines").unwrap();
        let mut headers = HeaderMap::new();
        assert_eq!(
            Input::of(&p, &headers).unwrap(),
            Input::Folded(Folded::Lines)
        );
        headers.insert(
            "content-type",
            "multipart/form-data; boundary=q".parse().unwrap(),
        );
        assert_eq!(
            Input::of(&p, &headers).unwrap(),
            Input::Multipart("q".into())
        );
        headers.insert("content-type", "binary/octet-stream+trie".parse().unwrap());
        assert!(Input::of(&p, &headers).is_err());
        let p = params("name=app&format=jfr").unwrap();
        let err = Input::of(&p, &HeaderMap::new()).unwrap_err().to_string();
        assert!(err.contains("format 'jfr' is not supported"), "{err}");
    }

    #[test]
    fn sample_type_config_display_names() {
        let names = display_names(
            br#"{"contentions":{"units":"lock_samples","display-name":"mutex_count"},"x":{}}"#,
        )
        .unwrap();
        assert_eq!(
            names.get("contentions").map(String::as_str),
            Some("mutex_count")
        );
        assert_eq!(names.len(), 1);
        assert!(display_names(b"[").is_err());
    }
}
