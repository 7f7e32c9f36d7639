// The services page: RED (request rate, error %, p50/p95/p99 duration) for
// every traced service over a chosen range, from the span metrics (red.js);
// `?service=S` focuses one service — its charts with exemplar points that
// open their trace, and a table of its operations (rate, error %, p95) whose
// rows expand to their own charts (`&operation=O&kind=K` opens one). Below,
// the service dependency graph (dependencies.js). Server spans measure a
// service's requests; a service without any falls back to all span kinds.
import { el } from '/static/format.js';
import { prom, RANGES, autoStep, promDuration, rateWindow, windowFrom } from '/static/prom.js';
import { fmtValue } from '/static/units.js';
import { CALLS, SERVER, redCharts, redExemplars, redRange, redSummary, exemplarTrace, selector } from '/static/red.js';
import { renderDependencies } from '/static/dependencies.js';

const kindText = k => (k || '').replace(/^SPAN_KIND_/, '').toLowerCase() || 'unspecified';
const openTrace = ex => { const id = exemplarTrace(ex); if (id) window.whyslowNavigate(`/trace/${id}`); };

/** `/services?…` with `changes` applied to the current parameters (null deletes). */
function servicesUrl(query, changes) {
  const p = new URLSearchParams(query);
  for (const [k, v] of Object.entries(changes)) { if (v === null || v === undefined) p.delete(k); else p.set(k, v); }
  const s = p.toString();
  return `/services${s ? `?${s}` : ''}`;
}

export async function renderServices(root, query) {
  const win = windowFrom(query, '1h');
  const stepMs = autoStep(win.rangeMs);
  const R = rateWindow(stepMs);
  const service = query.get('service');
  const range = el('select', { id: 'red-range', onchange: e => window.whyslowNavigate(servicesUrl(query, { range: e.target.value, start: null, end: null })) },
    [...new Set([...RANGES, win.custom ? 'custom' : win.label])].map(r => el('option', { value: r, selected: r === (win.custom ? 'custom' : win.label), disabled: r === 'custom' },
      r === 'custom' ? 'Custom range' : `Last ${r}`)));
  const red = el('section', { class: 'red', id: 'red' }, el('p', { class: 'muted' }, 'Loading…'));
  const deps = el('section', { class: 'deps' });
  const title = service
    ? el('h2', {}, el('a', { href: servicesUrl(query, { service: null, operation: null, kind: null }), class: 'crumb' }, 'Services'), ' / ',
      el('span', { id: 'red-service' }, service), range)
    : el('h2', {}, 'Services ', el('span', { class: 'muted sub' }, 'rate, errors, duration'), range);
  root.append(el('div', { class: 'services-page' }, title, red, deps));
  renderDependencies(deps, query);
  try {
    if (service) await focused(red, query, service, win, stepMs, R);
    else await overview(red, query, win, stepMs, R);
  } catch (e) {
    red.replaceChildren(el('p', { class: 'error', id: 'red-error' }, `Span metrics unavailable: ${e.message}`));
  }
}

/** The services with span metrics, and those among them that have server spans. */
async function serviceKinds() {
  const [all, servers] = await Promise.all([
    prom.labelValues('service_name', CALLS), prom.labelValues('service_name', `${CALLS}${selector({ span_kind: SERVER })}`)]);
  return { all: [...all].sort(), servers: new Set(servers) };
}

async function overview(red, query, win, stepMs, R) {
  const { all, servers } = await serviceKinds();
  if (!all.length) {
    red.replaceChildren(el('p', { class: 'muted empty', id: 'red-empty' },
      'No span metrics yet. Every span sent over OTLP (gRPC :4317, HTTP :4318) counts in ', el('code', {}, CALLS),
      ' and the duration histogram, which serve writes every 15 s; each traced service then shows up here.'));
    return;
  }
  const others = all.filter(s => !servers.has(s));
  const by = ['service_name'];
  const groups = [];
  if (servers.size) groups.push({ span_kind: SERVER });
  if (others.length) groups.push({ service_name: others });
  const ranges = await Promise.all(groups.map(m => redRange(m, by, win, stepMs, R)));
  const sums = await Promise.all(groups.map(m => redSummary(m, by, win, promDuration(win.rangeMs))));
  const data = new Map(ranges.flatMap(m => [...m]));
  const summary = new Map(sums.flatMap(m => [...m]));
  red.replaceChildren(el('div', { class: 'red-list', id: 'red-services' }, all.map(s => el('div', { class: 'red-card', 'data-service': s },
    el('div', { class: 'red-card-head' },
      el('a', { href: servicesUrl(query, { service: s }), class: 'red-name' }, s),
      el('span', { class: 'badge', title: 'which spans count as this service\'s requests' }, servers.has(s) ? 'server spans' : 'all spans'),
      numbers(summary.get(s))),
    redCharts(data.get(s), win, stepMs, { matchers: servers.has(s) ? { service_name: s, span_kind: SERVER } : { service_name: s }, R })))));
}

