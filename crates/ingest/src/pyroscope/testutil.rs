//! Test helpers shared by the profile tests: a pprof builder, the router
//! with an in-memory [`EmbeddedProfileStore`], request and query shorthands, and a store
//! that is always full.

use super::push::{LabelPair, PushRequest, RawProfileSeries, RawSample};
use super::pyroscope_router;
use crate::limits::Limits;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use flate2::write::GzEncoder;
use flate2::Compression;
use http_body_util::BodyExt;
use model::metrics::Labels;
use prost::Message;
use render::pprof_proto::{Function, Label, Line, Location, Profile, Sample, ValueType};
use std::io::Write;
use std::sync::Arc;
use store::profiles::{
    EmbeddedProfileStore, MergedStacks, ProfileQuery, ProfileStore, ProfileWrite, TotalSeries,
};
use store::series::{MatchOp, Matcher};
use store::{StoreError, WriteAck};

/// Builds pprof messages: functions and locations are made on demand, one
/// per distinct name.
pub(crate) struct Builder {
    pub(crate) profile: Profile,
}

impl Builder {
    /// A profile with these `(type, unit)` sample types and period type.
    pub(crate) fn new(types: &[(&str, &str)], period: Option<(&str, &str)>) -> Self {
        let mut b = Self {
            profile: Profile {
                string_table: vec![String::new()],
                ..Profile::default()
            },
        };
        b.profile.sample_type = types
            .iter()
            .map(|(t, u)| ValueType {
                r#type: b.s(t),
                unit: b.s(u),
            })
            .collect();
        b.profile.period_type = period.map(|(t, u)| ValueType {
            r#type: b.s(t),
            unit: b.s(u),
        });
        b
    }

    /// The string index of `text`.
    pub(crate) fn s(&mut self, text: &str) -> i64 {
        let table = &mut self.profile.string_table;
        let i = table.iter().position(|s| s == text).unwrap_or_else(|| {
            table.push(text.to_string());
            table.len() - 1
        });
        i as i64
    }

    fn function(&mut self, name: &str) -> u64 {
        let name = self.s(name);
        if let Some(f) = self.profile.function.iter().find(|f| f.name == name) {
            return f.id;
        }
        let id = self.profile.function.len() as u64 + 1;
        self.profile.function.push(Function {
            id,
            name,
            ..Function::default()
        });
        id
    }

    /// A location whose lines are `names`, innermost (inlined) first.
    pub(crate) fn location(&mut self, names: &[&str], address: u64) -> u64 {
        let line = names
            .iter()
            .map(|n| Line {
                function_id: self.function(n),
                line: 1,
                column: 0,
            })
            .collect();
        let id = self.profile.location.len() as u64 + 1;
        self.profile.location.push(Location {
            id,
            address,
            line,
            ..Location::default()
        });
        id
    }

    /// A sample of `stack` (`"root;...;leaf"`, one location per frame).
    pub(crate) fn sample(
        &mut self,
        stack: &str,
        values: &[i64],
        labels: &[(&str, &str)],
    ) -> &mut Self {
        let mut ids = Vec::new();
        for name in stack.split(';').rev() {
            let f = self.function(name);
            let existing = self
                .profile
                .location
                .iter()
                .find(|l| l.line.len() == 1 && l.line[0].function_id == f)
                .map(|l| l.id);
            ids.push(existing.unwrap_or_else(|| self.location(&[name], 0x1000 + f)));
        }
        self.raw_sample(ids, values, labels)
    }

    /// A sample of location ids, leaf first.
    pub(crate) fn raw_sample(
        &mut self,
        ids: Vec<u64>,
        values: &[i64],
        labels: &[(&str, &str)],
    ) -> &mut Self {
        let label = labels
            .iter()
            .map(|(k, v)| Label {
                key: self.s(k),
                str: self.s(v),
                num: 0,
                num_unit: 0,
            })
            .collect();
        self.profile.sample.push(Sample {
            location_id: ids,
            value: values.to_vec(),
            label,
        });
        self
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        self.profile.encode_to_vec()
    }

