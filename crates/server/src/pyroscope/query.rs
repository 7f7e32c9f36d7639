//! What the Connect methods and the legacy render endpoints share: time
//! ranges, building a [`ProfileQuery`] from a profile type, a selector and
//! span / trace ids, running store reads (and flame graph building) on the
//! blocking pool, and time series with SUM / AVERAGE aggregation and top-N.

use super::connect::ConnectError;
use super::diff::{self, FlameGraphDiff};
use super::flamegraph::{self, FlameGraph};
use super::selector::{self, ProfileType};
use crate::{AppState, ReadLimits};
use model::metrics::Labels;
use std::collections::BTreeMap;
use store::profiles::{label_names, ProfileQuery, TotalSeries};
use store::ProfileStore;

/// Runs a (synchronous) profile store call on the blocking pool.
pub async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ConnectError>
where
    T: Send + 'static,
    F: FnOnce(&dyn ProfileStore) -> Result<T, ConnectError> + Send + 'static,
{
    let store = state.profiles.clone();
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .map_err(|e| ConnectError::internal(format!("profile store task failed: {e}")))?
}

/// `[start, end]` in ms (end inclusive; end <= 0 means unbounded) as the
/// store's `[start_ns, end_ns)`.
pub fn range_ms(start_ms: i64, end_ms: i64) -> Result<(i64, i64), ConnectError> {
    let end_ns = if end_ms <= 0 {
        i64::MAX
    } else {
        end_ms.saturating_add(1).saturating_mul(1_000_000)
    };
    range_ns(start_ms.max(0).saturating_mul(1_000_000), end_ns)
}

/// Checks a `[start_ns, end_ns)` range.
pub fn range_ns(start_ns: i64, end_ns: i64) -> Result<(i64, i64), ConnectError> {
    if start_ns >= end_ns {
        return Err(ConnectError::invalid(format!(
            "the range start ({start_ns} ns) must be before its end ({end_ns} ns)"
        )));
    }
    Ok((start_ns, end_ns))
}

/// A profile query: a valid profile type ID, a one-set selector, hex ids,
/// a range no longer than `limits` allow.
pub fn profile_query(
    limits: &ReadLimits,
    profile_type: &str,
    label_selector: &str,
    (start_ns, end_ns): (i64, i64),
    span_ids: &[String],
    trace_ids: &[String],
) -> Result<ProfileQuery, ConnectError> {
    ProfileType::require(profile_type).map_err(ConnectError::invalid)?;
    limits
        .check_range_ns(i128::from(start_ns), i128::from(end_ns))
        .map_err(ConnectError::invalid)?;
    Ok(ProfileQuery {
        profile_type: profile_type.to_string(),
        matchers: selector::parse_single_selector(label_selector)
            .map_err(|e| ConnectError::invalid(format!("bad label selector: {e}")))?,
        start_ns,
        end_ns,
        span_ids: selector::parse_span_ids(span_ids).map_err(ConnectError::invalid)?,
        trace_ids: selector::parse_trace_ids(trace_ids).map_err(ConnectError::invalid)?,
    })
}

/// The merged flame graph of a query (`None` when nothing matched).
pub async fn merge(
    state: &AppState,
    query: ProfileQuery,
    max_nodes: usize,
) -> Result<Option<FlameGraph>, ConnectError> {
    blocking(state, move |store| {
        Ok(flamegraph::flamegraph(&store.merge(&query)?, max_nodes))
    })
    .await
}

/// The diff flame graph of two queries (merged in parallel).
pub async fn diff(
    state: &AppState,
    left: ProfileQuery,
    right: ProfileQuery,
    max_nodes: usize,
) -> Result<Option<FlameGraphDiff>, ConnectError> {
    let (left, right) = tokio::join!(
        blocking(state, move |store| Ok(store.merge(&left)?)),
        blocking(state, move |store| Ok(store.merge(&right)?)),
    );
    let (left, right) = (left?, right?);
    blocking(state, move |_| {
        Ok(diff::flamegraph_diff(&left, &right, max_nodes))
    })
    .await
}

/// A time series query.
#[derive(Debug, Clone, Default)]
pub struct SeriesQuery {
    /// What to sum.
    pub query: ProfileQuery,
    /// Bucket width, ns.
    pub step_ns: i64,
    /// One series per distinct value of these labels.
    pub group_by: Vec<String>,
    /// AVERAGE instead of SUM.
    pub average: bool,
    /// Keep the `limit` series with the biggest totals (`None`: all).
    pub limit: Option<usize>,
}

/// Runs a series query. SUM is the store's bucket sums. AVERAGE is, per
/// bucket, the mean over the group's series of each series' bucket sum
/// (Pyroscope averages per profile; with one profile per series and step
/// the two agree).
pub fn select_series(
    store: &dyn ProfileStore,
    q: &SeriesQuery,
) -> Result<Vec<TotalSeries>, ConnectError> {
    let mut series = if q.average {
        let mut matchers = q.query.matchers.clone();
        matchers.push(ProfileType::describe(&q.query.profile_type).matcher());
        let names = label_names(store, &matchers, q.query.start_ns, q.query.end_ns)?;
        let mut groups: BTreeMap<Labels, BTreeMap<i64, (f64, u32)>> = BTreeMap::new();
        for one in store.totals(&q.query, q.step_ns, &names)? {
            let key = group_key(&one.labels, &q.group_by);
            let points = groups.entry(key).or_default();
            for (t, v) in one.points {
                let point = points.entry(t).or_default();
                point.0 += v;
                point.1 += 1;
            }
        }
        groups
            .into_iter()
            .map(|(labels, points)| TotalSeries {
                labels,
                points: points
                    .into_iter()
                    .map(|(t, (sum, n))| (t, sum / f64::from(n.max(1))))
                    .collect(),
            })
            .collect()
    } else {
        store.totals(&q.query, q.step_ns, &q.group_by)?
    };
    if let Some(limit) = q.limit {
        if series.len() > limit {
            let total = |s: &TotalSeries| s.points.iter().map(|p| p.1).sum::<f64>();
            series.sort_by(|a, b| total(b).total_cmp(&total(a)));
            series.truncate(limit);
            series.sort_by(|a, b| a.labels.cmp(&b.labels));
        }
    }
    Ok(series)
}

/// The `group_by` labels of a label set.
fn group_key(labels: &Labels, group_by: &[String]) -> Labels {
    Labels::from_pairs(
        group_by
            .iter()
            .filter_map(|name| labels.get(name).map(|v| (name.clone(), v.to_string()))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked_and_inclusive() {
        assert_eq!(range_ms(1, 2).expect("ok"), (1_000_000, 3_000_000));
        assert_eq!(range_ms(0, 0).expect("ok"), (0, i64::MAX));
        assert!(range_ms(5, 2).is_err());
        assert!(profile_query(&ReadLimits::default(), "bad", "{}", (0, 1), &[], &[]).is_err());
        assert!(profile_query(
            &ReadLimits::default(),
            "a:b:c:d:e",
            "{x=}",
            (0, 1),
            &[],
            &[]
        )
        .is_err());
        let q = profile_query(
            &ReadLimits::default(),
            "a:b:c:d:e",
            "{x=\"1\"}",
            (0, 1),
            &["ff".into()],
            &[],
        )
        .expect("ok");
        assert_eq!((q.matchers.len(), q.span_ids), (1, vec![255]));
    }
}
