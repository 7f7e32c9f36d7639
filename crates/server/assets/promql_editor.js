// The PromQL editor: a textarea with completion. From the text before the
// caret it decides what is being typed — a metric or function name, a label
// name inside `{…}` or `by (…)`, or a label value after `label="` — and offers
// matches from the server (metric names, label names for that metric, label
// values), fetched once and cached. ↑/↓ pick, Tab/Enter accept, Esc closes;
// Ctrl/⌘+Enter runs the query (`onRun`).
import { el } from '/static/format.js';
import { prom } from '/static/prom.js';

const FUNCTIONS = ['abs', 'absent', 'absent_over_time', 'avg_over_time', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min',
  'count_over_time', 'day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'delta', 'deriv', 'exp', 'floor',
  'histogram_quantile', 'hour', 'idelta', 'increase', 'irate', 'label_join', 'label_replace', 'last_over_time', 'ln',
  'log10', 'log2', 'max_over_time', 'min_over_time', 'minute', 'month', 'predict_linear', 'present_over_time',
  'quantile_over_time', 'rate', 'resets', 'round', 'scalar', 'sgn', 'sort', 'sort_desc', 'sqrt', 'stddev_over_time',
  'stdvar_over_time', 'sum_over_time', 'time', 'timestamp', 'vector', 'year'];
const AGGREGATIONS = ['sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values'];
const LIMIT = 60;

/** What is being typed at the end of `before`: {kind, prefix, metric?, label?} or null. */
export function completionContext(before) {
  // Inside a string that is not a label value: nothing to offer.
  let depth = 0, open = -1, inString = false;
  for (let i = 0; i < before.length; i++) {
    const c = before[i];
    if (inString) { if (c === '\\') i++; else if (c === '"') inString = false; continue; }
    if (c === '"') inString = true;
    else if (c === '{') { depth++; open = i; } else if (c === '}') depth = Math.max(0, depth - 1);
  }
  if (depth > 0) {
    const metric = (before.slice(0, open).match(/([a-zA-Z_:][\w:]*)\s*$/) || [])[1];
    const inside = before.slice(open + 1);
    const item = inside.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).pop();
    const value = item.match(/^\s*([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)$/);
    if (value) return { kind: 'value', label: value[1], prefix: value[3], metric };
    const name = item.match(/^\s*([a-zA-Z_]\w*)?$/);
    if (name) return { kind: 'label', prefix: name[1] || '', metric };
    return null;
  }
  if (inString) return null;
  const grouping = before.match(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([\w\s,]*)$/);
  if (grouping) return { kind: 'label', prefix: (grouping[2].match(/(\w*)$/) || ['', ''])[1], metric: firstMetric(before) };
  if (/\[[^\]]*$/.test(before)) return null;
  const word = before.match(/([a-zA-Z_:][\w:]*)$/);
  if (word) return { kind: 'metric', prefix: word[1] };
  return null;
}

const firstMetric = text => {
  const words = [...text.replace(/"(?:[^"\\]|\\.)*"/g, '').matchAll(/([a-zA-Z_:][\w:]*)\s*(\(|\{)?/g)];
  const m = words.find(w => w[2] !== '(' && w[1].includes('_') && !FUNCTIONS.includes(w[1]));
  return m ? m[1] : undefined;
};

export class PromqlEditor {
  constructor({ value = '', onRun, placeholder }) {
    this.onRun = onRun;
    this.cache = new Map();
    this.items = [];
    this.active = 0;
    this.textarea = el('textarea', {
      id: 'promql-input', class: 'promql-input', rows: 2, spellcheck: 'false', autocomplete: 'off',
      placeholder: placeholder || 'PromQL expression, e.g. rate(http_requests_total[5m])   (Ctrl+Enter runs)',
    });
    this.textarea.value = value;
    this.list = el('ul', { class: 'completions', id: 'promql-completions', hidden: true, role: 'listbox' });
    this.element = el('div', { class: 'promql-editor' }, this.textarea, this.list);
    this.textarea.addEventListener('input', () => { this.autosize(); this.complete(); });
    this.textarea.addEventListener('keydown', e => this.key(e));
    this.textarea.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    this.textarea.addEventListener('click', () => this.close());
    requestAnimationFrame(() => this.autosize());
  }

  get value() { return this.textarea.value; }

  autosize() {
    this.textarea.style.height = 'auto';
    this.textarea.style.height = `${Math.min(240, Math.max(44, this.textarea.scrollHeight + 2))}px`;
  }

  cached(key, load) {
    if (!this.cache.has(key)) this.cache.set(key, load().catch(() => { this.cache.delete(key); return []; }));
    return this.cache.get(key);
  }

