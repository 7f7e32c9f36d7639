// Small shared helpers: durations (µs in, readable text out), times, service
// colors, and a DOM element builder so pages never paste untrusted HTML.

/** `1.5s`, `242.17ms`, `35µs` from microseconds. */
export function fmtDuration(us) {
  if (us >= 1e6) return `${+(us / 1e6).toFixed(2)}s`;
  if (us >= 1e3) return `${+(us / 1e3).toFixed(2)}ms`;
  return `${Math.round(us)}µs`;
}

/** Same, from nanoseconds. */
export const fmtNanos = ns => fmtDuration(ns / 1e3);

/** Local date-time with milliseconds, from Unix µs. */
export function fmtTime(us) {
  const d = new Date(us / 1e3);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// Twelve categorical colors (Tableau 10 plus cyan and olive), ordered so the
// first ones are the most distinct from each other; red comes late because it
// reads as "error". Hashing names onto a palette gives collisions with as few
// as three services, so colors are handed out in order instead.
export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948',
  '#9c755f', '#ff9da7', '#17becf', '#bcbd22', '#e15759', '#7f7f7f'];

const assigned = new Map();

/** The color of a service: stable for the page's lifetime, distinct for the first 12 services. */
export function serviceColor(name) {
  let color = assigned.get(name);
  if (!color) {
    const i = assigned.size;
    // Past the palette: golden-angle hues, still far apart.
    color = i < PALETTE.length ? PALETTE[i] : `hsl(${Math.round((i * 137.508) % 360)}, 55%, 50%)`;
    assigned.set(name, color);
  }
  return color;
}

/** Starts a page's coloring: `names` (sorted) take the palette's first colors. */
export function useServiceColors(names) {
  assigned.clear();
  for (const name of [...new Set(names)].sort()) serviceColor(name);
}

/** `el('div', {class: 'x', onclick}, child, 'text', …)`. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'style' && typeof v === 'object') Object.assign(node.style, v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** An SVG element with attributes. */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** The text of a Jaeger tag value. */
export const tagText = t => (typeof t.value === 'string' ? t.value : JSON.stringify(t.value));

/** Indexes a Jaeger trace: span by id, parent ids, children (by start), roots, depth. */
export function indexTrace(trace) {
  const byId = new Map(trace.spans.map(s => [s.spanID, s]));
  const children = new Map();
  const roots = [];
  for (const s of trace.spans) {
    const ref = (s.references || []).find(r => r.refType === 'CHILD_OF' && byId.has(r.spanID) && r.spanID !== s.spanID);
    s.parentID = ref ? ref.spanID : null;
    if (s.parentID) {
      if (!children.has(s.parentID)) children.set(s.parentID, []);
      children.get(s.parentID).push(s);
    } else roots.push(s);
  }
  const byStart = (a, b) => a.startTime - b.startTime;
  roots.sort(byStart);
  for (const list of children.values()) list.sort(byStart);
  const start = Math.min(...trace.spans.map(s => s.startTime));
  const end = Math.max(...trace.spans.map(s => s.startTime + s.duration));
  return { byId, children, roots, start, end, duration: Math.max(end - start, 1) };
}

/** Service name of a span. */
export const serviceOf = (trace, span) => (trace.processes[span.processID] || {}).serviceName || 'unknown';
