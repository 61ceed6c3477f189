/**
 * Path coverage of the order machine: xstate/graph finds the shortest path to every distinct state
 * of the machine (status plus the context facts guards read), each path is extended by every event
 * the handler would send in its last state, and every such path is run against the real handler
 * (replies through onExchangeReply, cancels through cancel(), "the venue does not know it" through
 * reconcile(), the ack timeout through the manual clock), checking status, ledger transitions and
 * events at every step. The paths must together take every transition of the machine: adding a
 * transition that no path reaches fails this test.
 */
import { type SnapshotFrom, getInitialSnapshot, getNextSnapshot } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { describe, expect, it } from 'vitest';
import { type OrderEvent, orderMachine } from '../../machines/order.js';
import { transitionTable } from '../../machines/transition-table.js';
import { decCmp } from '../../src/decimal.js';
import { type Harness, TIMING, harness } from '../support/harness.js';

type Snap = SnapshotFrom<typeof orderMachine>;
const INPUT = {
  orderId: 'ORD_X',
  quantity: '1',
  placedAt: 0,
  timing: {
    ackTimeoutMs: TIMING.ackTimeoutMs,
    cancelTimeoutMs: TIMING.cancelTimeoutMs,
    queryIntervalMs: TIMING.queryIntervalMs,
    queryRetries: TIMING.queryRetries,
    placeRetries: 2,
  },
};
const FINAL = ['FILLED', 'REJECTED', 'CANCELLED', 'EXPIRED'];

/** The events the supervisor would hand the machine in this state (others it classifies itself). */
function eventsFor(s: Snap): OrderEvent[] {
  const c = s.context;
  const status = String(s.value);
  const at = 1;
  const out: OrderEvent[] = [
    { type: 'FILL', quantity: '0.3', at },
    { type: 'FILL', quantity: '1', at },
    { type: 'REJECTED', reason: 'no', at },
    { type: 'CANCELLED', at },
    { type: 'EXPIRED', at },
  ];
  if (!c.acknowledged || c.venueOrderId === null) out.push({ type: 'ACCEPTED', venueOrderId: 'V1', at });
  if (c.cancelOutstanding) out.push({ type: 'CANCEL_REJECTED', reason: 'no', at });
  if (['PENDING', 'OPEN', 'PARTIALLY_FILLED', 'TIMED_OUT'].includes(status)) out.push({ type: 'CANCEL', at });
  if (!FINAL.includes(status) && (status !== 'TIMED_OUT' || c.cancelOutstanding)) {
    // A decisive answer: asked after the news it knows, about the cancel it sent, after the ack deadline.
    const notFoundAt = status === 'PENDING' ? c.ackDeadlineAt : at;
    out.push({ type: 'NOT_FOUND', newsAtSend: c.news, cancelsAtSend: c.cancelsSent, at: notFoundAt });
  }
  return out;
}

/** What a state is, for the traversal: its status and the facts its guards read. */
function serialize(s: Snap): string {
  const c = s.context;
  const fills =
    decCmp(c.filledQuantity, '0') === 0 ? 'none' : decCmp(c.filledQuantity, c.quantity) >= 0 ? 'full' : 'some';
  return JSON.stringify([s.value, c.acknowledged, c.gaveUp, c.cancelOutstanding, c.venueOrderId !== null, fills]);
}

let fillSeq = 0;

/** Drives the handler as the machine event says. */
async function stimulate(h: Harness, id: string, e: OrderEvent): Promise<void> {
  switch (e.type) {
    case 'ACCEPTED':
      await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: e.venueOrderId, at: 1 });
      return;
    case 'FILL':
      await h.reply({
        type: 'FILL',
        clientOrderId: id,
        venueFillId: `F${++fillSeq}`,
        quantity: e.quantity,
        price: '10',
        at: 1,
      });
      return;
    case 'REJECTED':
      await h.reply({ type: 'REJECTED', clientOrderId: id, reason: e.reason, at: 1 });
      return;
    case 'CANCELLED':
    case 'EXPIRED':
      await h.reply({ type: e.type, clientOrderId: id, at: 1 });
      return;
    case 'CANCEL_REJECTED':
      await h.reply({ type: 'CANCEL_REJECTED', clientOrderId: id, reason: e.reason, at: 1 });
      return;
    case 'CANCEL':
      expect(await h.handler.cancel(id)).toBe(true);
      await h.advance(0);
      return;
    case 'NOT_FOUND':
      h.venue.defaultQuery = null;
      // A PENDING order is asked at its ack deadline (before it, "not known" may just mean "not
      // arrived yet"); any other is asked by a reconcile.
      if (h.status(id) === 'PENDING') await h.advance(TIMING.ackTimeoutMs);
      else await h.handler.reconcile();
      await h.advance(0);
      h.venue.defaultQuery = 'hang';
      return;
  }
}

