/**
 * The ccxt connector's Bybit dialect against Bybit v5 spot's own wire format, with no internet:
 * the real ccxt (`pro.bybit`: its signing, parsing and private WebSocket client) talks to a local
 * server on 127.0.0.1 that answers as Bybit v5 does (retCode/retMsg, `order` and `execution`
 * topics). Placement, ack, partial and full fills with exact decimals and commissions, cancel,
 * query by `orderLinkId` (executions paged), amend in place, rejections, a fill made while the
 * stream is down found on reconnection, and the retry of a placement whose answer was lost.
 */
import ccxt, { type Exchange } from 'ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import { type Clock, systemClock } from '../../src/clock.js';
import { type BybitLocal, pointCcxtAtBybitLocal, startBybitLocal } from '../../src/connector/bybit-local.js';
import { type CcxtConnector, createCcxtConnector } from '../../src/connector/ccxt.js';
import { PlacementRejectedError } from '../../src/errors.js';
import { type ExecutionHandler, createExecutionHandler } from '../../src/handler/create.js';
import { createMemoryLedger } from '../../src/ledger/memory.js';
import type { ExchangeReply, OrderRequest, OrderStatus } from '../../src/types.js';
import { chain } from '../support/harness.js';
import { until } from './binance-rig.js';

const open: { handler?: ExecutionHandler; connector: CcxtConnector; venue: BybitLocal }[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) {
    await r.handler?.stop();
    await r.connector.close();
    await r.venue.close();
  }
});

/** A ccxt `pro.bybit` pointed at the local venue, told the account is unified (as the venue would answer). */
async function localBybit(url: string, timeoutMs = 2_000, recvWindowMs = 5_000): Promise<Exchange> {
  const exchange = new ccxt.pro.bybit({
    apiKey: 'local-key',
    secret: 'local-secret',
    timeout: timeoutMs,
    enableRateLimit: false,
    options: {
      fetchMarkets: { types: ['spot'] },
      enableUnifiedAccount: true,
      enableUnifiedMargin: false,
      recvWindow: recvWindowMs,
    },
  });
  await pointCcxtAtBybitLocal(exchange, url);
  return exchange;
}

/** The connector alone (default dialect: chosen by `exchange.id`) with every reply it emits. */
async function bareRig(timeoutMs?: number, venueClock?: Clock) {
  const venue = await startBybitLocal({
    apiKey: 'local-key',
    secret: 'local-secret',
    balance: '100000',
    ...(venueClock ? { clock: venueClock } : {}),
  });
  const exchange = await localBybit(venue.url, timeoutMs);
  const connector = createCcxtConnector(exchange, { reconnectDelayMs: 100, onError: () => {} });
  const replies: ExchangeReply[] = [];
  connector.onReply!((reply) => replies.push(reply));
  await connector.start();
  open.push({ connector, venue });
  const sent = (route: string) =>
    venue
      .received()
      .filter((r) => r.route === route)
      .map((r) => r.params);
  const seen = (what: string, pred: (r: ExchangeReply) => boolean) => until(what, () => replies.some(pred));
  return { venue, exchange, connector, replies, sent, seen };
}

const limit = (quantity: string, price: string, side: 'BUY' | 'SELL' = 'BUY'): OrderRequest => ({
  symbol: 'BTC_USDT',
  side,
  type: 'LIMIT',
  quantity,
  price,
});
let n = 0;
const nextId = () => `ORD_20260101_000000_0000b${String(++n).padStart(3, '0')}`;

