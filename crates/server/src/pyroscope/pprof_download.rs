//! `GET /pyroscope/pprof?query=<type>{sel}&from=&until=&max-nodes=`: the
//! merged profile of a legacy query as a gzipped pprof file, for the
//! Profiles page's download button and `go tool pprof URL`. The query and
//! times read as in `/pyroscope/render` ([`super::render`]); no `max-nodes`
//! keeps every node. Errors are Connect-style JSON (400 for bad parameters).

use super::connect::ConnectError;
use super::flamegraph;
use super::pprof;
use super::render::{legacy_query, time_range, Params};
use super::selector::ProfileType;
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use store::series::{MatchOp, Matcher};

/// `GET /pyroscope/pprof`.
pub async fn pprof(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    download(&state, &Params::new(raw))
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn download(state: &AppState, params: &Params) -> Result<Response, ConnectError> {
    let range = time_range(params, "from", "until")?;
    let (profile_type, query) = legacy_query(&state.options.limits, params.get(&["query"]), range)?;
    let max_nodes = match params.get(&["max-nodes", "maxNodes"]) {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n > 0 => Some(flamegraph::max_nodes(Some(n))),
            Ok(_) => None,
            Err(_) => return Err(ConnectError::invalid(format!("bad max-nodes {v:?}"))),
        },
    };
    let file = format!("{}.pb.gz", file_stem(&query.matchers, &profile_type));
    let profile = pprof::merge(state, query, max_nodes).await?;
    let body = pprof::gzip(&profile)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// The download's name: the selected service, else the profile type's name,
/// in characters safe in a file name and a header.
pub fn file_stem(matchers: &[Matcher], profile_type: &ProfileType) -> String {
    let service = matchers
        .iter()
        .find(|m| m.name == "service_name" && m.op == MatchOp::Equal && !m.value.is_empty())
        .map(|m| m.value.as_str());
    let stem: String = service
        .unwrap_or(&profile_type.name)
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_start_matches('.');
    if stem.is_empty() {
        "profile".into()
    } else {
        stem.into()
    }
}
