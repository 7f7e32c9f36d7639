// The Prometheus HTTP API as the metrics pages use it (`/api/v1/…` on the
// same origin): queries, label and metric-name lookups, exemplars, plus the
// time-range helpers shared by the Metrics and Services pages (ranges as
// `5m`/`1h`, auto step, duration text). Every call resolves to the envelope's
// `data` or throws a `PromError` carrying `errorType` and `error`.
import { loginIfRefused } from '/static/api.js';

export class PromError extends Error {
  constructor(status, errorType, error) {
    super(errorType ? `${errorType}: ${error}` : error);
    this.status = status;
    this.errorType = errorType || '';
    this.error = error;
  }
}

async function call(path, params) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (Array.isArray(v)) v.forEach(x => body.append(k, x));
    else if (v !== undefined && v !== null && v !== '') body.set(k, v);
  }
  // GET like Prometheus's own UI; POST form (which Prometheus also accepts) only
  // when a long query would not fit in a URL.
  const url = `/api/v1/${path}${body.toString() ? `?${body}` : ''}`;
  const post = url.length > 4000;
  let resp;
  try {
    resp = await fetch(post ? `/api/v1/${path}` : url, post
      ? { method: 'POST', body, headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' } }
      : { headers: { accept: 'application/json' } });
  } catch (e) {
    throw new PromError(0, 'unavailable', `cannot reach the server: ${e.message}`);
  }
  loginIfRefused(resp);
  let json = null;
  try { json = await resp.json(); } catch { /* not JSON */ }
  if (!json || json.status !== 'success') {
    throw new PromError(resp.status, json && json.errorType,
      (json && json.error) || `HTTP ${resp.status} ${resp.statusText} from /api/v1/${path}`);
  }
  return json;
}

const secs = ms => (ms / 1000).toFixed(3);

export const prom = {
  /** Instant query at `timeMs`: `{resultType, result}` (+ `warnings`). */
  query: async (query, timeMs) => {
    const j = await call('query', { query, time: secs(timeMs) });
    return { ...j.data, warnings: j.warnings || [] };
  },
  /** Range query: `{resultType: 'matrix', result}` (+ `warnings`). */
  queryRange: async (query, startMs, endMs, stepMs) => {
    const j = await call('query_range', { query, start: secs(startMs), end: secs(endMs), step: stepMs / 1000 });
    return { ...j.data, warnings: j.warnings || [] };
  },
  metricNames: async () => (await call('label/__name__/values')).data || [],
  labelNames: async match => (await call('labels', { 'match[]': match ? [match] : [] })).data || [],
  labelValues: async (name, match) =>
    (await call(`label/${encodeURIComponent(name)}/values`, { 'match[]': match ? [match] : [] })).data || [],
  exemplars: async (query, startMs, endMs) =>
    (await call('query_exemplars', { query, start: secs(startMs), end: secs(endMs) })).data || [],
  /** `/api/v1/rules`: `{groups: [{name, file, rules: [...]}]}`. */
  rules: async type => (await call('rules', { type })).data || { groups: [] },
};

/** A sample value as Prometheus writes it ("NaN", "+Inf", "1.5") → number. */
export const sampleValue = v => (v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v));

/** Exemplar timestamps: Prometheus sends float seconds; accept ms too. */
export const exemplarMs = t => (Number(t) > 1e11 ? Number(t) : Number(t) * 1000);

const UNITS = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3, y: 365 * 86400e3 };

/** `1h30m`, `15s`, `500ms` → ms; NaN when not a duration. */
export function parseDuration(text) {
  const m = String(text).trim().match(/^((\d+)(ms|s|m|h|d|w|y))+$/);
  if (!m) return NaN;
  let total = 0;
  for (const [, n, u] of String(text).trim().matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(n) * UNITS[u];
  return total;
}

/** ms → the shortest PromQL duration (`1h30m`, `15s`); whole ms only. */
export function promDuration(ms) {
  ms = Math.max(1, Math.round(ms));
  let out = '';
  for (const [u, size] of [['d', 86400e3], ['h', 3600e3], ['m', 60e3], ['s', 1e3], ['ms', 1]]) {
    if (ms >= size) { out += `${Math.floor(ms / size)}${u}`; ms %= size; }
  }
  return out;
}

/** The ranges the pickers offer. */
export const RANGES = ['5m', '15m', '1h', '6h', '24h'];

/** Step giving ~250 points over the range, at least 1 s, in whole seconds (as Prometheus's UI does). */
export const autoStep = rangeMs => Math.max(1, Math.ceil(rangeMs / 250 / 1000)) * 1000;

/** `rate()` window for a step: at least 4 steps and 1 minute, so a few samples always fall in it. */
export const rateWindow = stepMs => promDuration(Math.max(4 * stepMs, 60e3));

/**
 * The time window from URL parameters: `range=1h` ending now, or
 * `start`/`end` (unix seconds or anything `Date` parses). Returns
 * `{startMs, endMs, rangeMs, label, custom}`.
 */
export function windowFrom(query, fallback = '1h') {
  const parseTime = t => (/^\d+(\.\d+)?$/.test(t) ? Number(t) * 1000 : Date.parse(t));
  const s = query.get('start'), e = query.get('end');
  if (s && e) {
    const startMs = parseTime(s), endMs = parseTime(e);
    if (Number.isFinite(startMs) && Number.isFinite(endMs) && endMs > startMs) {
      return { startMs, endMs, rangeMs: endMs - startMs, label: 'custom', custom: true };
    }
  }
  let label = query.get('range') || fallback;
  let rangeMs = parseDuration(label);
  if (!Number.isFinite(rangeMs) || rangeMs <= 0) { label = fallback; rangeMs = parseDuration(fallback); }
  const endMs = Date.now();
  return { startMs: endMs - rangeMs, endMs, rangeMs, label, custom: false };
}
