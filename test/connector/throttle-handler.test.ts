/**
 * The throttle in front of the real handler (memory ledger, manual clock, the scripted venue of
 * the harness): placements over budget wait, a placement refused after waiting `maxWaitMs` ends
 * its order REJECTED with nothing sent, and cancelling an order whose placement waits keeps that
 * placement from ever reaching the venue.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import type { RateBudgets } from '../../src/connector/rate-budgets.js';
import { throttleConnector } from '../../src/connector/throttle.js';
import { createExecutionHandler } from '../../src/handler/create.js';
import { createMemoryLedger } from '../../src/ledger/memory.js';
import { seededRandom } from '../../src/random.js';
import { ScriptedVenue, T0, TIMING, directive, limit } from '../support/harness.js';

/** One order per second, as a venue's order-count window would allow. */
const oneOrderPerSecond: RateBudgets = {
  windows: [{ name: 'orders/1s', unit: 'orders', limit: 1, windowMs: 1_000 }],
  costs: {
    place: { weight: 0, orders: 1 },
    cancel: { weight: 0, orders: 0 },
    query: { weight: 0, orders: 0 },
    modify: { weight: 0, orders: 1 },
  },
};

async function rig(ackTimeoutMs: number, maxWaitMs?: number) {
  const clock = createManualClock(T0);
  const ledger = createMemoryLedger({ strategyId: 'S1' });
  const venue = new ScriptedVenue(ledger);
  venue.placeScript = ['V1', 'V2', 'V3'].map((venueOrderId) => ({ venueOrderId }));
  const waits: number[] = [];
  const connector = throttleConnector(venue, {
    clock,
    budgets: oneOrderPerSecond,
    onWait: (_call, waitedMs) => waits.push(waitedMs),
    ...(maxWaitMs === undefined ? {} : { maxWaitMs }),
  });
  const handler = await createExecutionHandler({
    strategyId: 'S1',
    connector,
    clock,
    ledger,
    random: seededRandom(42),
    ...TIMING,
    ackTimeoutMs,
  });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(...(await handler.execute(directive([limit()]))).orderIds);
  await clock.advance(0);
  return { clock, venue, handler, ids, waits };
}

describe('throttleConnector in front of the handler', () => {
  it('a placement that waited maxWaitMs (below ackTimeoutMs) ends its order REJECTED, never sent; no order times out', async () => {
    const { clock, venue, handler, ids } = await rig(1_000, 800);
    await clock.advance(10_000);
    expect(ids.map((id) => handler.order(id)!.status)).toEqual(['OPEN', 'REJECTED', 'REJECTED']);
    expect(handler.order(ids[1]!)!.rejectReason).toBe('rate limit: waited 800 ms, more than 800 ms');
    expect(venue.placed.map((p) => p.clientOrderId)).toEqual([ids[0]]);
    expect(venue.queries).toEqual([]);
    expect(handler.stats().anomalies).toBe(0);
  });

  it('cancelling an order whose placement waits: REJECTED, the placement never reaches the venue, the cancel does', async () => {
    const { clock, venue, handler, ids, waits } = await rig(5_000);
    await clock.advance(10);
    await handler.cancel(ids[2]!);
    await clock.advance(10_000);
    expect(ids.map((id) => handler.order(id)!.status)).toEqual(['OPEN', 'OPEN', 'REJECTED']);
    expect(handler.order(ids[2]!)!.rejectReason).toBe('rate limit: the order was cancelled while its call waited');
    expect(venue.placed.map((p) => p.clientOrderId)).toEqual([ids[0], ids[1]]);
    expect(venue.cancels.map((c) => c.clientOrderId)).toContain(ids[2]);
    expect(waits).toEqual([1_000]); // the second placement, sent a second after it was made
    expect(handler.stats().anomalies).toBe(0);
  });
});