  async candidates(ctx) {
    if (ctx.kind === 'metric') {
      const names = await this.cached('names', () => prom.metricNames());
      return [...names.map(n => ({ text: n, type: 'metric' })),
        ...AGGREGATIONS.map(n => ({ text: n, type: 'aggregation' })), ...FUNCTIONS.map(n => ({ text: n, type: 'function' }))];
    }
    const match = ctx.metric ? ctx.metric : undefined;
    if (ctx.kind === 'label') {
      const names = await this.cached(`labels:${match || ''}`, () => prom.labelNames(match));
      return names.filter(n => n !== '__name__').map(n => ({ text: n, type: 'label' }));
    }
    const values = await this.cached(`values:${ctx.label}:${match || ''}`, () => prom.labelValues(ctx.label, match));
    return values.map(v => ({ text: v, type: 'value' }));
  }

  async complete() {
    const pos = this.textarea.selectionStart;
    const ctx = completionContext(this.textarea.value.slice(0, pos));
    if (!ctx || (ctx.kind === 'metric' && !ctx.prefix)) return this.close();
    const all = await this.candidates(ctx);
    if (this.textarea.selectionStart !== pos) return; // typed on meanwhile; a newer call handles it
    const p = ctx.prefix.toLowerCase();
    const starts = all.filter(c => c.text.toLowerCase().startsWith(p));
    const contains = p ? all.filter(c => !c.text.toLowerCase().startsWith(p) && c.text.toLowerCase().includes(p)) : [];
    this.items = [...starts, ...contains].filter(c => c.text !== ctx.prefix).slice(0, LIMIT);
    this.ctx = ctx;
    this.active = 0;
    if (!this.items.length) return this.close();
    this.list.replaceChildren(...this.items.map((c, i) => el('li', {
      class: i === 0 ? 'active' : '', role: 'option', 'data-value': c.text,
      onmousedown: e => { e.preventDefault(); this.accept(i); },
    }, el('span', { class: 'c-text' }, c.text), el('span', { class: `c-type ${c.type}` }, c.type))));
    this.place();
    this.list.hidden = false;
  }

  /** Puts the list under the caret (a mirror div measures where the caret is). */
  place() {
    const ta = this.textarea, style = getComputedStyle(ta);
    const mirror = el('div', { class: 'promql-mirror' });
    for (const p of ['fontFamily', 'fontSize', 'lineHeight', 'paddingTop', 'paddingLeft', 'paddingRight', 'borderTopWidth', 'borderLeftWidth', 'letterSpacing']) mirror.style[p] = style[p];
    Object.assign(mirror.style, { position: 'absolute', visibility: 'hidden', whiteSpace: 'pre-wrap', wordWrap: 'break-word', width: `${ta.clientWidth}px` });
    const caret = el('span', {}, '\u200b');
    mirror.append(ta.value.slice(0, ta.selectionStart), caret);
    this.element.append(mirror);
    const left = Math.min(caret.offsetLeft, ta.clientWidth - 260);
    const top = caret.offsetTop + parseFloat(style.lineHeight || 18) + 4 - ta.scrollTop;
    mirror.remove();
    this.list.style.left = `${Math.max(0, left)}px`;
    this.list.style.top = `${top}px`;
  }

  close() { this.list.hidden = true; this.items = []; }

  accept(i) {
    const c = this.items[i];
    if (!c) return;
    const ta = this.textarea, pos = ta.selectionStart, text = ta.value;
    let insert = c.text, after = text.slice(pos);
    if (c.type === 'function' || c.type === 'aggregation') insert += after.startsWith('(') ? '' : '(';
    if (c.type === 'value' && !after.startsWith('"')) insert += '"';
    const start = pos - this.ctx.prefix.length;
    ta.value = text.slice(0, start) + insert + after;
    const caret = start + insert.length;
    ta.setSelectionRange(caret, caret);
    this.close();
    ta.focus();
    this.autosize();
  }

  key(e) {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.close(); this.onRun(); return; }
    if (this.list.hidden) {
      if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); this.onRun(); }
      if (e.key === ' ' && e.ctrlKey) { e.preventDefault(); this.complete(); }
      return;
    }
    const move = d => {
      this.active = (this.active + d + this.items.length) % this.items.length;
      [...this.list.children].forEach((li, i) => li.classList.toggle('active', i === this.active));
      this.list.children[this.active].scrollIntoView({ block: 'nearest' });
    };
    if (e.key === 'ArrowDown') { e.preventDefault(); move(1); } else if (e.key === 'ArrowUp') { e.preventDefault(); move(-1); } else if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); this.accept(this.active); } else if (e.key === 'Escape') { e.preventDefault(); this.close(); }
  }
}
