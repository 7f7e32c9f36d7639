// The search page: a form (service, operation, tags, min/max duration,
// lookback, limit) whose state lives in the URL, a duration-over-time scatter
// plot of the results and the result list; clicking either opens the trace.
import { api } from '/static/api.js';
import { el, svg, fmtDuration, fmtTime, serviceColor, serviceOf } from '/static/format.js';

const LOOKBACKS = ['5m', '15m', '1h', '2h', '6h', '12h', '24h', '2d', '7d'];

export async function renderSearch(root, query) {
  const form = el('form', { class: 'search-form', id: 'search-form' });
  const results = el('section', { class: 'search-results', id: 'search-results' });
  root.append(el('div', { class: 'search-page' }, form, results));

  const service = el('select', { name: 'service', id: 'service' });
  const operation = el('select', { name: 'operation', id: 'operation' });
  const field = (label, input) => el('label', {}, el('span', {}, label), input);
  const tags = el('input', { name: 'tags', id: 'tags', placeholder: 'http.status_code=500 error=true', value: query.get('tags') || '' });
  const minD = el('input', { name: 'minDuration', id: 'minDuration', placeholder: 'e.g. 100ms', value: query.get('minDuration') || '' });
  const maxD = el('input', { name: 'maxDuration', id: 'maxDuration', placeholder: 'e.g. 1.2s', value: query.get('maxDuration') || '' });
  const lookback = el('select', { name: 'lookback', id: 'lookback' },
    LOOKBACKS.map(l => el('option', { value: l, selected: (query.get('lookback') || '1h') === l }, `Last ${l}`)));
  const limit = el('input', { name: 'limit', id: 'limit', type: 'number', min: 1, max: 1500, value: query.get('limit') || '20' });
  form.append(
    el('h2', {}, 'Search'),
    field('Service', service), field('Operation', operation), field('Tags', tags),
    field('Lookback', lookback),
    el('div', { class: 'row2' }, field('Min duration', minD), field('Max duration', maxD)),
    field('Limit results', limit),
    el('button', { type: 'submit', class: 'primary', id: 'find-traces' }, 'Find Traces'));

  let services = [];
  try { services = await api.services(); } catch (e) { results.append(el('p', { class: 'error' }, e.message)); }
  const wanted = query.get('service') || services[0] || '';
  service.replaceChildren(...services.map(s => el('option', { value: s, selected: s === wanted }, s)));
  const loadOps = async () => {
    const ops = service.value ? await api.operations(service.value).catch(() => []) : [];
    const cur = query.get('operation') || 'all';
    operation.replaceChildren(el('option', { value: 'all' }, 'all'),
      ...ops.map(o => el('option', { value: o, selected: o === cur }, o)));
  };
  service.addEventListener('change', () => { query.delete('operation'); loadOps(); });
  await loadOps();

  form.addEventListener('submit', e => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const [k, input] of Object.entries({ service, operation, tags, minDuration: minD, maxDuration: maxD, lookback, limit })) {
      if (input.value) p.set(k, input.value);
    }
    window.whyslowNavigate(`/search?${p}`);
  });
  if (query.get('service') && services.length) runSearch(query, results);
  else if (!services.length) results.append(el('p', { class: 'muted' }, 'No services yet: send spans over OTLP to :4317 (gRPC) or :4318 (HTTP).'));
}

