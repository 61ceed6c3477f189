/**
 * The throttle per venue: against a fake venue that records when each call reached it, on the
 * manual clock, it keeps every window of the budgets within its limit, sends waiting calls by
 * priority (cancel, query, modify, place), drops a placement whose order was cancelled or ended
 * while it waited, pauses the venue after a rate-limit answer for the time the venue gave, refuses
 * what a full queue cannot take as stated (a cancel never), and reports each wait before sending.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { type RateBudgets, binanceSpotBudgets } from '../../src/connector/rate-budgets.js';
import { binanceRetryAfterMsOf, defaultRetryAfterMs } from '../../src/connector/retry-after.js';
import { type ThrottledCall, throttleConnector } from '../../src/connector/throttle.js';
import type { ExchangeConnector } from '../../src/connector/types.js';
import { createWaitTally } from '../../src/connector/wait-tally.js';
import { PlacementRejectedError } from '../../src/errors.js';
import type { ExchangeReply } from '../../src/types.js';

const T0 = 1_700_000_000_000;

interface Sent {
  kind: string;
  id: string;
  at: number;
}

/** A venue that answers at once and records what reached it; `failNext` makes its next call throw. */
function fakeVenue(clock: { now(): number }, withModify = true) {
  const sent: Sent[] = [];
  const listeners: ((r: ExchangeReply) => void)[] = [];
  let failNext: unknown = null;
  const hit = (kind: string, id: string) => {
    sent.push({ kind, id, at: clock.now() });
    if (failNext !== null) {
      const err = failNext;
      failNext = null;
      throw err;
    }
  };
  const venue: ExchangeConnector = {
    placeOrder: async (o) => {
      hit('place', o.clientOrderId);
      return { venueOrderId: `V-${o.clientOrderId}` };
    },
    cancelOrder: async (ref) => hit('cancel', ref.clientOrderId),
    queryOrder: async (ref) => {
      hit('query', ref.clientOrderId);
      return null;
    },
    onReply: (l) => {
      listeners.push(l);
      return () => undefined;
    },
    onReconnect: () => () => undefined,
  };
  if (withModify) {
    venue.modifyOrder = async (ref) => {
      hit('modify', ref.clientOrderId);
      return { modified: true };
    };
  }
  return {
    venue,
    sent,
    reply: (r: ExchangeReply) => {
      for (const l of listeners) l(r);
    },
    failNext: (err: unknown) => {
      failNext = err;
    },
  };
}

const order = (clientOrderId: string) => ({
  clientOrderId,
  symbol: 'BTC_USDT',
  side: 'BUY' as const,
  type: 'LIMIT' as const,
  quantity: '1',
  price: '100',
});

/** One unit of weight per second: each call waits for the one before it. */
const oneCallPerSecond: RateBudgets = {
  windows: [{ name: 'weight/1s', unit: 'weight', limit: 1, windowMs: 1_000 }],
  costs: {
    place: { weight: 1, orders: 1 },
    cancel: { weight: 1, orders: 0 },
    query: { weight: 1, orders: 0 },
    modify: { weight: 1, orders: 1 },
  },
};

/** The most calls of `kinds` that reached the venue within any `windowMs`. */
function busiestWindow(sent: Sent[], windowMs: number, weightOf: (s: Sent) => number): number {
  let most = 0;
  for (const s of sent) {
    const inWindow = sent.filter((o) => o.at >= s.at && o.at < s.at + windowMs);
    most = Math.max(
      most,
      inWindow.reduce((n, o) => n + weightOf(o), 0),
    );
  }
  return most;
}

function rig(options: Partial<Parameters<typeof throttleConnector>[1]> = {}, withModify = true) {
  const clock = createManualClock(T0);
  const fake = fakeVenue(clock, withModify);
  const waits: { call: ThrottledCall; waitedMs: number; venueHadIt: boolean }[] = [];
  const venue = throttleConnector(fake.venue, {
    clock,
    onWait: (call, waitedMs) =>
      waits.push({
        call,
        waitedMs,
        venueHadIt: fake.sent.some((s) => s.kind === call.kind && s.id === call.clientOrderId),
      }),
    ...options,
  });
  return { clock, fake, venue, waits };
}

