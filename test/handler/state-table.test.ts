/**
 * Every row of the state table of contract section 4, driven through the real handler (replies via
 * onExchangeReply, deadlines via the manual clock) and checked in the cache, the ledger's
 * transitions and anomalies, and the published events.
 */
import { describe, expect, it } from 'vitest';
import type { OrderStatus } from '../../src/types.js';
import { type Harness, TIMING, harness } from '../support/harness.js';

type Start =
  | 'PENDING'
  | 'OPEN'
  | 'PARTIALLY_FILLED'
  | 'FILLED'
  | 'CANCEL_PENDING'
  | 'CANCEL_PENDING_ACKED'
  | 'CANCEL_PENDING_FILLED'
  | 'CANCELLED'
  | 'REJECTED'
  | 'EXPIRED'
  | 'TIMED_OUT';

const V = 'V1';
let fillSeq = 0;

/** Brings a fresh order (LIMIT 1 @ 100) to `start` and returns the harness and its id. */
async function reach(start: Start): Promise<{ h: Harness; id: string }> {
  const h = await harness();
  const id = await h.place();
  const ack = () => h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: V, at: 1 });
  const fill = (q: string) =>
    h.reply({ type: 'FILL', clientOrderId: id, venueFillId: `F${++fillSeq}`, quantity: q, price: '100', at: 2 });
  switch (start) {
    case 'PENDING':
      break;
    case 'OPEN':
      await ack();
      break;
    case 'PARTIALLY_FILLED':
      await ack();
      await fill('0.4');
      break;
    case 'FILLED':
      await ack();
      await fill('1');
      break;
    case 'CANCEL_PENDING':
      await h.handler.cancel(id);
      break;
    case 'CANCEL_PENDING_ACKED':
      await ack();
      await h.handler.cancel(id);
      break;
    case 'CANCEL_PENDING_FILLED':
      await ack();
      await fill('0.4');
      await h.handler.cancel(id);
      break;
    case 'CANCELLED':
      await ack();
      await h.handler.cancel(id);
      await h.reply({ type: 'CANCELLED', clientOrderId: id, at: 3 });
      break;
    case 'REJECTED':
      await h.reply({ type: 'REJECTED', clientOrderId: id, reason: 'no funds', at: 3 });
      break;
    case 'EXPIRED':
      await ack();
      await h.reply({ type: 'EXPIRED', clientOrderId: id, at: 3 });
      break;
    case 'TIMED_OUT':
      h.venue.defaultQuery = null;
      await h.advance(TIMING.ackTimeoutMs + 10);
      break;
  }
  const expected = start.startsWith('CANCEL_PENDING') ? 'CANCEL_PENDING' : start;
  expect(h.status(id), `setup reaches ${start}`).toBe(expected);
  return { h, id };
}

async function lastChange(h: Harness, id: string) {
  const t = await h.ledger.getTransitions(id);
  return t[t.length - 1]!;
}

function fillReply(id: string, quantity: string) {
  return { type: 'FILL', clientOrderId: id, venueFillId: `F${++fillSeq}`, quantity, price: '100', at: 9 };
}

