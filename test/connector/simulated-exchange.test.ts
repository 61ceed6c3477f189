/**
 * The simulated venue: deterministic per seed, deduplicates placements by client order id, trades
 * in exact decimals, answers queries from its own truth, applies each fault it is given, and
 * modifies orders (in place or by FIX cancel/replace) under its own rules and the same faults.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { type SimulatedExchangeOptions, createSimulatedExchange } from '../../src/connector/simulated.js';
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

type ModifyOutcome = { ok: { modified?: boolean; venueOrderId?: string } } | { error: Error };

/** A venue that trades only when told (`trade`), answers every call with its outcome, and its replies. */
function quietVenue(opts: Partial<Omit<SimulatedExchangeOptions, 'clock'>> = {}) {
  const clock = createManualClock(0);
  const venue = createSimulatedExchange({ clock, autoMatch: false, ackInResultRate: 1, ...opts });
  const replies: ExchangeReply[] = [];
  venue.onReply!((r) => replies.push(r));
  /** Sends a modify and waits until the venue answered and its replies arrived. */
  const modify = async (
    ref: { clientOrderId: string; venueOrderId?: string },
    modificationId: string,
    changes: { quantity?: string; price?: string; stopPrice?: string },
  ): Promise<ModifyOutcome> => {
    const outcome = outcomeOf(venue.modifyOrder!({ ...ref, modificationId }, changes));
    await clock.advance(100);
    return outcome;
  };
  return { clock, venue, replies, modify };
}

/** The outcome of a call, handled at once so a rejection is never left unhandled. */
const outcomeOf = (p: Promise<{ modified?: boolean; venueOrderId?: string }>): Promise<ModifyOutcome> =>
  p.then(
    (ok) => ({ ok }),
    (error: Error) => ({ error }),
  );

