//! PromQL: queries parsed with the `promql-parser` crate (its AST), evaluated
//! here over any [`store::SeriesStore`]. No maintained Rust crate evaluates
//! PromQL outside a larger database (GreptimeDB's is DataFusion plans,
//! OpenObserve's is AGPL), so the evaluator is ours.
//!
//! ```ignore
//! let engine = promql::Engine::new(promql::EngineOptions::default());
//! let value = engine.instant_query(&store, "sum by (job) (rate(http_requests_total[5m]))", now_ms)?;
//! ```
//!
//! Semantics follow the Prometheus that dev/test runs beside us (Debian's
//! 2.42): range selectors and the lookback window closed at both ends
//! (`[t - range, t]`, `[t - 5m, t]`), staleness markers, rate extrapolation,
//! step-aligned range queries and subqueries, Prometheus's matching errors,
//! and its function set (3.x-only functions the parser knows are refused;
//! `holt_winters` is registered with the parser). The differential suite
//! (`tests/`) compares results with the real binary.
//!
//! Evaluation works like Prometheus's range evaluation: every node is
//! evaluated over all steps at once; each selector reads the store once.
//! Where it differs: the sample limit also counts the raw samples a
//! selector reads (they are held in memory at once here, where Prometheus
//! streams them), and ties in `topk`/`bottomk` go to the series that sorts
//! first by labels (Prometheus: the one created first in its TSDB).

pub mod error;
mod eval;
pub mod value;

pub use error::PromqlError;
pub use value::{InstantSample, RangeSeries, Value};

use eval::{Ctx, Steps, Val};
use model::metrics::Sample;
use std::time::{Duration, Instant};
use store::SeriesStore;

/// Limits and defaults of query evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (Prometheus: 5 m).
    pub lookback_delta_ms: i64,
    /// Most samples a query may hold in memory at once (Prometheus's
    /// `--query.max-samples`, 50 M; here raw samples read count too).
    pub max_samples: u64,
    /// Longest a query may run (Prometheus's `--query.timeout`, 2 m).
    pub timeout: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
        }
    }
}

/// The default step of a subquery written without one (`x[1h:]`):
/// Prometheus's default global evaluation interval.
pub const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// Evaluates PromQL over a series store.
#[derive(Debug, Clone)]
pub struct Engine {
    options: EngineOptions,
    subquery_step_ms: i64,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new(EngineOptions::default())
    }
}

impl Engine {
    /// An engine with these limits.
    pub fn new(options: EngineOptions) -> Self {
        register_holt_winters();
        Self {
            options,
            subquery_step_ms: DEFAULT_SUBQUERY_STEP_MS,
        }
    }

    /// Sets the step of subqueries that give none (Prometheus uses its
    /// global `evaluation_interval`, 1 m by default).
    pub fn with_default_subquery_step_ms(mut self, step_ms: i64) -> Self {
        if step_ms > 0 {
            self.subquery_step_ms = step_ms;
        }
        self
    }

    /// The engine's limits.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Evaluates `query` at `time_ms` (`/api/v1/query`). The result is a
    /// scalar, string, or instant vector (a matrix for a range vector
    /// expression, its series sorted by labels).
    pub fn instant_query(
        &self,
        store: &dyn SeriesStore,
        query: &str,
        time_ms: i64,
    ) -> Result<Value, PromqlError> {
        self.instant_query_with_lookback(store, query, time_ms, None)
    }

    /// [`Self::instant_query`] with a per-query lookback delta (ms).
    pub fn instant_query_with_lookback(
        &self,
        store: &dyn SeriesStore,
        query: &str,
        time_ms: i64,
        lookback_delta_ms: Option<i64>,
    ) -> Result<Value, PromqlError> {
        let val = on_big_stack(|| {
            let expr = parse(query)?;
            let mut ctx = self.ctx(store, time_ms, time_ms, lookback_delta_ms);
            eval::eval(&mut ctx, &expr, Steps::instant(time_ms))
        })?;
        Ok(match val {
            Val::Scalar(v) => Value::Scalar {
                timestamp_ms: time_ms,
                value: v.first().copied().unwrap_or(f64::NAN),
            },
            Val::String(s) => Value::String {
                timestamp_ms: time_ms,
                value: s,
            },
            Val::Vector(series) => Value::Vector(
                series
                    .into_iter()
                    .filter_map(|s| {
                        let p = s.points.first()?;
                        Some(InstantSample {
                            labels: s.labels,
                            timestamp_ms: time_ms,
                            value: p.v,
                        })
                    })
                    .collect(),
            ),
            Val::Matrix(series) => Value::Matrix(to_matrix(series)),
        })
    }