/**
 * Every path to a state, extended by each event that changes it. The states along a path are
 * computed again by replaying its events: the traversal keeps one representative snapshot per
 * serialized state, whose exact quantities may come from another path.
 */
function casesOf(): { steps: { event: OrderEvent; state: Snap }[] }[] {
  const paths = getShortestPaths(orderMachine, { input: INPUT, events: eventsFor, serializeState: serialize });
  const cases: { steps: { event: OrderEvent; state: Snap }[] }[] = [];
  for (const p of paths) {
    // The first step of a path is the machine's own start (xstate.init), not an event we send.
    const events = p.steps.map((st) => st.event).filter((e) => (e.type as string) !== 'xstate.init');
    let state = getInitialSnapshot(orderMachine, INPUT);
    const steps = events.map((event) => {
      state = getNextSnapshot(orderMachine, state, event);
      return { event, state };
    });
    for (const event of eventsFor(state)) {
      const next = getNextSnapshot(orderMachine, state, event);
      if (next !== state) cases.push({ steps: [...steps, { event, state: next }] });
    }
  }
  return cases;
}

const CASES = casesOf();
const tripleOf = (from: unknown, event: string, to: unknown) => `${String(from)} --${event}--> ${String(to)}`;

describe('path coverage of the order machine', () => {
  it('the generated paths take every transition of the machine', () => {
    const taken = new Set<string>();
    for (const c of CASES) {
      let from: unknown = 'PENDING';
      for (const s of c.steps) {
        taken.add(tripleOf(from, s.event.type, s.state.value));
        from = s.state.value;
      }
    }
    // The status rows; the protocol's own rows (wake-ups, query bookkeeping, stale answers) are
    // covered by the protocol tests and the deadline tests.
    const protocol = new Set(['WAKE', 'QUERY_ANSWERED', 'QUERY_FAILED', 'PLACE_FAILED', 'NEWS', 'RESTORED']);
    const rows = transitionTable().filter(
      (r) =>
        !protocol.has(r.event) && !(r.event === 'NOT_FOUND' && r.from === r.to && !r.actions.includes('settleCancel')),
    );
    const required = new Set(rows.map((r) => tripleOf(r.from, r.event, r.to)));
    expect([...required].filter((t) => !taken.has(t))).toEqual([]);
    console.log(
      `path coverage: ${CASES.length} paths take all ${required.size} transitions of ${new Set(CASES.flatMap((c) => c.steps.map((s) => String(s.state.value)))).size + 0} states`,
    );
  });

  it.each(CASES.map((c, i) => [i, c.steps.map((s) => s.event.type).join(' → ') || '(start)', c] as const))(
    'path %i: %s',
    async (_i, _name, c) => {
      const h = await harness();
      h.venue.defaultQuery = 'hang';
      const id = await h.place();
      let from = 'PENDING';
      for (const step of c.steps) {
        const before = (await h.ledger.getTransitions(id)).length;
        await stimulate(h, id, step.event);
        const to = String(step.state.value);
        expect(h.status(id), `after ${step.event.type} from ${from}`).toBe(to);
        expect((await h.ledger.getOrder(id))!.status).toBe(to);
        const transitions = await h.ledger.getTransitions(id);
        expect(transitions.length, `one change recorded for ${step.event.type} from ${from}`).toBe(before + 1);
        expect(transitions.at(-1)).toMatchObject({ from, to, seq: before + 1 });
        const event = h.events.filter((e) => e.orderId === id && e.eventType !== 'ORDER_ANOMALY').at(-1)!;
        expect(event).toMatchObject({ eventType: transitions.at(-1)!.eventType, status: to, seq: before + 1 });
        expect(
          h.handler.order(id)!.filledQuantity,
          `filled after ${c.steps.map((x) => JSON.stringify(x.event)).join(', ')}`,
        ).toBe(step.state.context.filledQuantity);
        from = to;
      }
    },
  );
});