/** Settles `p` into a value to look at, so a rejection is never left unhandled. */
function settled<T>(p: Promise<T>) {
  const out: { value?: T; error?: unknown; done: boolean } = { done: false };
  p.then(
    (value) => Object.assign(out, { value, done: true }),
    (error: unknown) => Object.assign(out, { error, done: true }),
  );
  return out;
}

describe('throttleConnector: budgets', () => {
  it("keeps Binance's 50 orders per 10 s: 120 placements at once reach the venue 50, 50 and 20, ten seconds apart", async () => {
    const { clock, fake, venue } = rig();
    const results = Array.from({ length: 120 }, (_, i) => settled(venue.placeOrder(order(`C${i}`))));
    for (let t = 0; t < 30; t++) await clock.advance(1_000);
    expect(results.every((r) => r.done && r.value?.venueOrderId)).toBe(true);
    expect(busiestWindow(fake.sent, 10_000, () => 1)).toBe(50);
    const at = (i: number) => fake.sent[i]!.at - T0;
    expect([at(0), at(49), at(50), at(99), at(100), at(119)]).toEqual([0, 0, 10_000, 10_000, 20_000, 20_000]);
    expect(fake.sent.map((s) => s.id)).toEqual(results.map((_, i) => `C${i}`)); // first come first
  });

  it('keeps request weight: a query weighs 4, so 6,000 per minute lets 1,500 queries through per minute', async () => {
    const { clock, fake, venue } = rig({ maxQueue: 2_000 });
    for (let i = 0; i < 1_600; i++) settled(venue.queryOrder({ clientOrderId: `Q${i}` }));
    await clock.advance(59_999);
    expect(fake.sent.length).toBe(1_500);
    await clock.advance(1);
    expect(fake.sent.length).toBe(1_600);
    expect(busiestWindow(fake.sent, 60_000, () => 4)).toBeLessThanOrEqual(6_000);
  });

  it('takes budgets of its own (overridable), the day window included', async () => {
    const budgets: RateBudgets = {
      ...binanceSpotBudgets,
      windows: [{ name: 'orders/1d', unit: 'orders', limit: 3, windowMs: 86_400_000 }],
    };
    const { clock, fake, venue } = rig({ budgets });
    for (let i = 0; i < 4; i++) settled(venue.placeOrder(order(`C${i}`)));
    settled(venue.cancelOrder({ clientOrderId: 'C0' })); // a cancel is no order: it is not held back
    await clock.advance(86_399_999);
    expect(fake.sent.map((s) => s.kind)).toEqual(['place', 'place', 'place', 'cancel']);
    await clock.advance(1);
    expect(fake.sent.at(-1)).toEqual({ kind: 'place', id: 'C3', at: T0 + 86_400_000 });
  });

  it('refuses budgets where a call could never fit', () => {
    const clock = createManualClock(T0);
    const budgets: RateBudgets = {
      ...oneCallPerSecond,
      costs: { ...oneCallPerSecond.costs, query: { weight: 4, orders: 0 } },
    };
    expect(() => throttleConnector(fakeVenue(clock).venue, { clock, budgets })).toThrow(/Invariant/);
  });
});