describe('state table: ACCEPTED', () => {
  it('PENDING --ACCEPTED--> OPEN, venue id learnt, ORDER_ACCEPTED published', async () => {
    const { h, id } = await reach('PENDING');
    const out = await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: V, at: 1 });
    expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'OPEN' });
    expect(h.handler.order(id)!.venueOrderId).toBe(V);
    expect(await lastChange(h, id)).toMatchObject({
      seq: 1,
      from: 'PENDING',
      to: 'OPEN',
      eventType: 'ORDER_ACCEPTED',
      venueOrderId: V,
    });
    expect(h.events.at(-1)).toMatchObject({
      type: 'STRATEGY_LEDGER_UPDATED',
      eventType: 'ORDER_ACCEPTED',
      orderId: id,
      status: 'OPEN',
      seq: 1,
      strategyId: 'S1',
    });
  });

  it('CANCEL_PENDING --ACCEPTED--> CANCEL_PENDING (cancelled before the ack), venue id learnt', async () => {
    const { h, id } = await reach('CANCEL_PENDING');
    const out = await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: V, at: 1 });
    expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'CANCEL_PENDING' });
    expect(h.handler.order(id)!.venueOrderId).toBe(V);
    expect(await lastChange(h, id)).toMatchObject({
      from: 'CANCEL_PENDING',
      to: 'CANCEL_PENDING',
      eventType: 'ORDER_ACCEPTED',
    });
  });

  it.each(['OPEN', 'PARTIALLY_FILLED', 'FILLED', 'CANCELLED', 'EXPIRED'] as const)(
    '%s --ACCEPTED (known venue id)--> unchanged, duplicate, nothing recorded',
    async (start) => {
      const { h, id } = await reach(start);
      const before = (await h.ledger.getTransitions(id)).length;
      const events = h.events.length;
      const out = await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: V, at: 77 });
      expect(out).toEqual({ outcome: 'duplicate', orderId: id, status: start });
      expect((await h.ledger.getTransitions(id)).length).toBe(before);
      expect(h.events.length).toBe(events);
    },
  );

  it.each(['FILLED', 'EXPIRED', 'CANCELLED'] as const)(
    '%s --ACCEPTED (venue id new)--> unchanged, venue id learnt, duplicate',
    async (start) => {
      const h = await harness();
      const id = await h.place();
      if (start === 'FILLED') await h.reply(fillReply(id, '1'));
      if (start === 'EXPIRED') await h.reply({ type: 'EXPIRED', clientOrderId: id, at: 3 });
      if (start === 'CANCELLED') {
        await h.reply({ type: 'CANCELLED', clientOrderId: id, at: 3 });
      }
      expect(h.status(id)).toBe(start);
      const out = await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V9', at: 4 });
      expect(out).toEqual({ outcome: 'duplicate', orderId: id, status: start });
      expect(h.handler.order(id)!.venueOrderId).toBe('V9');
      expect(await lastChange(h, id)).toMatchObject({
        from: start,
        to: start,
        eventType: 'ORDER_ACCEPTED',
        venueOrderId: 'V9',
      });
    },
  );

  it('REJECTED --ACCEPTED--> unchanged, LATE_REPLY (no row)', async () => {
    const { h, id } = await reach('REJECTED');
    const out = await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: V, at: 4 });
    expect(out).toEqual({ outcome: 'anomaly', anomaly: 'LATE_REPLY', orderId: id });
    expect(h.status(id)).toBe('REJECTED');
    expect((await h.ledger.getAnomalies()).at(-1)).toMatchObject({ kind: 'LATE_REPLY', orderId: id, strategyId: 'S1' });
  });
});