/** `a=b c="d e"` (logfmt, as jaeger-ui takes tags) → JSON object text. */
function tagsToJSON(text) {
  const out = {};
  for (const m of text.matchAll(/([^\s=]+)=("([^"]*)"|\S*)/g)) out[m[1]] = m[3] !== undefined ? m[3] : m[2];
  return JSON.stringify(out);
}

async function runSearch(query, results) {
  const p = new URLSearchParams();
  for (const k of ['service', 'operation', 'minDuration', 'maxDuration', 'limit', 'lookback']) {
    if (query.get(k)) p.set(k, query.get(k));
  }
  if (query.get('tags')) p.set('tags', tagsToJSON(query.get('tags')));
  results.replaceChildren(el('p', { class: 'muted' }, 'Searching…'));
  let traces;
  try { traces = await api.search(p); } catch (e) {
    results.replaceChildren(el('p', { class: 'error' }, e.message));
    return;
  }
  const rows = traces.map(summarize);
  const list = el('ul', { class: 'trace-list', id: 'trace-list' });
  const sortBy = el('select', { id: 'sort', onchange: () => fill() },
    Object.keys(SORTS).map(k => el('option', { value: k }, k)));
  // Ticking two results enables "Compare" (trace page, compare view).
  const picked = [];
  const compare = el('button', { type: 'button', id: 'compare-picked', class: 'compare-btn', disabled: true,
    onclick: () => window.whyslowNavigate(`/trace/${picked[0]}?compare=${picked[1]}`) }, 'Compare 2 selected');
  const onPick = (id, on) => {
    if (on) picked.push(id); else picked.splice(picked.indexOf(id), 1);
    while (picked.length > 2) {
      const old = picked.shift();
      const box = list.querySelector(`[data-trace-id="${old}"] input[type=checkbox]`);
      if (box) box.checked = false;
    }
    compare.disabled = picked.length !== 2;
  };
  const fill = () => list.replaceChildren(...[...rows].sort(SORTS[sortBy.value]).map(r => resultItem(r, onPick, picked)));
  fill();
  results.replaceChildren(
    scatter(rows),
    el('div', { class: 'result-bar' },
      el('h3', { class: 'result-count' }, `${rows.length} Trace${rows.length === 1 ? '' : 's'}`),
      compare,
      el('label', { class: 'sort' }, 'Sort: ', sortBy)),
    list);
}

const SORTS = {
  'Most recent': (a, b) => b.start - a.start,
  'Longest first': (a, b) => b.duration - a.duration,
  'Shortest first': (a, b) => a.duration - b.duration,
  'Most spans': (a, b) => b.spans - a.spans,
  'Most errors': (a, b) => b.errors - a.errors,
};

function summarize(trace) {
  const start = Math.min(...trace.spans.map(s => s.startTime));
  const end = Math.max(...trace.spans.map(s => s.startTime + s.duration));
  const ids = new Set(trace.spans.map(s => s.spanID));
  const root = trace.spans.find(s => !(s.references || []).some(r => r.refType === 'CHILD_OF' && ids.has(r.spanID))) || trace.spans[0];
  const services = new Map();
  let errors = 0;
  for (const s of trace.spans) {
    const name = serviceOf(trace, s);
    services.set(name, (services.get(name) || 0) + 1);
    if ((s.tags || []).some(t => t.key === 'error' && (t.value === true || t.value === 'true'))) errors++;
  }
  return { id: trace.traceID, start, duration: end - start, spans: trace.spans.length, errors, services,
    title: `${serviceOf(trace, root)}: ${root.operationName}`, rootService: serviceOf(trace, root) };
}

function resultItem(r, onPick, picked) {
  return el('li', { class: 'trace-item', 'data-trace-id': r.id },
    el('input', { type: 'checkbox', class: 'pick', title: 'select to compare', checked: picked.includes(r.id),
      onchange: e => onPick(r.id, e.target.checked) }),
    el('a', { href: `/trace/${r.id}`, class: 'trace-link' },
      el('div', { class: 'trace-item-head', style: { borderLeftColor: serviceColor(r.rootService) } },
        el('span', { class: 'trace-title' }, r.title, el('span', { class: 'trace-id' }, r.id.slice(0, 7))),
        el('span', { class: 'trace-duration' }, fmtDuration(r.duration))),
      el('div', { class: 'trace-item-body' },
        el('span', { class: 'badge' }, `${r.spans} Span${r.spans === 1 ? '' : 's'}`),
        r.errors ? el('span', { class: 'badge error' }, `${r.errors} Error${r.errors === 1 ? '' : 's'}`) : null,
        [...r.services].map(([name, n]) => el('span', { class: 'service-chip', style: { borderColor: serviceColor(name) } }, `${name} (${n})`)),
        el('span', { class: 'trace-start' }, fmtTime(r.start)))));
}

/** Duration (y) over start time (x); each dot links to its trace. */
function scatter(rows) {
  const W = 900, H = 180, P = { l: 60, r: 16, t: 12, b: 28 };
  const box = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'scatter', id: 'scatter' });
  if (!rows.length) return box;
  const x0 = Math.min(...rows.map(r => r.start)), x1 = Math.max(...rows.map(r => r.start));
  const yMax = Math.max(...rows.map(r => r.duration)) * 1.1 || 1;
  const x = t => P.l + (x1 === x0 ? 0.5 : (t - x0) / (x1 - x0)) * (W - P.l - P.r);
  const y = d => H - P.b - (d / yMax) * (H - P.t - P.b);
  box.append(svg('line', { x1: P.l, y1: H - P.b, x2: W - P.r, y2: H - P.b, class: 'axis' }),
    svg('line', { x1: P.l, y1: P.t, x2: P.l, y2: H - P.b, class: 'axis' }));
  for (const f of [0, 0.5, 1]) {
    box.append(svg('text', { x: P.l - 6, y: y(yMax * f) + 4, class: 'tick', 'text-anchor': 'end' }, fmtDuration(yMax * f)));
  }
  box.append(svg('text', { x: P.l, y: H - 8, class: 'tick' }, fmtTime(x0)),
    svg('text', { x: W - P.r, y: H - 8, class: 'tick', 'text-anchor': 'end' }, fmtTime(x1)));
  const maxSpans = Math.max(...rows.map(r => r.spans));
  for (const r of rows) {
    const dot = svg('circle', { cx: x(r.start), cy: y(r.duration), r: 4 + 6 * Math.sqrt(r.spans / maxSpans),
      class: r.errors ? 'dot error' : 'dot', onclick: () => window.whyslowNavigate(`/trace/${r.id}`) },
    svg('title', {}, `${r.title}\n${fmtDuration(r.duration)}, ${r.spans} spans`));
    box.append(dot);
  }
  return box;
}
