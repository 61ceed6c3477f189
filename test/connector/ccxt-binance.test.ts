/**
 * The ccxt connector against Binance spot's own wire format, with no internet: the real ccxt
 * library (REST, signing, parsing, its `pro` WebSocket client) talks to a local server on
 * 127.0.0.1 that answers as Binance documents it. Every reply type reaches the handler, errors map
 * to rejections or unknown outcomes as they should, decimals stay exact strings, and a fill made
 * while the stream is down is found on reconnection.
 */
import ccxt from 'ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { type BinanceLocal, pointCcxtAtLocal, startBinanceLocal } from '../../src/connector/binance-local.js';
import { type CcxtConnector, binanceDialect, createCcxtConnector } from '../../src/connector/ccxt.js';
import { type ExecutionHandler, createExecutionHandler } from '../../src/handler/create.js';
import { createMemoryLedger } from '../../src/ledger/memory.js';
import type { StrategyLedger } from '../../src/ledger/types.js';
import type { OrderRequest, OrderStatus } from '../../src/types.js';
import { chain } from '../support/harness.js';

interface Rig {
  venue: BinanceLocal;
  connector: CcxtConnector;
  handler: ExecutionHandler;
  ledger: StrategyLedger;
  place(order: OrderRequest): Promise<string>;
  until(orderId: string, status: OrderStatus, ms?: number): Promise<void>;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.handler.stop();
    await r.connector.close();
    await r.venue.close();
  }
});

/** A ccxt `pro.binance` pointed at a fresh local venue. */
async function localBinance(url: string, timeoutMs = 2_000): Promise<InstanceType<typeof ccxt.pro.binance>> {
  const exchange = new ccxt.pro.binance({
    apiKey: 'local-key',
    secret: 'local-secret',
    timeout: timeoutMs,
    enableRateLimit: false,
    options: { fetchMarkets: { types: ['spot'] }, fetchMargins: false, fetchCurrencies: false },
  });
  await pointCcxtAtLocal(exchange, url);
  return exchange;
}

let directive = 0;
async function rig(options: { timeoutMs?: number } = {}): Promise<Rig> {
  const venue = await startBinanceLocal({ apiKey: 'local-key', secret: 'local-secret', balance: '100000' });
  const ledger = createMemoryLedger({ strategyId: 'CCXT' });
  const connector = createCcxtConnector(await localBinance(venue.url, options.timeoutMs), {
    ledger,
    reconnectDelayMs: 100,
    onError: () => {},
  });
  await connector.start();
  const handler = await createExecutionHandler({
    strategyId: 'CCXT',
    connector,
    ledger,
    clock: systemClock,
    ackTimeoutMs: 3_000,
    cancelTimeoutMs: 3_000,
    queryIntervalMs: 300,
    queryRetries: 3,
    onError: () => {},
  });
  const r: Rig = {
    venue,
    connector,
    handler,
    ledger,
    async place(order) {
      const { orderIds } = await handler.execute({
        directiveId: `D${++directive}`,
        causality: chain(),
        orders: [order],
      });
      return orderIds[0]!;
    },
    async until(orderId, status, ms = 5_000) {
      const end = performance.now() + ms;
      while (handler.order(orderId)?.status !== status) {
        if (performance.now() > end)
          throw new Error(`order ${orderId} is ${handler.order(orderId)?.status}, not ${status}, after ${ms} ms`);
        await new Promise((res) => setTimeout(res, 20));
      }
    },
  };
  rigs.push(r);
  return r;
}

const limit = (quantity: string, price: string, side: 'BUY' | 'SELL' = 'BUY'): OrderRequest => ({
  symbol: 'BTC_USDT',
  side,
  type: 'LIMIT',
  quantity,
  price,
});

