// "Traces through <frame>": under the Profiles page's flamegraph, once a
// frame is zoomed into (clicked), the spans whose linked samples have that
// function on their stack (profilers tag samples with span ids:
// pyroscope-otel, any SDK), heaviest first, from GET
// /api/profiles/span-hits (which names each span and finds its trace in the
// span store); each links to its trace page with the span opened on its
// Profile section. Names and ids are inserted as text. Not the engine nor
// the zoom tracking (profiles_flame.js).
import { getConnectJSON } from '/static/api.js';
import { el, fmtTime } from '/static/format.js';

const LIMIT = 20;


/** The trace page of a hit: the trace, its span opened on the Profile section. */
export function hitHref(hit) {
  const span = hit.spanID ? `?${new URLSearchParams({ span: hit.spanID, profile: '1' })}` : '';
  return `/trace/${hit.traceID}${span}`;
}

function hitItem(hit, unit) {
  const T = window.WhyslowTree;
  const facts = el('span', { class: 'muted' }, ` · ${T.formatValue(hit.value, unit)} · ${fmtTime(hit.start * 1e3)}`);
  const name = hit.operation !== null && hit.operation !== undefined ? `${hit.service}: ${hit.operation}`
    : hit.spanID ? `span ${hit.spanID}` : 'spans of the trace';
  const link = hit.traceID
    ? el('a', { href: hitHref(hit), class: 'trace-link', title: `trace ${hit.traceID} · span ${hit.spanID}` }, name)
    : el('span', { title: 'no stored span has this id: the trace is unknown' }, name, el('span', { class: 'muted' }, ' (trace not found)'));
  const trace = hit.traceID ? el('span', { class: 'trace-id muted' }, ` · trace ${hit.traceID.slice(0, 8)}`) : null;
  return el('li', { 'data-trace-id': hit.traceID || '', 'data-span-id': hit.spanID || '' }, link, trace, facts);
}

/**
 * The list's element and its controls: `use(scope)` sets where hits come
 * from ({query, from, until, unit}; null: never list), `follow(frame)` lists
 * the spans through `frame` (null hides the list).
 */
export function tracesPanel() {
  const title = el('div', { class: 'red-chart-title', id: 'profiles-traces-title' });
  const body = el('div', { id: 'profiles-traces-body' });
  const element = el('section', { class: 'profiles-traces', id: 'profiles-traces', hidden: true,
    style: { padding: '6px 12px 10px', borderTop: '1px solid #f0f2f4' } }, title, body);
  let scope = null;
  let frame = null;
  let seq = 0;

  const hide = () => { frame = null; seq++; element.hidden = true; body.replaceChildren(); };

  async function follow(name) {
    if (!scope || !name) { hide(); return; }
    if (name === frame) return;
    frame = name;
    const mine = ++seq;
    element.hidden = false;
    title.replaceChildren('Traces through ', el('code', {}, name));
    body.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
    const params = new URLSearchParams({ query: scope.query, from: scope.from, until: scope.until, frame: name, limit: String(LIMIT) });
    let hits;
    try {
      hits = await getConnectJSON(`/api/profiles/span-hits?${params}`);
    } catch (e) {
      if (mine === seq) body.replaceChildren(el('p', { class: 'error', id: 'profiles-traces-error' }, e.message));
      return;
    }
    if (mine !== seq) return;
    if (!hits.length) {
      body.replaceChildren(el('p', { class: 'muted', id: 'profiles-traces-empty' },
        'No spans are linked to these samples. Samples link to spans when the profiler tags them with span_id (pyroscope-otel, or any SDK).'));
      return;
    }
    const list = el('ol', { class: 'profiles-traces-list', id: 'profiles-traces-list' }, hits.map(h => hitItem(h, scope.unit)));
    body.replaceChildren(list, ...(hits.length === LIMIT ? [el('p', { class: 'muted small' }, `the ${LIMIT} heaviest spans`)] : []));
  }

  return {
    element,
    use(next) { scope = next; hide(); },
    follow,
  };
}
