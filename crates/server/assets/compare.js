// Side-by-side comparison of this trace (A) with another (B): both headers,
// then per (service, operation) the span counts and total/self time of each
// and the change (red = B slower or more, green = B faster or fewer).
import { api } from '/static/api.js';
import { el, fmtNanos, serviceColor } from '/static/format.js';

const signed = (ns, fmt = fmtNanos) => (ns === 0 ? '0' : `${ns > 0 ? '+' : '−'}${fmt(Math.abs(ns))}`);

export function compareView(traceId, otherId) {
  const input = el('input', { id: 'compare-id', placeholder: 'trace id to compare with', value: otherId || '' });
  const out = el('div', { id: 'compare-result' });
  const run = async () => {
    const b = input.value.trim();
    if (!b) return;
    history.replaceState(null, '', `/trace/${traceId}?compare=${encodeURIComponent(b)}`);
    out.replaceChildren(el('p', { class: 'muted' }, 'Comparing…'));
    try {
      out.replaceChildren(render(await api.compare(traceId, b), traceId, b));
    } catch (e) {
      out.replaceChildren(el('p', { class: 'error' }, e.message));
    }
  };
  const form = el('form', { class: 'compare-form', onsubmit: e => { e.preventDefault(); run(); } },
    el('span', {}, `A = ${traceId.slice(0, 7)}, B = `), input, el('button', { type: 'submit', class: 'primary' }, 'Compare'));
  if (otherId) run();
  return el('div', { class: 'compare' }, form, out);
}

function render(cmp, a, b) {
  const head = (label, id, s) => el('div', { class: 'compare-head' },
    el('b', {}, `${label}: `), el('a', { href: `/trace/${id}` }, `${s.root_service}: ${s.root_operation}`),
    ` — ${fmtNanos(s.duration_nanos)}, ${s.total_spans} spans, ${s.errors} errors`);
  const cls = d => (d > 0 ? 'worse' : d < 0 ? 'better' : '');
  const rows = cmp.operations.map(r => {
    const dc = r.count_b - r.count_a, dt = r.total_nanos_b - r.total_nanos_a, ds = r.self_nanos_b - r.self_nanos_a;
    return el('tr', {},
      el('td', {}, el('span', { class: 'swatch', style: { background: serviceColor(r.service) } }), r.service),
      el('td', {}, r.operation),
      el('td', { class: 'num' }, r.count_a), el('td', { class: 'num' }, r.count_b),
      el('td', { class: `num ${cls(dc)}` }, dc > 0 ? `+${dc}` : dc),
      el('td', { class: 'num' }, fmtNanos(r.total_nanos_a)), el('td', { class: 'num' }, fmtNanos(r.total_nanos_b)),
      el('td', { class: `num ${cls(dt)}` }, signed(dt)),
      el('td', { class: 'num' }, fmtNanos(r.self_nanos_a)), el('td', { class: 'num' }, fmtNanos(r.self_nanos_b)),
      el('td', { class: `num ${cls(ds)}` }, signed(ds)));
  });
  const cols = ['Service', 'Operation', 'Spans A', 'Spans B', 'Δ', 'Total A', 'Total B', 'Δ total', 'Self A', 'Self B', 'Δ self'];
  return el('div', {},
    head('A', a, cmp.a), head('B', b, cmp.b),
    el('p', { class: `compare-delta ${cls(cmp.duration_delta_nanos)}` }, `B − A duration: ${signed(cmp.duration_delta_nanos)}`),
    el('table', { class: 'stats-table', id: 'compare-table' },
      el('thead', {}, el('tr', {}, cols.map(c => el('th', {}, c)))), el('tbody', {}, rows)));
}
