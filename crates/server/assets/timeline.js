// The trace timeline: one row per span as a collapsible tree (label column)
// with a bar to scale (bar column), colored by service, critical-path
// sections drawn darker on the bars. Only the rows in view are in the DOM
// (fixed row height, absolutely placed window), so 10 000-span traces scroll
// and expand as fast as small ones.
import { el, fmtDuration, serviceColor, serviceOf } from '/static/format.js';

const ROW = 26;
const OVERSCAN = 12;

export class Timeline {
  constructor(trace, index, analysis, onSelect) {
    this.trace = trace;
    this.index = index;
    this.onSelect = onSelect;
    this.collapsed = new Set();
    this.selected = null;
    this.critical = new Map();
    for (const c of analysis.critical_path || []) {
      if (!this.critical.has(c.span_id)) this.critical.set(c.span_id, []);
      this.critical.get(c.span_id).push([c.start_unix_nano / 1e3, c.end_unix_nano / 1e3]);
    }
    this.rows = [];
    this.build();
  }

  build() {
    const { index } = this;
    const ticks = [0, 0.25, 0.5, 0.75, 1];
    const header = el('div', { class: 'tl-header' },
      el('div', { class: 'tl-label' }, 'Service & Operation',
        el('span', { class: 'tl-tools' },
          el('button', { type: 'button', title: 'Collapse all', onclick: () => this.collapseAll(true) }, '⊟'),
          el('button', { type: 'button', title: 'Expand all', onclick: () => this.collapseAll(false) }, '⊞'))),
      el('div', { class: 'tl-bar-area' }, ticks.map(t => el('span', {
        class: 'tl-tick', style: { left: `${t * 100}%` } }, fmtDuration(t * index.duration)))));
    this.rowsBox = el('div', { class: 'tl-rows' });
    this.spacer = el('div', { class: 'tl-spacer' }, this.rowsBox);
    this.viewport = el('div', { class: 'tl-viewport', id: 'timeline-viewport' }, this.spacer);
    let pending = false;
    this.viewport.addEventListener('scroll', () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; this.render(); });
    });
    this.element = el('div', { class: 'timeline', id: 'timeline' }, this.findBar(), header, this.viewport);
    this.relayout();
    new ResizeObserver(() => this.render()).observe(this.viewport);
  }

  /** Find box: highlights spans whose service, operation, id or tag values contain the text. */
  findBar() {
    this.matches = new Set();
    this.matchList = [];
    let cursor = -1;
    const count = el('span', { class: 'muted', id: 'find-count' });
    const input = el('input', { id: 'find-spans', type: 'search', placeholder: 'Find spans: service, operation, tag value, id' });
    const jump = step => {
      if (!this.matchList.length) return;
      cursor = (cursor + step + this.matchList.length) % this.matchList.length;
      this.reveal(this.matchList[cursor]);
      count.textContent = `${cursor + 1} of ${this.matchList.length}`;
    };
    input.addEventListener('input', () => {
      const q = input.value.trim().toLowerCase();
      this.matchList = q ? this.trace.spans.filter(sp => this.searchText(sp).includes(q)) : [];
      this.matchList.sort((a, b) => a.startTime - b.startTime);
      this.matches = new Set(this.matchList.map(sp => sp.spanID));
      cursor = -1;
      count.textContent = q ? `${this.matchList.length} match${this.matchList.length === 1 ? '' : 'es'}` : '';
      this.render();
    });
    input.addEventListener('keydown', e => { if (e.key === 'Enter') jump(e.shiftKey ? -1 : 1); });
    return el('div', { class: 'tl-find' }, input,
      el('button', { type: 'button', title: 'previous (shift+enter)', onclick: () => jump(-1) }, '↑'),
      el('button', { type: 'button', title: 'next (enter)', onclick: () => jump(1) }, '↓'), count);
  }

  searchText(span) {
    if (!span._text) {
      span._text = [serviceOf(this.trace, span), span.operationName, span.spanID,
        ...(span.tags || []).map(t => `${t.key}=${t.value}`)].join(' ').toLowerCase();
    }
    return span._text;
  }

  /** Expands the span's ancestors, scrolls it into view and selects it. */
  reveal(span) {
    for (let p = span.parentID; p; p = this.index.byId.get(p).parentID) this.collapsed.delete(p);
    this.relayout();
    const at = this.rows.findIndex(([sp]) => sp === span);
    this.viewport.scrollTop = Math.max(0, at * ROW - this.viewport.clientHeight / 3);
    this.select(span);
    this.onSelect(span);
  }

  /** Recomputes the visible row list (after a collapse or expand). */
  relayout() {
    const { children, roots } = this.index;
    const rows = [];
    const stack = roots.map(s => [s, 0]).reverse();
    while (stack.length) {
      const [span, depth] = stack.pop();
      rows.push([span, depth]);
      const kids = children.get(span.spanID);
      if (kids && !this.collapsed.has(span.spanID)) {
        for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], depth + 1]);
      }
    }
    this.rows = rows;
    this.spacer.style.height = `${rows.length * ROW}px`;
    this.render();
  }

  collapseAll(collapse) {
    this.collapsed = collapse ? new Set([...this.index.children.keys()]) : new Set();
    this.relayout();
  }

  toggle(spanID) {
    if (this.collapsed.has(spanID)) this.collapsed.delete(spanID);
    else this.collapsed.add(spanID);
    this.relayout();
  }

  select(span) {
    this.selected = span ? span.spanID : null;
    this.render();
  }

  render() {
    const t0 = performance.now();
    const height = this.viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((this.viewport.scrollTop + height) / ROW) + OVERSCAN);
    this.rowsBox.style.transform = `translateY(${first * ROW}px)`;
    const out = [];
    for (let i = first; i < last; i++) out.push(this.row(...this.rows[i]));
    this.rowsBox.replaceChildren(...out);
    // Slowest render so far, for tests and curious users (data-render-max-ms on #timeline).
    const ms = performance.now() - t0;
    if (ms > Number(this.element.dataset.renderMaxMs || 0)) this.element.dataset.renderMaxMs = ms.toFixed(2);
  }

  row(span, depth) {
    const { trace, index } = this;
    const service = serviceOf(trace, span);
    const color = serviceColor(service);
    const kids = index.children.get(span.spanID);
    const isError = (span.tags || []).some(t => t.key === 'error' && (t.value === true || t.value === 'true'));
    const critical = this.critical.get(span.spanID);
    const left = (span.startTime - index.start) / index.duration;
    const width = span.duration / index.duration;
    const bar = el('div', { class: 'span-bar', style: { left: `${left * 100}%`, width: `${width * 100}%`, background: color } },
      (critical || []).map(([s, e]) => el('div', { class: 'cp', style: {
        left: `${span.duration ? ((s - span.startTime) / span.duration) * 100 : 0}%`,
        width: `${span.duration ? ((e - s) / span.duration) * 100 : 100}%` } })));
    // Duration label: after the bar; near the right edge, before it; if the bar is wide, inside its end.
    let place;
    if (left + width <= 0.8) place = { left: `${(left + width) * 100}%`, paddingLeft: '4px' };
    else if (width > 0.15) place = { right: `${(1 - left - width) * 100}%`, paddingRight: '4px' };
    else place = { right: `${(1 - left) * 100}%`, paddingRight: '4px' };
    const label = el('span', { class: 'bar-label', style: place }, fmtDuration(span.duration));
    const toggle = kids
      ? el('button', { type: 'button', class: 'toggle', 'aria-label': 'toggle children',
        onclick: e => { e.stopPropagation(); this.toggle(span.spanID); } }, this.collapsed.has(span.spanID) ? '▸' : '▾')
      : el('span', { class: 'toggle' });
    return el('div', {
      class: `tl-row${critical ? ' critical' : ''}${this.selected === span.spanID ? ' selected' : ''}${this.matches.has(span.spanID) ? ' match' : ''}`,
      'data-span-id': span.spanID, 'data-service': service, style: { height: `${ROW}px` },
      onclick: () => { this.select(span); this.onSelect(span); },
    },
    el('div', { class: 'tl-label', style: { paddingLeft: `${depth * 10 + 4}px` }, title: `${service}: ${span.operationName}` },
      toggle, el('span', { class: 'svc-mark', style: { background: color } }),
      isError ? el('span', { class: 'err-icon', title: 'error' }, '!') : null,
      (span.warnings || []).length ? el('span', { class: 'warn-icon', title: span.warnings.join('\n') }, '⚠') : null,
      el('span', { class: 'svc-name' }, service), ' ',
      el('span', { class: 'op-name' }, span.operationName),
      kids && this.collapsed.has(span.spanID) ? el('span', { class: 'badge' }, kids.length) : null),
    el('div', { class: 'tl-bar-area' }, bar, label));
  }
}
