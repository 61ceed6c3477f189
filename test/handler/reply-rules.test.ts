/**
 * The rules under the state table for replies: exact repeats, fill deduplication and conflicts,
 * routing by client or venue id, held replies, unknown orders, malformed input, late replies for
 * released orders, and a failed ledger write changing nothing. Each through the real handler.
 */
import { describe, expect, it } from 'vitest';

import type { LedgerWrite, StrategyLedger } from '../../src/ledger/types.js';
import { TIMING, harness, testLedger } from '../support/harness.js';

const fill = (
  id: string,
  venueFillId: string,
  quantity: string,
  price = '100',
  extra: Record<string, unknown> = {},
) => ({
  type: 'FILL',
  clientOrderId: id,
  venueFillId,
  quantity,
  price,
  at: 5,
  ...extra,
});

describe('duplicates and conflicts', () => {
  it('an exact repeat of any handled reply is a duplicate and records nothing', async () => {
    const h = await harness();
    const id = await h.place();
    const replies = [
      { type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 },
      fill(id, 'F1', '0.5'),
      { type: 'CANCELLED', clientOrderId: id, at: 9 },
    ];
    for (const r of replies) {
      expect((await h.reply(r)).outcome).toBe('applied');
      const transitions = (await h.ledger.getTransitions(id)).length;
      const events = h.events.length;
      expect(await h.reply(structuredClone(r))).toMatchObject({ outcome: 'duplicate', orderId: id });
      expect((await h.ledger.getTransitions(id)).length).toBe(transitions);
      expect(h.events.length).toBe(events);
    }
    expect(await h.ledger.getAnomalies()).toEqual([]);
  });

  it('a fill is applied once per venueFillId, even when it comes back with another `at` or through another id', async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    await h.reply(fill(id, 'F1', '0.4'));
    expect(await h.reply({ ...fill(id, 'F1', '0.40'), at: 99 })).toMatchObject({ outcome: 'duplicate' });
    const { clientOrderId: _c, ...byVenue } = fill(id, 'F1', '0.4', '100.0');
    expect(await h.reply({ ...byVenue, venueOrderId: 'V1', at: 100 })).toMatchObject({ outcome: 'duplicate' });
    expect(h.handler.order(id)!.filledQuantity).toBe('0.4');
    expect((await h.ledger.getOrder(id))!.fills).toHaveLength(1);
  });

  it('a known fill may fill in a missing commission, and is still a duplicate', async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply(fill(id, 'F1', '0.4'));
    const out = await h.reply(fill(id, 'F1', '0.4', '100', { commission: '0.04', commissionAsset: 'USDT', at: 6 }));
    expect(out).toMatchObject({ outcome: 'duplicate' });
    expect(h.handler.order(id)!.fills[0]).toMatchObject({ commission: '0.04', commissionAsset: 'USDT' });
    expect((await h.ledger.getOrder(id))!.fills[0]).toMatchObject({ commission: '0.04' });
    expect(h.handler.order(id)!.filledQuantity).toBe('0.4');
  });

  it('the same venueFillId with another quantity or price is not applied: CONFLICTING_FILL', async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply(fill(id, 'F1', '0.4'));
    expect(await h.reply(fill(id, 'F1', '0.5'))).toEqual({
      outcome: 'anomaly',
      anomaly: 'CONFLICTING_FILL',
      orderId: id,
    });
    expect(await h.reply(fill(id, 'F1', '0.4', '101'))).toEqual({
      outcome: 'anomaly',
      anomaly: 'CONFLICTING_FILL',
      orderId: id,
    });
    expect(h.handler.order(id)!.filledQuantity).toBe('0.4');
    const kinds = (await h.ledger.getAnomalies()).map((a) => a.kind);
    expect(kinds).toEqual(['CONFLICTING_FILL', 'CONFLICTING_FILL']);
  });

  it('a fill beyond the quantity is applied, FILLED, with an OVERFILL anomaly', async () => {
    const h = await harness();
    const id = await h.place();
    expect(await h.reply(fill(id, 'F1', '1.5'))).toEqual({ outcome: 'applied', orderId: id, status: 'FILLED' });
    expect(h.handler.order(id)).toMatchObject({ filledQuantity: '1.5', leavesQuantity: '0' });
    expect((await h.ledger.getAnomalies()).map((a) => a.kind)).toEqual(['OVERFILL']);
  });

  it('decimal quantities are exact: fills of 0.1 and 0.2 complete an order of 0.3', async () => {
    const h = await harness();
    const id = await h.place({ symbol: 'ETH_USDT', side: 'SELL', type: 'LIMIT', quantity: '0.3', price: '3000.10' });
    await h.reply(fill(id, 'F1', '0.1', '3000.10'));
    expect(h.status(id)).toBe('PARTIALLY_FILLED');
    expect(h.handler.order(id)!.leavesQuantity).toBe('0.2');
    await h.reply(fill(id, 'F2', '0.2', '3000.40'));
    expect(h.handler.order(id)).toMatchObject({
      status: 'FILLED',
      filledQuantity: '0.3',
      leavesQuantity: '0',
      averagePrice: '3000.3',
    });
    expect(await h.ledger.getAnomalies()).toEqual([]);
  });
});

