/* whyslow flamegraph: the call tree the pages build and the engine draws, plus
 * value formatting and frame colours. Plain ES2017, no dependencies, so the
 * page works offline from file://. Not the drawing or interaction (flamegraph.js).
 */
(function () {
  'use strict';

  /* One frame reached by one path of callers. `self`/`total` are the values
   * drawn (widths); `self2`/`total2` a second measure (the "before" profile of
   * a differential flamegraph), 0 otherwise. `x` is the start of the frame in
   * value units from the left edge of the root. */
  function Node(name, info, parent) {
    this.name = name;
    this.info = info;
    this.parent = parent;
    this.children = [];
    this.kids = null;
    this.depth = parent ? parent.depth + 1 : 0;
    this.self = 0;
    this.total = 0;
    this.self2 = 0;
    this.total2 = 0;
    this.x = 0;
    this.rgb = null;
  }

  function byName(a, b) {
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  }

  /* A call tree: add nodes with child(), set self values, then finish(). */
  function Tree(rootName) {
    this.root = new Node(rootName || 'all', null, null);
    this.nodes = [this.root];
    this.maxDepth = 0;
  }

  /* Children a node scans before it indexes them in a Map: most nodes have
   * one or two, and a Map per node costs more than the scan. */
  const MAX_SCANNED_CHILDREN = 8;

  /* The child of `parent` named `name`, created (with `info`) if new. */
  Tree.prototype.child = function (parent, name, info) {
    const children = parent.children;
    let node;
    if (parent.kids) {
      node = parent.kids.get(name);
    } else {
      for (let i = 0; i < children.length; i++) {
        if (children[i].name === name) return children[i];
      }
    }
    if (!node) {
      node = new Node(name, info, parent);
      children.push(node);
      this.nodes.push(node);
      if (parent.kids) {
        parent.kids.set(name, node);
      } else if (children.length > MAX_SCANNED_CHILDREN) {
        parent.kids = new Map(children.map(function (c) { return [c.name, c]; }));
      }
    }
    return node;
  };

  /* Adds up totals, sorts children by name and lays frames out left to right. */
  Tree.prototype.finish = function () {
    const nodes = this.nodes;
    for (let i = 0; i < nodes.length; i++) {
      nodes[i].total = nodes[i].self;
      nodes[i].total2 = nodes[i].self2;
    }
    // Children always come after their parent in `nodes`.
    for (let i = nodes.length - 1; i > 0; i--) {
      const n = nodes[i];
      n.parent.total += n.total;
      n.parent.total2 += n.total2;
    }
    let maxDepth = 0;
    const stack = [this.root];
    while (stack.length) {
      const n = stack.pop();
      n.kids = null;
      if (n.depth > maxDepth) maxDepth = n.depth;
      if (n.children.length > 1) n.children.sort(byName);
      let x = n.x;
      for (const c of n.children) {
        c.x = x;
        x += c.total;
        stack.push(c);
      }
    }
    this.maxDepth = maxDepth;
    return this;
  };

  /* The inverted ("bottom-up") tree: every frame that has self value becomes a
   * root child, with its callers above it. Totals stay the same. */
  Tree.prototype.inverted = function () {
    const inv = new Tree(this.root.name);
    for (const n of this.nodes) {
      if (n === this.root || (n.self === 0 && n.self2 === 0)) continue;
      let cur = inv.root;
      for (let a = n; a !== this.root; a = a.parent) cur = inv.child(cur, a.name, a.info);
      cur.self += n.self;
      cur.self2 += n.self2;
    }
    inv.root.self = this.root.self;
    inv.root.self2 = this.root.self2;
    return inv.finish();
  };

  /* Names from the root's child down to `node`. */
  function pathOf(node) {
    const names = [];
    for (let n = node; n && n.parent; n = n.parent) names.push(n.name);
    return names.reverse();
  }

  /* The node at the end of `names` (from the root's child down), or null. */
  Tree.prototype.find = function (names) {
    let node = this.root;
    for (const name of names) {
      node = node.children.find(function (c) { return c.name === name; });
      if (!node) return null;
    }
    return node;
  };

  /* ---------- formatting ---------- */

  function formatCount(v) {
    return Math.round(v).toLocaleString('en-US');
  }

  function fixed(v, big) {
    const a = Math.abs(v);
    return v.toFixed(a >= big ? 0 : a >= big / 10 ? 1 : 2);
  }

  /* A duration given in nanoseconds, e.g. "1.23 s", "45.6 ms". */
  function formatDuration(ns) {
    const a = Math.abs(ns);
    if (a >= 60e9) return fixed(ns / 60e9, 100) + ' min';
    if (a >= 1e9) return fixed(ns / 1e9, 100) + ' s';
    if (a >= 1e6) return fixed(ns / 1e6, 100) + ' ms';
    if (a >= 1e3) return fixed(ns / 1e3, 100) + ' µs';
    return Math.round(ns) + ' ns';
  }

  function formatBytes(b) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = b;
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return (i === 0 ? String(Math.round(v)) : fixed(v, 100)) + ' ' + units[i];
  }

  /* A value in a profile unit (`count`, `nanoseconds`, `bytes`, other). */
  function formatValue(v, unit) {
    if (unit === 'nanoseconds') return formatDuration(v);
    if (unit === 'bytes') return formatBytes(v);
    if (unit === 'count' || unit === 'samples' || !unit) {
      return formatCount(v) + (Math.round(v) === 1 ? ' sample' : ' samples');
    }
    return formatCount(v) + ' ' + unit;
  }

  /* `part` as a percentage of `whole`, e.g. "70.0%". */
  function percent(part, whole) {
    if (!whole) return '0%';
    const p = (100 * part) / whole;
    return (Math.abs(p) >= 10 || p === 0 ? p.toFixed(1) : p.toFixed(2)) + '%';
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }

  /* ---------- colours ---------- */

  /* FNV-1a of a name: the same name always gets the same colour. */
  function hashName(name) {
    let h = 0x811c9dc5;
    for (let i = 0; i < name.length; i++) {
      h ^= name.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return h >>> 0;
  }

  /* Frame kinds: 0 user, 1 kernel, 2 JIT, 3 synthetic. */
  const KIND_NAMES = ['user', 'kernel', 'JIT', 'synthetic'];

  /* [r, g, b] of a frame of `kind` named `name`: warm reds and oranges for
   * user code, amber for the kernel, green for JIT code, grey for synthetic
   * frames (the FlameGraph conventions). Representative colours for legends. */
  const KIND_LEGEND = [[228, 100, 48], [246, 180, 55], [110, 212, 105], [200, 202, 212]];
  function kindColor(name, kind) {
    const h = hashName(name);
    const v1 = (h & 0xff) / 255;
    const v2 = ((h >>> 8) & 0xff) / 255;
    const v3 = ((h >>> 16) & 0xff) / 255;
    switch (kind) {
      case 1:
        return [238 + 17 * v1, 160 + 40 * v2, 40 + 30 * v3];
      case 2:
        return [80 + 60 * v1, 190 + 45 * v2, 80 + 50 * v3];
      case 3:
        return [188 + 24 * v1, 190 + 24 * v1, 200 + 20 * v1];
      default:
        return [205 + 50 * v3, 70 + 80 * v1, 30 + 40 * v2];
    }
  }

  /* Colour of a differential frame: grey when unchanged, towards red (grew) or
   * blue (shrank) in proportion to `intensity` (-1..1). */
  function diffColor(intensity) {
    const base = [226, 226, 226];
    const target = intensity >= 0 ? [214, 40, 40] : [38, 98, 204];
    const t = Math.min(1, Math.abs(intensity));
    return [0, 1, 2].map(function (i) { return base[i] + (target[i] - base[i]) * t; });
  }

  function css(rgb) {
    return 'rgb(' + Math.round(rgb[0]) + ',' + Math.round(rgb[1]) + ',' + Math.round(rgb[2]) + ')';
  }

  window.WhyslowTree = {
    Tree: Tree,
    pathOf: pathOf,
    formatValue: formatValue,
    formatDuration: formatDuration,
    formatCount: formatCount,
    percent: percent,
    escapeHtml: escapeHtml,
    escapeRegExp: escapeRegExp,
    kindColor: kindColor,
    diffColor: diffColor,
    css: css,
    KIND_NAMES: KIND_NAMES,
    KIND_LEGEND: KIND_LEGEND,
  };
})();
