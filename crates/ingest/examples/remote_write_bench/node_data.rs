//! Real node_exporter data for `remote_write_bench node`: a day of 15 s
//! samples for many hosts, synthesized from `K` scrapes of one real
//! node_exporter taken 1 s apart (`remote_write_bench capture`).
//!
//! Each captured series keeps its real labels and moves as it really did:
//! - a **constant** (the same value in every capture) stays constant;
//! - a **counter** (`# TYPE … counter`, and a histogram's or summary's
//!   `_bucket`/`_sum`/`_count`) grows by the sum of 15 consecutive observed
//!   1 s increases, cycling through the capture (negative steps, a reset,
//!   count as 0). The sum is done on the integers node_exporter computes its
//!   values from (`m / 10^s` for a printed decimal, `m * 0.001` for disk
//!   ticks, `m / 1000 / 1000` for pressure-stall µs; the first of these
//!   forms, smallest `s ≤ 9` first, that gives every captured value back
//!   bit for bit), so values are what it would print (`2647.73`, not
//!   `2647.7299999`); a counter with no such form adds float steps;
//! - a **gauge** (and an untyped series or a summary quantile) takes its real
//!   captured values 15 captures apart, cycling.
//!
//! Host `i` starts at capture `(i × 37) mod (K − 1)` so hosts differ; with
//! the default `K = 120` the 119 steps are coprime with 15 and every host
//! walks the whole capture. Series that are missing from any capture are
//! dropped.
//!
//! Timestamps are what Prometheus ≥ 2.32 stores for a 15 s scrape: each host
//! has its own phase; a scrape starts 0–2 ms late (the Go ticker), or 3–12 ms
//! late in 1 of 50 scrapes (a busy host); Prometheus then snaps a timestamp
//! within 2 ms of the previous one plus 15 s onto that point (its
//! `scrape.timestamp-tolerance`), so most deltas-of-deltas are 0 and a late
//! scrape leaves a few non-zero ones.

use ingest::exposition::{parse, Format};
use ingest::remote_write::proto::{Label, Sample};
use model::metrics::MetricType;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Scrape interval synthesized.
const STEP_MS: i64 = 15_000;
/// Captures (1 s apart) summed into one 15 s step.
const CAPTURES_PER_STEP: usize = 15;
/// Prometheus's scrape timestamp alignment tolerance.
const TOLERANCE_MS: i64 = 2;

/// How one captured series moves.
enum Motion {
    Constant(f64),
    /// Captured values (all `K`).
    Gauge(Vec<f64>),
    /// Integer counter: captured integers and 1 s increases, shown through `form`.
    Counter {
        form: Form,
        start: Vec<i64>,
        steps: Vec<i64>,
    },
    /// A counter no power of ten up to 10⁹ makes whole: float increases.
    FloatCounter {
        start: Vec<f64>,
        steps: Vec<f64>,
    },
}

/// One captured series.
struct Template {
    labels: Vec<Label>,
    motion: Motion,
}

/// The captured series of one node_exporter.
pub struct Capture {
    templates: Vec<Template>,
    /// Captures.
    k: usize,
}

/// Per synthesized series: its template, host and running counter value.
pub struct NodeSeries {
    pub labels: Vec<Label>,
    template: usize,
    host: usize,
    offset: usize,
    counter: i64,
    float_counter: f64,
}

fn is_counter(name: &str, types: &HashMap<String, MetricType>) -> bool {
    match types.get(name) {
        Some(MetricType::Counter) => true,
        Some(_) => false,
        None => ["_bucket", "_sum", "_count"].iter().any(|suffix| {
            name.strip_suffix(suffix).is_some_and(|family| {
                matches!(
                    types.get(family),
                    Some(MetricType::Histogram | MetricType::Summary)
                )
            })
        }),
    }
}

