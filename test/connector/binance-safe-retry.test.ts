/**
 * Safe retries against a venue whose client order ids are unique among open orders only: the local
 * Binance venue refuses a repeated id (-2010 "Duplicate order sent.") only while its order is open,
 * as Binance does, so a blind retry of a MARKET order that filled at once would open a second one.
 * Through the real handler and the real ccxt, a placement whose answer is lost (the venue executed
 * it, its stream reports lost too) is looked up by client order id before the retry: exactly one
 * order at the venue, by its own record and by the requests it received, and its fill applied once
 * in the ledger, commission included.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { bareRig, closeRigs, handlerRig, until } from './binance-rig.js';

afterEach(closeRigs);

/**
 * The stream stays down for the whole test (only the connector's own lookups can tell the handler);
 * ccxt times out after 400 ms; a request may be executed up to 1 s (recvWindow) + 1 s after it was
 * sent, so a lookup that finds nothing is conclusive after 2 s; retries at 650, 1150, 2150, 4150 ms.
 */
const STREAM_DOWN = {
  timeoutMs: 400,
  reconnectDelayMs: 8_000,
  recvWindowMs: 1_000,
  placeRetries: 4,
  ackTimeoutMs: 6_000,
};

describe('a client order id, unique among open orders only', () => {
  it('the local venue refuses it while its order is open, and takes it again once that order is cancelled or filled', async () => {
    const r = await bareRig();
    const api = r.exchange as unknown as {
      privatePostOrder(p: object): Promise<Record<string, unknown>>;
      privateDeleteOrder(p: object): Promise<unknown>;
    };
    const id = 'ORD_20260101_000000_00000d01';
    const place = () =>
      api
        .privatePostOrder({
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          quantity: '0.01',
          price: '60000',
          newClientOrderId: id,
        })
        .then(
          (o) => `placed ${String(o.orderId)}`,
          (e: Error) => e.message,
        );
    const first = await place();
    expect(await place()).toContain('{"code":-2010,"msg":"Duplicate order sent."}');
    await api.privateDeleteOrder({ symbol: 'BTCUSDT', origClientOrderId: id });
    const second = await place();
    r.venue.fill(id);
    const third = await place();
    expect([first, second, third]).toEqual(r.at(id).map((o) => `placed ${o.orderId}`));
    expect(r.at(id).map((o) => o.status)).toEqual(['CANCELED', 'FILLED', 'NEW']);
  });
});

