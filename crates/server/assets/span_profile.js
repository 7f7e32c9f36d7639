// The span detail's Profile section: the flamegraph of the samples that ran
// in the span (profilers tag them with its span id) from GET
// /api/profiles/span, over the span's time with ten minutes either side
// (profiles start before the samples they hold), drawn by the Profiles
// page's engine (profiles_flame.js: one engine per page, moved here while the
// section is open), with a picker when several profile types hold samples of
// the span. pyroscope-otel tags samples with the local root span only (the
// span it marks with `pyroscope.profile.id`): a span without samples of its
// own offers that span's profile. A span no profiler tagged gets the
// whole-host agent's samples of its thread (or process, or service) during
// the span, which the server finds from the span's `thread.id`,
// `process.pid` and `host.name`, and the section says so. Fetched when the
// section opens; names are inserted as text. Not the Profiles page (profiles.js) nor the rest of the
// panel (span_detail.js).
import { getConnectJSON } from '/static/api.js';
import { el, fmtDuration } from '/static/format.js';
import { decodeFlamebearer, hideFlame, loadEngine, redraw, showFlame } from '/static/profiles_flame.js';
import { typeInfo } from '/static/profiles.js';

const MARGIN_MS = 10 * 60e3;
/** The span attribute pyroscope-otel sets on the span whose id it tags samples with. */
export const PROFILE_ID_TAG = 'pyroscope.profile.id';


/** The `/api/profiles/span` URL of a Jaeger-JSON span (µs times), optionally for one profile type. */
export function spanProfileUrl(span, type) {
  const fromMs = Math.floor(span.startTime / 1e3 - MARGIN_MS);
  const untilMs = Math.ceil((span.startTime + span.duration) / 1e3 + MARGIN_MS);
  const p = new URLSearchParams({ spanID: span.spanID, from: String(Math.max(0, fromMs)), until: String(untilMs) });
  if (span.traceID) p.set('inTrace', span.traceID);
  if (type) p.set('type', type);
  return `/api/profiles/span?${p}`;
}

/** The nearest ancestor of `span` in its process that pyroscope-otel marked as the one its samples name, or null. */
export function profiledAncestor(span, index) {
  for (let p = index.byId.get(span.parentID); p && p.processID === span.processID; p = index.byId.get(p.parentID)) {
    if ((p.tags || []).some(t => t.key === PROFILE_ID_TAG)) return p;
  }
  return null;
}

/**
 * The section (a closed `<details>`; open it to load) for `span` of a
 * trace's `index`; `onToggle(open)` is told when it opens or closes (the
 * panel widens for the flamegraph).
 */
export function spanProfileSection(span, index, onToggle = () => {}) {
  const body = el('div', { class: 'span-profile-body', id: 'span-profile-body' });
  const details = el('details', { class: 'detail-section span-profile', id: 'span-profile' },
    el('summary', {}, 'Profile'), body);
  let seq = 0;

  /** Shows the profile of `of` (this span, or the ancestor whose id its samples carry). */
  async function load(of, type) {
    const mine = ++seq;
    body.replaceChildren(el('p', { class: 'muted' }, 'Loading profile…'));
    let answer;
    try {
      [answer] = await Promise.all([getConnectJSON(spanProfileUrl(of, type)), loadEngine()]);
    } catch (e) {
      if (mine === seq) body.replaceChildren(el('p', { class: 'error', id: 'span-profile-error' }, e.message));
      return;
    }
    if (mine !== seq || !details.open || !details.isConnected) return;
    if (!answer.types.length) {
      hideFlame();
      body.replaceChildren(...empty(of));
      return;
    }
    const t = typeInfo(answer.type);
    const shown = answer.types.find(x => x.id === answer.type);
    const picker = answer.types.length > 1
      ? el('label', { class: 'inline' }, 'Profile type ', el('select', { id: 'span-profile-type', onchange: e => load(of, e.target.value) },
        answer.types.map(x => el('option', { value: x.id, selected: x.id === answer.type }, typeInfo(x.id).label))))
      : null;
    const whose = of === span ? null : el('p', { class: 'muted small', id: 'span-profile-root' },
      `The profile of its local root span ${of.operationName} (${of.spanID}): pyroscope-otel tags samples with the local root only, so this covers all of that span.`);
    const matched = matchNote(answer, shown);
    const root = matched && of === span ? profiledAncestor(span, index) : null;
    const rootButton = root ? el('p', { class: 'small' }, el('button', { type: 'button', id: 'span-profile-root-button', onclick: () => load(root) },
      `show the profile of its local root ${root.operationName} instead`)) : null;
    const box = el('div', { class: 'span-profile-flame', id: 'span-profile-flame' });
    body.replaceChildren(...[whose, matched, rootButton, picker, box].filter(Boolean));
    const fb = answer.flamebearer;
    const range = shown ? `in this ${fmtDuration(of.duration)} span` : `no ${t.noun} in this span`;
    await showFlame(box, decodeFlamebearer(fb, 4), { unit: t.engineUnit, noun: t.noun, title: `${t.label} · span ${of.spanID}`,
      range, truncated: (fb.names || []).includes('other'), links: null });
    requestAnimationFrame(redraw);
  }

  /** For samples found by thread, process or service (not tagged with the span's id): what was matched. */
  function matchNote(answer, shown) {
    const by = { thread: `thread ${answer.threadID} of`, process: 'any thread of', service: 'any process of' }[answer.matched];
    if (!by) return null;
    const n = shown ? shown.samples : 0;
    return el('p', { class: 'muted small', id: 'span-profile-matched', 'data-matched': answer.matched },
      `No samples carry this span's id: these are the agent's ${n} sample${n === 1 ? '' : 's'} of ${by} `,
      el('code', {}, answer.selector || ''),
      ' taken during the span, matched by ', answer.matched === 'thread' ? 'thread and time.' : `${answer.matched} and time.`);
  }

  /** What an empty answer for `of` shows: the message, and the local root's profile when there is one. */
  function empty(of) {
    const out = [el('p', { class: 'muted', id: 'span-profile-empty' },
      of === span ? 'No profile samples for this span.' : `No profile samples for its local root span ${of.operationName} either.`)];
    const root = of === span ? profiledAncestor(span, index) : null;
    if (root) {
      out.push(el('p', { class: 'small' }, 'pyroscope-otel tags samples with the local root span: ',
        el('button', { type: 'button', id: 'span-profile-root-button', onclick: () => load(root) },
          `show the profile of ${root.operationName}`)));
    } else {
      out.push(el('p', { class: 'muted small' }, 'Samples link to a span when the profiler tags them with its span_id (pyroscope-otel, or any SDK), or, from whyslow agent, when the span names its process.pid (and thread.id) and ran while the agent sampled it.'));
    }
    return out;
  }

  details.addEventListener('toggle', () => {
    onToggle(details.open);
    if (details.open) load(span);
    else { seq++; hideFlame(); body.replaceChildren(); }
  });
  return details;
}