describe('state table: FILL', () => {
  it.each(['PENDING', 'OPEN', 'PARTIALLY_FILLED'] as const)(
    '%s --FILL, not complete--> PARTIALLY_FILLED',
    async (start) => {
      const { h, id } = await reach(start);
      const filledBefore = h.handler.order(id)!.filledQuantity;
      const out = await h.reply(fillReply(id, '0.1'));
      expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'PARTIALLY_FILLED' });
      const v = h.handler.order(id)!;
      expect(v.filledQuantity).toBe(start === 'PARTIALLY_FILLED' ? '0.5' : '0.1');
      expect(v.leavesQuantity).toBe(start === 'PARTIALLY_FILLED' ? '0.5' : '0.9');
      expect(filledBefore).not.toBe(v.filledQuantity);
      expect(await lastChange(h, id)).toMatchObject({
        from: start,
        to: 'PARTIALLY_FILLED',
        eventType: 'ORDER_PARTIALLY_FILLED',
      });
      expect(v.causality.fillIds.at(-1)).toMatch(/^FIL_20260102_030405_[0-9a-f]{8}$/);
      expect(v.causality.fillIds).toEqual(v.fills.map((f) => f.fillId));
    },
  );

  it.each(['PENDING', 'OPEN', 'PARTIALLY_FILLED', 'CANCEL_PENDING', 'CANCEL_PENDING_FILLED'] as const)(
    '%s --FILL, complete--> FILLED',
    async (start) => {
      const { h, id } = await reach(start);
      const rest = start === 'PARTIALLY_FILLED' || start === 'CANCEL_PENDING_FILLED' ? '0.6' : '1';
      const out = await h.reply(fillReply(id, rest));
      expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'FILLED' });
      expect(h.handler.order(id)).toMatchObject({ filledQuantity: '1', leavesQuantity: '0', averagePrice: '100' });
      const from = start.startsWith('CANCEL_PENDING') ? 'CANCEL_PENDING' : start;
      expect(await lastChange(h, id)).toMatchObject({ from, to: 'FILLED', eventType: 'ORDER_FILLED' });
      expect(h.events.at(-1)).toMatchObject({ eventType: 'ORDER_FILLED', status: 'FILLED' });
      expect(h.handler.stats().liveActors).toBe(0);
    },
  );

  it('CANCEL_PENDING --FILL, not complete--> CANCEL_PENDING (fill applied)', async () => {
    const { h, id } = await reach('CANCEL_PENDING_ACKED');
    const out = await h.reply(fillReply(id, '0.3'));
    expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'CANCEL_PENDING' });
    expect(h.handler.order(id)!.filledQuantity).toBe('0.3');
    expect(await lastChange(h, id)).toMatchObject({
      from: 'CANCEL_PENDING',
      to: 'CANCEL_PENDING',
      eventType: 'ORDER_PARTIALLY_FILLED',
    });
  });

  it('FILLED --FILL with a new venueFillId--> FILLED, fill applied, OVERFILL recorded, answers applied', async () => {
    const { h, id } = await reach('FILLED');
    const out = await h.reply(fillReply(id, '0.5'));
    expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'FILLED' });
    const v = h.handler.order(id)!;
    expect(v.filledQuantity).toBe('1.5');
    expect(v.leavesQuantity).toBe('0');
    const anomalies = await h.ledger.getAnomalies();
    expect(anomalies.at(-1)).toMatchObject({ kind: 'OVERFILL', orderId: id });
    expect(anomalies.at(-1)!.reason).toContain('Invariant: filled <= quantity unless OVERFILL');
    expect((await h.ledger.getOrder(id))!.filledQuantity).toBe('1.5');
  });

  it.each(['CANCELLED', 'EXPIRED'] as const)(
    '%s --FILL (crossed the cancel)--> fill applied; unchanged when not complete',
    async (start) => {
      const { h, id } = await reach(start);
      const out = await h.reply(fillReply(id, '0.4'));
      expect(out).toEqual({ outcome: 'applied', orderId: id, status: start });
      expect(h.handler.order(id)!.filledQuantity).toBe('0.4');
      expect(h.handler.order(id)!.leavesQuantity).toBe('0');
      expect(await lastChange(h, id)).toMatchObject({ from: start, to: start, eventType: 'ORDER_PARTIALLY_FILLED' });
    },
  );

  it.each(['CANCELLED', 'EXPIRED'] as const)('%s --FILL, complete--> FILLED', async (start) => {
    const { h, id } = await reach(start);
    const out = await h.reply(fillReply(id, '1'));
    expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'FILLED' });
    expect(await lastChange(h, id)).toMatchObject({ from: start, to: 'FILLED', eventType: 'ORDER_FILLED' });
  });

  it('REJECTED --FILL--> REJECTED, fill applied and recorded, LATE_REPLY recorded, answers applied', async () => {
    const { h, id } = await reach('REJECTED');
    const out = await h.reply(fillReply(id, '0.2'));
    expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'REJECTED' });
    expect(h.handler.order(id)!.fills).toHaveLength(1);
    expect((await h.ledger.getOrder(id))!.fills).toHaveLength(1);
    expect((await h.ledger.getAnomalies()).at(-1)).toMatchObject({ kind: 'LATE_REPLY', orderId: id });
  });
});

