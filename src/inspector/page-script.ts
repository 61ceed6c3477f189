/**
 * The inspector page's script, served as `/app.js`: a file of its own, not an inline block, so the
 * Content-Security-Policy can forbid inline script (and with it any script an injected string
 * could smuggle in). It runs in the browser; its timers are the browser's own pacing of refreshes.
 */

/** The page's JavaScript. */
export const INSPECTOR_SCRIPT = `
const STATUS_POS = {
  PENDING: [80, 50], OPEN: [290, 50], PARTIALLY_FILLED: [510, 50], FILLED: [730, 50],
  TIMED_OUT: [80, 165], CANCEL_PENDING: [400, 165], MODIFY_PENDING: [730, 165],
  REJECTED: [180, 280], CANCELLED: [400, 280], EXPIRED: [620, 280],
};
const W = 150, H = 40, PAGE = 100;
const state = { statuses: new Set(), q: '', offset: 0, selected: null, counts: {}, pageIds: new Set() };
const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const ns = ['svg', 'g', 'rect', 'text', 'path', 'marker', 'defs', 'title'].includes(tag) ? 'http://www.w3.org/2000/svg' : null;
  const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
};
/** A decimal string cut to 8 places for the list (the order's own view shows every digit). */
const short = (d) => (d && d.includes('.') && d.length - d.indexOf('.') > 9 ? d.slice(0, d.indexOf('.') + 9) + '…' : d ?? '');
const fmtTime = (ms) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const VALUE_KEYS = ['quantity', 'price', 'stopPrice'];
/** A modify's values as one line: 'quantity 2, price 101'. */
const valuesText = (v) => VALUE_KEYS.filter((k) => v[k] !== undefined).map((k) => k + ' ' + v[k]).join(', ');
/** What a change record says of its modify: the values requested, those now in force, or why it was refused. */
const modifyText = (t) => {
  const m = t.modification;
  if (t.eventType === 'ORDER_MODIFY_REQUESTED') return 'requested ' + valuesText(m);
  if (t.eventType === 'ORDER_MODIFY_REJECTED' || m.reason !== undefined) return 'rejected: ' + (m.reason ?? '(no reason given)');
  return 'in force ' + valuesText(m);
};

// The token came in the address (?token=…) and the server put it in an HttpOnly cookie: out of
// the address bar and the history with it, so it is not shared with a copied link or a screenshot.
if (new URLSearchParams(location.search).has('token')) {
  const u = new URL(location.href);
  u.searchParams.delete('token');
  history.replaceState(null, '', u.pathname + u.search + u.hash);
}

async function getJson(path) {
  const r = await fetch(path, { cache: 'no-store' });
  if (r.status === 401) { $('live').textContent = 'token refused: open the address the inspector printed'; $('live').className = 'pill off'; }
  if (!r.ok) throw new Error(path + ': ' + r.status);
  return r.json();
}

// ── The state chart ───────────────────────────────────────────────────────
async function drawChart() {
  const { states, edges } = await getJson('/api/machine');
  const svg = $('chart');
  svg.replaceChildren(el('defs', {}, el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' }, el('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#9aa3b5' }))));
  // A state with no place in STATUS_POS gets one on a row of its own below, and the chart grows.
  let extra = 0;
  const pos = {};
  for (const s of states) pos[s] = STATUS_POS[s] || [80 + 170 * (extra % 4), 395 + 115 * Math.floor(extra++ / 4)];
  svg.setAttribute('viewBox', '0 0 820 ' + (Math.max(...Object.values(pos).map((p) => p[1])) + H / 2 + 10));
  for (const e of edges) {
    const [x1, y1] = pos[e.from], [x2, y2] = pos[e.to];
    const dx = x2 - x1, dy = y2 - y1, len = Math.hypot(dx, dy) || 1;
    const cut = (fx, fy) => Math.min(W / 2 / Math.abs(fx || 1e-9), H / 2 / Math.abs(fy || 1e-9));
    const t1 = cut(dx / len, dy / len), ux = dx / len, uy = dy / len;
    const sx = x1 + ux * t1, sy = y1 + uy * t1, ex = x2 - ux * (t1 + 2), ey = y2 - uy * (t1 + 2);
    const cx = (sx + ex) / 2 - uy * 22, cy = (sy + ey) / 2 + ux * 22;
    svg.append(el('path', { class: 'edge', d: 'M' + sx + ' ' + sy + ' Q' + cx + ' ' + cy + ' ' + ex + ' ' + ey, 'marker-end': 'url(#arrow)' }, el('title', {}, e.from + ' → ' + e.to + ': ' + e.events.join(', '))));
  }
  for (const s of states) {
    const [x, y] = pos[s];
    const g = el('g', { class: 'node', 'data-status': s, tabindex: '0' },
      el('rect', { x: x - W / 2, y: y - H / 2, width: W, height: H, rx: 8, class: 's-' + s }),
      el('text', { x, y: y - 4, 'text-anchor': 'middle' }, s),
      el('text', { x, y: y + 13, 'text-anchor': 'middle', class: 'count', 'data-count': s }, '0'));
    g.addEventListener('click', () => toggleStatus(s));
    svg.append(g);
  }
  showCounts();
}
function showCounts() {
  for (const t of document.querySelectorAll('[data-count]')) t.textContent = String(state.counts[t.dataset.count] ?? 0);
  for (const g of document.querySelectorAll('.node')) g.classList.toggle('sel', state.statuses.has(g.dataset.status));
}
function toggleStatus(s) {
  if (state.statuses.has(s)) state.statuses.delete(s); else state.statuses.add(s);
  state.offset = 0;
  showCounts(); showFilters(); loadList();
}
function showFilters() {
  $('filters').replaceChildren(...[...state.statuses].map((s) => {
    const c = el('span', { class: 'chip s-' + s, title: 'remove this filter' }, s + ' ×');
    c.addEventListener('click', () => toggleStatus(s));
    return c;
  }));
}

// ── The list ──────────────────────────────────────────────────────────────
let listSeq = 0;
async function loadList() {
  const seq = ++listSeq;
  const p = new URLSearchParams({ offset: String(state.offset), limit: String(PAGE), q: state.q, status: [...state.statuses].join(',') });
  const page = await getJson('/api/orders?' + p);
  if (seq !== listSeq) return; // a newer request was made meanwhile
  if (page.total > 0 && state.offset >= page.total) { state.offset = Math.max(0, page.total - PAGE); return loadList(); }
  state.pageIds = new Set(page.orders.map((o) => o.orderId));
  $('orders').tBodies[0].replaceChildren(...page.orders.map((o) => {
    const tr = el('tr', { 'data-order': o.orderId },
      el('td', {}, o.orderId), el('td', {}, el('span', { class: 'st s-' + o.status }, o.status)),
      el('td', {}, o.symbol), el('td', {}, o.side), el('td', {}, o.type),
      el('td', { class: 'n' }, o.quantity), el('td', { class: 'n' }, o.filledQuantity), el('td', { class: 'n' }, o.leavesQuantity),
      el('td', { class: 'n', title: o.averagePrice ?? '' }, short(o.averagePrice)), el('td', { class: 'n' }, String(o.fills)));
    if (o.orderId === state.selected) tr.classList.add('sel');
    tr.addEventListener('click', () => select(o.orderId));
    return tr;
  }));
  const end = Math.min(page.total, state.offset + page.orders.length);
  $('range').textContent = (page.total === 0 ? 0 : state.offset + 1) + '–' + end + ' of ' + page.total.toLocaleString('en');
  $('prev').disabled = state.offset === 0;
  $('next').disabled = end >= page.total;
}
$('prev').addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE); loadList(); });
$('next').addEventListener('click', () => { state.offset += PAGE; loadList(); });
let typing;
$('q').addEventListener('input', (e) => { clearTimeout(typing); typing = window.setTimeout(() => { state.q = e.target.value; state.offset = 0; loadList(); }, 150); });

// ── One order ─────────────────────────────────────────────────────────────
async function select(orderId) {
  state.selected = orderId;
  for (const tr of document.querySelectorAll('#orders tbody tr')) tr.classList.toggle('sel', tr.dataset.order === orderId);
  await loadDetail();
}
async function loadDetail() {
  const id = state.selected;
  if (!id) return;
  const d = await getJson('/api/orders/' + encodeURIComponent(id));
  if (state.selected !== id) return;
  const o = d.order;
  $('detail-id').textContent = o.orderId;
  const facts = [['status', el('span', { class: 'st s-' + o.status }, o.status)], ['strategy', o.strategyId], ['directive', o.directiveId],
    ['order', o.orderDetails.side + ' ' + o.orderDetails.quantity + ' ' + o.orderDetails.symbol + ' ' + o.orderDetails.type + (o.orderDetails.price ? ' @ ' + o.orderDetails.price : '') + (o.orderDetails.stopPrice ? ' stop ' + o.orderDetails.stopPrice : '') + ' ' + (o.orderDetails.timeInForce ?? 'GTC')],
    ['venue order id', o.venueOrderId ?? '—'], ['filled / leaves', o.filledQuantity + ' / ' + o.leavesQuantity], ['average price', o.averagePrice ?? '—']];
  if (o.rejectReason) facts.push(['reject reason', o.rejectReason]);
  const c = o.causality;
  const chain = [['origin', c.origin.type + ' ' + c.origin.id], ['signals', c.signalIds.join(', ') || '—'], ['risks', c.riskIds.join(', ') || '—']];
  for (const k of ['strategyDirectiveId', 'entryPlanId', 'sizePlanId', 'exitPlanId', 'executionPlanId', 'executionCommandId']) if (c[k]) chain.push([k, c[k]]);
  chain.push(['orderIds', c.orderIds.join(', ')], ['fillIds', c.fillIds.join(', ') || '—']);
  const rows = [
    ...d.transitions.flatMap((t) => [
      { at: t.at, k: 'CHANGE', what: t.seq + '. ' + t.from + ' → ' + t.to + '  ' + t.eventType, why: t.cause },
      ...(t.modification ? [{ at: t.at, k: 'MODIFY', what: modifyText(t), why: t.modification.modificationId }] : []),
    ]),
    ...o.fills.map((f) => ({ at: f.at, k: 'FILL', what: f.quantity + ' @ ' + f.price + (f.commission ? ' (fee ' + f.commission + ' ' + (f.commissionAsset ?? '') + ')' : ''), why: f.venueFillId + ' → ' + f.fillId })),
    ...d.anomalies.map((a) => ({ at: a.at, k: 'ANOMALY', what: a.kind, why: a.reason })),
  ].sort((a, b) => a.at - b.at); // stable: a modify's row stays right after its change
  const dl = (pairs) => el('dl', {}, ...pairs.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  $('detail').replaceChildren(dl(facts), ...modificationsOf(o, d.transitions), el('h2', {}, 'Timeline'),
    el('table', { id: 'timeline' }, el('thead', {}, el('tr', {}, el('th', {}, 'at'), el('th', {}, ''), el('th', {}, 'what'), el('th', {}, 'cause / ids'))),
      el('tbody', {}, ...rows.map((r) => el('tr', { class: 'k-' + r.k }, el('td', {}, fmtTime(r.at)), el('td', {}, r.k), el('td', {}, r.what), el('td', {}, r.why))))),
    el('h2', {}, 'Causality chain'), dl(chain));
}

/**
 * A modified order's values as placed next to those in force, and its modifications: what was
 * asked and when, and what came of it (the values the venue put in force, or why it refused) and when.
 */
function modificationsOf(o, transitions) {
  const mods = o.modifications ?? [];
  if (mods.length === 0) return [];
  const original = o.originalDetails ?? o.orderDetails;
  const keys = VALUE_KEYS.filter((k) => original[k] !== undefined || o.orderDetails[k] !== undefined);
  const values = el('table', { id: 'values' }, el('thead', {}, el('tr', {}, el('th', {}, ''), el('th', { class: 'n' }, 'original'), el('th', { class: 'n' }, 'in force'))),
    el('tbody', {}, ...keys.map((k) => el('tr', { 'data-value': k }, el('td', {}, k), el('td', { class: 'n' }, original[k] ?? '—'),
      el('td', { class: 'n' + (original[k] === o.orderDetails[k] ? '' : ' changed') }, o.orderDetails[k] ?? '—')))));
  const answerOf = (id) => transitions.filter((t) => t.modification?.modificationId === id && t.eventType !== 'ORDER_MODIFY_REQUESTED').at(-1);
  const list = el('table', { id: 'modifications' }, el('thead', {}, el('tr', {}, el('th', {}, 'modify'), el('th', {}, 'requested'), el('th', {}, 'at'), el('th', {}, 'outcome'), el('th', {}, 'at'))),
    el('tbody', {}, ...mods.map((m) => {
      const answer = answerOf(m.modificationId);
      const outcome = m.status === 'PENDING' ? 'PENDING'
        : m.status === 'REJECTED' ? 'REJECTED: ' + (m.reason ?? '(no reason given)')
        : 'ACCEPTED, in force ' + valuesText(answer?.modification ?? m.requested);
      // Shown as its number after the OrderID ('.1'), the whole id on hover: the panel is narrow.
      const n = m.modificationId.startsWith(o.orderId + '.') ? m.modificationId.slice(o.orderId.length) : m.modificationId;
      return el('tr', { 'data-modification': m.modificationId }, el('td', { title: m.modificationId }, n), el('td', {}, valuesText(m.requested)),
        el('td', {}, fmtTime(m.at)), el('td', {}, outcome), el('td', {}, answer ? fmtTime(answer.at) : '—'));
    })));
  return [el('h2', {}, 'Values: original and in force'), values, el('h2', {}, 'Modifications'), list];
}

// ── Live updates ──────────────────────────────────────────────────────────
let listDue = false, detailDue = false, flushing = false;
function onChanged(m) {
  state.counts = m.counts;
  $('total').textContent = m.total.toLocaleString('en');
  $('anomalies').textContent = m.anomalies.toLocaleString('en');
  showCounts();
  listDue = true;
  if (state.selected && m.ids.includes(state.selected)) detailDue = true;
  if (!flushing) flushUpdates();
}
async function flushUpdates() {
  flushing = true;
  try {
    while (listDue || detailDue) {
      const [l, d] = [listDue, detailDue];
      listDue = detailDue = false;
      await Promise.all([l && loadList(), d && loadDetail()]);
      await new Promise((r) => window.setTimeout(r, 200)); // at most five refreshes a second
    }
  } finally { flushing = false; }
}
function connect(delay = 500) {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
  ws.onopen = () => { $('live').textContent = 'live'; $('live').className = 'pill on'; delay = 500; };
  ws.onmessage = (e) => { const m = JSON.parse(e.data); if (m.type === 'changed') onChanged(m); };
  ws.onclose = () => { $('live').textContent = 'disconnected, retrying'; $('live').className = 'pill off'; window.setTimeout(() => connect(Math.min(delay * 2, 10000)), delay); };
}
drawChart().then(loadList).then(() => connect());
`;