    pub(crate) fn gzip(&self) -> Vec<u8> {
        gzip(&self.encode())
    }
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// A Go-style CPU profile (`samples/count`, `cpu/nanoseconds`).
pub(crate) fn go_cpu() -> Builder {
    let mut b = Builder::new(
        &[("samples", "count"), ("cpu", "nanoseconds")],
        Some(("cpu", "nanoseconds")),
    );
    b.profile.period = 10_000_000;
    b.profile.time_nanos = 1_700_000_000_000_000_000;
    b.profile.duration_nanos = 10_000_000_000;
    b
}

pub(crate) const CPU: &str = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";

pub(crate) fn router(limits: Limits) -> (Router, Arc<EmbeddedProfileStore>) {
    let store = Arc::new(EmbeddedProfileStore::in_memory());
    (pyroscope_router(store.clone(), limits), store)
}

/// Sends one request; returns status, Content-Type and body.
pub(crate) async fn send(router: Router, request: Request<Body>) -> (StatusCode, String, String) {
    use tower::ServiceExt;
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

pub(crate) fn post(uri: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap()
}

/// Stacks of one profile type for a service (optionally one span).
pub(crate) fn stacks(
    store: &EmbeddedProfileStore,
    profile_type: &str,
    service: &str,
    spans: Vec<u64>,
) -> Vec<(String, i64)> {
    let merged = store
        .merge(&ProfileQuery {
            profile_type: profile_type.into(),
            matchers: vec![Matcher::new(MatchOp::Equal, "service_name", service).unwrap()],
            start_ns: 0,
            end_ns: i64::MAX,
            span_ids: spans,
            trace_ids: Vec::new(),
        })
        .unwrap();
    let mut out: Vec<(String, i64)> = merged
        .stacks()
        .into_iter()
        .map(|(f, v)| (f.join(";"), v))
        .collect();
    out.sort();
    out
}

pub(crate) fn series_labels(store: &EmbeddedProfileStore) -> Vec<Labels> {
    store.series(&[], 0, i64::MAX).unwrap()
}

/// A push of one gzipped Go-style CPU profile with a span-tagged sample.
pub(crate) fn push_request(labels: &[(&str, &str)]) -> PushRequest {
    let mut b = go_cpu();
    b.sample("main;work", &[3, 30], &[("span_id", "0000000000000001")]);
    b.sample("main;idle", &[1, 10], &[]);
    PushRequest {
        series: vec![RawProfileSeries {
            labels: labels
                .iter()
                .map(|(n, v)| LabelPair {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            samples: vec![RawSample {
                raw_profile: b.gzip(),
                id: "uuid".into(),
            }],
        }],
    }
}

pub(crate) const PUSH_LABELS: &[(&str, &str)] = &[
    ("__name__", "process_cpu"),
    ("service_name", "py-app"),
    ("region", "eu"),
    ("__delta__", "false"),
];

/// A store that is always over its budget.
pub(crate) struct Full;

impl ProfileStore for Full {
    fn write(&self, _: Vec<ProfileWrite>) -> Result<WriteAck, StoreError> {
        Err(StoreError::Overloaded {
            used_bytes: 2,
            budget_bytes: 1,
            retry_after_ms: 2500,
        })
    }
    fn profile_types(&self, _: i64, _: i64) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }
    fn series(&self, _: &[Matcher], _: i64, _: i64) -> Result<Vec<Labels>, StoreError> {
        Ok(Vec::new())
    }
    fn merge(&self, _: &ProfileQuery) -> Result<MergedStacks, StoreError> {
        Ok(MergedStacks::default())
    }
    fn totals(
        &self,
        _: &ProfileQuery,
        _: i64,
        _: &[String],
    ) -> Result<Vec<TotalSeries>, StoreError> {
        Ok(Vec::new())
    }
    fn span_hits(
        &self,
        _: &ProfileQuery,
        _: Option<&str>,
        _: usize,
    ) -> Result<Vec<store::profiles::SpanHit>, StoreError> {
        Ok(Vec::new())
    }
    fn merge_ticks(
        &self,
        _: &ProfileQuery,
        _: &[u32],
    ) -> Result<store::profiles::TickMerge, StoreError> {
        Ok(store::profiles::TickMerge::default())
    }
    fn objects(&self, _: &ProfileQuery) -> Result<Vec<store::profiles::ObjectFile>, StoreError> {
        Ok(Vec::new())
    }
    fn time_bounds(&self) -> Result<Option<(i64, i64)>, StoreError> {
        Ok(None)
    }
}