describe('state table: REJECTED, CANCELLED, EXPIRED', () => {
  it.each(['PENDING', 'OPEN', 'CANCEL_PENDING', 'CANCEL_PENDING_ACKED'] as const)(
    '%s (no fills) --REJECTED--> REJECTED',
    async (start) => {
      const { h, id } = await reach(start);
      const out = await h.reply({ type: 'REJECTED', clientOrderId: id, reason: 'price filter', at: 5 });
      expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'REJECTED' });
      expect(h.handler.order(id)!.rejectReason).toBe('price filter');
      expect(await lastChange(h, id)).toMatchObject({
        to: 'REJECTED',
        eventType: 'ORDER_REJECTED',
        rejectReason: 'price filter',
      });
    },
  );

  it.each(['PARTIALLY_FILLED', 'CANCEL_PENDING_FILLED'] as const)(
    '%s (with fills) --REJECTED--> unchanged, LATE_REPLY',
    async (start) => {
      const { h, id } = await reach(start);
      const status = h.status(id);
      const out = await h.reply({ type: 'REJECTED', clientOrderId: id, reason: 'late', at: 5 });
      expect(out).toEqual({ outcome: 'anomaly', anomaly: 'LATE_REPLY', orderId: id });
      expect(h.status(id)).toBe(status);
    },
  );

  it.each(['PENDING', 'OPEN', 'PARTIALLY_FILLED', 'CANCEL_PENDING_FILLED'] as const)(
    '%s --CANCELLED--> CANCELLED, fills kept',
    async (start) => {
      const { h, id } = await reach(start);
      const filled = h.handler.order(id)!.filledQuantity;
      const out = await h.reply({ type: 'CANCELLED', clientOrderId: id, at: 5 });
      expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'CANCELLED' });
      expect(h.handler.order(id)).toMatchObject({ filledQuantity: filled, leavesQuantity: '0' });
      expect(await lastChange(h, id)).toMatchObject({ to: 'CANCELLED', eventType: 'ORDER_CANCELLED' });
    },
  );

  it.each(['PENDING', 'OPEN', 'PARTIALLY_FILLED', 'CANCEL_PENDING_FILLED'] as const)(
    '%s --EXPIRED--> EXPIRED, fills kept',
    async (start) => {
      const { h, id } = await reach(start);
      const filled = h.handler.order(id)!.filledQuantity;
      const out = await h.reply({ type: 'EXPIRED', clientOrderId: id, at: 5 });
      expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'EXPIRED' });
      expect(h.handler.order(id)).toMatchObject({ filledQuantity: filled, leavesQuantity: '0' });
      expect(await lastChange(h, id)).toMatchObject({ to: 'EXPIRED', eventType: 'ORDER_EXPIRED' });
    },
  );

  it.each(['FILLED', 'REJECTED'] as const)('%s --CANCELLED / EXPIRED--> unchanged, LATE_REPLY', async (start) => {
    const { h, id } = await reach(start);
    expect(await h.reply({ type: 'CANCELLED', clientOrderId: id, at: 50 })).toEqual({
      outcome: 'anomaly',
      anomaly: 'LATE_REPLY',
      orderId: id,
    });
    expect(await h.reply({ type: 'EXPIRED', clientOrderId: id, at: 51 })).toEqual({
      outcome: 'anomaly',
      anomaly: 'LATE_REPLY',
      orderId: id,
    });
    expect(h.status(id)).toBe(start);
  });
});

describe('state table: cancel() and CANCEL_REJECTED', () => {
  it.each(['PENDING', 'OPEN', 'PARTIALLY_FILLED'] as const)(
    '%s --cancel()--> CANCEL_PENDING, cancel sent',
    async (start) => {
      const { h, id } = await reach(start);
      expect(await h.handler.cancel(id)).toBe(true);
      await h.advance(0);
      expect(h.status(id)).toBe('CANCEL_PENDING');
      expect(h.venue.cancelsFor(id)).toHaveLength(1);
      expect(await lastChange(h, id)).toMatchObject({
        from: start,
        to: 'CANCEL_PENDING',
        eventType: 'ORDER_CANCEL_REQUESTED',
        cause: 'cancel()',
      });
    },
  );

  it('cancel() on CANCEL_PENDING returns true and changes nothing', async () => {
    const { h, id } = await reach('CANCEL_PENDING_ACKED');
    const n = (await h.ledger.getTransitions(id)).length;
    expect(await h.handler.cancel(id)).toBe(true);
    expect((await h.ledger.getTransitions(id)).length).toBe(n);
    expect(h.venue.cancelsFor(id)).toHaveLength(1);
  });

  it.each(['FILLED', 'REJECTED', 'CANCELLED', 'EXPIRED'] as const)('cancel() on %s returns false', async (start) => {
    const { h, id } = await reach(start);
    expect(await h.handler.cancel(id)).toBe(false);
    expect(h.status(id)).toBe(start);
  });

  it('cancel() of an unknown id returns false', async () => {
    const h = await harness();
    expect(await h.handler.cancel('ORD_20260102_030405_deadbeef')).toBe(false);
  });

  const back: [Start, OrderStatus][] = [
    ['CANCEL_PENDING_FILLED', 'PARTIALLY_FILLED'],
    ['CANCEL_PENDING_ACKED', 'OPEN'],
    ['CANCEL_PENDING', 'PENDING'],
  ];
  it.each(back)('%s --CANCEL_REJECTED--> %s', async (start, to) => {
    const { h, id } = await reach(start);
    const out = await h.reply({ type: 'CANCEL_REJECTED', clientOrderId: id, reason: 'too late', at: 5 });
    expect(out).toEqual({ outcome: 'applied', orderId: id, status: to });
    expect(await lastChange(h, id)).toMatchObject({ from: 'CANCEL_PENDING', to, eventType: 'ORDER_CANCEL_REJECTED' });
  });

  it.each(['OPEN', 'FILLED'] as const)(
    '%s --CANCEL_REJECTED (no cancel outstanding)--> duplicate, nothing recorded',
    async (start) => {
      const { h, id } = await reach(start);
      const events = h.events.length;
      const out = await h.reply({ type: 'CANCEL_REJECTED', clientOrderId: id, reason: 'x', at: 5 });
      expect(out).toEqual({ outcome: 'duplicate', orderId: id, status: start });
      expect(h.events.length).toBe(events);
    },
  );
});