/// How an exporter turns its integer `m` into the value printed.
#[derive(Clone, Copy)]
enum Form {
    /// `m / 10^s`.
    Div(i32),
    /// `m * 10^-s` (a constant such as 0.001).
    Mul(i32),
    /// `m / 1000 / 1000`.
    DivMillionInSteps,
}

impl Form {
    fn apply(self, m: i64) -> f64 {
        match self {
            Self::Div(s) => m as f64 / 10f64.powi(s),
            Self::Mul(s) => {
                m as f64 * [1.0, 0.1, 0.01, 0.001, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9][s as usize]
            }
            Self::DivMillionInSteps => m as f64 / 1000.0 / 1000.0,
        }
    }

    fn scale(self) -> i32 {
        match self {
            Self::Div(s) | Self::Mul(s) => s,
            Self::DivMillionInSteps => 6,
        }
    }
}

/// The first form that gives every value back from an integer, and the integers.
fn integer_form(values: &[f64]) -> Option<(Form, Vec<i64>)> {
    (0..=9)
        .flat_map(|s| {
            let mut forms = vec![Form::Div(s), Form::Mul(s)];
            if s == 6 {
                forms.push(Form::DivMillionInSteps);
            }
            forms
        })
        .find_map(|form| {
            let p = 10f64.powi(form.scale());
            values
                .iter()
                .map(|&v| {
                    let m = (v * p).round();
                    (m.is_finite()
                        && m.abs() < 9e15
                        && form.apply(m as i64).to_bits() == v.to_bits())
                    .then_some(m as i64)
                })
                .collect::<Option<Vec<i64>>>()
                .map(|ms| (form, ms))
        })
}

impl Capture {
    /// Reads the `*.txt` scrape bodies in `dir` (name order = time order).
    pub fn load(dir: &Path) -> Result<Self, String> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| format!("reading capture directory {}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        files.sort();
        if files.len() < 2 {
            return Err(format!(
                "{} holds {} captures; run `remote_write_bench capture` first",
                dir.display(),
                files.len()
            ));
        }
        let mut types = HashMap::new();
        let mut values: BTreeMap<Vec<(String, String)>, Vec<f64>> = BTreeMap::new();
        for (k, file) in files.iter().enumerate() {
            let body =
                std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
            let exposition = parse(&body, Format::PrometheusText)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            for meta in exposition.metadata {
                types.insert(meta.metric_family_name, meta.metric_type);
            }
            for sample in exposition.samples {
                let key: Vec<(String, String)> = sample
                    .labels
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect();
                let series = values.entry(key).or_default();
                // Only series seen in every capture so far stay aligned.
                if series.len() == k {
                    series.push(sample.value);
                }
            }
        }
        let k = files.len();
        let templates = values
            .into_iter()
            .filter(|(_, v)| v.len() == k)
            .map(|(key, v)| {
                let name = key
                    .iter()
                    .find(|(n, _)| n == "__name__")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let motion = if v.iter().all(|x| x.to_bits() == v[0].to_bits()) {
                    Motion::Constant(v[0])
                } else if is_counter(&name, &types) {
                    match integer_form(&v) {
                        Some((form, ms)) => Motion::Counter {
                            form,
                            steps: ms.windows(2).map(|w| (w[1] - w[0]).max(0)).collect(),
                            start: ms,
                        },
                        None => Motion::FloatCounter {
                            steps: v.windows(2).map(|w| (w[1] - w[0]).max(0.0)).collect(),
                            start: v,
                        },
                    }
                } else {
                    Motion::Gauge(v)
                };
                Template {
                    labels: key
                        .into_iter()
                        .map(|(name, value)| Label { name, value })
                        .collect(),
                    motion,
                }
            })
            .collect();
        Ok(Self { templates, k })
    }

    /// Series per host.
    pub fn per_host(&self) -> usize {
        self.templates.len()
    }