/** Rate, error % and p95 over the range as text badges. */
function numbers(sum) {
  if (!sum) return el('span', { class: 'red-numbers muted' }, 'no requests in range');
  return el('span', { class: 'red-numbers' },
    el('span', { 'data-stat': 'rate' }, el('b', {}, fmtValue(sum.rate, '/s')), ' req'),
    el('span', { 'data-stat': 'errors', class: sum.errorPct > 0 ? 'error' : '' }, el('b', {}, Number.isFinite(sum.errorPct) ? fmtValue(sum.errorPct, '%') : '–'), ' errors'),
    el('span', { 'data-stat': 'p95' }, el('b', {}, Number.isFinite(sum.p95) ? fmtValue(sum.p95, 'ms') : '–'), ' p95'));
}

async function focused(red, query, service, win, stepMs, R) {
  const kinds = await prom.labelValues('span_kind', `${CALLS}${selector({ service_name: service })}`);
  const base = kinds.includes(SERVER) ? { service_name: service, span_kind: SERVER } : { service_name: service };
  const [range, exemplars, ops] = await Promise.all([
    redRange(base, [], win, stepMs, R),
    redExemplars(base, win).catch(() => []),
    redSummary({ service_name: service }, ['span_name', 'span_kind'], win, promDuration(win.rangeMs)),
  ]);
  red.replaceChildren(
    el('div', { class: 'red-card focus', 'data-service': service },
      el('div', { class: 'red-card-head' }, el('span', { class: 'red-name' }, service),
        el('span', { class: 'badge' }, kinds.includes(SERVER) ? 'server spans' : 'all spans'),
        el('a', { class: 'explore', href: `/search?${new URLSearchParams({ service, lookback: win.custom ? '1h' : win.label })}` }, 'Find traces →')),
      redCharts(range.get(''), win, stepMs, { height: 170, exemplars, onExemplar: openTrace, idPrefix: 'service', matchers: base, R })),
    operationsTable(query, service, ops, win, stepMs, R));
}

function operationsTable(query, service, ops, win, stepMs, R) {
  const wantOp = query.get('operation'), wantKind = query.get('kind');
  const rows = [...ops.values()].sort((a, b) => (b.metric.span_kind === SERVER) - (a.metric.span_kind === SERVER) || b.rate - a.rate);
  if (wantOp && !rows.some(r => r.metric.span_name === wantOp)) rows.unshift({ metric: { span_name: wantOp, span_kind: wantKind || '' }, rate: NaN, errorPct: NaN, p95: NaN });
  const tbody = el('tbody', {});
  const cols = 6;
  for (const r of rows) {
    const op = r.metric.span_name, kind = r.metric.span_kind;
    const detail = el('tr', { class: 'op-detail', hidden: true }, el('td', { colspan: cols }));
    const row = el('tr', { class: 'op-row', 'data-operation': op, 'data-kind': kind, tabindex: 0 },
      el('td', { class: 'toggle' }, '▸'), el('td', { class: 'op' }, op), el('td', {}, el('span', { class: 'badge' }, kindText(kind))),
      el('td', { class: 'num' }, Number.isFinite(r.rate) ? fmtValue(r.rate, '/s') : '–'),
      el('td', { class: `num${r.errorPct > 0 ? ' error' : ''}` }, Number.isFinite(r.errorPct) ? fmtValue(r.errorPct, '%') : '–'),
      el('td', { class: 'num' }, Number.isFinite(r.p95) ? fmtValue(r.p95, 'ms') : '–'));
    const toggle = async open => {
      detail.hidden = !open;
      row.classList.toggle('open', open);
      row.firstChild.textContent = open ? '▾' : '▸';
      history.replaceState(null, '', servicesUrl(new URLSearchParams(location.search), open ? { operation: op, kind } : { operation: null, kind: null }));
      if (!open || detail.dataset.loaded) return;
      detail.dataset.loaded = '1';
      const cell = detail.firstChild;
      cell.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
      const m = { service_name: service, span_name: op, ...(kind ? { span_kind: kind } : {}) };
      try {
        const [range, exemplars] = await Promise.all([redRange(m, [], win, stepMs, R), redExemplars(m, win).catch(() => [])]);
        cell.replaceChildren(redCharts(range.get(''), win, stepMs, { height: 140, exemplars, onExemplar: openTrace, matchers: m, R }),
          el('a', { class: 'explore', href: `/search?${new URLSearchParams({ service, operation: op, lookback: win.custom ? '1h' : win.label })}` }, 'Find traces of this operation →'));
      } catch (e) {
        cell.replaceChildren(el('p', { class: 'error' }, e.message));
      }
    };
    row.addEventListener('click', () => toggle(detail.hidden));
    row.addEventListener('keydown', e => { if (e.key === 'Enter') toggle(detail.hidden); });
    tbody.append(row, detail);
    if (op === wantOp && (!wantKind || wantKind === kind)) requestAnimationFrame(() => { toggle(true); row.scrollIntoView({ block: 'center' }); });
  }
  return el('div', { class: 'ops' }, el('h3', {}, `Operations (${rows.length})`, el('span', { class: 'muted sub' }, ' over the range; click a row for its charts')),
    rows.length ? el('table', { class: 'stats-table ops-table', id: 'ops-table' },
      el('thead', {}, el('tr', {}, el('th', {}, ''), el('th', {}, 'Operation'), el('th', {}, 'Kind'), el('th', { class: 'num' }, 'Requests'),
        el('th', { class: 'num' }, 'Errors'), el('th', { class: 'num' }, 'p95'))), tbody)
      : el('p', { class: 'muted' }, 'No operations in this range.'));
}