describe('Bybit v5 spot through the real ccxt', () => {
  it('places with orderLinkId and the recorded strings, acks, fills in part and in full with exact decimals and commissions', async () => {
    const r = await bareRig();
    const id = nextId();
    const { venueOrderId } = await r.connector.placeOrder({ ...limit('0.001', '60000.01'), clientOrderId: id });
    expect(r.sent('POST /v5/order/create')).toEqual([
      {
        category: 'spot',
        symbol: 'BTCUSDT',
        side: 'Buy',
        orderType: 'Limit',
        qty: '0.001',
        price: '60000.01',
        timeInForce: 'GTC',
        orderLinkId: id,
      },
    ]);
    await r.seen('ACCEPTED', (x) => x.type === 'ACCEPTED' && x.clientOrderId === id && x.venueOrderId === venueOrderId);
    r.venue.fill(id, '0.0004', '60000');
    r.venue.fill(id);
    await until('two fills', () => r.replies.filter((x) => x.type === 'FILL').length === 2);
    const fills = r.replies.filter((x) => x.type === 'FILL');
    expect(fills.map((f) => [f.quantity, f.price, f.commission, f.commissionAsset])).toEqual([
      ['0.0004', '60000', '0.0000004', 'BTC'],
      ['0.0006', '60000.01', '0.0000006', 'BTC'],
    ]);
    expect(r.replies.filter((x) => x.type !== 'FILL' && x.type !== 'ACCEPTED')).toEqual([]);
  });

  it('sends a market order with marketUnit baseCoin and reads its fill with a quote-coin commission on a sell', async () => {
    const r = await bareRig();
    const id = nextId();
    await r.connector.placeOrder({
      symbol: 'BTC_USDT',
      side: 'SELL',
      type: 'MARKET',
      quantity: '0.01',
      clientOrderId: id,
    });
    expect(r.sent('POST /v5/order/create')[0]).toMatchObject({
      orderType: 'Market',
      qty: '0.01',
      marketUnit: 'baseCoin',
    });
    await r.seen('the fill', (x) => x.type === 'FILL' && x.clientOrderId === id);
    expect(r.replies.find((x) => x.type === 'FILL')).toMatchObject({
      quantity: '0.01',
      price: '60000',
      commission: '0.6',
      commissionAsset: 'USDT',
    });
  });

  it('cancels by orderLinkId; a cancel of an order no longer working is a CANCEL_REJECTED (170213)', async () => {
    const r = await bareRig();
    const id = nextId();
    await r.connector.placeOrder({ ...limit('0.001', '59000'), clientOrderId: id });
    await r.connector.cancelOrder({ clientOrderId: id });
    await r.seen('CANCELLED', (x) => x.type === 'CANCELLED' && x.clientOrderId === id);
    await r.connector.cancelOrder({ clientOrderId: id });
    await r.seen('CANCEL_REJECTED', (x) => x.type === 'CANCEL_REJECTED' && /170213/.test(x.reason));
    expect(r.venue.orders().map((o) => o.orderStatus)).toEqual(['Cancelled']);
  });

  it('queries by orderLinkId with every execution, past a page of 100, each with its commission', async () => {
    const r = await bareRig();
    const id = nextId();
    await r.connector.placeOrder({ ...limit('0.0101', '60000'), clientOrderId: id });
    for (let i = 0; i < 101; i++) r.venue.fill(id, '0.0001');
    const state = await r.connector.queryOrder({ clientOrderId: id });
    expect(state).toMatchObject({ status: 'FILLED', quantity: '0.0101', price: '60000' });
    expect(state!.fills).toHaveLength(101);
    expect(new Set(state!.fills.map((f) => f.venueFillId)).size).toBe(101);
    expect(state!.fills[100]).toMatchObject({ quantity: '0.0001', price: '60000', commission: '0.0000001' });
    expect(r.sent('GET /v5/execution/list')).toHaveLength(2);
    const unknown = nextId(); // refused before sending: the connector knows its symbol, the venue nothing
    await expect(
      r.connector.placeOrder({ ...limit('0.001', '60000'), timeInForce: 'DAY', clientOrderId: unknown }),
    ).rejects.toThrow();
    expect(await r.connector.queryOrder({ clientOrderId: unknown })).toBeNull();
  });

  it('amends in place: the same venue order works the new quantity and price; amends that cannot apply are refused', async () => {
    const r = await bareRig();
    const id = nextId();
    const { venueOrderId } = await r.connector.placeOrder({ ...limit('0.002', '59000'), clientOrderId: id });
    r.venue.fill(id, '0.0005');
    const result = await r.connector.modifyOrder!(
      { clientOrderId: id, modificationId: `${id}.1` },
      { quantity: '0.003', price: '59000.5' },
    );
    expect(result).toEqual({ modified: true, venueOrderId });
    expect(r.sent('POST /v5/order/amend')).toEqual([
      { category: 'spot', symbol: 'BTCUSDT', orderLinkId: id, qty: '0.003', price: '59000.5' },
    ]);
    expect(r.venue.orders()).toMatchObject([
      { orderId: venueOrderId, qty: '0.003', price: '59000.5', orderStatus: 'PartiallyFilled' },
    ]);
    const off = r.connector.modifyOrder!({ clientOrderId: id, modificationId: `${id}.2` }, { price: '59000.005' });
    await expect(off).rejects.toThrow(/tickSize 0.01/);
    r.venue.fill(id);
    const late = r.connector.modifyOrder!({ clientOrderId: id, modificationId: `${id}.3` }, { price: '59001' });
    await expect(late).rejects.toThrow(/110001/);
    expect(r.sent('POST /v5/order/amend')).toHaveLength(2); // the one off the tick never sent
    expect(r.replies.some((x) => x.type === 'CANCELLED' || (x.type === 'ACCEPTED' && x.at !== r.replies[0]!.at))).toBe(
      false,
    );
  });

  it('a cancel by the venue itself is CANCELLED, after a partial fill too (PartiallyFilledCanceled)', async () => {
    const r = await bareRig();
    const [a, b] = [nextId(), nextId()];
    await r.connector.placeOrder({ ...limit('0.001', '59000'), clientOrderId: a });
    await r.connector.placeOrder({ ...limit('0.001', '59000'), clientOrderId: b });
    r.venue.fill(b, '0.0002');
    r.venue.cancelByVenue(a);
    r.venue.cancelByVenue(b);
    await until('two CANCELLED', () => r.replies.filter((x) => x.type === 'CANCELLED').length === 2);
    expect(r.venue.orders().map((o) => o.orderStatus)).toEqual(['Cancelled', 'PartiallyFilledCanceled']);
    expect(await r.connector.queryOrder({ clientOrderId: b })).toMatchObject({
      status: 'CANCELLED',
      fills: [{ quantity: '0.0002' }],
    });
  });

  it('refuses what Bybit would refuse: off its filters or DAY before sending; balance (170131), rate limit (10006) from the venue', async () => {
    const r = await bareRig();
    const refused = (o: OrderRequest) => r.connector.placeOrder({ ...o, clientOrderId: nextId() });
    await expect(refused(limit('0.0010001', '60000'))).rejects.toThrow(/basePrecision 0.000001/);
    await expect(refused({ ...limit('0.001', '60000'), timeInForce: 'DAY' })).rejects.toThrow(/DAY/);
    expect(r.sent('POST /v5/order/create')).toEqual([]);
    await expect(refused(limit('2', '60000'))).rejects.toThrow(PlacementRejectedError);
    await expect(refused(limit('2', '60000'))).rejects.toThrow(/170131/);
    r.venue.failNext('/v5/order/create', 'rate-limit');
    await expect(refused(limit('0.001', '60000'))).rejects.toThrow(/10006/);
    await expect(refused({ ...limit('0.001', '60000'), symbol: 'NOPE_USDT' })).rejects.toThrow(PlacementRejectedError);
    expect(r.venue.orders()).toEqual([]);
  });
});