describe('state table: TIMED_OUT', () => {
  it('PENDING --no ack by the deadline, venue does not know it--> TIMED_OUT, cancel sent', async () => {
    const { h, id } = await reach('TIMED_OUT');
    expect(h.venue.queriesFor(id)).toHaveLength(1);
    expect(await lastChange(h, id)).toMatchObject({ from: 'PENDING', to: 'TIMED_OUT', eventType: 'ORDER_TIMED_OUT' });
    expect(h.venue.cancelsFor(id)).toEqual([{ clientOrderId: id }]);
  });

  it('PENDING --no ack, queries all fail--> TIMED_OUT after 1 + queryRetries queries', async () => {
    const h = await harness();
    const id = await h.place();
    h.venue.defaultQuery = 'fail';
    await h.advance(TIMING.ackTimeoutMs);
    expect(h.status(id)).toBe('PENDING');
    await h.advance(TIMING.queryIntervalMs * TIMING.queryRetries);
    expect(h.status(id)).toBe('PENDING');
    expect(h.venue.queriesFor(id)).toHaveLength(1 + TIMING.queryRetries);
    await h.advance(TIMING.queryIntervalMs);
    expect(h.status(id)).toBe('TIMED_OUT');
    expect(h.venue.queriesFor(id)).toHaveLength(1 + TIMING.queryRetries);
  });

  it('TIMED_OUT --ACCEPTED--> CANCEL_PENDING, cancel sent again', async () => {
    const { h, id } = await reach('TIMED_OUT');
    await h.advance(TIMING.queryIntervalMs);
    const out = await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: V, at: 8 });
    expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'CANCEL_PENDING' });
    expect(h.venue.cancelsFor(id)).toHaveLength(2);
    expect(h.venue.cancelsFor(id)[1]).toEqual({ clientOrderId: id, venueOrderId: V });
  });

  it('TIMED_OUT --FILL, not complete--> CANCEL_PENDING, fill applied, cancel sent again', async () => {
    const { h, id } = await reach('TIMED_OUT');
    await h.advance(TIMING.queryIntervalMs);
    const out = await h.reply(fillReply(id, '0.25'));
    expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'CANCEL_PENDING' });
    expect(h.handler.order(id)!.filledQuantity).toBe('0.25');
    expect(h.venue.cancelsFor(id)).toHaveLength(2);
  });

  const finals: [string, Record<string, unknown>, OrderStatus][] = [
    ['FILL complete', { type: 'FILL', venueFillId: 'FX', quantity: '1', price: '99', at: 9 }, 'FILLED'],
    ['REJECTED', { type: 'REJECTED', reason: 'no', at: 9 }, 'REJECTED'],
    ['CANCELLED', { type: 'CANCELLED', at: 9 }, 'CANCELLED'],
    ['EXPIRED', { type: 'EXPIRED', at: 9 }, 'EXPIRED'],
  ];
  it.each(finals)('TIMED_OUT --%s--> %s', async (_name, reply, to) => {
    const { h, id } = await reach('TIMED_OUT');
    const out = await h.reply({ ...reply, clientOrderId: id });
    expect(out).toEqual({ outcome: 'applied', orderId: id, status: to });
    expect(await lastChange(h, id)).toMatchObject({ from: 'TIMED_OUT', to });
  });

  it('TIMED_OUT --CANCEL_REJECTED--> TIMED_OUT, not an anomaly, the cancel is settled', async () => {
    const { h, id } = await reach('TIMED_OUT');
    const out = await h.reply({ type: 'CANCEL_REJECTED', clientOrderId: id, reason: 'unknown order', at: 9 });
    expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'TIMED_OUT' });
    expect(await h.ledger.getAnomalies()).toEqual([]);
    expect(h.handler.stats().liveActors).toBe(0);
    // No more cancel traffic once the venue answered.
    await h.advance(TIMING.cancelTimeoutMs * 5);
    expect(h.venue.cancelsFor(id)).toHaveLength(1);
  });

  it('CANCEL_PENDING from TIMED_OUT --CANCEL_REJECTED--> stays CANCEL_PENDING, cancel retried (not sooner than queryIntervalMs)', async () => {
    const { h, id } = await reach('TIMED_OUT');
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: V, at: 8 });
    expect(h.status(id)).toBe('CANCEL_PENDING');
    const sent = h.venue.cancelsFor(id).length;
    const out = await h.reply({ type: 'CANCEL_REJECTED', clientOrderId: id, reason: 'busy', at: 10 });
    expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'CANCEL_PENDING' });
    await h.advance(TIMING.queryIntervalMs);
    expect(h.venue.cancelsFor(id).length).toBe(sent + 1);
  });

  it('cancel() on TIMED_OUT returns true and sends the cancel again', async () => {
    const { h, id } = await reach('TIMED_OUT');
    await h.advance(TIMING.queryIntervalMs);
    expect(await h.handler.cancel(id)).toBe(true);
    await h.advance(0);
    expect(h.venue.cancelsFor(id)).toHaveLength(2);
    expect(h.status(id)).toBe('TIMED_OUT');
  });
});