    /// Evaluates `query` at every `start_ms + k * step_ms <= end_ms`
    /// (`/api/v1/query_range`); always a matrix, series sorted by labels.
    pub fn range_query(
        &self,
        store: &dyn SeriesStore,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Value, PromqlError> {
        self.range_query_with_lookback(store, query, start_ms, end_ms, step_ms, None)
    }

    /// [`Self::range_query`] with a per-query lookback delta (ms).
    pub fn range_query_with_lookback(
        &self,
        store: &dyn SeriesStore,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        lookback_delta_ms: Option<i64>,
    ) -> Result<Value, PromqlError> {
        if step_ms <= 0 {
            return Err(PromqlError::Parse(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if end_ms < start_ms {
            return Err(PromqlError::Parse(
                "end timestamp must not be before start time".into(),
            ));
        }
        let steps = Steps {
            start: start_ms,
            end: end_ms,
            step: step_ms,
        };
        let val = on_big_stack(|| {
            let expr = parse(query)?;
            check_range_type(&expr)?;
            let mut ctx = self.ctx(store, start_ms, end_ms, lookback_delta_ms);
            eval::eval(&mut ctx, &expr, steps)
        })?;
        let series = match val {
            Val::Scalar(v) => vec![eval::Series {
                labels: model::metrics::Labels::default(),
                points: v
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| eval::Point { t: steps.ts(i), v })
                    .collect(),
            }],
            Val::Vector(s) | Val::Matrix(s) => s,
            Val::String(_) => {
                return Err(PromqlError::Parse(
                    "invalid expression type \"string\" for range query, must be Scalar or instant Vector"
                        .into(),
                ))
            }
        };
        Ok(Value::Matrix(to_matrix(series)))
    }

    fn ctx<'a>(
        &self,
        store: &'a dyn SeriesStore,
        start_ms: i64,
        end_ms: i64,
        lookback_delta_ms: Option<i64>,
    ) -> Ctx<'a> {
        let lookback = lookback_delta_ms
            .filter(|l| *l > 0)
            .unwrap_or(self.options.lookback_delta_ms);
        Ctx {
            store,
            lookback_ms: if lookback > 0 {
                lookback
            } else {
                5 * 60 * 1000
            },
            max_samples: self.options.max_samples,
            deadline: Instant::now().checked_add(self.options.timeout),
            query_start: start_ms,
            query_end: end_ms,
            subquery_step_ms: self.subquery_step_ms,
            samples: 0,
        }
    }
}

/// A range query must be of scalar or instant-vector type.
fn check_range_type(expr: &promql_parser::parser::Expr) -> Result<(), PromqlError> {
    use promql_parser::parser::value::ValueType;
    match expr.value_type() {
        ValueType::Scalar | ValueType::Vector => Ok(()),
        other => Err(PromqlError::Parse(format!(
            "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
            if other == ValueType::Matrix {
                "range vector"
            } else {
                "string"
            }
        ))),
    }
}

/// Stack for parsing and evaluation: both recurse once per nesting level
/// (up to the validator's limit), and callers such as Tokio's blocking
/// pool run on 2 MiB stacks. Only touched pages are ever committed.
const EVAL_STACK_BYTES: usize = 256 << 20;

/// Runs `f` on a scoped thread with a large stack (inline if the thread
/// cannot be started).
fn on_big_stack<T: Send>(
    f: impl FnOnce() -> Result<T, PromqlError> + Send,
) -> Result<T, PromqlError> {
    let slot = std::sync::Mutex::new(Some(f));
    let run = || {
        let f = slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        match f {
            Some(f) => f(),
            None => Err(PromqlError::Execution("evaluation did not run".into())),
        }
    };
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("promql-eval".into())
            .stack_size(EVAL_STACK_BYTES)
            .spawn_scoped(scope, run);
        match spawned {
            Ok(handle) => match handle.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            },
            Err(_) => run(),
        }
    })
}

/// Parses and checks a query (errors are `bad_data`).
pub fn parse(query: &str) -> Result<promql_parser::parser::Expr, PromqlError> {
    register_holt_winters();
    eval::guard_durations(query)?;
    let expr = promql_parser::parser::parse(query).map_err(PromqlError::Parse)?;
    eval::validate(&expr)?;
    Ok(expr)
}

/// Prometheus 2.x's `holt_winters` (renamed in 3.x, so the parser lacks it).
fn register_holt_winters() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use promql_parser::parser::value::ValueType;
        let f = promql_parser::parser::Function::new(
            "holt_winters",
            vec![ValueType::Matrix, ValueType::Scalar, ValueType::Scalar],
            0,
            ValueType::Vector,
            false,
        );
        // Fails only if a later parser version has it built in.
        let _ = promql_parser::parser::register_extra_functions(vec![f]);
    });
}

fn to_matrix(series: Vec<eval::Series>) -> Vec<RangeSeries> {
    let mut out: Vec<RangeSeries> = series
        .into_iter()
        .filter(|s| !s.points.is_empty())
        .map(|s| RangeSeries {
            labels: s.labels,
            samples: s
                .points
                .into_iter()
                .map(|p| Sample {
                    timestamp_ms: p.t,
                    value: p.v,
                })
                .collect(),
        })
        .collect();
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    out
}