describe('ccxt connector on Binance spot’s wire format', () => {
  it('places with the OrderID as client order id, is acknowledged, fills in exact decimals with trade ids', async () => {
    const r = await rig();
    const id = await r.place(limit('0.3', '60000.5'));
    await r.until(id, 'OPEN');
    const [v] = r.venue.orders();
    expect(v).toMatchObject({ clientOrderId: id, status: 'NEW' });
    expect(r.handler.order(id)!.venueOrderId).toBe(v!.orderId);
    r.venue.fill(id, '0.1');
    await r.until(id, 'PARTIALLY_FILLED');
    r.venue.fill(id, '0.2', '60000.25');
    await r.until(id, 'FILLED');
    const o = r.handler.order(id)!;
    expect(o.filledQuantity).toBe('0.3');
    expect(o.leavesQuantity).toBe('0');
    expect(o.fills.map((f) => [f.venueFillId, f.quantity, f.price])).toEqual(
      r.venue.orders()[0]!.trades.map((t) => [t.id, t.qty, t.price]),
    );
    expect(o.fills[0]!.commission).toBe('6.00005');
    expect(o.fills[0]!.commissionAsset).toBe('BTC');
    expect(o.averagePrice).toBe('60000.333333333333333333'); // 18000.1 / 0.3, exactly as decimals
  });

  it('a market order fills at once; a venue expiry and a venue cancel are applied', async () => {
    const r = await rig();
    const m = await r.place({ symbol: 'ETH_USDT', side: 'SELL', type: 'MARKET', quantity: '1.25' });
    await r.until(m, 'FILLED');
    expect(r.handler.order(m)).toMatchObject({ filledQuantity: '1.25', averagePrice: '3000' });
    const e = await r.place(limit('0.01', '59000'));
    await r.until(e, 'OPEN');
    r.venue.expire(e);
    await r.until(e, 'EXPIRED');
    const c = await r.place(limit('0.02', '59000'));
    await r.until(c, 'OPEN');
    expect(await r.handler.cancel(c)).toBe(true);
    await r.until(c, 'CANCELLED');
    expect(r.venue.orders().find((o) => o.clientOrderId === c)!.status).toBe('CANCELED');
    const kinds = (await r.ledger.getTransitions(c)).map((t) => t.eventType);
    expect(kinds).toEqual(['ORDER_ACCEPTED', 'ORDER_CANCEL_REQUESTED', 'ORDER_CANCELLED']);
  });

  it('definitive refusals become REJECTED with the exchange’s reason: balance, invalid order, rate limit', async () => {
    const r = await rig();
    const poor = await r.place(limit('10', '60000')); // 600,000 USDT of 100,000
    await r.until(poor, 'REJECTED');
    expect(r.handler.order(poor)!.rejectReason).toContain('insufficient balance');
    const bad = await r.place({ symbol: 'DOGE_USDT', side: 'BUY', type: 'LIMIT', quantity: '1', price: '1' });
    await r.until(bad, 'REJECTED');
    expect(r.handler.order(bad)!.rejectReason).toMatch(/DOGE\/USDT|symbol/i);
    r.venue.failNext('POST /api/v3/order', 'rate-limit');
    const limited = await r.place(limit('0.01', '60000'));
    await r.until(limited, 'REJECTED');
    expect(r.handler.order(limited)!.rejectReason).toContain('429');
    expect(r.venue.orders().map((o) => o.clientOrderId)).not.toContain(limited);
  });

  it('network errors and timeouts leave the outcome unknown: retried with the same client order id, one venue order', async () => {
    const r = await rig({ timeoutMs: 400 });
    r.venue.failNext('POST /api/v3/order', 'server-error');
    const a = await r.place(limit('0.01', '60000'));
    await r.until(a, 'OPEN', 5_000); // retried after the 503
    r.venue.failNext('POST /api/v3/order', 'hang');
    const b = await r.place(limit('0.02', '60000'));
    await r.until(b, 'OPEN', 5_000); // retried after the timeout
    const ids = r.venue.orders().map((o) => o.clientOrderId);
    expect(ids.filter((id) => id === a)).toHaveLength(1);
    expect(ids.filter((id) => id === b)).toHaveLength(1);
  });

  it('a cancel that crosses a fill: "unknown order" comes back as CANCEL_REJECTED and the fill completes the order', async () => {
    const r = await rig();
    const id = await r.place(limit('0.05', '60000'));
    await r.until(id, 'OPEN');
    r.venue.fill(id); // filled at the venue; the cancel below finds no working order
    expect(await r.handler.cancel(id)).toBe(true);
    await r.until(id, 'FILLED');
    expect(r.handler.order(id)!.filledQuantity).toBe('0.05');
    expect(await r.ledger.getAnomalies()).toEqual([]);
  });

  it('queryOrder: null for an order the exchange does not know, the state and fills (from its trades) for one it does', async () => {
    const r = await rig();
    expect(
      await r.connector.queryOrder({ clientOrderId: 'ORD_20260101_000000_deadbeef' }).catch((e: Error) => e.message),
    ).toMatch(/symbol .* unknown/);
    await r.ledger.commit([
      {
        kind: 'order',
        order: {
          orderId: 'ORD_20260101_000000_deadbeef',
          directiveId: 'X',
          strategyId: 'CCXT',
          orderDetails: limit('1', '1'),
          causality: chain(),
          at: 1,
        },
      },
    ]);
    expect(await r.connector.queryOrder({ clientOrderId: 'ORD_20260101_000000_deadbeef' })).toBeNull();
    const id = await r.place(limit('0.4', '60000'));
    await r.until(id, 'OPEN');
    r.venue.fill(id, '0.15', '59999.99');
    const state = await r.connector.queryOrder({ clientOrderId: id });
    const trade = r.venue.orders().find((o) => o.clientOrderId === id)!.trades[0]!;
    expect(state).toEqual({
      venueOrderId: r.handler.order(id)!.venueOrderId,
      status: 'PARTIALLY_FILLED',
      fills: [{ venueFillId: trade.id, quantity: '0.15', price: '59999.99', at: expect.any(Number) }],
    });
  });

  it('a fill made while the stream is down is found on reconnection', async () => {
    const r = await rig();
    const id = await r.place(limit('0.07', '60000'));
    await r.until(id, 'OPEN');
    expect(r.venue.subscriptions()).toBe(1);
    r.venue.dropStream();
    r.venue.fill(id); // nobody subscribed: this executionReport is lost
    await r.until(id, 'FILLED', 10_000); // resubscribed, then reconciled: the fill is learnt by query
    expect(r.venue.subscriptions()).toBe(2);
    const o = r.handler.order(id)!;
    expect(o.fills.map((f) => f.venueFillId)).toEqual([r.venue.orders()[0]!.trades[0]!.id]);
    // And the stream works again.
    const next = await r.place(limit('0.01', '60000'));
    await r.until(next, 'OPEN');
    r.venue.fill(next);
    await r.until(next, 'FILLED');
  });

  it('maps every executionReport the stream can carry (the dialect, report by report)', () => {
    const report = (x: string, extra: Record<string, unknown> = {}) =>
      ({ info: { e: 'executionReport', E: 7, T: 6, c: 'ORD_A', C: '', i: 42, x, r: 'NONE', ...extra } }) as never;
    expect(binanceDialect.orderReply(report('NEW'))).toEqual({
      type: 'ACCEPTED',
      clientOrderId: 'ORD_A',
      venueOrderId: '42',
      at: 7,
    });
    expect(binanceDialect.orderReply(report('CANCELED', { c: 'cancel-1', C: 'ORD_A' }))).toEqual({
      type: 'CANCELLED',
      clientOrderId: 'ORD_A',
      venueOrderId: '42',
      at: 7,
    });
    expect(binanceDialect.orderReply(report('REJECTED', { r: 'INSUFFICIENT_BALANCE' }))).toEqual({
      type: 'REJECTED',
      clientOrderId: 'ORD_A',
      venueOrderId: '42',
      reason: 'INSUFFICIENT_BALANCE',
      at: 7,
    });
    expect(binanceDialect.orderReply(report('EXPIRED'))).toEqual({
      type: 'EXPIRED',
      clientOrderId: 'ORD_A',
      venueOrderId: '42',
      at: 7,
    });
    expect(binanceDialect.orderReply(report('TRADE'))).toBeUndefined();
    expect(
      binanceDialect.tradeReply(report('TRADE', { t: 9, l: '0.10000000', L: '60000.01000000', n: '0.0001', N: 'BTC' })),
    ).toEqual({
      type: 'FILL',
      clientOrderId: 'ORD_A',
      venueOrderId: '42',
      venueFillId: '9',
      quantity: '0.10000000',
      price: '60000.01000000',
      commission: '0.0001',
      commissionAsset: 'BTC',
      at: 6,
    });
  });
});
