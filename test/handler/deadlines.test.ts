/**
 * Deadlines, queries and retries on the manual clock: the ack-timeout path, stale and hanging
 * queries, unconfirmed cancels at the slow pace, cancel resend spacing, and placement retries,
 * each checked against the exact virtual times the contract states.
 */
import { describe, expect, it } from 'vitest';
import type { VenueOrderState } from '../../src/connector/types.js';
import { TIMING, harness } from '../support/harness.js';

const { ackTimeoutMs: ACK, cancelTimeoutMs: CANCEL, queryIntervalMs: I, queryRetries: R } = TIMING;
const open = (venueOrderId = 'V1', fills: VenueOrderState['fills'] = []): VenueOrderState => ({
  venueOrderId,
  status: fills.length ? 'PARTIALLY_FILLED' : 'OPEN',
  fills,
});

describe('the ack deadline', () => {
  it('asks the venue exactly at the deadline and applies its answer (venue id and fills)', async () => {
    const h = await harness();
    const id = await h.place();
    h.venue.defaultQuery = open('V5', [{ venueFillId: 'F1', quantity: '0.25', price: '99', at: 3 }]);
    await h.advance(ACK - 1);
    expect(h.venue.queriesFor(id)).toHaveLength(0);
    await h.advance(1);
    expect(h.venue.queriesFor(id)).toEqual([{ clientOrderId: id }]);
    expect(h.handler.order(id)).toMatchObject({
      status: 'PARTIALLY_FILLED',
      venueOrderId: 'V5',
      filledQuantity: '0.25',
    });
    const kinds = (await h.ledger.getTransitions(id)).map((t) => t.eventType);
    expect(kinds).toEqual(['ORDER_ACCEPTED', 'ORDER_PARTIALLY_FILLED']);
    await h.advance(ACK * 10);
    expect(h.venue.queriesFor(id)).toHaveLength(1); // an acknowledged order is never timed out
  });

  it('a null answer is stale when an ACCEPTED arrived after the query was sent', async () => {
    const h = await harness();
    const id = await h.place();
    h.venue.defaultQuery = 'defer';
    await h.advance(ACK);
    expect(h.venue.deferred).toHaveLength(1);
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 5 });
    h.venue.deferred[0]!.answer(null);
    await h.advance(0);
    expect(h.status(id)).toBe('OPEN');
    expect(await h.ledger.getAnomalies()).toEqual([]);
  });

  it('a stale null for a CANCEL_PENDING order makes the handler ask again at the next interval', async () => {
    const h = await harness();
    const id = await h.place();
    await h.handler.cancel(id);
    h.venue.defaultQuery = 'defer';
    await h.advance(CANCEL);
    expect(h.venue.deferred).toHaveLength(1);
    await h.reply({ type: 'FILL', clientOrderId: id, venueFillId: 'F1', quantity: '0.5', price: '1', at: 5 });
    h.venue.deferred[0]!.answer(null);
    await h.advance(0);
    expect(h.status(id)).toBe('CANCEL_PENDING');
    await h.advance(I);
    expect(h.venue.deferred).toHaveLength(2);
    h.venue.deferred[1]!.answer(null); // no news since: decisive
    await h.advance(0);
    expect(h.status(id)).toBe('CANCELLED');
    expect((await h.ledger.getAnomalies()).map((a) => a.kind)).toEqual(['VENUE_LOST_ORDER']);
  });

  it('a hanging query uses its slots without a second query; TIMED_OUT at ack + (retries + 1) x interval; the late answer is applied', async () => {
    const h = await harness();
    const id = await h.place();
    h.venue.defaultQuery = 'defer';
    await h.advance(ACK + (R + 1) * I - 1);
    expect(h.venue.deferred).toHaveLength(1);
    expect(h.status(id)).toBe('PENDING');
    await h.advance(1);
    expect(h.status(id)).toBe('TIMED_OUT');
    expect(h.venue.cancelsFor(id)).toHaveLength(1);
    h.venue.deferred[0]!.answer(open('V2'));
    await h.advance(0);
    expect(h.handler.order(id)).toMatchObject({ status: 'CANCEL_PENDING', venueOrderId: 'V2' });
  });

  it('replies already received are applied before TIMED_OUT is declared', async () => {
    const h = await harness();
    const id = await h.place();
    h.venue.defaultQuery = 'fail';
    await h.advance(ACK + (R + 1) * I - 1);
    const pending = h.handler.onExchangeReply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 9 });
    await h.advance(1);
    await pending;
    expect(h.status(id)).toBe('OPEN');
  });
});