describe('throttleConnector: priority and dropping', () => {
  it('sends waiting calls cancel first, then query, modify, place, each first come first', async () => {
    const { clock, fake, venue } = rig({ budgets: oneCallPerSecond });
    settled(venue.placeOrder(order('FIRST'))); // spends the second's budget
    settled(venue.placeOrder(order('P1')));
    settled(venue.modifyOrder!({ clientOrderId: 'M1', modificationId: 'M1m' }, { price: '101' }));
    settled(venue.queryOrder({ clientOrderId: 'Q1' }));
    settled(venue.placeOrder(order('P2')));
    settled(venue.cancelOrder({ clientOrderId: 'X1' }));
    settled(venue.queryOrder({ clientOrderId: 'Q2' }));
    settled(venue.cancelOrder({ clientOrderId: 'X2' }));
    await clock.advance(10_000);
    expect(fake.sent.map((s) => `${s.kind}:${s.id}@${(s.at - T0) / 1000}`)).toEqual([
      'place:FIRST@0',
      'cancel:X1@1',
      'cancel:X2@2',
      'query:Q1@3',
      'query:Q2@4',
      'modify:M1@5',
      'place:P1@6',
      'place:P2@7',
    ]);
  });

  it('a query of an order whose placement waits goes right behind that placement, never before it', async () => {
    const { clock, fake, venue } = rig({ budgets: oneCallPerSecond });
    settled(venue.placeOrder(order('FIRST')));
    settled(venue.placeOrder(order('P1')));
    settled(venue.placeOrder(order('P2')));
    settled(venue.queryOrder({ clientOrderId: 'P2' }));
    settled(venue.queryOrder({ clientOrderId: 'Q' }));
    await clock.advance(10_000);
    expect(fake.sent.map((s) => `${s.kind}:${s.id}`)).toEqual([
      'place:FIRST',
      'query:Q',
      'place:P1',
      'place:P2',
      'query:P2',
    ]);
  });

  it("drops a waiting placement and modify when their order's cancel comes in: refused as definitive, never sent, the cancel sent", async () => {
    const { clock, fake, venue } = rig({ budgets: oneCallPerSecond });
    settled(venue.placeOrder(order('FIRST')));
    const place = settled(venue.placeOrder(order('C1')));
    const modify = settled(venue.modifyOrder!({ clientOrderId: 'C1', modificationId: 'C1m' }, { price: '99' }));
    const other = settled(venue.placeOrder(order('C2')));
    const cancel = settled(venue.cancelOrder({ clientOrderId: 'C1' }));
    await clock.advance(0);
    expect(place.error).toBeInstanceOf(PlacementRejectedError);
    expect((place.error as PlacementRejectedError).reason).toMatch(/^rate limit: the order was cancelled/);
    expect(modify.error).toBeInstanceOf(PlacementRejectedError);
    await clock.advance(5_000);
    expect(cancel.done && other.done).toBe(true);
    expect(fake.sent.map((s) => `${s.kind}:${s.id}`)).toEqual(['place:FIRST', 'cancel:C1', 'place:C2']);
  });

  it('drops a waiting placement or modify when a reply says its order ended (CANCELLED, EXPIRED, REJECTED)', async () => {
    const { clock, fake, venue } = rig({ budgets: oneCallPerSecond });
    const seen: ExchangeReply[] = [];
    venue.onReply!((r) => seen.push(r));
    settled(venue.placeOrder(order('FIRST')));
    const modify = settled(venue.modifyOrder!({ clientOrderId: 'E1', modificationId: 'E1m' }, { price: '99' }));
    const kept = settled(venue.modifyOrder!({ clientOrderId: 'F1', modificationId: 'F1m' }, { price: '99' }));
    fake.reply({ type: 'EXPIRED', clientOrderId: 'E1', at: T0 });
    fake.reply({ type: 'FILL', clientOrderId: 'F1', venueFillId: 'f', quantity: '1', price: '1', at: T0 });
    await clock.advance(5_000);
    expect(seen.map((r) => r.type)).toEqual(['EXPIRED', 'FILL']); // replies pass through
    expect((modify.error as PlacementRejectedError).reason).toMatch(/ended \(EXPIRED\)/);
    expect(kept.value).toEqual({ modified: true }); // a fill does not say the order is done
    expect(fake.sent.map((s) => `${s.kind}:${s.id}`)).toEqual(['place:FIRST', 'modify:F1']);
  });
});