describe('state table: the venue does not know the order', () => {
  it.each(['OPEN', 'PARTIALLY_FILLED'] as const)(
    '%s --venue, asked, does not know it--> CANCELLED NOT_FOUND_AT_VENUE, VENUE_LOST_ORDER',
    async (start) => {
      const { h, id } = await reach(start);
      h.venue.defaultQuery = null;
      const report = await h.handler.reconcile();
      expect(report.ordersQueried).toBe(1);
      expect(report.ordersResolved).toBe(1);
      expect(h.status(id)).toBe('CANCELLED');
      expect(await lastChange(h, id)).toMatchObject({
        from: start,
        to: 'CANCELLED',
        eventType: 'ORDER_CANCELLED',
        cause: 'query NOT_FOUND',
      });
      const a = (await h.ledger.getAnomalies()).at(-1)!;
      expect(a).toMatchObject({ kind: 'VENUE_LOST_ORDER', orderId: id });
      expect(a.reason).toContain('NOT_FOUND_AT_VENUE');
    },
  );

  it('CANCEL_PENDING --unanswered cancel, venue does not know it--> CANCELLED, VENUE_LOST_ORDER', async () => {
    const { h, id } = await reach('CANCEL_PENDING_ACKED');
    h.venue.defaultQuery = null;
    await h.advance(TIMING.cancelTimeoutMs);
    expect(h.status(id)).toBe('CANCELLED');
    expect((await h.ledger.getAnomalies()).at(-1)).toMatchObject({ kind: 'VENUE_LOST_ORDER', orderId: id });
  });

  it('CANCELLED as NOT_FOUND_AT_VENUE before any ack takes late news: ACCEPTED moves it to CANCEL_PENDING and cancels again', async () => {
    const { h, id } = await reach('CANCEL_PENDING');
    h.venue.defaultQuery = null;
    await h.advance(TIMING.cancelTimeoutMs);
    expect(h.status(id)).toBe('CANCELLED');
    const cancels = h.venue.cancelsFor(id).length;
    await h.advance(TIMING.queryIntervalMs);
    const out = await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: V, at: 20 });
    expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'CANCEL_PENDING' });
    expect(h.venue.cancelsFor(id).length).toBe(cancels + 1);
  });

  it('CANCELLED as NOT_FOUND_AT_VENUE before any ack: a partial FILL moves it to CANCEL_PENDING', async () => {
    const { h, id } = await reach('CANCEL_PENDING');
    h.venue.defaultQuery = null;
    await h.advance(TIMING.cancelTimeoutMs);
    await h.advance(TIMING.queryIntervalMs);
    const out = await h.reply(fillReply(id, '0.5'));
    expect(out).toEqual({ outcome: 'applied', orderId: id, status: 'CANCEL_PENDING' });
  });
});
