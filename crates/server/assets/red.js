// RED (rate, errors, duration) from the span metrics `whyslow serve` derives
// from every span, named as the OpenTelemetry Collector's spanmetrics
// connector names them, so these are the queries Jaeger's Monitor tab runs:
//   rate     sum by (G) (rate(traces_span_metrics_calls_total{…}[R]))
//   errors   the same with status_code="STATUS_CODE_ERROR", divided by rate (×100)
//   latency  histogram_quantile(q, sum by (G, le) (rate(traces_span_metrics_duration_milliseconds_bucket{…}[R])))
// This module builds and runs them (range queries for charts, instant
// queries for tables), fetches exemplars, and draws the three small charts.
import { el } from '/static/format.js';
import { prom, sampleValue, exemplarMs } from '/static/prom.js';
import { lineChart } from '/static/chart.js';

export const CALLS = 'traces_span_metrics_calls_total';
export const BUCKET = 'traces_span_metrics_duration_milliseconds_bucket';
export const SERVER = 'SPAN_KIND_SERVER';
const ERROR = 'STATUS_CODE_ERROR';
export const QUANTILES = [['p50', 0.5, '#4e79a7'], ['p95', 0.95, '#f28e2b'], ['p99', 0.99, '#e15759']];

/** A PromQL string literal's inside. */
const str = s => String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
/** A regex matching exactly `s`, inside a PromQL string. */
const exact = s => str(String(s).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

/**
 * A selector's matchers from `{label: value}`; a value that is an array
 * becomes `=~"a|b"`.
 */
export function selector(matchers) {
  const parts = Object.entries(matchers).map(([k, v]) => (Array.isArray(v) ? `${k}=~"${v.map(exact).join('|')}"` : `${k}="${str(v)}"`));
  return `{${parts.join(', ')}}`;
}

const sumBy = by => (by.length ? `sum by (${by.join(', ')}) ` : 'sum');

/** The RED queries for matchers, grouped by `by` (label names), with rate window `R`. */
export function redQueries(matchers, by, R) {
  const m = selector(matchers), e = selector({ ...matchers, status_code: ERROR });
  const bucket = q => `histogram_quantile(${q}, sum by (${[...by, 'le'].join(', ')}) (rate(${BUCKET}${m}[${R}])))`;
  return {
    calls: `${sumBy(by)}(rate(${CALLS}${m}[${R}]))`,
    errors: `${sumBy(by)}(rate(${CALLS}${e}[${R}]))`,
    ...Object.fromEntries(QUANTILES.map(([name, q]) => [name, bucket(q)])),
  };
}

const keyOf = (metric, by) => by.map(k => metric[k] || '').join('\u0000');

/** Error % from calls and errors rates at the same times; 0 where there were calls and no errors. */
function errorPercent(calls, errors) {
  const errAt = new Map(errors);
  return calls.map(([t, c]) => [t, c > 0 ? (100 * (errAt.get(t) || 0)) / c : NaN]);
}

/**
 * Range RED: a Map from group key (the `by` labels' values joined) to
 * `{metric, calls, errorPct, p50, p95, p99}` (each `[[ms, value], …]`).
 */
export async function redRange(matchers, by, win, stepMs, R) {
  const qs = redQueries(matchers, by, R);
  const names = Object.keys(qs);
  const results = await Promise.all(names.map(n => prom.queryRange(qs[n], win.startMs, win.endMs, stepMs)));
  const out = new Map();
  names.forEach((n, i) => {
    for (const r of results[i].result) {
      const k = keyOf(r.metric, by);
      if (!out.has(k)) out.set(k, { metric: r.metric, calls: [], errors: [], p50: [], p95: [], p99: [] });
      out.get(k)[n] = r.values.map(([t, v]) => [t * 1000, sampleValue(v)]);
    }
  });
  for (const g of out.values()) g.errorPct = errorPercent(g.calls, g.errors);
  return out;
}

/** Instant RED over the whole window (rates averaged over it): Map key → `{metric, rate, errorPct, p95}`. */
export async function redSummary(matchers, by, win, R) {
  const qs = redQueries(matchers, by, R);
  const [calls, errors, p95] = await Promise.all([qs.calls, qs.errors, qs.p95].map(q => prom.query(q, win.endMs)));
  const out = new Map();
  for (const r of calls.result) out.set(keyOf(r.metric, by), { metric: r.metric, rate: sampleValue(r.value[1]), errors: 0, p95: NaN });
  for (const r of errors.result) { const g = out.get(keyOf(r.metric, by)); if (g) g.errors = sampleValue(r.value[1]); }
  for (const r of p95.result) { const g = out.get(keyOf(r.metric, by)); if (g) g.p95 = sampleValue(r.value[1]); }
  for (const g of out.values()) g.errorPct = g.rate > 0 ? (100 * g.errors) / g.rate : NaN;
  return out;
}

/**
 * Exemplars on the duration buckets matching `matchers`: [{t, v, labels}] by
 * time; past `limit`, an even sample of them keeping the slowest ones.
 */
export async function redExemplars(matchers, win, limit = 120) {
  const data = await prom.exemplars(`${BUCKET}${selector(matchers)}`, win.startMs, win.endMs);
  const out = [];
  for (const s of data) {
    for (const ex of s.exemplars || []) out.push({ t: exemplarMs(ex.timestamp), v: sampleValue(ex.value), labels: ex.labels || {}, series: s.seriesLabels });
  }
  out.sort((a, b) => a.t - b.t);
  if (out.length <= limit) return out;
  const slowest = new Set([...out].sort((a, b) => b.v - a.v).slice(0, limit / 4));
  const rest = limit - slowest.size;
  return out.filter((ex, i) => slowest.has(ex) || Math.floor((i * rest) / out.length) !== Math.floor(((i - 1) * rest) / out.length));
}

/** The trace id an exemplar carries (OTel's `trace_id`, or Prometheus docs' `traceID`). */
export const exemplarTrace = ex => ex.labels.trace_id || ex.labels.traceID || ex.labels.trace_id_hex || '';

/**
 * The three RED charts of one group: requests/s, error %, latency p50/p95/p99
 * (with exemplar diamonds when given). `opts`: {height, exemplars, onExemplar,
 * idPrefix, matchers and R (the group's selector and rate window, for links
 * to the queries)}.
 */
export function redCharts(group, win, stepMs, opts = {}) {
  const height = opts.height || 130;
  // Each title opens its query on the Metrics page (when the group's matchers are known).
  const qs = opts.matchers ? redQueries(opts.matchers, [], opts.R) : null;
  const links = qs && {
    rate: qs.calls, errors: `100 * ${qs.errors} / ${qs.calls}`, latency: qs.p95,
  };
  const titled = (title, cls) => (links
    ? el('a', { href: `/metrics-explorer?${new URLSearchParams({ q: links[cls], ...(win.custom ? { start: new Date(win.startMs).toISOString(), end: new Date(win.endMs).toISOString() } : { range: win.label }) })}`, title: 'open this query on the Metrics page' }, title)
    : title);
  const chart = (title, cls, series, unit, extra = {}, key = null) => el('div', { class: `red-chart ${cls}` },
    el('div', { class: 'red-chart-title' }, titled(title, cls), key),
    lineChart({ series, startMs: win.startMs, endMs: win.endMs, stepMs, unit, height, legend: false, ...extra }));
  const g = group || { calls: [], errorPct: [], p50: [], p95: [], p99: [] };
  const exemplars = opts.exemplars || [];
  const key = el('span', { class: 'red-key' }, QUANTILES.map(([name, , color]) => el('span', {}, el('span', { class: 'swatch', style: { background: color } }), name)),
    exemplars.length ? el('span', { title: 'spans whose duration fell in a bucket; click one to open its trace' }, el('span', { class: 'exemplar-key' }), `exemplars (${exemplars.length})`) : null);
  return el('div', { class: 'red-charts' },
    chart('Requests', 'rate', [{ name: 'requests/s', points: g.calls, color: '#199' }], '/s'),
    chart('Error rate', 'errors', [{ name: 'errors', points: g.errorPct, color: '#d1242f' }], '%', { yMin: 0 }),
    chart('Duration', 'latency', QUANTILES.map(([name, , color]) => ({ name, points: g[name] || [], color })), 'ms', {
      exemplars, onExemplar: opts.onExemplar, id: opts.idPrefix ? `${opts.idPrefix}-latency` : undefined,
    }, key));
}
