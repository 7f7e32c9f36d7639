// The Metrics page (`/metrics-explorer`): a PromQL editor with completion, a
// time range (last 5m…24h or a custom start/end) with an automatic step, and
// two views of the result — Graph (a range query drawn by chart.js, legend
// with each series' labels) and Table (an instant query at the range's end:
// labels and value). API errors show under the editor. The state lives in the
// URL (`?q=…&range=1h&tab=table&step=30s&unit=ms`, or `start=…&end=…`), so
// links reproduce the view.
import { el } from '/static/format.js';
import { prom, sampleValue, RANGES, autoStep, parseDuration, promDuration, windowFrom } from '/static/prom.js';
import { lineChart } from '/static/chart.js';
import { PromqlEditor } from '/static/promql_editor.js';
import { UNIT_CHOICES, fmtStamp, fmtValue, inferUnit, seriesName } from '/static/units.js';

const MAX_TABLE_ROWS = 1000;
const MAX_GRAPH_SERIES = 300;

/** `YYYY-MM-DDTHH:MM` in local time, as `<input type=datetime-local>` wants it. */
const localInput = ms => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60e3);
  return d.toISOString().slice(0, 16);
};

export function renderMetrics(root, query) {
  const state = {
    q: query.get('q') || '', tab: query.get('tab') === 'table' ? 'table' : 'graph',
    range: query.get('range') || '1h', start: query.get('start') || '', end: query.get('end') || '',
    step: query.get('step') || '', unit: query.get('unit') || 'auto',
  };
  const editor = new PromqlEditor({ value: state.q, onRun: () => run(true) });
  const error = el('div', { class: 'query-error', id: 'query-error', hidden: true, role: 'alert' });
  const ranges = RANGES.includes(state.range) ? RANGES : [...RANGES, state.range];
  const range = el('select', { id: 'range' }, [...ranges, 'custom'].map(r =>
    el('option', { value: r, selected: (state.start && state.end ? 'custom' : state.range) === r }, r === 'custom' ? 'Custom…' : `Last ${r}`)));
  const win0 = windowFrom(query);
  const start = el('input', { type: 'datetime-local', id: 'range-start', value: localInput(win0.startMs) });
  const end = el('input', { type: 'datetime-local', id: 'range-end', value: localInput(win0.endMs) });
  const custom = el('span', { class: 'custom-range', hidden: range.value !== 'custom' }, start, el('span', { class: 'muted' }, '→'), end);
  const step = el('input', { id: 'step', class: 'step-input', value: state.step, placeholder: 'auto', title: 'resolution: a duration such as 15s; empty = about 250 points' });
  const unit = el('select', { id: 'unit', title: 'y-axis unit' }, [['auto', 'auto'], ...UNIT_CHOICES].map(([v, label]) =>
    el('option', { value: v, selected: v === state.unit }, `Unit: ${label}`)));
  const info = el('span', { class: 'query-info muted', id: 'query-info' });
  range.addEventListener('change', () => { custom.hidden = range.value !== 'custom'; if (range.value !== 'custom') run(true); });
  for (const input of [start, end, step, unit]) input.addEventListener('change', () => run(true));

  const tabs = el('div', { class: 'tabs' }, ['graph', 'table'].map(t => el('button', {
    type: 'button', 'data-tab': t, class: t === state.tab ? 'active' : '',
    onclick: () => { state.tab = t; tabs.querySelectorAll('button').forEach(b => b.classList.toggle('active', b.dataset.tab === t)); run(true); },
  }, t === 'graph' ? 'Graph' : 'Table')));
  const body = el('div', { class: 'metrics-body', id: 'metrics-body' },
    el('p', { class: 'muted hint' }, 'Type a PromQL expression (names complete as you type) and press Ctrl+Enter or Execute.'));
  root.append(el('div', { class: 'metrics-page' },
    el('div', { class: 'query-panel' },
      el('div', { class: 'query-row' }, editor.element,
        el('button', { type: 'button', class: 'primary run', id: 'run-query', onclick: () => run(true) }, 'Execute')),
      error,
      el('div', { class: 'query-controls' }, range, custom, el('label', { class: 'inline' }, 'Step ', step), unit, info)),
    tabs, body));

  let generation = 0;
  async function run(push) {
    const q = editor.value.trim();
    const p = new URLSearchParams();
    if (q) p.set('q', q);
    if (range.value === 'custom') {
      const s = Date.parse(start.value), e = Date.parse(end.value);
      if (Number.isFinite(s) && Number.isFinite(e)) { p.set('start', new Date(s).toISOString()); p.set('end', new Date(e).toISOString()); }
    } else p.set('range', range.value);
    if (step.value.trim()) p.set('step', step.value.trim());
    if (unit.value !== 'auto') p.set('unit', unit.value);
    if (tabs.querySelector('.active').dataset.tab === 'table') p.set('tab', 'table');
    const url = `${location.pathname}?${p}`;
    if (push && url !== location.pathname + location.search) history.pushState(null, '', url);
    if (!q) return;
    const mine = ++generation;
    const win = windowFrom(p);
    const stepMs = parseDuration(step.value.trim()) || autoStep(win.rangeMs);
    error.hidden = true;
    body.classList.add('loading');
    const t0 = performance.now();
    try {
      const table = p.get('tab') === 'table';
      const data = table ? await prom.query(q, win.endMs) : await prom.queryRange(q, win.startMs, win.endMs, stepMs);
      if (mine !== generation) return;
      const ms = Math.round(performance.now() - t0);
      const n = Array.isArray(data.result) && data.resultType !== 'scalar' && data.resultType !== 'string' ? data.result.length : 1;
      info.textContent = `${n} series · ${ms} ms · ${table ? `at ${fmtStamp(win.endMs)}` : `step ${promDuration(stepMs)}`}`;
      const u = unit.value === 'auto' ? inferUnit(q) : unit.value;
      body.replaceChildren(...[...(table ? tableView(data, u) : graphView(data, win, stepMs, u)),
        ...data.warnings.map(w => el('p', { class: 'warning' }, `warning: ${w}`))].filter(Boolean));
    } catch (e) {
      if (mine !== generation) return;
      error.replaceChildren(e.errorType ? el('b', {}, `${e.errorType}: `) : null, e.error || e.message);
      error.hidden = false;
      info.textContent = '';
      body.replaceChildren();
    } finally {
      body.classList.remove('loading');
    }
  }
  if (state.q) run(false);
  editor.textarea.focus();
}

