/**
 * The simulated venue: deterministic per seed, deduplicates placements by client order id, trades
 * in exact decimals, answers queries from its own truth, and applies each fault it is given.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createSimulatedExchange } from '../../src/connector/simulated.js';
import { decAdd, decCmp, decEq, decNorm } from '../../src/decimal.js';
import { PlacementRejectedError } from '../../src/errors.js';
import type { ExchangeReply } from '../../src/types.js';

const order = (clientOrderId: string, extra = {}) => ({
  clientOrderId,
  symbol: 'BTC_USDT',
  side: 'BUY' as const,
  type: 'LIMIT' as const,
  quantity: '0.3',
  price: '100',
  ...extra,
});

async function run(seed: number, faults = {}) {
  const clock = createManualClock(0);
  const venue = createSimulatedExchange({ clock, seed, faults, rejectRate: 0.1 });
  const replies: ExchangeReply[] = [];
  venue.onReply!((r) => replies.push(r));
  for (let i = 0; i < 50; i++)
    await venue
      .placeOrder(order(`C${i}`, i % 3 === 0 ? { type: 'MARKET', price: undefined } : {}))
      .catch(() => undefined);
  await clock.advance(5_000);
  return { venue, replies, clock };
}

describe('simulated exchange', () => {
  it('is deterministic: the same seed gives the same replies and truth', async () => {
    const a = await run(9, { dropRate: 0.1, duplicateRate: 0.2, reorderRate: 0.3 });
    const b = await run(9, { dropRate: 0.1, duplicateRate: 0.2, reorderRate: 0.3 });
    expect(a.replies).toEqual(b.replies);
    expect(a.venue.venueOrders()).toEqual(b.venue.venueOrders());
    const c = await run(10, { dropRate: 0.1, duplicateRate: 0.2, reorderRate: 0.3 });
    expect(c.replies).not.toEqual(a.replies);
  });

  it('deduplicates placements by client order id', async () => {
    const clock = createManualClock(0);
    const venue = createSimulatedExchange({ clock, autoMatch: false, ackInResultRate: 1 });
    const first = await venue.placeOrder(order('C1'));
    const again = await venue.placeOrder(order('C1'));
    expect(again.venueOrderId).toBe(first.venueOrderId);
    expect(venue.venueOrders()).toHaveLength(1);
    expect(venue.stats().duplicatePlacements).toBe(1);
  });

  it('fills add up exactly to the quantity, and queries tell the truth', async () => {
    const { venue, clock } = await run(3);
    const orders = venue.venueOrders();
    // Both kinds are there, so neither assertion below holds vacuously.
    expect(orders.some((o) => o.status === 'FILLED')).toBe(true);
    expect(orders.some((o) => o.status !== 'FILLED')).toBe(true);
    for (const o of orders) {
      const sum = o.fills.reduce((s, f) => decAdd(s, f.quantity), '0');
      expect(decNorm(sum), `Invariant: filled = sum of fills (${o.clientOrderId})`).toBe(decNorm(o.filledQuantity));
      expect(
        decEq(o.filledQuantity, o.request.quantity),
        `Invariant: filled = quantity exactly when FILLED (${o.clientOrderId} is ${o.status})`,
      ).toBe(o.status === 'FILLED');
      expect(
        decCmp(o.filledQuantity, o.request.quantity),
        `Invariant: filled <= quantity (${o.clientOrderId})`,
      ).toBeLessThanOrEqual(0);
      const asked = venue.queryOrder({ clientOrderId: o.clientOrderId });
      await clock.advance(50);
      // The values in force are part of the answer (a MARKET order has no price: undefined, left out).
      expect(await asked).toEqual({
        venueOrderId: o.venueOrderId,
        status: o.status,
        quantity: o.quantity,
        price: o.price,
        fills: o.fills,
      });
    }
    const unknown = venue.queryOrder({ clientOrderId: 'nobody' });
    await clock.advance(50);
    expect(await unknown).toBeNull();
  });

  it('drops, duplicates and reconnects after a gap when told to', async () => {
    const { venue, replies } = await run(5, { dropRate: 0.3, duplicateRate: 0.5 });
    const s = venue.stats();
    expect(s.repliesDropped).toBeGreaterThan(0);
    expect(s.repliesDuplicated).toBeGreaterThan(0);
    expect(s.reconnects).toBeGreaterThan(0);
    expect(replies.length).toBe(s.repliesSent);
  });

  it('refuses outright or fails placements at the given rates', async () => {
    const clock = createManualClock(0);
    const refusing = createSimulatedExchange({ clock, placementRejectRate: 1 });
    await expect(refusing.placeOrder(order('C1'))).rejects.toBeInstanceOf(PlacementRejectedError);
    const failing = createSimulatedExchange({ clock, faults: { placeErrorRate: 1 } });
    await expect(failing.placeOrder(order('C1'))).rejects.toThrow(/network error/);
  });

  it('cancels working orders and rejects cancels of unknown or finished ones', async () => {
    const clock = createManualClock(0);
    const venue = createSimulatedExchange({ clock, autoMatch: false });
    const replies: ExchangeReply[] = [];
    venue.onReply!((r) => replies.push(r));
    await venue.placeOrder(order('C1'));
    await venue.cancelOrder({ clientOrderId: 'C1' });
    await venue.cancelOrder({ clientOrderId: 'C9' });
    await clock.advance(100);
    expect(replies.map((r) => r.type).sort()).toEqual(['CANCELLED', 'CANCEL_REJECTED']);
    expect(venue.venueOrders()[0]!.status).toBe('CANCELLED');
  });
});
