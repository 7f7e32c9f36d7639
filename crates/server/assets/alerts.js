// The Alerts page (`/alerts`): every alerting rule of serve's rule groups
// (`/api/v1/rules?type=alert`) with its state, health and last evaluation,
// a strip per rule showing when its alerts were pending and firing over the
// chosen range (from the `ALERTS` series, so resolved alerts stay visible),
// and per active alert its labels, value, annotations and evidence: the
// rule's expression graphed from before it fired (a link opens it on the
// Metrics page) and exemplar traces of the affected service in that window.
// State filter and range live in the URL (`?state=firing&range=24h`).
import { el, svg } from '/static/format.js';
import { prom, sampleValue, RANGES, autoStep, windowFrom } from '/static/prom.js';
import { lineChart } from '/static/chart.js';
import { fmtStamp, fmtValue, inferUnit } from '/static/units.js';
import { redExemplars, exemplarTrace } from '/static/red.js';

const STATES = ['firing', 'pending', 'inactive'];
const STATE_COLOR = { firing: '#d1242f', pending: '#d4a72c' };

const metricsLink = (q, win) => `/metrics-explorer?${new URLSearchParams({
  q, start: new Date(win.startMs).toISOString(), end: new Date(win.endMs).toISOString(),
})}`;

/** Labels as `k="v"` chips, skipping `skip`. */
const chips = (labels, skip = []) => el('span', { class: 'label-chips' },
  Object.entries(labels || {}).filter(([k]) => !skip.includes(k)).sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => el('span', { class: 'chip' }, `${k}="${v}"`)));

const ago = ms => {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 90) return `${s}s ago`;
  if (s < 5400) return `${Math.round(s / 60)}m ago`;
  if (s < 129600) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
};

/** The service an alert is about, from the labels whyslow's rules and the span metrics use. */
const serviceOf = labels => labels.service_name || labels.service || '';

export async function renderAlerts(root, query) {
  const want = STATES.includes(query.get('state')) ? query.get('state') : 'all';
  const win = windowFrom(query, '24h');
  const page = el('div', { class: 'alerts-page' });
  root.append(page);
  const setParam = (k, v) => {
    const p = new URLSearchParams(location.search);
    if (v) p.set(k, v); else p.delete(k);
    window.whyslowNavigate(`/alerts?${p}`);
  };
  const range = el('select', { id: 'alerts-range', onchange: e => setParam('range', e.target.value) },
    (RANGES.includes(win.label) ? RANGES : [...RANGES, win.label]).map(r => el('option', { value: r, selected: r === win.label }, `Last ${r}`)));
  const head = el('div', { class: 'alerts-head' }, el('h2', {}, 'Alerts'));
  page.append(head);

  let data;
  try {
    data = await prom.rules('alert');
  } catch (e) {
    page.append(el('div', { class: 'query-error', role: 'alert' }, e.message));
    return;
  }
  const rules = data.groups.flatMap(g => g.rules.filter(r => r.type === 'alerting').map(r => ({ ...r, group: g })));
  const count = s => rules.filter(r => r.state === s).length;
  head.append(el('div', { class: 'state-filter', id: 'state-filter' },
    ['all', ...STATES].map(s => el('button', {
      type: 'button', 'data-state': s, class: s === want ? 'active' : '', onclick: () => setParam('state', s === 'all' ? '' : s),
    }, s === 'all' ? `All ${rules.length}` : `${s[0].toUpperCase()}${s.slice(1)} ${count(s)}`))), range);
  if (!rules.length) {
    page.append(el('p', { class: 'muted hint', id: 'no-rules' },
      'No alerting rules. Start serve with --rules FILE (Prometheus rule files) or --slo FILE; the built-in rules are on unless --no-default-rules.'));
    return;
  }
  const history = await alertHistory(win).catch(() => new Map());
  const shown = rules.filter(r => want === 'all' || r.state === want);
  // Firing first, then pending, then the rest, each by name.
  shown.sort((a, b) => STATES.indexOf(a.state) - STATES.indexOf(b.state) || a.name.localeCompare(b.name));
  page.append(el('div', { class: 'alert-list', id: 'alert-list' }, shown.map(r => ruleCard(r, history.get(r.name) || [], win))));
  if (!shown.length) page.append(el('p', { class: 'muted hint' }, `No ${want} alerts.`));
}

/**
 * When each alert was pending or firing: Map alertname → [{labels, state,
 * from, to}] from a range query of `ALERTS` (a step of ~250 points).
 */