describe('unanswered cancels', () => {
  it('asks at the cancel deadline; a venue still showing the order working gets the cancel again', async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    await h.handler.cancel(id);
    await h.advance(0);
    h.venue.defaultQuery = open('V1');
    await h.advance(CANCEL);
    expect(h.venue.queriesFor(id)).toHaveLength(1);
    expect(h.venue.cancelsFor(id)).toHaveLength(2);
    expect(h.status(id)).toBe('CANCEL_PENDING');
  });

  it('never assumed: CANCEL_UNCONFIRMED once, then every 10 x interval a query and a cancel, until the venue answers', async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    await h.handler.cancel(id);
    h.venue.defaultQuery = 'fail';
    await h.advance(CANCEL + (R + 1) * I - 1);
    expect(await h.ledger.getAnomalies()).toEqual([]);
    expect(h.venue.queriesFor(id)).toHaveLength(R + 1);
    await h.advance(1);
    expect((await h.ledger.getAnomalies()).map((a) => a.kind)).toEqual(['CANCEL_UNCONFIRMED']);
    expect(h.status(id)).toBe('CANCEL_PENDING');
    const q = h.venue.queriesFor(id).length;
    const c = h.venue.cancelsFor(id).length;
    expect(c).toBe(2);
    await h.advance(10 * I - 1);
    expect(h.venue.queriesFor(id).length).toBe(q);
    await h.advance(1);
    expect(h.venue.queriesFor(id).length).toBe(q + 1);
    expect(h.venue.cancelsFor(id).length).toBe(c + 1);
    await h.advance(30 * I);
    expect(h.venue.queriesFor(id).length).toBe(q + 4);
    expect((await h.ledger.getAnomalies()).length).toBe(1);
    h.venue.defaultQuery = { venueOrderId: 'V1', status: 'CANCELLED', fills: [] };
    await h.advance(10 * I);
    expect(h.status(id)).toBe('CANCELLED');
    expect(h.handler.stats().liveActors).toBe(0);
  });

  it('a cancel is never sent again sooner than queryIntervalMs after the previous one', async () => {
    const h = await harness();
    const id = await h.place();
    h.venue.defaultQuery = null;
    await h.advance(ACK); // TIMED_OUT: first cancel
    expect(h.venue.cancelsFor(id)).toHaveLength(1);
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 3 }); // wants a cancel again at once
    expect(h.venue.cancelsFor(id)).toHaveLength(1);
    await h.advance(I - 1);
    expect(h.venue.cancelsFor(id)).toHaveLength(1);
    await h.advance(1);
    expect(h.venue.cancelsFor(id)).toHaveLength(2);
  });

  it('a resend deferred for a cancel that the venue rejected meanwhile is dropped, not spun on (regression)', async () => {
    // Commands seed 854888977: cancel, CANCEL_REJECTED, cancel again within queryIntervalMs (the
    // resend is deferred), CANCEL_REJECTED again; when the deferred time came, the timer re-armed
    // at zero delay forever and advance() never returned.
    const h = await harness();
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    await h.handler.cancel(id);
    await h.reply({ type: 'CANCEL_REJECTED', clientOrderId: id, reason: 'too late', at: 2 });
    await h.handler.cancel(id);
    await h.advance(0);
    expect(h.venue.cancelsFor(id)).toHaveLength(1); // the second waits for the interval
    await h.reply({ type: 'CANCEL_REJECTED', clientOrderId: id, reason: 'too late', at: 3 });
    expect(h.status(id)).toBe('OPEN');
    await h.advance(10 * I);
    expect(h.venue.cancelsFor(id)).toHaveLength(1); // answered: not sent again
    expect(h.clock.pendingTimers()).toBe(0);
  });
});

describe('placement', () => {
  it('a definitive rejection is REJECTED with its reason and never retried', async () => {
    const h = await harness();
    h.venue.placeScript = ['reject'];
    const id = await h.place();
    expect(h.handler.order(id)).toMatchObject({ status: 'REJECTED', rejectReason: 'insufficient balance' });
    await h.advance(ACK * 3);
    expect(h.venue.placed).toHaveLength(1);
  });

  it('an unknown outcome is retried with the same client order id, backing off, at most placeRetries more times', async () => {
    const h = await harness();
    h.venue.placeScript = ['fail', 'fail', 'fail', 'fail'];
    const id = await h.place();
    expect(h.venue.placed).toHaveLength(1);
    await h.advance(250);
    expect(h.venue.placed).toHaveLength(2);
    await h.advance(500);
    expect(h.venue.placed).toHaveLength(3);
    await h.advance(ACK);
    expect(h.venue.placed).toHaveLength(1 + TIMING.placeRetries);
    expect(new Set(h.venue.placed.map((p) => p.clientOrderId))).toEqual(new Set([id]));
  });

  it('retries stop once the order is acknowledged', async () => {
    const h = await harness();
    h.venue.placeScript = ['fail'];
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    await h.advance(ACK);
    expect(h.venue.placed).toHaveLength(1);
  });

  it('a venue id in the placement result counts as ACCEPTED', async () => {
    const h = await harness();
    h.venue.placeScript = [{ venueOrderId: 'V42' }];
    const id = await h.place();
    expect(h.handler.order(id)).toMatchObject({ status: 'OPEN', venueOrderId: 'V42' });
    expect((await h.ledger.getTransitions(id))[0]!.cause).toMatch(/^place ACCEPTED #/);
  });

  it('a placement that never answers leaves the ack-timeout path to decide', async () => {
    const h = await harness();
    h.venue.placeScript = ['hang'];
    h.venue.defaultQuery = null;
    const id = await h.place();
    await h.advance(ACK);
    expect(h.status(id)).toBe('TIMED_OUT');
  });
});

describe('convergence bound (promise 7) on the scripted venue', () => {
  it('a PENDING order agrees with the venue within ackTimeoutMs + (queryRetries + 1) x queryIntervalMs once faults stop', async () => {
    const h = await harness();
    const id = await h.place();
    h.venue.queryScript.set(id, ['fail', 'fail']);
    h.venue.defaultQuery = open('V1');
    await h.advance(ACK + (R + 1) * I);
    expect(h.status(id)).toBe('OPEN');
  });
});