describe('recv_window', () => {
  it("the venue refuses a signed request older than ccxt's recv_window (10002) and executes nothing", async () => {
    let lateMs = 0;
    const r = await bareRig(undefined, { ...systemClock, now: () => systemClock.now() + lateMs });
    lateMs = 6_000; // the venue sees every request 6 s after ccxt signed it (its recv_window: 5 s)
    const placing = r.connector.placeOrder({ ...limit('0.001', '60000'), clientOrderId: nextId() });
    await expect(placing).rejects.toThrow(/10002/);
    expect(r.venue.orders()).toEqual([]);
    lateMs = 4_000;
    await r.connector.placeOrder({ ...limit('0.001', '60000'), clientOrderId: nextId() });
    expect(r.venue.orders()).toHaveLength(1);
  });
});

describe('orderLinkId: unique per account', () => {
  it('the venue refuses a repeat (170141) even after its order filled; the dialect leaves that outcome unknown, not rejected', async () => {
    const r = await bareRig();
    const create = (id: string) =>
      (r.exchange as unknown as { privatePostV5OrderCreate(p: object): Promise<{ result: { orderId: string } }> })
        .privatePostV5OrderCreate({
          category: 'spot',
          symbol: 'BTCUSDT',
          side: 'Buy',
          orderType: 'Limit',
          qty: '0.001',
          price: '60000',
          orderLinkId: id,
        })
        .then(
          (a) => `placed ${a.result.orderId}`,
          (e: Error) => e.message,
        );
    const id = nextId();
    const first = await create(id);
    r.venue.fill(id);
    expect(await create(id)).toContain('"retCode":170141');
    expect(r.venue.orders().map((o) => `placed ${o.orderId}`)).toEqual([first]);
    const again = r.connector.placeOrder({ ...limit('0.001', '60000'), clientOrderId: id });
    await expect(again).rejects.toThrow(/already used \(170141\)/);
    await expect(again).rejects.not.toBeInstanceOf(PlacementRejectedError);
  });
});