async function alertHistory(win) {
  const stepMs = autoStep(win.rangeMs);
  // Aligned so that the last point is the window's end: an alert that went
  // active a moment ago shows.
  const startMs = win.endMs - Math.ceil(win.rangeMs / stepMs) * stepMs;
  const res = await prom.queryRange('ALERTS', startMs, win.endMs, stepMs);
  const out = new Map();
  for (const s of res.result) {
    const { alertname, alertstate, __name__, ...labels } = s.metric;
    const segs = out.get(alertname) || [];
    let seg = null;
    for (const [t, v] of s.values) {
      const ms = t * 1000;
      if (!Number.isFinite(sampleValue(v))) continue;
      if (seg && ms - seg.to <= 1.5 * stepMs) seg.to = ms;
      else {
        seg = { labels, state: alertstate, from: ms, to: ms };
        segs.push(seg);
      }
    }
    out.set(alertname, segs);
  }
  return out;
}

/** A strip over the window: amber where pending, red where firing. */
function historyStrip(segs, win) {
  const width = 1000, x = t => ((t - win.startMs) / win.rangeMs) * width;
  const strip = svg('svg', { class: 'alert-history', viewBox: `0 0 ${width} 10`, preserveAspectRatio: 'none', role: 'img' },
    svg('rect', { x: 0, y: 0, width, height: 10, fill: '#eef1f4' }),
    // Pending under firing, so a firing stretch shows red.
    [...segs].sort((a, b) => (a.state === 'firing') - (b.state === 'firing')).map(s => svg('rect', {
      x: x(s.from), y: 0, width: Math.max(2, x(s.to) - x(s.from)), height: 10, fill: STATE_COLOR[s.state] || '#999',
      'data-state': s.state,
    }, svg('title', {}, `${s.state} ${fmtStamp(s.from)} → ${fmtStamp(s.to)} ${Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(' ')}`))));
  const fired = segs.filter(s => s.state === 'firing');
  const last = fired.length ? fired.reduce((a, b) => (a.to > b.to ? a : b)) : null;
  const resolvedAt = last && win.endMs - last.to > 2 * autoStep(win.rangeMs) ? last.to : null;
  return el('div', { class: 'alert-history-row' },
    el('span', { class: 'muted small' }, `last ${win.label}`), strip,
    el('span', { class: 'muted small', 'data-fired': fired.length },
      !fired.length ? 'never fired' : resolvedAt ? `fired ${fired.length}× · resolved ${ago(resolvedAt)}` : `fired ${fired.length}×`));
}

function ruleCard(rule, segs, win) {
  const card = el('div', { class: `alert-card state-${rule.state}`, 'data-alert': rule.name, 'data-state': rule.state });
  const forText = rule.duration ? `for ${fmtValue(rule.duration, 's')}` : 'no for';
  // Element.append would print a null as "null": drop the missing parts.
  card.append(...[
    el('div', { class: 'alert-card-head' },
      el('span', { class: `state-badge ${rule.state}` }, rule.state),
      el('span', { class: 'alert-name' }, rule.name),
      chips(rule.labels),
      el('span', { class: 'muted small alert-meta' },
        `${rule.group.name} · ${forText}${rule.keepFiringFor ? ` · keep firing ${fmtValue(rule.keepFiringFor, 's')}` : ''} · evaluated ${rule.lastEvaluation && !rule.lastEvaluation.startsWith('0001') ? ago(Date.parse(rule.lastEvaluation)) : 'not yet'}`)),
    el('div', { class: 'alert-expr' }, el('a', { href: metricsLink(rule.query, win), title: 'graph this expression on the Metrics page' }, el('code', {}, rule.query))),
    rule.health === 'err' || rule.lastError ? el('div', { class: 'query-error', role: 'alert' }, `evaluation failed: ${rule.lastError}`) : null,
    historyStrip(segs, win)].filter(Boolean));
  if (rule.annotations && rule.annotations.summary && !(rule.alerts || []).length) {
    card.append(el('div', { class: 'muted small' }, rule.annotations.summary));
  }
  for (const alert of rule.alerts || []) card.append(activeAlert(rule, alert));
  return card;
}

