// whyslow load report: draws the charts of one load-test run as inline SVG from
// the JSON document embedded in the page (#load-data). No network, no libraries.
// window.whyslowLoad exposes the data and what each chart drew, for tests.
'use strict';
(function () {
  const data = JSON.parse(document.getElementById('load-data').textContent);
  const NS = 'http://www.w3.org/2000/svg';
  const drawn = {};
  const M = { left: 56, right: 16, top: 12, bottom: 34 };

  function el(name, attrs, parent, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function html(tag, attrs, parent, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function fmtUs(us) {
    if (us < 1000) return `${Math.round(us)}µs`;
    if (us < 1e6) return `${(us / 1000).toFixed(us < 1e4 ? 2 : 1)}ms`;
    return `${(us / 1e6).toFixed(2)}s`;
  }
  function fmtNum(n, digits = 0) {
    return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  }
  function frame(svg) {
    const box = svg.getBoundingClientRect();
    const w = Math.max(box.width || 600, 200), h = Math.max(box.height || 260, 120);
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    return { w, h, x0: M.left, x1: w - M.right, y0: h - M.bottom, y1: M.top };
  }
  function niceTicks(max, count = 5) {
    if (!(max > 0)) return [0];
    const raw = max / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map(s => s * mag).find(s => s >= raw) || raw;
    const ticks = [];
    for (let v = 0; v <= max * 1.0001; v += step) ticks.push(v);
    return ticks;
  }
  function yAxis(svg, f, max, label) {
    for (const t of niceTicks(max)) {
      const y = f.y0 - (t / max) * (f.y0 - f.y1);
      el('line', { class: 'grid', x1: f.x0, x2: f.x1, y1: y, y2: y }, svg);
      el('text', { x: f.x0 - 6, y: y + 4, 'text-anchor': 'end' }, svg, label(t));
    }
    el('line', { class: 'axis', x1: f.x0, x2: f.x0, y1: f.y0, y2: f.y1 }, svg);
    el('line', { class: 'axis', x1: f.x0, x2: f.x1, y1: f.y0, y2: f.y0 }, svg);
  }
  function empty(svg, f, why) {
    el('text', { x: (f.x0 + f.x1) / 2, y: (f.y0 + f.y1) / 2, 'text-anchor': 'middle' }, svg, why);
  }

  // Percentile spectrum: x = log10(1 / (1 − p)), as HdrHistogram plots do.
  function spectrum() {
    const svg = document.getElementById('spectrum');
    const f = frame(svg);
    const series = data.percentile_spectrum;
    const toX = p => (p >= 100 ? NaN : Math.log10(100 / (100 - p)));
    const finite = [...series.corrected, ...series.uncorrected].map(([p]) => toX(p)).filter(Number.isFinite);
    drawn.spectrum = { corrected: 0, uncorrected: 0 };
    if (!finite.length) return empty(svg, f, 'no responses');
    const xMax = Math.max(...finite) + 0.3;
    const yMax = Math.max(1, ...series.corrected.map(p => p[1]), ...series.uncorrected.map(p => p[1])) * 1.05;
    yAxis(svg, f, yMax, fmtUs);
    const sx = x => f.x0 + (x / xMax) * (f.x1 - f.x0);
    const sy = v => f.y0 - (v / yMax) * (f.y0 - f.y1);
    for (let k = 0; k <= Math.floor(xMax); k++) {
      const label = k === 0 ? '0%' : `${(100 - 100 / Math.pow(10, k)).toFixed(Math.max(0, k - 2))}%`;
      el('line', { class: 'grid', x1: sx(k), x2: sx(k), y1: f.y0, y2: f.y1 }, svg);
      el('text', { x: sx(k), y: f.y0 + 16, 'text-anchor': 'middle' }, svg, label);
    }
    el('text', { x: f.x1, y: f.y0 + 30, 'text-anchor': 'end' }, svg, 'percentile (log scale: 1 / (1 − p))');
    for (const name of ['uncorrected', 'corrected']) {
      const points = series[name].map(([p, v]) => [Number.isFinite(toX(p)) ? toX(p) : xMax, v]);
      const d = points.map(([x, v], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(v).toFixed(1)}`).join('');
      el('path', { d, fill: 'none', stroke: `var(--${name})`, 'stroke-width': 2, 'data-series': name }, svg);
      drawn.spectrum[name] = points.length;
    }
  }

  // Histogram: quarter-octave bars on a log latency axis, both series overlaid.
  function histogram() {
    const svg = document.getElementById('histogram');
    const f = frame(svg);
    const bars = data.latency_bars;
    const all = [...bars.corrected, ...bars.uncorrected];
    drawn.histogram = 0;
    if (!all.length) return empty(svg, f, 'no responses');
    const lo = Math.max(1, Math.min(...all.map(b => Math.max(1, b[0]))));
    const hi = Math.max(...all.map(b => b[1] + 1)) * 1.02;
    const yMax = Math.max(...all.map(b => b[2])) * 1.05;
    yAxis(svg, f, yMax, t => fmtNum(t));
    const sx = v => f.x0 + (Math.log(Math.max(v, lo) / lo) / Math.log(hi / lo)) * (f.x1 - f.x0);
    const sy = c => f.y0 - (c / yMax) * (f.y0 - f.y1);
    for (let e = Math.floor(Math.log10(lo)); Math.pow(10, e) <= hi; e++) {
      for (const m of [1, 2, 5]) {
        const v = m * Math.pow(10, e);
        if (v < lo || v > hi) continue;
        el('line', { class: 'grid', x1: sx(v), x2: sx(v), y1: f.y0, y2: f.y1 }, svg);
        el('text', { x: sx(v), y: f.y0 + 16, 'text-anchor': 'middle' }, svg, fmtUs(v));
      }
    }
    for (const name of ['uncorrected', 'corrected']) {
      for (const [lower, upper, count] of bars[name]) {
        if (!count) continue;
        const x = sx(Math.max(lower, lo)), w = Math.max(1, sx(upper + 1) - x - 1);
        const rect = el('rect', { x, y: sy(count), width: w, height: f.y0 - sy(count),
          fill: `var(--${name})`, 'fill-opacity': 0.55, 'data-series': name }, svg);
        el('title', {}, rect, `${name} ${fmtUs(lower)}–${fmtUs(upper)}: ${fmtNum(count)} requests`);
        drawn.histogram++;
      }
    }
  }

  // Heatmap: one column per interval, one row per half-octave latency band.
  function heatmap() {
    const svg = document.getElementById('heatmap');
    const f = frame(svg);
    const { intervals, bucket_lower_us: lowers, interval_ms } = data.series;
    drawn.heatmap = 0;
    let first = lowers.length, last = -1, maxCount = 0;
    for (const iv of intervals) {
      iv.latency_buckets.forEach((c, b) => {
        if (c) { first = Math.min(first, b); last = Math.max(last, b); maxCount = Math.max(maxCount, c); }
      });
    }
    if (last < 0) return empty(svg, f, 'no responses');
    const rows = last - first + 1, cols = intervals.length;
    const cw = (f.x1 - f.x0) / cols, rh = (f.y0 - f.y1) / rows;
    for (let b = first; b <= last + 1; b += Math.max(1, Math.ceil(rows / 8))) {
      const y = f.y0 - (b - first) * rh;
      el('text', { x: f.x0 - 6, y: y + 4, 'text-anchor': 'end' }, svg, fmtUs(lowers[b] ?? lowers[lowers.length - 1] * Math.SQRT2));
    }
    timeAxis(svg, f, cols, interval_ms);
    intervals.forEach((iv, i) => {
      iv.latency_buckets.forEach((c, b) => {
        if (!c) return;
        const shade = 0.12 + 0.88 * Math.log1p(c) / Math.log1p(maxCount);
        const rect = el('rect', { x: f.x0 + i * cw, y: f.y0 - (b - first + 1) * rh, width: Math.max(cw, 1), height: rh,
          fill: 'var(--corrected)', 'fill-opacity': shade.toFixed(3) }, svg);
        el('title', {}, rect, `${fmtTime(i * interval_ms)}: ${fmtNum(c)} requests ${fmtUs(lowers[b])}–${fmtUs(lowers[b] * Math.SQRT2)}`);
        drawn.heatmap++;
      });
    });
    el('line', { class: 'axis', x1: f.x0, x2: f.x1, y1: f.y0, y2: f.y0 }, svg);
  }
  function fmtTime(ms) { return ms >= 60000 ? `${Math.floor(ms / 60000)}m${Math.round((ms % 60000) / 1000)}s` : `${(ms / 1000).toFixed(0)}s`; }
  function timeAxis(svg, f, cols, intervalMs) {
    const step = Math.max(1, Math.ceil(cols / 10));
    for (let i = 0; i <= cols; i += step) {
      const x = f.x0 + (i / cols) * (f.x1 - f.x0);
      el('text', { x, y: f.y0 + 16, 'text-anchor': 'middle' }, svg, fmtTime(i * intervalMs));
    }
  }

  // Throughput, target and errors per second over time.
  function throughput() {
    const svg = document.getElementById('throughput');
    const f = frame(svg);
    const { intervals, interval_ms, target_rps } = data.series;
    drawn.throughput = { responses: 0, errors: 0, target: 0 };
    if (!intervals.length) return empty(svg, f, 'no requests');
    // The last interval ends with the run, so it is divided by its real length.
    const seconds = i => Math.max(0.001, Math.min(interval_ms, data.elapsed_s * 1000 - i * interval_ms) / 1000);
    const rps = intervals.map((iv, i) => iv.responses / seconds(i));
    const eps = intervals.map((iv, i) => iv.errors / seconds(i));
    const yMax = Math.max(1, ...rps, ...eps, ...(target_rps || [])) * 1.1;
    yAxis(svg, f, yMax, t => fmtNum(t));
    timeAxis(svg, f, intervals.length, interval_ms);
    const sx = i => f.x0 + ((i + 0.5) / intervals.length) * (f.x1 - f.x0);
    const sy = v => f.y0 - (v / yMax) * (f.y0 - f.y1);
    const line = (values, color, name, dash) => {
      if (!values || !values.length) return;
      const d = values.map((v, i) => `${i ? 'L' : 'M'}${sx(i).toFixed(1)},${sy(v).toFixed(1)}`).join('');
      el('path', { d, fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-dasharray': dash || '', 'data-series': name }, svg);
      drawn.throughput[name] = values.length;
    };
    line(target_rps, 'var(--target)', 'target', '5,4');
    line(rps, 'var(--uncorrected)', 'responses');
    line(eps, 'var(--errors)', 'errors');
  }

  function summary() {
    document.getElementById('title').textContent = `whyslow load ${data.url}`;
    const target = data.target_rps ? `, target ${fmtNum(data.target_rps, 1)} rps` : '';
    document.getElementById('subtitle').textContent =
      `${data.model} model${target} · ${data.connections} connections · ${data.threads} threads` +
      `${data.http2 ? ` · HTTP/2 × ${data.streams} streams` : ''} · ${data.elapsed_s.toFixed(2)} s${data.stopped_early ? ' · stopped early' : ''}`;
    const cards = document.getElementById('cards');
    const card = (v, k) => { const c = html('div', { class: 'card' }, cards); html('div', { class: 'v' }, c, v); html('div', { class: 'k' }, c, k); };
    card(fmtNum(data.requests.responses), 'responses');
    card(fmtNum(data.rps, 1), data.target_rps ? `rps achieved (${(100 * data.rps / data.target_rps).toFixed(1)} % of target)` : 'rps achieved');
    if (data.model === 'open') {
      card(`${fmtNum(data.requests.attempted)} / ${fmtNum(data.requests.attempted + data.requests.not_sent)}`, 'scheduled requests sent');
    }
    card(fmtUs(data.latency_us.corrected.p50), 'p50 corrected');
    card(fmtUs(data.latency_us.corrected.p99), 'p99 corrected');
    card(fmtUs(data.latency_us.uncorrected.p99), 'p99 uncorrected');
    card(fmtNum(data.requests.errors), `errors (${(100 * data.error_ratio).toFixed(2)} %)`);
    if (data.requests.not_sent) card(fmtNum(data.requests.not_sent), 'scheduled, not sent');
    if (data.generator_late && data.generator_late.requests) {
      card(fmtNum(data.generator_late.requests), `sent late by the generator itself (max ${fmtUs(data.generator_late.max_us)})`);
    }

    const table = document.getElementById('percentiles');
    const head = html('tr', {}, table);
    for (const h of ['', 'corrected', 'uncorrected']) html('th', {}, head, h);
    for (const [key, name] of [['p50', 'p50'], ['p90', 'p90'], ['p99', 'p99'], ['p99_9', 'p99.9'], ['p99_99', 'p99.99'], ['max', 'max'], ['mean', 'mean']]) {
      const row = html('tr', {}, table);
      html('td', {}, row, name);
      html('td', {}, row, fmtUs(data.latency_us.corrected[key]));
      html('td', {}, row, fmtUs(data.latency_us.uncorrected[key]));
    }

    const outcomes = document.getElementById('outcomes');
    const codes = Object.entries(data.status_codes).map(([s, n]) => `${s}: ${fmtNum(n)}`).join(', ') || 'none';
    html('div', {}, outcomes, `Status codes: ${codes}`);
    const e = data.errors;
    html('div', {}, outcomes, `Errors: connect ${e.connect}, tls ${e.tls}, timeout ${e.timeout}, reset ${e.reset}, other ${e.other}`);
    html('div', {}, outcomes, `Reconnects: ${fmtNum(data.reconnects ?? 0)} connections reopened, ${fmtNum(data.requests.retried ?? 0)} requests retried on a new connection`);
    for (const v of data.slo || []) {
      const line = html('div', { class: 'slo' }, outcomes);
      html('span', { class: v.passed ? 'pass' : 'fail' }, line, v.passed ? 'PASS ' : 'FAIL ');
      const unit = ['latency', 'latency_uncorrected', 'mean', 'max'].includes(v.metric) ? fmtUs
        : v.metric === 'error_ratio' ? x => `${(100 * x).toFixed(3)}%` : x => fmtNum(x, 1);
      html('span', {}, line, `${v.text}: measured ${unit(v.measured)}`);
    }

    const slow = document.getElementById('slowest');
    const sh = html('tr', {}, slow);
    for (const h of ['trace', 'latency', 'corrected', 'status', 'sent at']) html('th', {}, sh, h);
    drawn.slowest = 0;
    for (const r of data.slowest) {
      const row = html('tr', {}, slow);
      const cell = html('td', {}, row);
      if (r.trace_id && data.trace_server) {
        html('a', { href: `${data.trace_server}/trace/${r.trace_id}` }, cell, r.trace_id);
      } else {
        html('code', {}, cell, r.trace_id || '-');
      }
      html('td', {}, row, fmtUs(r.latency_us));
      html('td', {}, row, fmtUs(r.corrected_latency_us));
      html('td', {}, row, r.status || 'error');
      html('td', {}, row, fmtTime(r.sent_at_ms));
      drawn.slowest++;
    }
  }

  function drawAll() {
    for (const id of ['spectrum', 'histogram', 'heatmap', 'throughput']) {
      document.getElementById(id).replaceChildren();
    }
    spectrum();
    histogram();
    heatmap();
    throughput();
  }
  summary();
  drawAll();
  let resizeTimer;
  window.addEventListener('resize', () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(drawAll, 150); });
  window.whyslowLoad = { data, drawn };
})();