let directive = 0;

/** A real execution handler over the connector on a fresh local venue. */
async function handlerRig(
  o: { timeoutMs?: number; ackTimeoutMs?: number; reconnectDelayMs?: number; recvWindowMs?: number } = {},
) {
  const venue = await startBybitLocal({ apiKey: 'local-key', secret: 'local-secret', balance: '100000' });
  const ledger = createMemoryLedger({ strategyId: 'BYBIT' });
  const connector = createCcxtConnector(await localBybit(venue.url, o.timeoutMs, o.recvWindowMs), {
    ledger,
    reconnectDelayMs: o.reconnectDelayMs ?? 100,
    onError: () => {},
  });
  await connector.start();
  const handler = await createExecutionHandler({
    strategyId: 'BYBIT',
    connector,
    ledger,
    clock: systemClock,
    ackTimeoutMs: o.ackTimeoutMs ?? 3_000,
    placeRetries: 4,
    cancelTimeoutMs: 3_000,
    queryIntervalMs: 300,
    queryRetries: 3,
    onError: () => {},
  });
  open.push({ handler, connector, venue });
  const place = async (order: OrderRequest) =>
    (await handler.execute({ directiveId: `Y${++directive}`, causality: chain(), orders: [order] })).orderIds[0]!;
  const reach = (id: string, status: OrderStatus, ms = 5_000) =>
    until(`order ${id} ${status} (is ${handler.order(id)?.status})`, () => handler.order(id)?.status === status, ms);
  return { venue, connector, handler, ledger, place, reach };
}