describe('simulated exchange: modifyOrder', () => {
  it('amends in place: same venue id, the original client id in the reply, the values in force everywhere', async () => {
    const { venue, replies, modify, clock } = quietVenue();
    const { venueOrderId } = await venue.placeOrder(order('C1'));
    venue.trade('C1', '0.1');
    expect(await modify({ clientOrderId: 'C1' }, 'C1.1', { quantity: '0.5', price: '99' })).toEqual({
      ok: { modified: true },
    });
    expect(replies.filter((r) => r.type === 'MODIFIED')).toEqual([
      { type: 'MODIFIED', clientOrderId: 'C1', venueOrderId, quantity: '0.5', price: '99', at: expect.any(Number) },
    ]);
    const [v] = venue.venueOrders();
    expect(v).toMatchObject({
      venueOrderId,
      status: 'PARTIALLY_FILLED',
      quantity: '0.5',
      price: '99',
      modifications: 1,
    });
    expect(v!.request.quantity, 'the request stays as placed').toBe('0.3');
    expect(v!.venueOrderIds).toEqual([venueOrderId]);
    venue.trade('C1');
    await clock.advance(100);
    expect(replies.filter((r) => r.type === 'FILL').at(-1)).toMatchObject({
      clientOrderId: 'C1',
      venueOrderId,
      quantity: '0.4',
      price: '99',
    });
    expect(venue.venueOrders()[0]).toMatchObject({ status: 'FILLED', filledQuantity: '0.5' });
    // A STOP_LIMIT's stop price is a value in force too; a LIMIT has none to change.
    await venue.placeOrder(order('C2', { type: 'STOP_LIMIT', stopPrice: '98' }));
    await modify({ clientOrderId: 'C2' }, 'C2.1', { stopPrice: '97.5' });
    const asked = venue.queryOrder({ clientOrderId: 'C2' });
    await clock.advance(50);
    expect(await asked).toMatchObject({ status: 'OPEN', quantity: '0.3', price: '100', stopPrice: '97.5' });
    await venue.placeOrder(order('C3'));
    const refused = await modify({ clientOrderId: 'C3' }, 'C3.1', { stopPrice: '97.5' });
    expect(refused).toMatchObject({ error: { name: 'PlacementRejectedError' } });
  });

  it('replaces as FIX cancel/replace: a new venue id, the modification id as client id, fills carried over', async () => {
    const { venue, replies, modify, clock } = quietVenue({ modifyMode: 'replace' });
    const { venueOrderId: first } = await venue.placeOrder(order('C1'));
    venue.trade('C1', '0.1');
    const result = await modify({ clientOrderId: 'C1', venueOrderId: first! }, 'C1.1', { price: '101' });
    const second = 'ok' in result ? result.ok.venueOrderId : undefined;
    expect(result).toEqual({ ok: { modified: true, venueOrderId: second } });
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(replies.filter((r) => r.type === 'MODIFIED')).toEqual([
      {
        type: 'MODIFIED',
        clientOrderId: 'C1.1',
        venueOrderId: first,
        newVenueOrderId: second,
        quantity: '0.3',
        price: '101',
        at: expect.any(Number),
      },
    ]);
    // Every id the order had finds the current order.
    for (const ref of [
      { clientOrderId: 'C1' },
      { clientOrderId: 'C1.1' },
      { clientOrderId: 'other', venueOrderId: first! },
      { clientOrderId: 'other', venueOrderId: second! },
    ]) {
      const asked = venue.queryOrder(ref);
      await clock.advance(50);
      expect(await asked, JSON.stringify(ref)).toMatchObject({
        venueOrderId: second,
        status: 'PARTIALLY_FILLED',
        quantity: '0.3',
        price: '101',
      });
    }
    venue.trade('C1.1');
    await clock.advance(100);
    expect(replies.filter((r) => r.type === 'FILL').at(-1)).toMatchObject({
      clientOrderId: 'C1.1',
      venueOrderId: second,
      quantity: '0.2',
      price: '101',
    });
    const [v] = venue.venueOrders();
    expect(v).toMatchObject({
      clientOrderId: 'C1',
      venueOrderId: second,
      clientOrderIds: ['C1', 'C1.1'],
      venueOrderIds: [first, second],
      status: 'FILLED',
      filledQuantity: '0.3',
    });
    expect(v!.fills).toHaveLength(2);
    // The audit's per-order record stays under the original client order id.
    expect(venue.fillRecords()).toEqual([
      expect.objectContaining({ clientOrderId: 'C1', delivered: v!.fills.map((f) => f.venueFillId) }),
    ]);
  });

  it('replaces a replacement: the reply names the previous venue id and the newest modification id', async () => {
    const { venue, replies, modify } = quietVenue({ modifyMode: 'replace' });
    await venue.placeOrder(order('C1'));
    await modify({ clientOrderId: 'C1' }, 'C1.1', { quantity: '0.4' });
    const [once] = venue.venueOrders();
    await modify({ clientOrderId: 'C1' }, 'C1.2', { quantity: '0.6' });
    const [twice] = venue.venueOrders();
    expect(replies.filter((r) => r.type === 'MODIFIED').at(-1)).toMatchObject({
      clientOrderId: 'C1.2',
      venueOrderId: once!.venueOrderId,
      newVenueOrderId: twice!.venueOrderId,
      quantity: '0.6',
    });
    expect(twice!.clientOrderIds).toEqual(['C1', 'C1.1', 'C1.2']);
    expect(new Set(twice!.venueOrderIds).size).toBe(3);
  });

  it('refuses to modify an order that is filled, cancelled or unknown, and changes nothing', async () => {
    for (const mode of ['amend', 'replace'] as const) {
      const { venue, replies, modify, clock } = quietVenue({ modifyMode: mode });
      await venue.placeOrder(order('F1'));
      venue.trade('F1');
      await venue.placeOrder(order('X1'));
      await venue.cancelOrder({ clientOrderId: 'X1' });
      await clock.advance(100);
      const before = venue.venueOrders();
      const filled = await modify({ clientOrderId: 'F1' }, 'F1.1', { quantity: '1' });
      const cancelled = await modify({ clientOrderId: 'X1' }, 'X1.1', { price: '90' });
      const unknown = await modify({ clientOrderId: 'U1' }, 'U1.1', { price: '90' });
      for (const [outcome, reason] of [
        [filled, 'order is FILLED'],
        [cancelled, 'order is CANCELLED'],
        [unknown, 'unknown order'],
      ] as const) {
        expect(outcome, mode).toMatchObject({ error: { name: 'PlacementRejectedError', reason } });
      }
      const rejected = replies.filter((r) => r.type === 'MODIFY_REJECTED');
      expect(rejected.map((r) => [r.clientOrderId, r.reason])).toEqual(
        mode === 'amend'
          ? [
              ['F1', 'order is FILLED'],
              ['X1', 'order is CANCELLED'],
              ['U1', 'unknown order'],
            ]
          : [
              ['F1.1', 'order is FILLED'],
              ['X1.1', 'order is CANCELLED'],
              ['U1.1', 'unknown order'],
            ],
      );
      expect(rejected.map((r) => r.venueOrderId)).toEqual([
        before[0]!.venueOrderId,
        before[1]!.venueOrderId,
        undefined,
      ]);
      expect(venue.venueOrders(), 'a refused modify changes nothing').toEqual(before);
      expect(venue.stats()).toMatchObject({ modifies: 3, modifiesRefused: 3 });
    }
    // Without the answer in the call's result, the refusal is only on the stream.
    const { venue, modify } = quietVenue({ ackInResultRate: 0 });
    expect(await modify({ clientOrderId: 'U1' }, 'U1.1', { price: '90' })).toEqual({ ok: {} });
    expect(venue.stats().modifiesRefused).toBe(1);
  });

  it('ends the order FILLED with quantity = filled when the new quantity is at or below the filled quantity (FIX D11, D12)', async () => {
    for (const mode of ['amend', 'replace'] as const) {
      const { venue, replies, modify, clock } = quietVenue({ modifyMode: mode });
      await venue.placeOrder(order('EQ'));
      await venue.placeOrder(order('BELOW'));
      venue.trade('EQ', '0.2');
      venue.trade('BELOW', '0.2');
      expect(await modify({ clientOrderId: 'EQ' }, 'EQ.1', { quantity: '0.2' })).toMatchObject({
        ok: { modified: true },
      });
      expect(await modify({ clientOrderId: 'BELOW' }, 'BELOW.1', { quantity: '0.1', price: '99' })).toMatchObject({
        ok: { modified: true },
      });
      const modified = replies.filter((r) => r.type === 'MODIFIED');
      expect(modified.map((r) => r.quantity)).toEqual(['0.2', '0.2']);
      for (const v of venue.venueOrders()) {
        expect(v, `${mode} ${v.clientOrderId}`).toMatchObject({
          status: 'FILLED',
          quantity: '0.2',
          filledQuantity: '0.2',
        });
        expect(() => venue.trade(v.clientOrderId), 'no more fills').toThrow(/not working/);
      }
      const asked = venue.queryOrder({ clientOrderId: 'BELOW' });
      await clock.advance(50);
      expect(await asked).toMatchObject({ status: 'FILLED', quantity: '0.2', price: '99' });
    }
  });

  it('trades a resting LIMIT order at once when its new price crosses the reference price', async () => {
    const clock = createManualClock(0);
    const venue = createSimulatedExchange({ clock, rejectRate: 0, fillProbability: 0, partialFillRate: 0 });
    const replies: ExchangeReply[] = [];
    venue.onReply!((r) => replies.push(r));
    await venue.placeOrder(order('B1'));
    await venue.placeOrder(order('S1', { side: 'SELL' }));
    await clock.advance(100);
    const below = outcomeOf(venue.modifyOrder!({ clientOrderId: 'B1', modificationId: 'B1.1' }, { price: '99.5' }));
    const through = outcomeOf(venue.modifyOrder!({ clientOrderId: 'S1', modificationId: 'S1.1' }, { price: '99.5' }));
    await clock.advance(100);
    await Promise.all([below, through]);
    const [b, s] = venue.venueOrders();
    expect(b).toMatchObject({ status: 'OPEN', price: '99.5', fills: [] });
    expect(s).toMatchObject({ status: 'FILLED', price: '99.5', filledQuantity: '0.3' });
    expect(s!.fills.map((f) => f.price)).toEqual(['99.5']);
    expect(replies.filter((r) => r.type === 'FILL')).toHaveLength(1);
  });

  it('is deterministic with modifies: the same seed gives the same replies, results and truth', async () => {
    const session = async (seed: number, modifyMode: 'amend' | 'replace') => {
      const clock = createManualClock(0);
      const faults = { dropRate: 0.1, duplicateRate: 0.2, reorderRate: 0.2, delayRate: 0.1, placeErrorRate: 0.1 };
      const venue = createSimulatedExchange({ clock, seed, faults, modifyMode });
      const replies: ExchangeReply[] = [];
      venue.onReply!((r) => replies.push(r));
      for (let i = 0; i < 40; i++) await venue.placeOrder(order(`C${i}`)).catch(() => undefined);
      await clock.advance(300);
      const results = [];
      for (let i = 0; i < 40; i++) {
        const changes = i % 2 === 0 ? { price: '100.5' } : { quantity: i % 4 === 1 ? '0.1' : '0.6' };
        results.push(outcomeOf(venue.modifyOrder!({ clientOrderId: `C${i}`, modificationId: `C${i}.1` }, changes)));
        await clock.advance(7);
      }
      await clock.advance(10_000);
      const settled = (await Promise.all(results)).map((o) => ('ok' in o ? o.ok : String(o.error)));
      return { replies, settled, truth: venue.venueOrders() };
    };
    for (const mode of ['amend', 'replace'] as const) {
      const a = await session(21, mode);
      expect(a.replies.some((r) => r.type === 'MODIFIED')).toBe(true);
      expect(a.replies.some((r) => r.type === 'MODIFY_REJECTED')).toBe(true);
      expect(await session(21, mode)).toEqual(a);
      expect((await session(22, mode)).replies).not.toEqual(a.replies);
    }
  });

  it('puts MODIFIED and the call result through the faults at the configured rates', async () => {
    const n = 2_000;
    const clock = createManualClock(0);
    const venue = createSimulatedExchange({ clock, seed: 4, autoMatch: false, ackInResultRate: 0.5 });
    const arrivals = new Map<string, number[]>();
    venue.onReply!((r) => {
      if (r.type === 'MODIFIED')
        arrivals.set(r.clientOrderId!, [...(arrivals.get(r.clientOrderId!) ?? []), clock.now()]);
    });
    for (let i = 0; i < n; i++) await venue.placeOrder(order(`C${i}`));
    venue.setFaults({ dropRate: 0.2, duplicateRate: 0.3, delayRate: 0.25, delayMsMax: 5_000, placeErrorRate: 0.1 });
    const results = [];
    for (let i = 0; i < n; i++) {
      results.push(
        outcomeOf(venue.modifyOrder!({ clientOrderId: `C${i}`, modificationId: `C${i}.1` }, { price: '99' })),
      );
    }
    await clock.advance(20_000);
    const outcomes = await Promise.all(results);
    const applied = venue.venueOrders().filter((v) => v.modifications === 1).length;
    const lost = outcomes.filter((o) => 'error' in o).length;
    const confirmed = outcomes.filter((o) => 'ok' in o && o.ok.modified === true).length;
    const copies = [...arrivals.values()].map((t) => t.length);
    // Latency is 1..20 ms each way: a first copy later than 40 ms after the call was delayed.
    const late = [...arrivals.values()].filter((t) => Math.min(...t) > 40).length;
    // Each share is within about 3.5 standard deviations of its rate (n = 2,000; the seed is fixed).
    const near = (count: number, of: number, rate: number) =>
      expect(Math.abs(count / of - rate), `${count} of ${of}, rate ${rate}`).toBeLessThan(0.035);
    expect(outcomes.every((o) => 'ok' in o || o.error.name !== 'PlacementRejectedError')).toBe(true);
    near(lost, n, 0.1); // the call's result is lost (placeErrorRate)...
    near(n - applied, n, 0.05); // ...half of those before the venue heard of the modify
    near(confirmed, n - lost, 0.5); // ackInResultRate
    near(applied - arrivals.size, applied, 0.2); // dropRate
    near(copies.filter((c) => c === 2).length, arrivals.size, 0.3); // duplicateRate
    near(late, arrivals.size, 0.25); // delayRate
    expect(venue.stats().modifies).toBe(n);
  });
});