function activeAlert(rule, alert) {
  const since = Date.parse(alert.activeAt);
  const evidence = el('div', { class: 'alert-evidence', hidden: true });
  let loaded = false;
  const toggle = el('button', {
    type: 'button', class: 'link-button evidence-toggle',
    onclick: () => {
      evidence.hidden = !evidence.hidden;
      toggle.textContent = evidence.hidden ? 'Evidence ▸' : 'Evidence ▾';
      if (!loaded) { loaded = true; loadEvidence(evidence, rule, alert, since); }
    },
  }, 'Evidence ▸');
  const a = alert.annotations || {};
  return el('div', { class: `active-alert ${alert.state}`, 'data-alert-state': alert.state },
    el('div', { class: 'active-alert-head' },
      el('span', { class: `state-badge ${alert.state}` }, alert.state),
      chips(alert.labels, ['alertname']),
      el('span', { class: 'muted small' }, `since ${fmtStamp(since)} (${ago(since)}) · value ${alert.value}`),
      toggle),
    a.summary ? el('div', { class: 'alert-summary' }, a.summary) : null,
    a.description ? el('div', { class: 'muted small' }, a.description) : null,
    evidence);
}

/** The series that fired, from an hour before it went active, and exemplar traces of its service. */
async function loadEvidence(box, rule, alert, since) {
  const endMs = Date.now();
  const win = { startMs: Math.min(since - 3600e3, endMs - 3600e3), endMs };
  win.rangeMs = win.endMs - win.startMs;
  // The rule's expression restricted to this alert's series where the labels allow.
  const stepMs = autoStep(win.rangeMs);
  box.append(el('div', { class: 'muted small' }, 'The expression over the last ',
    el('a', { href: metricsLink(rule.query, win) }, 'open on the Metrics page'), '; the dashed line is when the alert became active.'));
  try {
    const res = await prom.queryRange(rule.query, win.startMs, win.endMs, stepMs);
    const wanted = Object.entries(alert.labels).filter(([k]) => k !== 'alertname' && !(k in (rule.labels || {})));
    const series = res.result
      .filter(s => wanted.every(([k, v]) => s.metric[k] === undefined || s.metric[k] === v))
      .map(s => ({ name: Object.entries(s.metric).map(([k, v]) => `${k}="${v}"`).join(', ') || rule.query, labels: s.metric, points: s.values.map(([t, v]) => [t * 1000, sampleValue(v)]) }));
    const chart = lineChart({ series, startMs: win.startMs, endMs: win.endMs, stepMs, unit: inferUnit(rule.query), height: 160, legend: series.length > 1, id: `evidence-${rule.name}` });
    chart.append(el('div', { class: 'active-marker', style: { left: `calc(58px + (100% - 72px) * ${(since - win.startMs) / win.rangeMs})` }, title: `active since ${fmtStamp(since)}` }));
    box.append(chart);
  } catch (e) {
    box.append(el('div', { class: 'query-error' }, e.message));
  }
  const service = serviceOf(alert.labels);
  if (!service) return;
  const traces = el('div', { class: 'evidence-traces', id: `evidence-traces-${rule.name}` }, el('span', { class: 'muted small' }, `Traces of ${service} since an hour before it fired: `));
  box.append(traces);
  try {
    const exemplars = await redExemplars({ service_name: service }, win, 400);
    const slowest = [...exemplars].filter(ex => exemplarTrace(ex)).sort((a, b) => b.v - a.v);
    const seen = new Set();
    const picked = slowest.filter(ex => !seen.has(exemplarTrace(ex)) && seen.add(exemplarTrace(ex))).slice(0, 8);
    if (!picked.length) traces.append(el('span', { class: 'muted small' }, 'no exemplars in this window.'));
    for (const ex of picked) {
      traces.append(el('a', { class: 'chip trace-chip', href: `/trace/${exemplarTrace(ex)}`, title: `${fmtStamp(ex.t)} ${ex.labels.span_id ? `span ${ex.labels.span_id}` : ''}` },
        `${fmtValue(ex.v, 'ms')} · ${exemplarTrace(ex).slice(0, 8)}`));
    }
    const lookback = [['1h', 3600e3], ['2h', 7200e3], ['6h', 6 * 3600e3], ['12h', 12 * 3600e3], ['24h', 86400e3], ['2d', 2 * 86400e3], ['7d', 7 * 86400e3]]
      .find(([, ms]) => ms >= win.rangeMs) || ['7d'];
    traces.append(el('a', { class: 'small', href: `/search?${new URLSearchParams({ service, lookback: lookback[0] })}` }, ' search all'));
  } catch (e) {
    traces.append(el('span', { class: 'error small' }, e.message));
  }
}