describe('throttleConnector: the venue says too much', () => {
  it('an HTTP 429 with Retry-After pauses every call to the venue until then; the error passes through', async () => {
    const { clock, fake, venue } = rig();
    fake.failNext(Object.assign(new Error('429 Too Many Requests'), { headers: { 'retry-after': '7' } }));
    const first = settled(venue.placeOrder(order('C1')));
    await clock.advance(0); // the venue's answer arrives
    const next = settled(venue.cancelOrder({ clientOrderId: 'C0' }));
    await clock.advance(6_999);
    expect((first.error as Error).message).toBe('429 Too Many Requests');
    expect(next.done).toBe(false);
    expect(fake.sent.length).toBe(1);
    await clock.advance(1);
    expect(fake.sent.at(-1)).toEqual({ kind: 'cancel', id: 'C0', at: T0 + 7_000 });
  });

  it("Binance's 418 ban pauses until the time it names; -1003 through ccxt's DDoSProtection for a minute", async () => {
    class DDoSProtection extends Error {}
    class RateLimitExceeded extends DDoSProtection {}
    const banned = `binance {"code":-1003,"msg":"Way too many requests; IP banned until ${T0 + 120_000}."}`;
    expect(binanceRetryAfterMsOf(new DDoSProtection(banned), T0)).toBe(120_000);
    expect(binanceRetryAfterMsOf(new RateLimitExceeded('binance rate limited'), T0)).toBe(defaultRetryAfterMs);
    const refused = new PlacementRejectedError('{"code":-1015,"msg":"Too many new orders"}');
    expect(binanceRetryAfterMsOf(refused, T0)).toBe(defaultRetryAfterMs);
    expect(binanceRetryAfterMsOf(new PlacementRejectedError('insufficient balance'), T0)).toBeUndefined();
    expect(binanceRetryAfterMsOf(new Error('ECONNRESET'), T0)).toBeUndefined();

    const { clock, fake, venue } = rig();
    fake.failNext(new DDoSProtection(banned));
    settled(venue.queryOrder({ clientOrderId: 'C1' }));
    await clock.advance(0);
    const after = settled(venue.queryOrder({ clientOrderId: 'C2' }));
    await clock.advance(119_999);
    expect(after.done).toBe(false);
    await clock.advance(1);
    expect(after.done).toBe(true);
    expect(fake.sent.at(-1)!.at).toBe(T0 + 120_000);
  });

  it('reads rate limits with the retryAfterMsOf it is given', async () => {
    const { clock, fake, venue } = rig({
      retryAfterMsOf: (err) => ((err as Error).message === 'slow' ? 500 : undefined),
    });
    fake.failNext(new Error('slow'));
    settled(venue.queryOrder({ clientOrderId: 'C1' }));
    await clock.advance(0);
    settled(venue.queryOrder({ clientOrderId: 'C2' }));
    await clock.advance(1_000);
    expect(fake.sent.map((s) => s.at - T0)).toEqual([0, 500]);
  });
});