describe('routing', () => {
  it('a reply naming only a known venue id reaches its order', async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V7', at: 1 });
    expect(
      await h.reply({ type: 'FILL', venueOrderId: 'V7', venueFillId: 'F1', quantity: '1', price: '1', at: 2 }),
    ).toMatchObject({
      outcome: 'applied',
      orderId: id,
      status: 'FILLED',
    });
  });

  it('a reply naming an unknown venue id is held until the ACCEPTED revealing it, then applied in order', async () => {
    const h = await harness();
    const id = await h.place();
    expect(
      await h.reply({ type: 'FILL', venueOrderId: 'V7', venueFillId: 'F1', quantity: '0.5', price: '1', at: 2 }),
    ).toEqual({
      outcome: 'held',
      venueOrderId: 'V7',
    });
    expect(
      await h.reply({ type: 'FILL', venueOrderId: 'V7', venueFillId: 'F2', quantity: '0.5', price: '1', at: 3 }),
    ).toMatchObject({ outcome: 'held' });
    expect(h.status(id)).toBe('PENDING');
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V7', at: 1 });
    await h.handler.settle();
    expect(h.status(id)).toBe('FILLED');
    expect(h.handler.order(id)!.fills.map((f) => f.venueFillId)).toEqual(['F1', 'F2']);
    expect(await h.ledger.getAnomalies()).toEqual([]);
  });

  it('held replies whose venue id is never revealed become UNKNOWN_ORDER after the ack timeout; a later pairing asks the venue', async () => {
    const h = await harness();
    const id = await h.place();
    h.venue.defaultQuery = 'fail';
    await h.advance(500);
    await h.reply({ type: 'FILL', venueOrderId: 'V8', venueFillId: 'F1', quantity: '0.5', price: '1', at: 2 });
    await h.advance(TIMING.ackTimeoutMs - 1);
    expect(h.status(id)).toBe('TIMED_OUT');
    expect(await h.ledger.getAnomalies()).toEqual([]);
    await h.advance(1);
    const anomalies = await h.ledger.getAnomalies();
    expect(anomalies.map((a) => a.kind)).toEqual(['UNKNOWN_ORDER']);
    expect(anomalies[0]!.reply).toMatchObject({ venueFillId: 'F1', venueOrderId: 'V8' });
    const queries = h.venue.queriesFor(id).length;
    h.venue.defaultQuery = {
      venueOrderId: 'V8',
      status: 'PARTIALLY_FILLED',
      fills: [{ venueFillId: 'F1', quantity: '0.5', price: '1', at: 2 }],
    };
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V8', at: 1 });
    await h.handler.settle();
    expect(h.venue.queriesFor(id).length).toBe(queries + 1);
    expect(h.handler.order(id)).toMatchObject({ status: 'CANCEL_PENDING', filledQuantity: '0.5' });
  });

  it('a reply whose clientOrderId this handler never sent is UNKNOWN_ORDER at once, even when it names a known venue id', async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    const out = await h.reply({
      type: 'FILL',
      clientOrderId: 'ORD_20260102_030405_00000000',
      venueOrderId: 'V1',
      venueFillId: 'F1',
      quantity: '1',
      price: '1',
      at: 2,
    });
    expect(out).toEqual({ outcome: 'anomaly', anomaly: 'UNKNOWN_ORDER' });
    expect(h.status(id)).toBe('OPEN');
    expect((await h.ledger.getAnomalies())[0]).toMatchObject({ kind: 'UNKNOWN_ORDER', strategyId: 'S1' });
  });

  it('a reply naming both ids teaches the pairing; a later contradicting venue id is LATE_REPLY', async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply({
      type: 'FILL',
      clientOrderId: id,
      venueOrderId: 'V3',
      venueFillId: 'F1',
      quantity: '0.2',
      price: '1',
      at: 2,
    });
    expect(h.handler.order(id)!.venueOrderId).toBe('V3');
    expect(
      await h.reply({ type: 'FILL', venueOrderId: 'V3', venueFillId: 'F2', quantity: '0.2', price: '1', at: 3 }),
    ).toMatchObject({ outcome: 'applied', orderId: id });
    expect(await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V4', at: 4 })).toEqual({
      outcome: 'anomaly',
      anomaly: 'LATE_REPLY',
      orderId: id,
    });
    expect(h.handler.order(id)!.venueOrderId).toBe('V3');
  });

  it('a late fill for a final order whose actor was released is still applied and recorded', async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    await h.reply({ type: 'CANCELLED', clientOrderId: id, at: 2 });
    expect(h.handler.stats().liveActors).toBe(0);
    expect(
      await h.reply({ type: 'FILL', venueOrderId: 'V1', venueFillId: 'F1', quantity: '0.3', price: '1', at: 3 }),
    ).toEqual({
      outcome: 'applied',
      orderId: id,
      status: 'CANCELLED',
    });
    expect((await h.ledger.getOrder(id))!.filledQuantity).toBe('0.3');
    expect(h.handler.stats().liveActors).toBe(0);
  });

  it('the repeat of a reply that only raised an anomaly, for an order released from memory, is a duplicate (regression)', async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply({ type: 'REJECTED', clientOrderId: id, reason: 'risk', at: 1 });
    const late = { type: 'REJECTED', clientOrderId: id, reason: 'risk', at: 2 };
    expect(await h.reply(late)).toEqual({ outcome: 'anomaly', anomaly: 'LATE_REPLY', orderId: id });
    expect(h.handler.stats().liveActors).toBe(0);
    expect(await h.reply(late)).toEqual({ outcome: 'duplicate', orderId: id, status: 'REJECTED' });
    expect((await h.ledger.getAnomalies()).length).toBe(1);
  });

  it('an exact repeat is recognised after the order was reloaded from the ledger', async () => {
    const ledger = testLedger();
    const h = await harness({
      ledger,
      cache: (await import('../../src/cache.js')).createStrategyCache({ retainFinal: 0 }),
    });
    const id = await h.place();
    const cancelled = { type: 'CANCELLED', clientOrderId: id, at: 2 };
    await h.reply(cancelled);
    expect(h.handler.order(id)).toBeUndefined(); // evicted from the cache, released from memory
    expect(await h.reply(cancelled)).toEqual({ outcome: 'duplicate', orderId: id, status: 'CANCELLED' });
    expect(await ledger.getAnomalies()).toEqual([]);
  });
});