describe('Bybit under the real handler', () => {
  it('finds a fill made while the stream was down on reconnection', async () => {
    const r = await handlerRig();
    const id = await r.place(limit('0.001', '59000'));
    await r.reach(id, 'OPEN');
    const before = r.venue.authentications();
    r.venue.dropStream();
    r.venue.fill(id); // pushed to nobody
    await r.reach(id, 'FILLED');
    expect(r.venue.authentications()).toBeGreaterThan(before);
    expect(r.handler.order(id)).toMatchObject({ filledQuantity: '0.001' });
  });

  it('a modify is an amend in place: MODIFIED with the new values, the same venue order; one off the tick is MODIFY_REJECTED, nothing sent', async () => {
    const r = await handlerRig();
    const id = await r.place(limit('0.002', '59000'));
    await r.reach(id, 'OPEN');
    expect(await r.handler.modify(id, { quantity: '0.003', price: '59100' })).toBe(true);
    await until('MODIFIED', () => r.handler.order(id)?.modifications?.[0]?.status === 'ACCEPTED');
    expect(r.handler.order(id)!.orderDetails).toMatchObject({ quantity: '0.003', price: '59100' });
    expect(await r.handler.modify(id, { price: '59100.001' })).toBe(true);
    await until('MODIFY_REJECTED', () => r.handler.order(id)?.modifications?.[1]?.status === 'REJECTED');
    expect(r.handler.order(id)!.modifications![1]!.reason).toContain('tickSize 0.01');
    r.venue.fill(id);
    await r.reach(id, 'FILLED');
    expect(r.venue.orders().map((o) => [o.orderLinkId, o.qty, o.price, o.orderStatus])).toEqual([
      [id, '0.003', '59100', 'Filled'],
    ]);
    expect(r.venue.received().filter((q) => q.route === 'POST /v5/order/amend')).toHaveLength(1);
  });

  it('a cancel crossing an unheard fill: the venue answers 170213 (CANCEL_REJECTED), the reconnection finds the fill, FILLED not CANCELLED', async () => {
    // The stream is down for 1.5 s: the fill is unheard when the cancel goes out.
    const r = await handlerRig({ reconnectDelayMs: 1_500 });
    const id = await r.place(limit('0.001', '59000'));
    await r.reach(id, 'OPEN');
    r.venue.dropStream();
    r.venue.fill(id);
    expect(await r.handler.cancel(id)).toBe(true);
    await r.reach(id, 'FILLED');
    expect(r.venue.received().filter((q) => q.route === 'POST /v5/order/cancel')).toHaveLength(1);
    expect(r.venue.orders().map((o) => o.orderStatus)).toEqual(['Filled']);
    expect(r.handler.order(id)!.fills.map((f) => f.quantity)).toEqual(['0.001']);
    expect(await r.ledger.getAnomalies()).toEqual([]);
  });

  it('a placement whose answer is lost after a market order filled: the retry looks the orderLinkId up, one order at the venue, its fill applied once', async () => {
    // The stream stays down for the whole test (its reports are lost too): only the lookup can tell.
    const r = await handlerRig({ timeoutMs: 400, reconnectDelayMs: 30_000, ackTimeoutMs: 6_000 });
    r.venue.dropStream();
    r.venue.failNext('/v5/order/create', 'lost-reply');
    const id = await r.place({ symbol: 'BTC_USDT', side: 'BUY', type: 'MARKET', quantity: '0.002' });
    await r.reach(id, 'FILLED', 8_000);
    expect(r.venue.orders().map((o) => [o.orderLinkId, o.orderStatus])).toEqual([[id, 'Filled']]);
    const routes = r.venue.received().map((q) => q.route);
    expect(routes.filter((q) => q === 'POST /v5/order/create')).toHaveLength(1);
    // The retry was a lookup by orderLinkId, not a second create.
    expect(r.venue.received().find((q) => q.route === 'GET /v5/order/realtime')?.params).toMatchObject({
      orderLinkId: id,
    });
    const fills = (await r.ledger.getOrder(id))!.fills;
    expect(fills.map((f) => [f.quantity, f.commission])).toEqual([['0.002', '0.000002']]);
  });

  it('a placement never executed: the retry is not sent until the first request is past its recv_window + 1 s, then once', async () => {
    const r = await handlerRig({ timeoutMs: 400, reconnectDelayMs: 30_000, ackTimeoutMs: 8_000, recvWindowMs: 1_000 });
    r.venue.dropStream();
    r.venue.failNext('/v5/order/create', 'hang'); // not executed, never answered
    const id = await r.place(limit('0.001', '59000'));
    await r.reach(id, 'OPEN', 8_000);
    const received = r.venue.received();
    const routes = received.map((q) => q.route);
    const creates = routes.flatMap((q, i) => (q === 'POST /v5/order/create' ? [i] : []));
    expect(creates).toHaveLength(2);
    expect(received[creates[1]!]!.at - received[creates[0]!]!.at).toBeGreaterThan(2_000);
    // Between them, lookups by orderLinkId that found nothing while the first could still execute.
    expect(
      routes.slice(creates[0]! + 1, creates[1]).filter((q) => q === 'GET /v5/order/realtime').length,
    ).toBeGreaterThan(0);
    expect(r.venue.orders().map((o) => [o.orderLinkId, o.orderStatus])).toEqual([[id, 'New']]);
  });
});