describe('throttleConnector: a full queue', () => {
  it('refuses a placement definitively and a query as failed, never sends them, and still takes every cancel', async () => {
    const { clock, fake, venue } = rig({ budgets: oneCallPerSecond, maxQueue: 2 });
    settled(venue.placeOrder(order('FIRST')));
    const waiting = [settled(venue.placeOrder(order('W1'))), settled(venue.queryOrder({ clientOrderId: 'W2' }))];
    const place = settled(venue.placeOrder(order('FULL')));
    const query = settled(venue.queryOrder({ clientOrderId: 'FULLQ' }));
    const cancels = [1, 2, 3].map((i) => settled(venue.cancelOrder({ clientOrderId: `X${i}` })));
    const again = settled(venue.cancelOrder({ clientOrderId: 'X1' })); // shares the waiting cancel
    await clock.advance(0);
    expect(place.error).toBeInstanceOf(PlacementRejectedError);
    expect((place.error as PlacementRejectedError).reason).toBe('rate limit: queue full');
    expect(query.error).toBeInstanceOf(Error);
    expect(query.error).not.toBeInstanceOf(PlacementRejectedError);
    await clock.advance(10_000);
    expect([...cancels, again, ...waiting].every((r) => r.done && r.error === undefined)).toBe(true);
    expect(fake.sent.map((s) => `${s.kind}:${s.id}`)).toEqual([
      'place:FIRST',
      'cancel:X1',
      'cancel:X2',
      'cancel:X3',
      'query:W2',
      'place:W1',
    ]);
  });

  it('waiting cancels take no place in the bound: a placement still fits behind them', async () => {
    const { clock, fake, venue } = rig({ budgets: oneCallPerSecond, maxQueue: 1 });
    settled(venue.placeOrder(order('FIRST')));
    for (const i of [1, 2, 3]) settled(venue.cancelOrder({ clientOrderId: `X${i}` }));
    const place = settled(venue.placeOrder(order('P')));
    await clock.advance(10_000);
    expect(place.value).toEqual({ venueOrderId: 'V-P' });
    expect(fake.sent.at(-1)).toEqual({ kind: 'place', id: 'P', at: T0 + 4_000 });
  });

  it('never refuses a placement sent before as definitive: the venue may have the first one', async () => {
    const { clock, venue } = rig({ budgets: oneCallPerSecond, maxQueue: 1 });
    settled(venue.placeOrder(order('C1')));
    settled(venue.queryOrder({ clientOrderId: 'Q' }));
    const retry = settled(venue.placeOrder(order('C1')));
    await clock.advance(0);
    expect(retry.error).toBeInstanceOf(Error);
    expect(retry.error).not.toBeInstanceOf(PlacementRejectedError);
  });

  it('refuses a placement that waited maxWaitMs, never sending it', async () => {
    const { clock, fake, venue } = rig({ budgets: oneCallPerSecond, maxWaitMs: 1_500 });
    settled(venue.placeOrder(order('FIRST')));
    const a = settled(venue.placeOrder(order('A')));
    const b = settled(venue.placeOrder(order('B')));
    await clock.advance(1_499);
    expect(a.value).toEqual({ venueOrderId: 'V-A' });
    expect(b.done).toBe(false);
    await clock.advance(1);
    expect(b.error).toBeInstanceOf(PlacementRejectedError);
    expect(fake.sent.map((s) => `${s.id}@${s.at - T0}`)).toEqual(['FIRST@0', 'A@1000']);
  });
});

describe('throttleConnector: waits and shape', () => {
  it('reports each wait with its length, before the call reaches the venue; calls sent at once are not reported', async () => {
    const { clock, venue, waits } = rig({ budgets: oneCallPerSecond });
    settled(venue.placeOrder(order('C1')));
    await clock.advance(300);
    settled(venue.cancelOrder({ clientOrderId: 'C1' }));
    settled(venue.queryOrder({ clientOrderId: 'C1' }));
    await clock.advance(5_000);
    expect(waits).toEqual([
      { call: { kind: 'cancel', clientOrderId: 'C1' }, waitedMs: 700, venueHadIt: false },
      { call: { kind: 'query', clientOrderId: 'C1' }, waitedMs: 1_700, venueHadIt: false },
    ]);
  });

  it('a wait tally counts how often each kind of call waited, for how long in all, and the longest', async () => {
    const tally = createWaitTally();
    const { clock, venue } = rig({ budgets: oneCallPerSecond, onWait: tally.onWait });
    for (const id of ['P0', 'P1', 'P2']) settled(venue.placeOrder(order(id)));
    await clock.advance(500);
    settled(venue.cancelOrder({ clientOrderId: 'P2' }));
    await clock.advance(5_000);
    expect(tally.counts()).toEqual({
      cancel: { waits: 1, waitedMs: 500, longestMs: 500 },
      query: { waits: 0, waitedMs: 0, longestMs: 0 },
      modify: { waits: 0, waitedMs: 0, longestMs: 0 },
      place: { waits: 1, waitedMs: 2_000, longestMs: 2_000 },
    });
  });

  it('has modifyOrder only when the wrapped connector has it; onReconnect passes through', () => {
    expect(rig({}, false).venue.modifyOrder).toBeUndefined();
    expect(rig({}, true).venue.modifyOrder).toBeTypeOf('function');
    expect(rig().venue.onReconnect).toBeTypeOf('function');
  });
});
