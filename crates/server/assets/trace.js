// The trace page: the header (trace start, duration, services, depth, total
// spans), then one of four views: the timeline (Gantt with the critical path),
// the statistics table (self time by service and operation), the trace
// flamegraph, or the comparison with another trace (`?compare=ID`). A span's
// detail opens in a side panel (`?span=ID` opens it on load, `&profile=1` on
// its Profile section, which widens the panel). The analysis comes from
// `/api/traces/{id}/analysis`; the spans from the Jaeger route.
import { api } from '/static/api.js';
import { el, fmtNanos, fmtTime, indexTrace, serviceColor, serviceOf, useServiceColors } from '/static/format.js';
import { Timeline } from '/static/timeline.js';
import { spanDetail } from '/static/span_detail.js';
import { traceFlamegraph } from '/static/flame.js';
import { compareView } from '/static/compare.js';
import { hideFlame } from '/static/profiles_flame.js';

/** The span panel's width while its Profile section shows a flamegraph. */
const PROFILE_WIDTH = 'min(900px, 60vw)';

export async function renderTrace(root, id, query) {
  root.append(el('p', { class: 'muted' }, 'Loading trace…'));
  let trace, analysis;
  try {
    [trace, analysis] = await Promise.all([api.trace(id), api.analysis(id)]);
  } catch (e) {
    root.replaceChildren(el('p', { class: 'error', id: 'trace-error' },
      e.status === 404 ? `Trace ${id} not found.` : e.message));
    return;
  }
  const index = indexTrace(trace);
  const services = [...new Set(trace.spans.map(span => serviceOf(trace, span)))].sort();
  useServiceColors(services);
  const adjusted = trace.spans.filter(span => (span.warnings || []).some(w => /adjusted|clock skew/.test(w))).length;
  const s = analysis.summary;
  const stat = (label, value, key) => el('span', { class: 'stat' }, el('b', {}, `${label} `), el('span', { 'data-stat': key }, value));
  const header = el('div', { class: 'trace-header', id: 'trace-header' },
    el('h2', {}, el('span', { class: 'swatch', style: { background: serviceColor(s.root_service) } }),
      `${s.root_service}: ${s.root_operation} `, el('span', { class: 'trace-id' }, trace.traceID.slice(0, 7))),
    el('div', { class: 'stats-line' },
      stat('Trace Start', fmtTime(s.start_unix_nano / 1e3), 'start'),
      stat('Duration', fmtNanos(s.duration_nanos), 'duration'),
      stat('Services', s.services, 'services'),
      stat('Depth', s.depth, 'depth'),
      stat('Total Spans', s.total_spans, 'spans'),
      s.errors ? stat('Errors', s.errors, 'errors') : null,
      adjusted ? el('span', { class: 'stat skew-note', title: 'see the Warnings of the marked spans; ?raw=true on the API shows stored times' },
        el('b', {}, 'Clock skew '), el('span', { 'data-stat': 'skew' }, `${adjusted} span${adjusted > 1 ? 's' : ''} adjusted`)) : null),
    el('div', { class: 'service-legend', id: 'service-legend' }, services.map(name =>
      el('span', { class: 'legend-item', 'data-service': name },
        el('span', { class: 'swatch', style: { background: serviceColor(name) } }), name))));

  const body = el('div', { class: 'trace-body' });
  const detail = el('aside', { class: 'span-detail', id: 'span-detail', hidden: true });
  const tabs = el('div', { class: 'tabs' });
  // The profile engine may sit in the panel: park it before the panel's content goes.
  const closeDetail = () => { hideFlame(); detail.hidden = true; detail.style.width = ''; };
  const openDetail = (span, onClosed = () => {}) => {
    closeDetail();
    detail.hidden = false;
    detail.replaceChildren(spanDetail(trace, span, index, () => { closeDetail(); onClosed(); }, {
      onProfileToggle: open => { detail.style.width = open ? PROFILE_WIDTH : ''; },
    }));
  };
  let timeline = null;
  const views = {
    Timeline: () => {
      const tl = new Timeline(trace, index, analysis, span => openDetail(span, () => tl.select(null)));
      timeline = tl;
      return tl.element;
    },
    Statistics: () => statsTable(analysis),
    Flamegraph: () => traceFlamegraph(trace, index, openDetail),
    Compare: () => compareView(trace.traceID, query.get('compare')),
  };
  const show = name => {
    tabs.querySelectorAll('button').forEach(b => b.classList.toggle('active', b.textContent === name));
    timeline = null;
    body.replaceChildren(views[name]());
    closeDetail();
  };
  tabs.append(...Object.keys(views).map(name => el('button', { type: 'button', onclick: () => show(name), 'data-tab': name }, name)),
    el('span', { class: 'legend' }, el('span', { class: 'cp-swatch' }), 'critical path'));
  root.replaceChildren(el('div', { class: 'trace-page' }, header, tabs, el('div', { class: 'trace-main' }, body, detail)));
  show(query.get('compare') ? 'Compare' : { stats: 'Statistics', flamegraph: 'Flamegraph' }[query.get('view')] || 'Timeline');
  const linked = index.byId.get(query.get('span'));
  if (linked) {
    if (timeline) timeline.reveal(linked);
    else openDetail(linked);
    const section = detail.querySelector('#span-profile');
    if (section && query.get('profile') === '1') section.open = true;
  }
}

function statsTable(analysis) {
  const total = analysis.summary.duration_nanos || 1;
  const cols = ['Service', 'Operation', 'Count', 'Total', 'Avg', 'Min', 'Max', 'Self total', 'Self %', 'Errors'];
  const rows = analysis.stats.map(r => el('tr', {},
    el('td', {}, el('span', { class: 'swatch', style: { background: serviceColor(r.service) } }), r.service),
    el('td', {}, r.operation),
    el('td', { class: 'num' }, r.count),
    el('td', { class: 'num' }, fmtNanos(r.total_nanos)),
    el('td', { class: 'num' }, fmtNanos(r.avg_nanos)),
    el('td', { class: 'num' }, fmtNanos(r.min_nanos)),
    el('td', { class: 'num' }, fmtNanos(r.max_nanos)),
    el('td', { class: 'num' }, fmtNanos(r.self_total_nanos)),
    el('td', { class: 'num' }, el('span', { class: 'pct-bar', style: { width: `${(100 * r.self_total_nanos / total).toFixed(1)}%` } }),
      `${(100 * r.self_total_nanos / total).toFixed(1)}%`),
    el('td', { class: 'num' }, r.errors || '')));
  return el('table', { class: 'stats-table', id: 'stats-table' },
    el('thead', {}, el('tr', {}, cols.map(c => el('th', {}, c)))), el('tbody', {}, rows));
}