    /// "N series per host: C constant, G gauges, N counters".
    pub fn describe(&self) -> String {
        let count = |f: fn(&Motion) -> bool| self.templates.iter().filter(|t| f(&t.motion)).count();
        format!(
            "{} series per host from {} captures: {} constant, {} gauges, {} counters ({} with no integer form)",
            self.templates.len(),
            self.k,
            count(|m| matches!(m, Motion::Constant(_))),
            count(|m| matches!(m, Motion::Gauge(_))),
            count(|m| matches!(m, Motion::Counter { .. } | Motion::FloatCounter { .. })),
            count(|m| matches!(m, Motion::FloatCounter { .. })),
        )
    }

    /// The series of `hosts` hosts, labels sorted, `instance` and `job` added.
    pub fn series(&self, hosts: usize) -> Vec<NodeSeries> {
        let cycle = self.k - 1;
        let mut out = Vec::with_capacity(hosts * self.templates.len());
        for host in 0..hosts {
            let offset = (host * 37) % cycle;
            for (i, t) in self.templates.iter().enumerate() {
                let mut labels = t.labels.clone();
                labels.retain(|l| l.name != "instance" && l.name != "job");
                labels.push(Label {
                    name: "instance".into(),
                    value: format!("host-{host:04}:9100"),
                });
                labels.push(Label {
                    name: "job".into(),
                    value: "node".into(),
                });
                labels.sort_by(|a, b| a.name.cmp(&b.name));
                let (counter, float_counter) = match &t.motion {
                    Motion::Counter { start, .. } => (start[offset], 0.0),
                    Motion::FloatCounter { start, .. } => (0, start[offset]),
                    _ => (0, 0.0),
                };
                out.push(NodeSeries {
                    labels,
                    template: i,
                    host,
                    offset,
                    counter,
                    float_counter,
                });
            }
        }
        out
    }

    /// The value of `series` at step `step`; steps must come in order from 0.
    pub fn value(&self, series: &mut NodeSeries, step: usize) -> f64 {
        let cycle = self.k - 1;
        let at = |i: usize| (series.offset + i) % cycle;
        match &self.templates[series.template].motion {
            Motion::Constant(v) => *v,
            Motion::Gauge(values) => values[at(step * CAPTURES_PER_STEP)],
            Motion::Counter { form, steps, .. } => {
                if step > 0 {
                    let first = (step - 1) * CAPTURES_PER_STEP;
                    series.counter += (first..first + CAPTURES_PER_STEP)
                        .map(|i| steps[at(i)])
                        .sum::<i64>();
                }
                form.apply(series.counter)
            }
            Motion::FloatCounter { steps, .. } => {
                if step > 0 {
                    let first = (step - 1) * CAPTURES_PER_STEP;
                    for i in first..first + CAPTURES_PER_STEP {
                        series.float_counter += steps[at(i)];
                    }
                }
                series.float_counter
            }
        }
    }
}

/// Scrape timestamps of `hosts` hosts for `steps` steps from `first_ms`.
pub fn scrape_times(hosts: usize, first_ms: i64, steps: usize) -> Vec<Vec<i64>> {
    let mut rng = fastrand::Rng::with_seed(15);
    (0..hosts)
        .map(|host| {
            let phase = (host as i64 * 7919) % STEP_MS;
            let mut last: Option<i64> = None;
            (0..steps)
                .map(|j| {
                    let late = if rng.u8(..50) == 0 {
                        rng.i64(3..=12)
                    } else {
                        rng.i64(0..=2)
                    };
                    let actual = first_ms - phase + j as i64 * STEP_MS + late;
                    let ts = match last {
                        Some(l) if (actual - (l + STEP_MS)).abs() <= TOLERANCE_MS => l + STEP_MS,
                        _ => actual,
                    };
                    last = Some(ts);
                    ts
                })
                .collect()
        })
        .collect()
}

/// One host's sample at `step`.
pub fn sample(
    capture: &Capture,
    series: &mut NodeSeries,
    times: &[Vec<i64>],
    step: usize,
) -> Sample {
    Sample {
        value: capture.value(series, step),
        timestamp: times[series.host][step],
    }
}
