// The detail panel of one span: overview, attributes, resource (process),
// instrumentation scope, events (logs, at their offset in the trace), links
// (with their flags) and parent, status and warnings (e.g. clock-skew
// adjustments), a link to the RED charts of the span's operation on the
// Services page, and the span's profile (span_profile.js). Values are
// inserted as text, never as HTML.
import { el, fmtDuration, serviceColor, serviceOf, tagText } from '/static/format.js';
import { spanProfileSection } from '/static/span_profile.js';

const STATUS_KEYS = new Set(['otel.status_code', 'otel.status_description', 'error']);
const SCOPE_ATTRIBUTE = 'otel.scope.attributes.';
const isScopeTag = key => key === 'otel.scope.name' || key === 'otel.scope.version' || key.startsWith(SCOPE_ATTRIBUTE);

/** OTLP link flags as text: `0x301 (sampled, remote)`. */
export function linkFlagsText(flags) {
  if (flags === undefined || flags === null) return '';
  const words = [(flags & 0x01) ? 'sampled' : 'not sampled'];
  if (flags & 0x100) words.push((flags & 0x200) ? 'remote' : 'local');
  return `0x${flags.toString(16)} (${words.join(', ')})`;
}

const RED_RANGES = [['5m', 300e3], ['15m', 900e3], ['1h', 3600e3], ['6h', 6 * 3600e3], ['24h', 86400e3]];

/**
 * The Services page focused on a span's operation (its kind as the span
 * metrics label it), over the shortest range that shows when the span ran
 * with room around it, or an hour around it when that was over 12 h ago.
 */
export function redLink(service, operation, kind, startUs, nowMs = Date.now()) {
  const p = new URLSearchParams({ service, operation });
  if (kind) p.set('kind', `SPAN_KIND_${String(kind).toUpperCase()}`);
  const at = startUs / 1e3, age = nowMs - at;
  const fit = RED_RANGES.find(([, ms]) => age >= 0 && 2 * age <= ms);
  if (fit) p.set('range', fit[0]);
  else if (Number.isFinite(at)) { p.set('start', new Date(at - 1800e3).toISOString()); p.set('end', new Date(at + 1800e3).toISOString()); }
  return `/services?${p}`;
}

function kvTable(pairs, cls) {
  if (!pairs.length) return el('p', { class: 'muted' }, 'none');
  return el('table', { class: `kv ${cls || ''}` }, el('tbody', {},
    pairs.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v)))));
}

function section(title, content, open = true) {
  return el('details', { open, class: 'detail-section' }, el('summary', {}, title), content);
}

/** The panel's content; `options.onProfileToggle(open)` hears the Profile section open and close. */
export function spanDetail(trace, span, index, onClose, options = {}) {
  const service = serviceOf(trace, span);
  const process = trace.processes[span.processID] || { tags: [] };
  const tags = span.tags || [];
  const statusTags = tags.filter(t => STATUS_KEYS.has(t.key));
  const attrTags = tags.filter(t => !STATUS_KEYS.has(t.key) && !isScopeTag(t.key));
  const scopeTags = tags.filter(t => isScopeTag(t.key));
  const scopeName = (scopeTags.find(t => t.key === 'otel.scope.name') || {}).value || '';
  const kind = (tags.find(t => t.key === 'span.kind') || {}).value || '';
  const parent = index.byId.get(span.parentID);
  const links = (span.references || []).filter(r => r.refType === 'FOLLOWS_FROM');
  const refLink = r => r.traceID === trace.traceID
    ? el('span', {}, `span ${r.spanID}`, index.byId.has(r.spanID) ? ` (${index.byId.get(r.spanID).operationName})` : '')
    : el('a', { href: `/trace/${r.traceID}` }, `trace ${r.traceID} span ${r.spanID}`);
  const linkItem = r => el('li', {}, refLink(r),
    r.flags !== undefined ? el('span', { class: 'link-flags muted', title: 'OTLP link flags' }, ` flags ${linkFlagsText(r.flags)}`) : null);

  return el('div', { class: 'detail-inner', 'data-span-id': span.spanID },
    el('div', { class: 'detail-head' },
      el('h3', {}, el('span', { class: 'swatch', style: { background: serviceColor(service) } }),
        `${service}: ${span.operationName}`),
      el('button', { type: 'button', class: 'close', onclick: onClose, 'aria-label': 'close' }, '×')),
    kvTable([
      ['Service', service],
      ['Duration', fmtDuration(span.duration)],
      ['Start', `+${fmtDuration(span.startTime - index.start)}`],
      ['Span ID', span.spanID],
      ['Kind', kind || '—'],
      ['Parent', parent ? `${parent.operationName} (${parent.spanID})` : 'root'],
    ], 'overview'),
    el('p', { class: 'span-links' }, el('a', { href: redLink(service, span.operationName, kind, span.startTime), id: 'red-link', class: 'red-link' }, 'RED for this operation →')),
    spanProfileSection(span, index, options.onProfileToggle),
    section(`Status`, statusTags.length ? kvTable(statusTags.map(t => [t.key, tagText(t)]), 'status')
      : el('p', { class: 'muted' }, 'unset')),
    section(`Attributes (${attrTags.length})`, kvTable(attrTags.map(t => [t.key, tagText(t)]), 'attributes')),
    section(`Resource: ${process.serviceName || service}`,
      kvTable((process.tags || []).map(t => [t.key, tagText(t)]), 'resource'), false),
    section(`Instrumentation scope${scopeName ? `: ${scopeName}` : ''}`,
      kvTable(scopeTags.map(t => [t.key.startsWith(SCOPE_ATTRIBUTE) ? t.key.slice(SCOPE_ATTRIBUTE.length) : t.key.slice('otel.scope.'.length), tagText(t)]), 'scope'), false),
    section(`Events (${(span.logs || []).length})`, (span.logs || []).length
      ? el('ul', { class: 'events' }, span.logs.map(log => el('li', {},
        el('div', { class: 'event-time' }, `+${fmtDuration(log.timestamp - index.start)}`),
        kvTable((log.fields || []).map(f => [f.key, tagText(f)])))))
      : el('p', { class: 'muted' }, 'none')),
    section(`Links (${links.length})`, links.length ? el('ul', { class: 'links' }, links.map(linkItem))
      : el('p', { class: 'muted' }, 'none')),
    span.warnings && span.warnings.length
      ? section(`Warnings (${span.warnings.length})`, el('ul', { class: 'warnings' }, span.warnings.map(w => el('li', {}, w)))) : null);
}