function graphView(data, win, stepMs, unit) {
  const series = data.result.map(r => ({
    name: seriesName(r.metric), labels: r.metric,
    points: (r.values || []).map(([t, v]) => [t * 1000, sampleValue(v)]),
  }));
  if (!series.length) return [el('p', { class: 'muted empty' }, 'Empty query result.')];
  // An SVG path per series: past a few hundred the page slows and the legend is unreadable.
  const shown = series.slice(0, MAX_GRAPH_SERIES);
  return [lineChart({ series: shown, startMs: win.startMs, endMs: win.endMs, stepMs, unit, height: 340, id: 'metrics-chart' }),
    series.length > shown.length ? el('p', { class: 'warning' }, `showing ${shown.length} of ${series.length} series; aggregate (sum by, topk) to see the rest`) : null];
}

function labelCells(metric) {
  const { __name__: name, ...rest } = metric || {};
  return el('td', { class: 'series-labels' }, name ? el('span', { class: 'metric-name' }, name) : null, '{',
    Object.keys(rest).sort().map((k, i) => el('span', { class: 'label-pair' }, i ? ', ' : '', el('span', { class: 'label-name' }, k), '="',
      el('span', { class: 'label-value' }, rest[k]), '"')), '}');
}

function tableView(data, unit) {
  const head = cols => el('thead', {}, el('tr', {}, cols.map(c => el('th', {}, c))));
  const valueCell = v => el('td', { class: 'num' }, v, unit ? el('span', { class: 'muted pretty' }, fmtValue(sampleValue(v), unit, 4)) : null);
  let rows;
  if (data.resultType === 'scalar' || data.resultType === 'string') {
    rows = [el('tr', {}, el('td', {}, el('i', {}, data.resultType)), valueCell(data.result[1]))];
  } else if (data.resultType === 'matrix') {
    rows = data.result.slice(0, MAX_TABLE_ROWS).map(r => el('tr', {}, labelCells(r.metric),
      el('td', { class: 'num matrix-values' }, r.values.map(([t, v]) => el('div', {}, `${v} @${fmtStamp(t * 1000)}`)))));
  } else {
    rows = data.result.slice(0, MAX_TABLE_ROWS).map(r => el('tr', {}, labelCells(r.metric), valueCell(r.value[1])));
  }
  if (!rows.length) return [el('p', { class: 'muted empty' }, 'Empty query result.')];
  const note = data.result.length > MAX_TABLE_ROWS ? el('p', { class: 'muted' }, `showing ${MAX_TABLE_ROWS} of ${data.result.length} series`) : null;
  return [el('table', { class: 'stats-table result-table', id: 'result-table' }, head(['Series', el('span', { class: 'num-head' }, 'Value')]), el('tbody', {}, rows)), note];
}
