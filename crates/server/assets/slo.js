// The SLO page (`/slo`): one card per SLO from the series the rules of
// `serve --slo FILE` (or `whyslow slo rules`) record — objective, window,
// error budget left over the window, burn rate now (5 m) and over 1 h, the
// state of its burn-rate alerts — and two charts over the chosen range: the
// burn rate (5 m and 1 h) against the page threshold, and the budget left.
// Range in the URL (`?range=24h`); `?slo=name` shows one SLO.
import { el } from '/static/format.js';
import { prom, sampleValue, RANGES, autoStep, windowFrom } from '/static/prom.js';
import { lineChart } from '/static/chart.js';
import { fmtValue } from '/static/units.js';

const pct = v => (Number.isFinite(v) ? `${fmtValue(100 * v, '', 4)}%` : 'no data');
const times = v => (Number.isFinite(v) ? `${fmtValue(v, '', 3)}×` : 'no data');
const str = s => String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/** Instant query → Map slo name → value. */
async function bySlo(query, t) {
  const res = await prom.query(query, t);
  return new Map(res.result.map(s => [s.metric.slo, sampleValue(s.value[1])]));
}

export async function renderSlo(root, query) {
  const win = windowFrom(query, '24h');
  const only = query.get('slo') || '';
  const page = el('div', { class: 'slo-page' });
  root.append(page);
  const range = el('select', {
    id: 'slo-range',
    onchange: e => {
      const p = new URLSearchParams(location.search);
      p.set('range', e.target.value);
      window.whyslowNavigate(`/slo?${p}`);
    },
  }, (RANGES.includes(win.label) ? RANGES : [...RANGES, win.label]).map(r => el('option', { value: r, selected: r === win.label }, `Last ${r}`)));
  page.append(el('div', { class: 'alerts-head' }, el('h2', {}, only ? el('span', {}, el('a', { href: '/slo' }, 'SLOs'), ` / ${only}`) : 'SLOs'), range));
  const now = win.endMs;
  let objectives;
  try {
    objectives = (await prom.query('slo:objective:ratio', now)).result;
  } catch (e) {
    page.append(el('div', { class: 'query-error', role: 'alert' }, e.message));
    return;
  }
  if (only) objectives = objectives.filter(s => s.metric.slo === only);
  if (!objectives.length) {
    page.append(el('p', { class: 'muted hint', id: 'no-slos' },
      'No SLOs yet. Describe them in a file and start serve with --slo FILE (see `whyslow slo --help`); the page fills once the rules have run.'));
    return;
  }
  const [windows, left, burn5m, burn1h, rules] = await Promise.all([
    bySlo('slo:window:seconds', now),
    bySlo('slo:period_error_budget_remaining:ratio', now),
    bySlo('slo:current_burn_rate:ratio', now),
    bySlo('slo:sli_error:ratio_rate1h / slo:error_budget:ratio', now),
    prom.rules('alert').catch(() => ({ groups: [] })),
  ]);
  // The state of each SLO's burn-rate alerts (firing beats pending).
  const alerting = new Map();
  for (const g of rules.groups) for (const r of g.rules) for (const a of r.alerts || []) {
    const name = a.labels.slo;
    if (!name) continue;
    const prev = alerting.get(name);
    if (!prev || (a.state === 'firing' && prev.state !== 'firing')) alerting.set(name, { state: a.state, severity: a.labels.severity || '' });
  }
  objectives.sort((a, b) => a.metric.slo.localeCompare(b.metric.slo));
  const list = el('div', { class: 'slo-list', id: 'slo-list' });
  page.append(list);
  for (const s of objectives) {
    const name = s.metric.slo;
    const objective = sampleValue(s.value[1]);
    const windowS = windows.get(name);
    const budgetLeft = left.get(name);
    const alert = alerting.get(name);
    const card = el('div', { class: `slo-card${alert ? ` ${alert.state}` : ''}`, 'data-slo': name });
    const windowText = Number.isFinite(windowS) ? `${Math.round(windowS / 86400)}d` : '?';
    card.append(el('div', { class: 'red-card-head' },
      el('a', { class: 'red-name', href: `/slo?${new URLSearchParams({ slo: name, range: win.label })}` }, name),
      s.metric.service ? el('a', { class: 'muted', href: `/services?${new URLSearchParams({ service: s.metric.service })}` }, s.metric.service) : null,
      alert ? el('a', { class: `state-badge ${alert.state}`, href: `/alerts?state=${alert.state}` }, `${alert.severity} ${alert.state}`) : el('span', { class: 'state-badge inactive' }, 'ok'),
      el('span', { class: 'red-numbers' },
        el('span', {}, 'objective ', el('b', {}, pct(objective)), ` over ${windowText}`),
        el('span', { class: Number.isFinite(budgetLeft) && budgetLeft < 0 ? 'error' : '' }, 'budget left ', el('b', { class: 'budget-left' }, pct(budgetLeft))),
        el('span', {}, 'burn 5m ', el('b', {}, times(burn5m.get(name)))),
        el('span', {}, 'burn 1h ', el('b', {}, times(burn1h.get(name)))))));
    list.append(card);
    sloCharts(card, name, windowS, win).catch(e => card.append(el('div', { class: 'query-error' }, e.message)));
  }
}

async function sloCharts(card, name, windowS, win) {
  const stepMs = autoStep(win.rangeMs);
  const sel = `{slo="${str(name)}"}`;
  const range = q => prom.queryRange(q, win.startMs, win.endMs, stepMs)
    .then(r => (r.result[0] ? r.result[0].values.map(([t, v]) => [t * 1000, sampleValue(v)]) : []));
  const [b5, b1, remaining] = await Promise.all([
    range(`slo:current_burn_rate:ratio${sel}`),
    range(`slo:sli_error:ratio_rate1h${sel} / slo:error_budget:ratio${sel}`),
    range(`100 * slo:period_error_budget_remaining:ratio${sel}`),
  ]);
  // Page when the 1 h burn spends 2 % of the window's budget: 14.4× for 30 d.
  const page = Number.isFinite(windowS) ? (0.02 * windowS) / 3600 : 14.4;
  const flat = v => [[win.startMs, v], [win.endMs, v]];
  const chart = (title, cls, series, unit, extra = {}) => el('div', { class: `red-chart ${cls}` },
    el('div', { class: 'red-chart-title' }, title),
    lineChart({ series, startMs: win.startMs, endMs: win.endMs, stepMs, unit, height: 150, legend: true, ...extra }));
  card.append(el('div', { class: 'slo-charts' },
    chart('Burn rate', 'burn', [
      { name: 'burn rate 5m', points: b5, color: '#f28e2b' },
      { name: 'burn rate 1h', points: b1, color: '#4e79a7' },
      { name: `page threshold ${fmtValue(page, '', 3)}×`, points: flat(page), color: '#d1242f' },
      { name: 'budget pace 1×', points: flat(1), color: '#59a14f' },
    ], ''),
    chart('Error budget left', 'budget', [{ name: 'budget left %', points: remaining, color: '#199' }], '%', { yMin: Math.min(0, ...remaining.map(p => p[1]).filter(Number.isFinite)) })));
}
