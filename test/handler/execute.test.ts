/**
 * execute() and the directive level: validation before anything happens, OrderID minting and
 * uniqueness, the causality chain extended by copy, write-ahead order (ledger before venue),
 * idempotency per directiveId, the three batch modes, cancelAll, recovery and reconnection.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { ValidationError } from '../../src/errors.js';
import { createExecutionHandler } from '../../src/handler/create.js';

import type { ExecutionDirective, OrderRequest } from '../../src/types.js';
import { ScriptedVenue, T0, TIMING, chain, directive, harness, limit, testLedger } from '../support/harness.js';

const market = (quantity = '1'): OrderRequest => ({ symbol: 'ETH_USDT', side: 'SELL', type: 'MARKET', quantity });

describe('validation', () => {
  const cases: [string, string, (d: ExecutionDirective) => unknown][] = [
    ['missing directiveId', 'directiveId', ({ directiveId: _d, ...rest }) => rest],
    ['no orders', 'orders', (d) => ({ ...d, orders: [] })],
    ['LIMIT without price', 'orders[1].price', (d) => ({ ...d, orders: [limit(), { ...market(), type: 'LIMIT' }] })],
    [
      'STOP_LIMIT without stopPrice',
      'orders[0].stopPrice',
      (d) => ({ ...d, orders: [{ ...limit(), type: 'STOP_LIMIT' }] }),
    ],
    ['negative quantity', 'orders[0].quantity', (d) => ({ ...d, orders: [limit('-1')] })],
    ['zero quantity', 'orders[0].quantity', (d) => ({ ...d, orders: [limit('0')] })],
    ['non-numeric quantity', 'orders[0].quantity', (d) => ({ ...d, orders: [limit('lots')] })],
    ['number quantity', 'orders[0].quantity', (d) => ({ ...d, orders: [{ ...limit(), quantity: 1 }] })],
    ['bad side', 'orders[0].side', (d) => ({ ...d, orders: [{ ...limit(), side: 'HOLD' }] })],
    ['bad mode', 'mode', (d) => ({ ...d, mode: 'PARALLEL' })],
    ['no causality', 'causality', ({ causality: _c, ...rest }) => rest],
    [
      'bad origin type',
      'causality.origin.type',
      (d) => ({ ...d, causality: { ...d.causality, origin: { id: 'x', type: 'RUMOUR' } } }),
    ],
    ['orderIds not an array', 'causality.orderIds', (d) => ({ ...d, causality: { ...d.causality, orderIds: 'ORD' } })],
  ];
  it.each(cases)('%s: ValidationError naming %s, nothing recorded or placed', async (_name, path, mutate) => {
    const h = await harness();
    const err = await h.handler.execute(mutate(directive()) as ExecutionDirective).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).name).toBe('ValidationError');
    expect((err as ValidationError).path).toBe(path);
    expect((err as Error).message).toContain(path);
    expect(h.venue.placed).toEqual([]);
    expect(h.events).toEqual([]);
  });

  it('bad handler options are rejected clearly', async () => {
    const ledger = testLedger();
    const venue = new ScriptedVenue(ledger);
    await expect(createExecutionHandler({ strategyId: '', connector: venue, ledger })).rejects.toThrow(/strategyId/);
    await expect(
      createExecutionHandler({ strategyId: 'S', connector: venue, ledger, ackTimeoutMs: -1 }),
    ).rejects.toThrow(/ackTimeoutMs/);
  });
});

describe('ids and causality', () => {
  it('mints unique OrderIDs in one second even from a constant random source, appended to a copy of the chain', async () => {
    const h = await harness({ random: () => 0.5 });
    const input = directive(Array.from({ length: 50 }, () => limit()));
    const frozen = structuredClone(input);
    const { orderIds, causality } = await h.handler.execute(input);
    expect(new Set(orderIds).size).toBe(50);
    for (const id of orderIds) expect(id).toMatch(/^ORD_20260102_030405_[0-9a-f]{8}$/);
    expect(orderIds[0]).toBe('ORD_20260102_030405_80000000');
    expect(causality.orderIds).toEqual(orderIds);
    expect(causality.signalIds).toEqual(['SIG_1']);
    expect(input).toEqual(frozen); // the engine's chain is never mutated
    expect(h.handler.order(orderIds[0]!)!.causality).toEqual(causality);
  });

  it('keeps ids already in the chain and appends after them', async () => {
    const h = await harness();
    const d = { ...directive([limit(), limit()]), causality: chain({ orderIds: ['ORD_20250101_000000_00000001'] }) };
    const { orderIds, causality } = await h.handler.execute(d);
    expect(causality.orderIds).toEqual(['ORD_20250101_000000_00000001', ...orderIds]);
  });

  it('OrderIDs are unique within a ledger across handler restarts in the same second', async () => {
    const ledger = testLedger();
    const a = await harness({ ledger, random: () => 0.25 });
    const first = await a.handler.execute(directive([limit(), limit()]));
    await a.handler.stop();
    const b = await harness({ ledger, random: () => 0.25 });
    const second = await b.handler.execute(directive([limit()]));
    expect(first.orderIds).not.toContain(second.orderIds[0]);
  });
});

describe('write-ahead and idempotency', () => {
  it('every order is durable in the ledger before the venue hears of it, ORDER_PLACED per order in one commit', async () => {
    const h = await harness();
    const { orderIds } = await h.handler.execute(directive([limit(), market(), limit('2')]));
    await h.handler.settle();
    expect(h.venue.placed.map((p) => p.clientOrderId)).toEqual(orderIds);
    expect(h.venue.callsBeforeRecord).toEqual([]);
    expect(h.events.map((e) => [e.eventType, e.orderId, e.status])).toEqual(
      orderIds.map((id) => ['ORDER_PLACED', id, 'PENDING']),
    );
  });

  it('executing the same directive again returns the same ids and places nothing new', async () => {
    const h = await harness();
    const d = directive([limit(), limit()]);
    const a = await h.handler.execute(d);
    const b = await h.handler.execute(structuredClone(d));
    const [c, e] = await Promise.all([h.handler.execute(d), h.handler.execute(d)]);
    await h.handler.settle();
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(e).toEqual(a);
    expect(h.venue.placed).toHaveLength(2);
  });

  it('idempotency survives a restart: a new handler on the same ledger returns the same ids', async () => {
    const ledger = testLedger();
    const d = directive([limit(), limit()]);
    const a = await harness({ ledger });
    const first = await a.handler.execute(d);
    await a.handler.stop();
    const b = await harness({ ledger });
    expect(await b.handler.execute(d)).toEqual(first);
    await b.handler.settle();
    expect(b.venue.placed).toEqual([]);
  });
});

describe('batch modes', () => {
  it('COORDINATED: a REJECTED order cancels the others still working', async () => {
    const h = await harness();
    const { orderIds } = await h.handler.execute(directive([limit(), limit(), limit()], 'COORDINATED'));
    await h.advance(0);
    const [a, b, c] = orderIds as [string, string, string];
    await h.reply({ type: 'ACCEPTED', clientOrderId: b, venueOrderId: 'VB', at: 1 });
    await h.reply({ type: 'FILL', clientOrderId: c, venueFillId: 'F1', quantity: '1', price: '1', at: 1 });
    await h.reply({ type: 'REJECTED', clientOrderId: a, reason: 'risk', at: 2 });
    await h.handler.settle();
    expect([h.status(a), h.status(b), h.status(c)]).toEqual(['REJECTED', 'CANCEL_PENDING', 'FILLED']);
    expect(h.venue.cancelsFor(b)).toHaveLength(1);
    expect((await h.ledger.getTransitions(b)).at(-1)!.cause).toBe('coordinated');
  });

  it('COORDINATED: a TIMED_OUT order cancels the others', async () => {
    const h = await harness();
    const { orderIds } = await h.handler.execute(directive([limit(), limit()], 'COORDINATED'));
    const [a, b] = orderIds as [string, string];
    await h.advance(0);
    await h.reply({ type: 'ACCEPTED', clientOrderId: b, venueOrderId: 'VB', at: 1 });
    h.venue.queryScript.set(a, [null]);
    h.venue.defaultQuery = 'hang';
    await h.advance(TIMING.ackTimeoutMs);
    await h.advance(0);
    expect([h.status(a), h.status(b)]).toEqual(['TIMED_OUT', 'CANCEL_PENDING']);
  });

  it('INDEPENDENT: a rejection leaves the others alone', async () => {
    const h = await harness();
    const { orderIds } = await h.handler.execute(directive([limit(), limit()]));
    await h.reply({ type: 'REJECTED', clientOrderId: orderIds[0], reason: 'risk', at: 2 });
    await h.handler.settle();
    expect(h.status(orderIds[1]!)).toBe('PENDING');
  });

  it('SEQUENTIAL: the next order is recorded and placed only after the previous is FILLED', async () => {
    const h = await harness();
    const { orderIds, causality } = await h.handler.execute(directive([limit(), limit(), limit()], 'SEQUENTIAL'));
    const [a, b, c] = orderIds as [string, string, string];
    await h.advance(0);
    expect(causality.orderIds).toEqual(orderIds);
    expect(h.venue.placed.map((p) => p.clientOrderId)).toEqual([a]);
    expect(h.handler.order(b)).toBeUndefined();
    expect(await h.ledger.getOrder(b)).toBeUndefined();
    await h.reply({ type: 'FILL', clientOrderId: a, venueFillId: 'F1', quantity: '1', price: '1', at: 1 });
    await h.handler.settle();
    expect(h.venue.placed.map((p) => p.clientOrderId)).toEqual([a, b]);
    expect(h.status(b)).toBe('PENDING');
    await h.reply({ type: 'CANCELLED', clientOrderId: b, at: 2 });
    await h.handler.settle();
    // A cancelled order stops the directive for good, even if a fill crosses later.
    await h.reply({ type: 'FILL', clientOrderId: b, venueFillId: 'F2', quantity: '1', price: '1', at: 3 });
    await h.handler.settle();
    expect(h.status(b)).toBe('FILLED');
    expect(h.venue.placed.map((p) => p.clientOrderId)).toEqual([a, b]);
    expect(h.handler.order(c)).toBeUndefined();
    expect(await h.handler.cancel(c)).toBe(true); // it will never be placed
    expect(h.venue.placed).toHaveLength(2);
  });

  it('SEQUENTIAL: cancel() of an order not placed yet returns true and the directive stops before it', async () => {
    const h = await harness();
    const { orderIds } = await h.handler.execute(directive([limit(), limit()], 'SEQUENTIAL'));
    const [a, b] = orderIds as [string, string];
    expect(await h.handler.cancel(b)).toBe(true);
    await h.reply({ type: 'FILL', clientOrderId: a, venueFillId: 'F1', quantity: '1', price: '1', at: 1 });
    await h.handler.settle();
    expect(h.venue.placed.map((p) => p.clientOrderId)).toEqual([a]);
  });

  it('SEQUENTIAL: a TIMED_OUT order stops the directive', async () => {
    const h = await harness();
    h.venue.defaultQuery = null;
    const { orderIds } = await h.handler.execute(directive([limit(), limit()], 'SEQUENTIAL'));
    await h.advance(TIMING.ackTimeoutMs);
    await h.handler.settle();
    expect(h.status(orderIds[0]!)).toBe('TIMED_OUT');
    expect(h.venue.placed).toHaveLength(1);
  });
});

describe('cancelAll', () => {
  it('moves every working order to CANCEL_PENDING, cancels TIMED_OUT ones again, stops SEQUENTIAL directives', async () => {
    const h = await harness();
    const timedOut = await h.place();
    h.venue.defaultQuery = null;
    await h.advance(TIMING.ackTimeoutMs);
    h.venue.defaultQuery = 'hang';
    expect(h.status(timedOut)).toBe('TIMED_OUT');
    await h.advance(TIMING.queryIntervalMs);
    const pending = await h.place();
    const openId = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: openId, venueOrderId: 'V2', at: 1 });
    const filled = await h.place();
    await h.reply({ type: 'FILL', clientOrderId: filled, venueFillId: 'F', quantity: '1', price: '1', at: 1 });
    const seq = await h.handler.execute(directive([limit(), limit()], 'SEQUENTIAL'));
    await h.advance(0);
    const cancelled = await h.handler.cancelAll();
    await h.handler.settle();
    expect(new Set(cancelled)).toEqual(new Set([pending, openId, seq.orderIds[0]]));
    expect(h.venue.cancelsFor(timedOut)).toHaveLength(2);
    expect(h.status(filled)).toBe('FILLED');
    await h.reply({
      type: 'FILL',
      clientOrderId: seq.orderIds[0],
      venueFillId: 'FS',
      quantity: '1',
      price: '1',
      at: 2,
    });
    await h.handler.settle();
    expect(h.venue.placed.map((p) => p.clientOrderId)).not.toContain(seq.orderIds[1]);
  });
});

describe('recover() and reconcile()', () => {
  it('rebuilds open orders from the ledger and resolves them against the venue', async () => {
    const ledger = testLedger();
    const a = await harness({ ledger });
    const { orderIds } = await a.handler.execute(directive([limit(), limit(), limit(), limit()]));
    const [open, partial, unplaced, done] = orderIds as [string, string, string, string];
    await a.reply({ type: 'ACCEPTED', clientOrderId: open, venueOrderId: 'V1', at: 1 });
    await a.reply({
      type: 'FILL',
      clientOrderId: partial,
      venueOrderId: 'V2',
      venueFillId: 'F1',
      quantity: '0.5',
      price: '1',
      at: 1,
    });
    await a.reply({ type: 'FILL', clientOrderId: done, venueFillId: 'F9', quantity: '1', price: '1', at: 1 });
    await a.handler.stop(); // the process dies

    const clock = createManualClock(T0 + 500);
    const venue = new ScriptedVenue(ledger);
    venue.queryScript.set(open, [
      { venueOrderId: 'V1', status: 'FILLED', fills: [{ venueFillId: 'F3', quantity: '1', price: '2', at: 5 }] },
    ]);
    venue.queryScript.set(partial, [
      {
        venueOrderId: 'V2',
        status: 'PARTIALLY_FILLED',
        fills: [
          { venueFillId: 'F1', quantity: '0.5', price: '1', at: 1 },
          { venueFillId: 'F4', quantity: '0.25', price: '1', at: 6 },
        ],
      },
    ]);
    venue.queryScript.set(unplaced, [null]);
    const b = await createExecutionHandler({ strategyId: 'S1', connector: venue, ledger, clock, ...TIMING });
    const report = await b.recover();
    await b.settle();
    // 3 open orders restored; the one FILLED just before the crash is asked about too (lookback).
    expect(report).toMatchObject({ ordersRestored: 3, ordersQueried: 4, fillsLearnt: 2, ordersPlacedAgain: 1 });
    expect(b.order(open)).toMatchObject({ status: 'FILLED', filledQuantity: '1' });
    expect(b.order(partial)).toMatchObject({ status: 'PARTIALLY_FILLED', filledQuantity: '0.75' });
    expect(venue.placed.map((p) => p.clientOrderId)).toEqual([unplaced]);
    expect(b.order(done)!.status).toBe('FILLED');
    expect(b.stats().liveActors).toBe(2); // `open` became FILLED and `done` was final: no actors
    expect((await ledger.getOrder(partial))!.fills.map((f) => f.venueFillId)).toEqual(['F1', 'F4']);
  });

  it('a fill of an order that ended shortly before the crash, lost with the process, is learnt on recover', async () => {
    const ledger = testLedger();
    const a = await harness({ ledger });
    const id = await a.place();
    await a.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    await a.reply({ type: 'CANCELLED', clientOrderId: id, at: 3 }); // the FILL before it never arrived
    await a.handler.stop();
    const venue = new ScriptedVenue(ledger);
    venue.defaultQuery = {
      venueOrderId: 'V1',
      status: 'CANCELLED',
      fills: [{ venueFillId: 'F1', quantity: '0.4', price: '1', at: 2 }],
    };
    const b = await createExecutionHandler({
      strategyId: 'S1',
      connector: venue,
      ledger,
      clock: createManualClock(T0 + 30_000),
      ...TIMING,
    });
    const report = await b.recover();
    expect(report).toMatchObject({ ordersRestored: 0, ordersQueried: 1, fillsLearnt: 1, anomalies: 0 });
    expect(b.order(id)).toMatchObject({ status: 'CANCELLED', filledQuantity: '0.4' });
    const late = await createExecutionHandler({
      strategyId: 'S1',
      connector: venue,
      ledger,
      clock: createManualClock(T0 + 120_000),
      ...TIMING,
    });
    expect((await late.recover()).ordersQueried).toBe(0); // beyond the 60 s lookback
  });

  it('a PENDING order the venue does not know after its ack deadline goes the ack-timeout way', async () => {
    const ledger = testLedger();
    const a = await harness({ ledger });
    const id = await a.place();
    await a.handler.stop();
    const venue = new ScriptedVenue(ledger);
    venue.defaultQuery = null;
    const b = await createExecutionHandler({
      strategyId: 'S1',
      connector: venue,
      ledger,
      clock: createManualClock(T0 + 5_000),
      ...TIMING,
    });
    await b.recover();
    await b.settle();
    expect(b.order(id)!.status).toBe('TIMED_OUT');
    expect(venue.placed).toEqual([]);
  });

  it('a reconnect of the connector triggers reconcile()', async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    h.venue.defaultQuery = {
      venueOrderId: 'V1',
      status: 'FILLED',
      fills: [{ venueFillId: 'F1', quantity: '1', price: '1', at: 2 }],
    };
    h.venue.reconnect();
    await h.handler.settle();
    expect(h.status(id)).toBe('FILLED');
  });

  it('a fill learnt by a query keeps the commission the venue reports with it', async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    const fill = { venueFillId: 'F1', quantity: '1', price: '1', at: 2, commission: '0.001', commissionAsset: 'BNB' };
    h.venue.defaultQuery = { venueOrderId: 'V1', status: 'FILLED', fills: [fill] };
    await h.handler.reconcile();
    await h.handler.settle();
    const [stored] = (await h.ledger.getOrder(id))!.fills;
    expect(stored).toMatchObject({ venueFillId: 'F1', commission: '0.001', commissionAsset: 'BNB' });
  });
});

describe('inspection and stop', () => {
  it('passes the XState inspection observer to every order actor', async () => {
    const seen: string[] = [];
    const h = await harness({ inspect: (e) => seen.push(e.type) });
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    expect(seen).toContain('@xstate.actor');
    expect(seen).toContain('@xstate.event');
    expect(seen).toContain('@xstate.snapshot');
  });

  it('stop() stops timers and refuses new work', async () => {
    const h = await harness();
    const id = await h.place();
    await h.handler.stop();
    await h.advance(TIMING.ackTimeoutMs * 3);
    expect(h.venue.queries).toEqual([]);
    await expect(h.handler.execute(directive())).rejects.toThrow(/stopped/);
    expect(h.status(id)).toBe('PENDING');
  });
});
