/**
 * Regression tests for the six behaviours of issue 12 that broke the contract while the order's
 * protocol lived outside the machine; each drives the real handler on the manual clock and fails
 * on the release before the protocol moved into the machine.
 */
import { describe, expect, it } from 'vitest';
import type { LedgerWrite, StrategyLedger } from '../../src/ledger/types.js';
import { TIMING, directive, harness, limit, testLedger } from '../support/harness.js';

/** The ack timeout's whole path: the deadline, then every query slot unanswered. */
const ACK_PATH_MS = TIMING.ackTimeoutMs + (TIMING.queryRetries + 1) * TIMING.queryIntervalMs;

/** A ledger whose commits fail while `down` is set (the records are never applied). */
function flakyLedger(inner: StrategyLedger): StrategyLedger & { down: boolean; failed: number } {
  const wrapper = Object.create(inner) as StrategyLedger & { down: boolean; failed: number };
  wrapper.down = false;
  wrapper.failed = 0;
  wrapper.commit = async (writes: LedgerWrite[]) => {
    if (wrapper.down) {
      wrapper.failed++;
      throw new Error('disk I/O error');
    }
    return inner.commit(writes);
  };
  return wrapper;
}

describe('issue 12 regressions: the protocol in the machine', () => {
  it('a. cancelAll() sends the cancel again for a TIMED_OUT order that left memory', async () => {
    const h = await harness();
    h.venue.defaultQuery = null; // the venue knows nothing: TIMED_OUT, then its cancel finds nothing
    const id = await h.place();
    await h.advance(ACK_PATH_MS);
    expect(h.status(id)).toBe('TIMED_OUT');
    // Asked about the timeout's cancel, the venue does not know the order: the cancel is settled.
    await h.advance(TIMING.cancelTimeoutMs + TIMING.queryIntervalMs);
    await h.handler.settle();
    expect(h.handler.stats().liveActors).toBe(0);
    const before = h.venue.cancelsFor(id).length;
    await h.handler.cancelAll();
    await h.advance(TIMING.queryIntervalMs);
    expect(h.venue.cancelsFor(id).length).toBe(before + 1);
  });

  it('b. a TIMED_OUT order the venue reported CANCELLED is never reopened by a late ACCEPTED (no cancel storm)', async () => {
    const h = await harness();
    h.venue.defaultQuery = 'hang';
    const id = await h.place();
    await h.advance(ACK_PATH_MS);
    expect(h.status(id)).toBe('TIMED_OUT');
    await h.reply({ type: 'CANCELLED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    expect(h.status(id)).toBe('CANCELLED');
    const cancels = h.venue.cancelsFor(id).length;
    const late = await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 2 });
    expect(late.outcome).toBe('duplicate');
    expect(h.status(id)).toBe('CANCELLED');
    for (let i = 0; i < 5; i++) {
      await h.reply({ type: 'CANCEL_REJECTED', clientOrderId: id, reason: 'already cancelled', at: 10 + i });
      await h.advance(TIMING.queryIntervalMs);
    }
    expect(h.venue.cancelsFor(id).length).toBe(cancels);
    expect(h.status(id)).toBe('CANCELLED');
  });

  it('c. a late ACCEPTED on TIMED_OUT does not send the cancel sooner than queryIntervalMs after the last', async () => {
    const h = await harness();
    h.venue.defaultQuery = 'hang';
    const id = await h.place();
    await h.advance(ACK_PATH_MS);
    expect(h.status(id)).toBe('TIMED_OUT');
    const sentAt = h.clock.now();
    expect(h.venue.cancelsFor(id)).toHaveLength(1); // the timeout's cancel
    // The usual answer: the venue never had it. The cancel is settled and the order leaves memory.
    await h.reply({ type: 'CANCEL_REJECTED', clientOrderId: id, reason: 'unknown order', at: 2 });
    expect(h.handler.stats().liveActors).toBe(0);
    await h.advance(10);
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 3 });
    expect(h.status(id)).toBe('CANCEL_PENDING');
    expect(h.venue.cancelsFor(id)).toHaveLength(1); // paced, not sent 10 ms after the previous one
    await h.advance(sentAt + TIMING.queryIntervalMs - h.clock.now() - 1);
    expect(h.venue.cancelsFor(id)).toHaveLength(1);
    await h.advance(1);
    expect(h.venue.cancelsFor(id)).toHaveLength(2);
  });

  it('d. cancel() of a SEQUENTIAL order not placed yet: the orders before it still take their turns', async () => {
    const h = await harness();
    const { orderIds } = await h.handler.execute(directive([limit(), limit(), limit()], 'SEQUENTIAL'));
    await h.advance(0);
    const [first, second, third] = orderIds as [string, string, string];
    expect(await h.handler.cancel(third)).toBe(true);
    await h.reply({ type: 'FILL', clientOrderId: first, venueFillId: 'F1', quantity: '1', price: '100', at: 1 });
    await h.handler.settle();
    expect(h.handler.order(second)?.status).toBe('PENDING'); // its turn came
    await h.reply({ type: 'FILL', clientOrderId: second, venueFillId: 'F2', quantity: '1', price: '100', at: 2 });
    await h.handler.settle();
    expect(h.handler.order(third)).toBeUndefined(); // never placed
    expect(h.venue.placed.map((p) => p.clientOrderId)).toEqual([first, second]);
  });

  it('e. CANCEL_UNCONFIRMED is recorded once per outstanding cancel, across a failed write and a restart', async () => {
    const ledger = flakyLedger(testLedger());
    const h = await harness({ ledger });
    h.venue.defaultQuery = 'hang';
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    await h.handler.cancel(id);
    // The cancel's queries go unanswered: CANCEL_UNCONFIRMED, then the slow pace.
    await h.advance(TIMING.cancelTimeoutMs + (TIMING.queryRetries + 2) * TIMING.queryIntervalMs);
    const unconfirmed = async () =>
      (await ledger.getAnomalies()).filter((a) => a.kind === 'CANCEL_UNCONFIRMED' && a.orderId === id).length;
    expect(await unconfirmed()).toBe(1);
    // One failed write drops the order from memory; it is reloaded from the ledger.
    ledger.down = true;
    await expect(
      h.reply({ type: 'FILL', clientOrderId: id, venueFillId: 'F1', quantity: '0.1', price: '1', at: 5 }),
    ).rejects.toThrow();
    ledger.down = false;
    await h.advance(30 * TIMING.queryIntervalMs);
    expect(await unconfirmed()).toBe(1);
    // A restart: a new handler recovers the order from the same ledger.
    await h.handler.stop();
    const again = await harness({ ledger });
    again.venue.defaultQuery = 'hang';
    // recover() asks the venue, which hangs: its query counts as unanswered one interval later.
    const recovered = again.handler.recover();
    await again.advance(30 * TIMING.queryIntervalMs);
    await recovered;
    expect(again.status(id)).toBe('CANCEL_PENDING');
    expect(await unconfirmed()).toBe(1);
  });

  it('f. background work whose write failed waits for a retry within a bound, and nothing is lost beyond it', async () => {
    const ledger = flakyLedger(testLedger());
    const bound = 200;
    const h = await harness({ ledger, maxRetriesWaiting: bound });
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 0 });
    ledger.down = true;
    const pushed = bound + 50;
    const fills = Array.from({ length: pushed }, (_, i) => ({
      venueFillId: `F${i}`,
      quantity: '0.00001',
      price: '1',
      at: i,
    }));
    for (const f of fills) h.venue.push({ type: 'FILL', clientOrderId: id, ...f });
    await h.handler.settle();
    // Every pushed reply failed and was reported; the bound's worth wait for a retry, the rest
    // were dropped with their order marked for the next reconcile.
    expect(h.errors).toHaveLength(pushed);
    expect(h.handler.stats().retriesWaiting).toBe(bound);
    ledger.down = false;
    await h.advance(TIMING.queryIntervalMs);
    await h.handler.settle();
    expect(h.handler.stats().retriesWaiting).toBe(0);
    expect(h.handler.order(id)!.fills).toHaveLength(bound);
    // The venue tells again what the dropped replies carried: no fill is lost.
    h.venue.defaultQuery = { venueOrderId: 'V1', status: 'PARTIALLY_FILLED', fills };
    const report = await h.handler.reconcile();
    expect(report.fillsLearnt).toBe(50);
    expect(h.handler.order(id)!.fills).toHaveLength(pushed);
  });
});
