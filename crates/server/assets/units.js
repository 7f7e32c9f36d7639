// Numbers for the metrics charts: a value in a unit as short text (`1.5s`,
// `230ms`, `12.5%`, `3.2k/s`, `1.4MiB`), axis tick steps, time tick labels,
// and a guess of a query's unit from the metric names in it (Prometheus and
// OpenTelemetry put the unit in the name: `_seconds`, `_milliseconds`, `_bytes`).

/** The units the charts know; '' is a plain number. */
export const UNIT_CHOICES = [['', 'plain'], ['s', 'seconds'], ['ms', 'milliseconds'], ['bytes', 'bytes'], ['%', 'percent'], ['/s', 'per second'], ['B/s', 'bytes/s']];

/** Up to `digits` significant digits, trailing zeros dropped. */
const short = (v, digits = 3) => String(+v.toPrecision(digits));

function si(v, digits) {
  const a = Math.abs(v);
  if (a === 0) return '0';
  for (const [size, suffix] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) {
    if (a >= size) return `${short(v / size, digits)}${suffix}`;
  }
  if (a >= 1) return short(v, digits);
  for (const [size, suffix] of [[1e-3, 'm'], [1e-6, 'µ'], [1e-9, 'n']]) {
    if (a >= size * 0.9995) return a >= 0.01 ? short(v, digits) : `${short(v / size, digits)}${suffix}`;
  }
  return v.toExponential(2);
}

function seconds(v, digits) {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 86400) return `${short(v / 86400, digits)}d`;
  if (a >= 3600) return `${short(v / 3600, digits)}h`;
  if (a >= 60) return `${short(v / 60, digits)}min`;
  if (a >= 1) return `${short(v, digits)}s`;
  if (a >= 1e-3) return `${short(v * 1e3, digits)}ms`;
  if (a >= 1e-6) return `${short(v * 1e6, digits)}µs`;
  return `${short(v * 1e9, digits)}ns`;
}

function bytes(v, digits) {
  const a = Math.abs(v);
  for (const [size, suffix] of [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']]) {
    if (a >= size) return `${short(v / size, digits)}${suffix}`;
  }
  return `${short(v, digits)}B`;
}

/** `v` in `unit` as short text; NaN and ±Inf as Prometheus spells them. */
export function fmtValue(v, unit = '', digits = 3) {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  switch (unit) {
    case 's': return seconds(v, digits);
    case 'ms': return seconds(v / 1e3, digits);
    case 'bytes': return bytes(v, digits);
    case 'B/s': return `${bytes(v, digits)}/s`;
    case '%': return `${short(v, digits)}%`;
    case '/s': return `${si(v, digits)}/s`;
    default: return si(v, digits);
  }
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800]
  .map(s => s * 1000);

/** Time ticks (ms) for [startMs, endMs], about `count` of them, on local round times. */
export function timeTicks(startMs, endMs, count = 6) {
  const span = Math.max(1, endMs - startMs);
  const step = TIME_STEPS.find(s => span / s <= count) || TIME_STEPS[TIME_STEPS.length - 1];
  const tz = new Date(startMs).getTimezoneOffset() * 60e3;
  const first = Math.ceil((startMs - tz) / step) * step + tz;
  const out = [];
  for (let t = first; t <= endMs; t += step) out.push(t);
  return { ticks: out, step };
}

const pad = n => String(n).padStart(2, '0');

/** A tick label: `14:05`, `14:05:30` or `12-03 14:00`, by tick spacing. */
export function fmtTick(ms, step) {
  const d = new Date(ms);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (step >= 86400e3) return `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  if (step < 60e3) return `${hm}:${pad(d.getSeconds())}`;
  return hm;
}

/** Local `YYYY-MM-DD HH:MM:SS` of a ms timestamp. */
export function fmtStamp(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The unit a query's result most likely has, from its first metric name. */
export function inferUnit(query) {
  const text = query.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""').replace(/\{[^}]*\}|\[[^\]]*\]/g, '');
  const names = [...text.matchAll(/([a-zA-Z_:][\w:]*)\s*(\()?/g)].filter(m => !m[2] && m[1].includes('_')).map(m => m[1]);
  const name = names.find(n => !/^(by|without|on|ignoring|group_left|group_right|bool|offset)$/.test(n));
  if (!name) return '';
  const rated = /\b(i?rate|deriv)\s*\(/.test(text);
  if (/_(count|total)$/.test(name)) return rated ? '/s' : '';
  const base = name.replace(/_(bucket|sum|created)$/, '');
  if (/_seconds$/.test(base)) return rated && !/histogram_quantile/.test(text) && !/_sum$/.test(name) ? '/s' : 's';
  if (/_milliseconds$/.test(base)) return rated && !/histogram_quantile/.test(text) && !/_sum$/.test(name) ? '/s' : 'ms';
  if (/_bytes$/.test(base)) return rated ? 'B/s' : 'bytes';
  if (/_(percent|percentage)$/.test(base)) return '%';
  return '';
}

/** `name{a="x", b="y"}` for a series' labels (a Prometheus metric object). */
export function seriesName(metric) {
  const { __name__: name = '', ...rest } = metric || {};
  const pairs = Object.keys(rest).sort().map(k => `${k}="${rest[k]}"`);
  return pairs.length ? `${name}{${pairs.join(', ')}}` : name || '{}';
}
