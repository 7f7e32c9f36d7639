// The trace flamegraph: every span as a box at its time (x) and depth (y),
// drawn on a canvas so 10 000 spans cost one paint. Hover shows the span,
// click opens its detail, double-click zooms to its time range.
import { el, fmtDuration, serviceColor, serviceOf } from '/static/format.js';

const ROW = 18;

export function traceFlamegraph(trace, index, onSelect) {
  const boxes = [];
  const stack = index.roots.map(s => [s, 0]);
  let maxDepth = 0;
  while (stack.length) {
    const [span, depth] = stack.pop();
    boxes.push({ span, depth, service: serviceOf(trace, span) });
    maxDepth = Math.max(maxDepth, depth);
    for (const c of index.children.get(span.spanID) || []) stack.push([c, depth + 1]);
  }
  const byDepth = Array.from({ length: maxDepth + 1 }, () => []);
  for (const b of boxes) byDepth[b.depth].push(b);

  const canvas = el('canvas', { class: 'flame-canvas', id: 'flame-canvas' });
  const tip = el('div', { class: 'flame-tip', hidden: true });
  const reset = el('button', { type: 'button', class: 'flame-reset', onclick: () => { view = [index.start, index.end]; draw(); } }, 'Reset zoom');
  const wrap = el('div', { class: 'flame' }, el('div', { class: 'flame-tools' }, reset, el('span', { class: 'muted' }, 'click: details · double-click: zoom')), canvas, tip);
  let view = [index.start, index.end];
  let width = 0;

  function draw() {
    width = Math.max((wrap.clientWidth || 816) - 16, 100); // minus .flame's padding
    const dpr = window.devicePixelRatio || 1;
    const height = (maxDepth + 1) * ROW;
    canvas.width = width * dpr; canvas.height = height * dpr;
    canvas.style.width = `${width}px`; canvas.style.height = `${height}px`;
    const ctx = canvas.getContext('2d');
    ctx.scale(dpr, dpr);
    ctx.font = '11px sans-serif';
    ctx.textBaseline = 'middle';
    const scale = width / Math.max(view[1] - view[0], 1);
    for (const b of boxes) {
      const x = (b.span.startTime - view[0]) * scale;
      const w = Math.max(b.span.duration * scale, 0.5);
      if (x > width || x + w < 0) continue;
      ctx.fillStyle = serviceColor(b.service);
      ctx.fillRect(x, b.depth * ROW, w - (w > 2 ? 1 : 0), ROW - 1);
      if (w > 40) {
        ctx.fillStyle = '#1f2328';
        ctx.save();
        ctx.beginPath(); ctx.rect(Math.max(x, 0), b.depth * ROW, w, ROW); ctx.clip();
        ctx.fillText(`${b.span.operationName} (${fmtDuration(b.span.duration)})`, Math.max(x, 0) + 3, b.depth * ROW + ROW / 2);
        ctx.restore();
      }
    }
  }

  function hit(ev) {
    const r = canvas.getBoundingClientRect();
    const depth = Math.floor((ev.clientY - r.top) / ROW);
    const t = view[0] + ((ev.clientX - r.left) / width) * (view[1] - view[0]);
    const row = byDepth[depth] || [];
    const slack = (view[1] - view[0]) / width; // one pixel, so thin spans can be hit
    return row.find(b => t >= b.span.startTime - slack && t <= b.span.startTime + b.span.duration + slack);
  }
  canvas.addEventListener('mousemove', ev => {
    const b = hit(ev);
    tip.hidden = !b;
    if (!b) return;
    tip.textContent = `${b.service}: ${b.span.operationName} — ${fmtDuration(b.span.duration)}`;
    tip.style.left = `${ev.offsetX + 12}px`;
    tip.style.top = `${ev.offsetY + 30}px`;
  });
  canvas.addEventListener('mouseleave', () => { tip.hidden = true; });
  canvas.addEventListener('click', ev => { const b = hit(ev); if (b) onSelect(b.span); });
  canvas.addEventListener('dblclick', ev => {
    const b = hit(ev);
    if (b) { view = [b.span.startTime, b.span.startTime + Math.max(b.span.duration, 1)]; draw(); }
  });
  new ResizeObserver(draw).observe(wrap);
  return wrap;
}