describe('bad input', () => {
  /** A malformed reply, the field its reason must name, and how it is stored when not as it came. */
  const bad: [string, unknown, RegExp, unknown?][] = [
    ['null', null, /expected object/],
    ['a string', 'FILL', /expected object/],
    ['an array', [], /expected object/],
    ['unknown type', { type: 'PARTIAL', clientOrderId: 'X', at: 1 }, /^type:/],
    ['no ids', { type: 'CANCELLED', at: 1 }, /^clientOrderId:.*venueOrderId/],
    [
      'negative quantity',
      { type: 'FILL', clientOrderId: 'X', venueFillId: 'F', quantity: '-1', price: '1', at: 1 },
      /^quantity:/,
    ],
    [
      'zero quantity',
      { type: 'FILL', clientOrderId: 'X', venueFillId: 'F', quantity: '0', price: '1', at: 1 },
      /^quantity:/,
    ],
    [
      'number quantity',
      { type: 'FILL', clientOrderId: 'X', venueFillId: 'F', quantity: 1, price: '1', at: 1 },
      /^quantity:/,
    ],
    [
      'NaN quantity',
      { type: 'FILL', clientOrderId: 'X', venueFillId: 'F', quantity: 'NaN', price: '1', at: 1 },
      /^quantity:/,
    ],
    [
      'exponent quantity',
      { type: 'FILL', clientOrderId: 'X', venueFillId: 'F', quantity: '1e400', price: '1', at: 1 },
      /^quantity:/,
    ],
    ['missing venueFillId', { type: 'FILL', clientOrderId: 'X', quantity: '1', price: '1', at: 1 }, /^venueFillId:/],
    // NaN has no JSON form: it is kept as the string 'NaN' rather than lost as null.
    [
      'NaN at',
      { type: 'EXPIRED', clientOrderId: 'X', at: Number.NaN },
      /^at:/,
      { type: 'EXPIRED', clientOrderId: 'X', at: 'NaN' },
    ],
    ['ACCEPTED without venue id', { type: 'ACCEPTED', clientOrderId: 'X', at: 1 }, /^venueOrderId:/],
    ['REJECTED without reason', { type: 'REJECTED', clientOrderId: 'X', at: 1 }, /^reason:/],
    ['empty client id', { type: 'EXPIRED', clientOrderId: '', at: 1 }, /^clientOrderId:/],
  ];

  it.each(bad)(
    '%s: MALFORMED_REPLY recorded with a reason naming what is wrong and the raw reply as it came (JSON-safe), no order changed',
    async (_name, raw, reason, stored = raw) => {
      const h = await harness();
      const id = await h.place();
      const before = h.handler.order(id);
      const out = await h.reply(raw as Record<string, unknown>);
      expect(out).toEqual({ outcome: 'anomaly', anomaly: 'MALFORMED_REPLY' });
      const anomalies = await h.ledger.getAnomalies();
      expect(anomalies).toHaveLength(1);
      const [a] = anomalies;
      expect(a!.kind).toBe('MALFORMED_REPLY');
      expect(a!.reason).toMatch(reason);
      expect(a!.reply, 'the raw reply is recorded as it came').toEqual(stored);
      expect(JSON.parse(JSON.stringify(a)), 'the anomaly record is JSON-safe').toEqual(a);
      expect(h.handler.order(id)).toBe(before);
    },
  );

  it('hostile objects (throwing getters, circular, huge, prototype keys) never make onExchangeReply throw; each is recorded JSON-safe, the huge one truncated', async () => {
    const h = await harness();
    const id = await h.place();
    const circular: Record<string, unknown> = { type: 'FILL' };
    circular.self = circular;
    const throwing = Object.defineProperty({}, 'type', {
      get: () => {
        throw new Error('boom');
      },
      enumerable: true,
    });
    const polluting = JSON.parse(`{"type":"CANCELLED","clientOrderId":"${id}","at":1,"__proto__":{"polluted":true}}`);
    const huge = { type: 'REJECTED', clientOrderId: id, reason: 'x'.repeat(100_000), at: 1 };
    for (const raw of [circular, throwing, huge, 10n, () => 1, Symbol('s')]) {
      await expect(h.handler.onExchangeReply(raw)).resolves.toMatchObject({
        outcome: 'anomaly',
        anomaly: 'MALFORMED_REPLY',
      });
    }
    // The prototype key is dropped by the schema; the reply itself is valid and applies.
    await expect(h.handler.onExchangeReply(polluting)).resolves.toMatchObject({
      outcome: 'applied',
      status: 'CANCELLED',
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const anomalies = await h.ledger.getAnomalies();
    expect(anomalies).toHaveLength(6);
    expect(JSON.parse(JSON.stringify(anomalies)), 'every record is JSON-safe').toEqual(anomalies);
    expect(JSON.stringify(anomalies).length).toBeLessThan(20_000);
    // The huge reply is kept truncated, its beginning as it came.
    const kept = JSON.stringify(anomalies[2]!.reply);
    expect(kept.length).toBeLessThan(5_000);
    expect(kept).toContain('REJECTED');
    expect(kept).toContain(id);
    expect(kept).toContain('x'.repeat(500));
    expect(JSON.stringify(anomalies[0]!.reply)).toContain('FILL'); // the circular one, its cycle cut
  });
});

describe('a failed ledger write', () => {
  /** A memory ledger whose next commit fails when `failNext` is set. */
  function flakyLedger(): StrategyLedger & { failNext: boolean } {
    const inner = testLedger();
    const flaky = Object.assign(Object.create(inner) as StrategyLedger, { failNext: false }) as StrategyLedger & {
      failNext: boolean;
    };
    flaky.commit = async (writes: readonly LedgerWrite[]) => {
      if (flaky.failNext) {
        flaky.failNext = false;
        throw new Error('SQLITE_FULL: disk full');
      }
      return inner.commit(writes);
    };
    return flaky;
  }

  it('a reply whose write fails changes nothing and rejects; delivering it again applies it once', async () => {
    const ledger = flakyLedger();
    const h = await harness({ ledger });
    const id = await h.place();
    const r = { type: 'FILL', clientOrderId: id, venueFillId: 'F1', quantity: '0.5', price: '1', at: 2 };
    ledger.failNext = true;
    await expect(h.handler.onExchangeReply(r)).rejects.toThrow('disk full');
    expect(h.status(id)).toBe('PENDING');
    expect(h.handler.order(id)!.fills).toEqual([]);
    expect(await ledger.getTransitions(id)).toEqual([]);
    expect(await h.reply(r)).toEqual({ outcome: 'applied', orderId: id, status: 'PARTIALLY_FILLED' });
    expect(await h.reply(r)).toMatchObject({ outcome: 'duplicate' });
    expect(h.handler.order(id)!.filledQuantity).toBe('0.5');
    expect((await ledger.getTransitions(id)).map((t) => t.seq)).toEqual([1]);
  });

  it('execute() rejects with the ledger error, places nothing, and running it again places the orders once', async () => {
    const ledger = flakyLedger();
    const h = await harness({ ledger });
    const d = (await import('../support/harness.js')).directive();
    ledger.failNext = true;
    await expect(h.handler.execute(d)).rejects.toThrow('disk full');
    expect(h.venue.placed).toEqual([]);
    const first = await h.handler.execute(d);
    const second = await h.handler.execute(d);
    await h.handler.settle();
    expect(second).toEqual(first);
    expect(h.venue.placed.map((p) => p.clientOrderId)).toEqual(first.orderIds);
  });
});