describe('a request’s lifetime at the venue', () => {
  it('the local venue executes a signed request only within its recvWindow (-1021 after it), as Binance', async () => {
    const r = await bareRig();
    const api = r.exchange as unknown as { privatePostOrder(p: object): Promise<unknown> };
    const order = { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.001' };
    const answer = (extra: object) =>
      api.privatePostOrder({ ...order, ...extra }).then(
        () => 'executed',
        (e: Error) => e.message,
      );
    expect(await answer({ timestamp: systemClock.now() - 2_000, recvWindow: 1_000 })).toContain(
      '{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}',
    );
    expect(await answer({ timestamp: systemClock.now() + 1_500 })).toContain('-1021');
    expect(await answer({ timestamp: systemClock.now() - 2_000, recvWindow: 5_000 })).toBe('executed');
    expect(r.venue.orders()).toHaveLength(1);
  });
});

describe('a placement retried after an unknown outcome', () => {
  it('a MARKET order filled at once, its answer lost: the retry finds it and is not sent; one order, its fill applied once', async () => {
    const r = await handlerRig(STREAM_DOWN);
    r.venue.dropStream(); // its executionReports are lost too
    r.venue.failNext('POST /api/v3/order', 'lost-reply'); // executed, never answered
    const id = await r.place({ symbol: 'BTC_USDT', side: 'BUY', type: 'MARKET', quantity: '0.01' });
    await r.until(id, 'FILLED');
    await r.handler.settle();
    const atVenue = r.venue.orders().filter((o) => o.clientOrderId === id);
    expect(atVenue).toHaveLength(1);
    expect(atVenue[0]!.status).toBe('FILLED');
    const received = r.venue.received();
    const placements = received.filter((q) => q.route === 'POST /api/v3/order' && q.params.newClientOrderId === id);
    expect(placements).toHaveLength(1); // the retry looked the id up instead
    const lookups = received.filter((q) => q.route === 'GET /api/v3/order' && q.params.origClientOrderId === id);
    expect(lookups.length).toBeGreaterThanOrEqual(1);
    const stored = (await r.ledger.getOrder(id))!;
    expect(stored.status).toBe('FILLED');
    expect(stored.fills.map((f) => [f.venueFillId, f.quantity, f.price, f.commission, f.commissionAsset])).toEqual([
      [atVenue[0]!.trades[0]!.id, '0.01', '60000', '0.00001', 'BTC'],
    ]);
    expect(stored.filledQuantity).toBe('0.01');
    expect(stored.venueOrderId).toBe(atVenue[0]!.orderId);
    expect((await r.ledger.getTransitions(id)).map((t) => t.eventType)).toEqual(['ORDER_ACCEPTED', 'ORDER_FILLED']);
    expect(await r.ledger.getAnomalies()).toEqual([]);
  });

  it('a LIMIT order resting, its answer lost: the retry finds it open and is not sent; the order is OPEN with the venue’s id', async () => {
    const r = await handlerRig(STREAM_DOWN);
    r.venue.dropStream();
    r.venue.failNext('POST /api/v3/order', 'lost-reply');
    const id = await r.place({ symbol: 'BTC_USDT', side: 'SELL', type: 'LIMIT', quantity: '0.02', price: '61000' });
    await r.until(id, 'OPEN');
    await r.handler.settle();
    const atVenue = r.venue.orders().filter((o) => o.clientOrderId === id);
    expect(atVenue.map((o) => o.status)).toEqual(['NEW']);
    expect(r.handler.order(id)!.venueOrderId).toBe(atVenue[0]!.orderId);
    expect(r.venue.received().filter((q) => q.route === 'POST /api/v3/order')).toHaveLength(1);
  });

  it('a lookup that fails sends nothing (the outcome stays unknown); the next retry looks again and finds the order', async () => {
    const r = await handlerRig(STREAM_DOWN);
    r.venue.dropStream();
    r.venue.failNext('POST /api/v3/order', 'lost-reply');
    r.venue.failNext('GET /api/v3/order', 'server-error'); // the first retry's lookup
    const id = await r.place({ symbol: 'ETH_USDT', side: 'SELL', type: 'MARKET', quantity: '0.5' });
    await r.until(id, 'FILLED');
    await r.handler.settle();
    expect(r.venue.orders().filter((o) => o.clientOrderId === id)).toHaveLength(1);
    const lookups = r.venue.received().filter((q) => q.route === 'GET /api/v3/order');
    expect(lookups.length).toBeGreaterThanOrEqual(2);
    expect(r.venue.received().filter((q) => q.route === 'POST /api/v3/order')).toHaveLength(1);
    expect((await r.ledger.getOrder(id))!.fills).toHaveLength(1);
  });

  it('a request still on its way when the lookup finds nothing: not sent again until the venue would refuse it; one order', async () => {
    const r = await handlerRig({ ...STREAM_DOWN, venue: { lateExecutionMs: 800 } });
    r.venue.dropStream();
    r.venue.failNext('POST /api/v3/order', 'late-execution'); // queued 800 ms, then executed, never answered
    const id = await r.place({ symbol: 'BTC_USDT', side: 'SELL', type: 'MARKET', quantity: '0.01' });
    const atVenue = () => r.venue.orders().filter((o) => o.clientOrderId === id);
    await until('FILLED, or a second order', () => r.handler.order(id)?.status === 'FILLED' || atVenue().length > 1);
    await new Promise((res) => setTimeout(res, 1_000)); // the held request, had a retry crossed it
    expect(atVenue()).toHaveLength(1);
    await r.until(id, 'FILLED');
    await r.handler.settle();
    const routes = r.venue.received().map((q) => q.route);
    expect(routes.filter((q) => q === 'POST /api/v3/order')).toHaveLength(1);
    expect(routes.filter((q) => q === 'GET /api/v3/order').length).toBeGreaterThanOrEqual(2); // none, then found
    expect((await r.ledger.getOrder(id))!.fills).toHaveLength(1);
  });

  it('a placement that never reached the venue (hung, nothing done) is sent again once the lookup is conclusive: one order', async () => {
    const r = await handlerRig(STREAM_DOWN);
    r.venue.failNext('POST /api/v3/order', 'hang');
    const id = await r.place({ symbol: 'BTC_USDT', side: 'BUY', type: 'LIMIT', quantity: '0.01', price: '59000' });
    await r.until(id, 'OPEN', 8_000);
    expect(r.venue.orders().map((o) => o.clientOrderId)).toEqual([id]);
    const received = r.venue.received();
    const posts = received.filter((q) => q.route === 'POST /api/v3/order');
    expect(posts).toHaveLength(2);
    // Looked up at 650 and 1150 ms (nothing, but the first request could still arrive), sent at 2150.
    const lookups = received.filter((q) => q.route === 'GET /api/v3/order');
    expect(lookups.length).toBeGreaterThanOrEqual(3);
    expect(Number(posts[1]!.params.timestamp) - Number(posts[0]!.params.timestamp)).toBeGreaterThan(2_000);
  }, 15_000);
});
