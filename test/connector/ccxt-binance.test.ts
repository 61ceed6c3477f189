/**
 * The ccxt connector against Binance spot's own wire format, with no internet: the real ccxt
 * library (REST, signing, parsing, its `pro` WebSocket client) talks to a local server on
 * 127.0.0.1 that answers as Binance documents it. Every reply type reaches the handler, errors map
 * to rejections or unknown outcomes as they should, decimals stay exact strings, and a fill made
 * while the stream is down is found on reconnection. A modify is Binance's cancel-replace: its
 * answer and its stream reports become one MODIFIED (never a CANCELLED of the order), refusals a
 * PlacementRejectedError, and queries and cancels reach the replacement.
 */
import ccxt from 'ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { type BinanceLocal, pointCcxtAtLocal, startBinanceLocal } from '../../src/connector/binance-local.js';
import { type CcxtConnector, binanceDialect, binanceReplace, createCcxtConnector } from '../../src/connector/ccxt.js';
import { PlacementRejectedError } from '../../src/errors.js';
import { type ExecutionHandler, createExecutionHandler } from '../../src/handler/create.js';
import { createMemoryLedger } from '../../src/ledger/memory.js';
import type { StrategyLedger } from '../../src/ledger/types.js';
import type { ExchangeReply, OrderRequest, OrderStatus } from '../../src/types.js';
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
const bare: { connector: CcxtConnector; venue: BinanceLocal }[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.handler.stop();
    await r.connector.close();
    await r.venue.close();
  }
  for (const r of bare.splice(0)) {
    await r.connector.close();
    await r.venue.close();
  }
});

/** A ccxt `pro.binance` pointed at a fresh local venue. */
async function localBinance(
  url: string,
  timeoutMs = 2_000,
  recvWindowMs?: number,
): Promise<InstanceType<typeof ccxt.pro.binance>> {
  const exchange = new ccxt.pro.binance({
    apiKey: 'local-key',
    secret: 'local-secret',
    timeout: timeoutMs,
    enableRateLimit: false,
    options: {
      fetchMarkets: { types: ['spot'] },
      fetchMargins: false,
      fetchCurrencies: false,
      ...(recvWindowMs === undefined ? {} : { recvWindow: recvWindowMs }),
    },
  });
  await pointCcxtAtLocal(exchange, url);
  return exchange;
}

let directive = 0;
async function rig(
  options: { timeoutMs?: number; recvWindowMs?: number; ackTimeoutMs?: number; placeRetries?: number } = {},
): Promise<Rig> {
  const venue = await startBinanceLocal({ apiKey: 'local-key', secret: 'local-secret', balance: '100000' });
  const ledger = createMemoryLedger({ strategyId: 'CCXT' });
  const connector = createCcxtConnector(await localBinance(venue.url, options.timeoutMs, options.recvWindowMs), {
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
    ackTimeoutMs: options.ackTimeoutMs ?? 3_000,
    placeRetries: options.placeRetries ?? 2,
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
    expect(o.fills[0]!.commission).toBe('0.0001'); // 0.1% of 0.1 BTC bought
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
    // Sent again only once the first request is past its recvWindow (1 s) + 1 s: retries until 6 s.
    const r = await rig({ timeoutMs: 400, recvWindowMs: 1_000, ackTimeoutMs: 6_000, placeRetries: 4 });
    r.venue.failNext('POST /api/v3/order', 'server-error');
    const a = await r.place(limit('0.01', '60000'));
    await r.until(a, 'OPEN', 8_000); // retried after the 503
    r.venue.failNext('POST /api/v3/order', 'hang');
    const b = await r.place(limit('0.02', '60000'));
    await r.until(b, 'OPEN', 8_000); // retried after the timeout
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
      quantity: '0.4',
      price: '60000',
      fills: [
        {
          venueFillId: trade.id,
          quantity: '0.15',
          price: '59999.99',
          at: expect.any(Number),
          commission: '0.00015', // 0.1% of the 0.15 BTC bought: myTrades' own
          commissionAsset: 'BTC',
        },
      ],
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

/** The connector alone (no handler) on a fresh local venue: the replies it emits, the cancel-replace requests ccxt signs. */
async function bareRig(options: { timeoutMs?: number; ledger?: StrategyLedger } = {}) {
  const venue = await startBinanceLocal({ apiKey: 'local-key', secret: 'local-secret', balance: '100000' });
  const exchange = await localBinance(venue.url, options.timeoutMs);
  const signed: URLSearchParams[] = [];
  const sign = exchange.sign.bind(exchange);
  exchange.sign = (path, api, method, params, headers, body) => {
    const request = sign(path, api, method, params, headers, body);
    if (path === 'order/cancelReplace') signed.push(new URLSearchParams(String(request.body ?? '')));
    return request;
  };
  const connector = createCcxtConnector(exchange, {
    reconnectDelayMs: 100,
    onError: () => {},
    ...(options.ledger ? { ledger: options.ledger } : {}),
  });
  const replies: ExchangeReply[] = [];
  connector.onReply!((reply) => replies.push(reply));
  await connector.start();
  bare.push({ connector, venue });
  const until = async (what: string, done: () => boolean, ms = 5_000): Promise<void> => {
    const end = performance.now() + ms;
    while (!done()) {
      if (performance.now() > end) throw new Error(`not seen after ${ms} ms: ${what}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  };
  /** Places an order and waits for its acknowledgement on the stream; its venue order id. */
  const place = async (clientOrderId: string, order: OrderRequest): Promise<string> => {
    const { venueOrderId } = await connector.placeOrder({ ...order, clientOrderId });
    await until(`ACCEPTED ${clientOrderId}`, () =>
      replies.some((r) => r.type === 'ACCEPTED' && r.clientOrderId === clientOrderId),
    );
    return venueOrderId!;
  };
  const at = (clientOrderId: string) => venue.orders().find((o) => o.clientOrderId === clientOrderId)!;
  return { venue, connector, replies, signed, until, place, at };
}

const settle = (ms = 300) => new Promise((res) => setTimeout(res, ms));
/** No reply ended the order (a CANCELLED naming it or any of its venue orders). */
const noCancel = (replies: ExchangeReply[]) => expect(replies.filter((r) => r.type === 'CANCELLED')).toEqual([]);

describe('modify through Binance’s order/cancelReplace (ccxt’s signed endpoint)', () => {
  it('replaces an open limit order: a new venue order named by the modification id; the signed request carries it and the strings given', async () => {
    const r = await bareRig();
    const id = 'ORD_20260101_000000_0000000a';
    const first = await r.place(id, limit('0.3', '60000.5'));
    const result = await r.connector.modifyOrder!(
      { clientOrderId: id, venueOrderId: first, modificationId: `${id}.1` },
      { quantity: '0.25', price: '60100.75' },
    );
    const fresh = r.at(`${id}.1`);
    expect(result).toEqual({ modified: true, venueOrderId: fresh.orderId });
    expect(fresh.orderId).not.toBe(first);
    expect(fresh).toMatchObject({ status: 'NEW', origQty: '0.25', price: '60100.75' });
    expect(r.at(id).status).toBe('CANCELED');
    expect(r.signed).toHaveLength(1);
    const sent = Object.fromEntries(r.signed[0]!);
    expect(sent).toMatchObject({
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      cancelReplaceMode: 'STOP_ON_FAILURE',
      newClientOrderId: `${id}.1`,
      cancelOrigClientOrderId: id,
      cancelRestrictions: 'ONLY_NEW',
      quantity: '0.25',
      price: '60100.75',
      timeInForce: 'GTC',
    });
    expect(sent.signature).toMatch(/^[0-9a-f]{64}$/);
    // The stream's reports of the replace (the old order's CANCELED, the new one's NEW) add nothing:
    // the answer confirmed the modify; and a fill of the replacement names the modification id.
    r.venue.fill(`${id}.1`, '0.05');
    await r.until('the fill', () => r.replies.some((x) => x.type === 'FILL'));
    await settle(100);
    noCancel(r.replies);
    expect(r.replies.filter((x) => x.type !== 'ACCEPTED' || x.clientOrderId !== id)).toEqual([
      {
        type: 'FILL',
        clientOrderId: `${id}.1`,
        venueOrderId: fresh.orderId,
        venueFillId: r.at(`${id}.1`).trades[0]!.id,
        quantity: '0.05',
        price: '60100.75',
        commission: expect.any(String),
        commissionAsset: 'BTC',
        at: expect.any(Number),
      },
    ]);
  });

  it('the answer lost: the stream’s reports become one MODIFIED with the new venue order id, never a CANCELLED', async () => {
    const r = await bareRig({ timeoutMs: 500 });
    const id = 'ORD_20260101_000000_0000000b';
    const first = await r.place(id, limit('0.3', '60000'));
    r.venue.failNext('POST /api/v3/order/cancelReplace', 'lost-reply');
    const lost = await r.connector.modifyOrder!(
      { clientOrderId: id, venueOrderId: first, modificationId: `${id}.1` },
      { price: '59990.5' },
    ).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(Error);
    expect(lost).not.toBeInstanceOf(PlacementRejectedError); // the outcome is unknown
    await r.until('MODIFIED', () => r.replies.some((x) => x.type === 'MODIFIED'));
    const fresh = r.at(`${id}.1`);
    expect(r.replies.filter((x) => x.type === 'MODIFIED')).toEqual([
      {
        type: 'MODIFIED',
        clientOrderId: `${id}.1`,
        venueOrderId: first,
        newVenueOrderId: fresh.orderId,
        quantity: '0.3',
        price: '59990.5',
        at: expect.any(Number),
      },
    ]);
    r.venue.fill(`${id}.1`);
    await r.until('the fill', () => r.replies.some((x) => x.type === 'FILL'));
    expect(r.replies.find((x) => x.type === 'FILL')).toMatchObject({
      clientOrderId: `${id}.1`,
      venueOrderId: fresh.orderId,
      quantity: '0.3',
      price: '59990.5',
    });
    await settle(100);
    noCancel(r.replies);
    expect(r.replies.map((x) => x.type)).toEqual(['ACCEPTED', 'MODIFIED', 'FILL']);
  });

  it('a filled order: the venue’s -2022 is a PlacementRejectedError and nothing is placed; once the connector saw the fill, nothing is sent', async () => {
    const r = await bareRig();
    const id = 'ORD_20260101_000000_0000000c';
    const first = await r.place(id, limit('0.2', '60000'));
    r.venue.dropStream();
    r.venue.fill(id); // unseen: the stream is down
    const refused = await r.connector.modifyOrder!(
      { clientOrderId: id, venueOrderId: first, modificationId: `${id}.1` },
      { price: '60001' },
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PlacementRejectedError);
    expect((refused as PlacementRejectedError).reason).toBe(
      '-2022 Order cancel-replace failed. (cancel: -2011 Unknown order sent.)',
    );
    expect(r.venue.orders().map((o) => o.clientOrderId)).toEqual([id]);
    expect(r.at(id).status).toBe('FILLED');
    // After the reconnection the query tells the fill; a modify at or below it is refused unsent.
    expect(await r.connector.queryOrder({ clientOrderId: id })).toMatchObject({ status: 'FILLED', quantity: '0.2' });
    const unsent = await r.connector.modifyOrder!(
      { clientOrderId: id, venueOrderId: first, modificationId: `${id}.2` },
      { price: '60002' },
    ).catch((e: unknown) => e);
    expect(unsent).toBeInstanceOf(PlacementRejectedError);
    expect(r.signed).toHaveLength(1);
    noCancel(r.replies);
  });

  it('cancelled but the new order failed (-2021): a PlacementRejectedError, and the order’s CANCELLED once', async () => {
    const r = await bareRig();
    const id = 'ORD_20260101_000000_0000000d';
    const first = await r.place(id, limit('0.2', '60000'));
    const refused = await r.connector.modifyOrder!(
      { clientOrderId: id, venueOrderId: first, modificationId: `${id}.1` },
      { quantity: '5' },
    ) // 300,000 USDT of 100,000
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PlacementRejectedError);
    expect((refused as PlacementRejectedError).reason).toBe(
      '-2021 Order cancel-replace partially failed. (new order: -2010 Account has insufficient balance for requested action.)',
    );
    expect(r.at(id).status).toBe('CANCELED');
    await r.until('CANCELLED', () => r.replies.some((x) => x.type === 'CANCELLED'));
    await settle(100);
    // From the stream, or made from the answer when that came first (with the reason): once.
    const cancels = r.replies.filter((x) => x.type === 'CANCELLED');
    expect(cancels).toHaveLength(1);
    expect(cancels[0]).toMatchObject({ type: 'CANCELLED', clientOrderId: id, venueOrderId: first });
  });

  it('queryOrder after a replace: the values in force (total quantity, price) and the fills of both venue orders; so after a restart', async () => {
    const ledger = createMemoryLedger({ strategyId: 'CCXT' });
    const r = await bareRig({ ledger });
    const id = 'ORD_20260101_000000_0000000e';
    const first = await r.place(id, limit('0.5', '60000'));
    r.venue.fill(id, '0.2');
    await r.until('the first fill', () => r.replies.some((x) => x.type === 'FILL'));
    const result = await r.connector.modifyOrder!(
      { clientOrderId: id, venueOrderId: first, modificationId: `${id}.1` },
      { quantity: '0.6', price: '60010' },
    );
    const fresh = r.at(`${id}.1`);
    expect(result).toEqual({ modified: true, venueOrderId: fresh.orderId });
    // The replacement works what is left of the new total: 0.6 - 0.2.
    expect(Object.fromEntries(r.signed[0]!)).toMatchObject({
      quantity: '0.4',
      cancelRestrictions: 'ONLY_PARTIALLY_FILLED',
    });
    r.venue.fill(`${id}.1`, '0.1', '60009');
    const commission = (c: string) => ({ commission: c, commissionAsset: 'BTC' });
    const [old, now] = [r.at(id).trades[0]!, r.at(`${id}.1`).trades[0]!];
    const expected = {
      venueOrderId: fresh.orderId,
      status: 'PARTIALLY_FILLED',
      quantity: '0.6',
      price: '60010',
      fills: [
        { venueFillId: old.id, quantity: '0.2', price: '60000', at: expect.any(Number), ...commission('0.0002') },
        { venueFillId: now.id, quantity: '0.1', price: '60009', at: expect.any(Number), ...commission('0.0001') },
      ],
    };
    expect(await r.connector.queryOrder({ clientOrderId: id, venueOrderId: first })).toEqual(expected);
    // A connector that remembers nothing (a restart) rebuilds the chain from the modification ids.
    await ledger.commit([
      {
        kind: 'order',
        order: {
          orderId: id,
          directiveId: 'X',
          strategyId: 'CCXT',
          orderDetails: limit('0.5', '60000'),
          causality: chain(),
          at: 1,
        },
      },
    ]);
    const again = createCcxtConnector(await localBinance(r.venue.url), { ledger, onError: () => {} });
    bare.unshift({ connector: again, venue: { close: async () => {} } as BinanceLocal }); // closed before the venue
    expect(await again.queryOrder({ clientOrderId: id })).toEqual(expected);
    noCancel(r.replies);
  });

  it('a stop-limit order: the stop price and the type travel as given; a second modify replaces the replacement', async () => {
    const r = await bareRig();
    const id = 'ORD_20260101_000000_00000010';
    const stop = { ...limit('0.1', '59000', 'SELL'), type: 'STOP_LIMIT', stopPrice: '59100' } as const;
    const first = await r.place(id, stop);
    const one = await r.connector.modifyOrder!(
      { clientOrderId: id, venueOrderId: first, modificationId: `${id}.1` },
      { stopPrice: '59200.5' },
    );
    expect(one).toEqual({ modified: true, venueOrderId: r.at(`${id}.1`).orderId });
    const two = await r.connector.modifyOrder!(
      { clientOrderId: id, venueOrderId: one.venueOrderId!, modificationId: `${id}.2` },
      { price: '58900', quantity: '0.15' },
    );
    expect(two).toEqual({ modified: true, venueOrderId: r.at(`${id}.2`).orderId });
    expect(r.signed.map((p) => Object.fromEntries(p))).toMatchObject([
      { type: 'STOP_LOSS_LIMIT', side: 'SELL', stopPrice: '59200.5', price: '59000', quantity: '0.1' },
      {
        type: 'STOP_LOSS_LIMIT',
        cancelOrigClientOrderId: `${id}.1`,
        newClientOrderId: `${id}.2`,
        stopPrice: '59200.5',
      },
    ]);
    expect(r.venue.orders().map((o) => [o.clientOrderId, o.status])).toEqual([
      [id, 'CANCELED'],
      [`${id}.1`, 'CANCELED'],
      [`${id}.2`, 'NEW'],
    ]);
    expect(await r.connector.queryOrder({ clientOrderId: id })).toEqual({
      venueOrderId: two.venueOrderId,
      status: 'OPEN',
      quantity: '0.15',
      price: '58900',
      stopPrice: '59200.5',
      fills: [],
    });
    await settle(100);
    noCancel(r.replies);
  });

  it('a cancel after a replace cancels the replacement; its CANCELLED names the modification id', async () => {
    const r = await bareRig();
    const id = 'ORD_20260101_000000_0000000f';
    const first = await r.place(id, limit('0.2', '60000'));
    await r.connector.modifyOrder!(
      { clientOrderId: id, venueOrderId: first, modificationId: `${id}.1` },
      { price: '59000' },
    );
    await r.connector.cancelOrder({ clientOrderId: id, venueOrderId: first });
    expect(r.at(`${id}.1`).status).toBe('CANCELED');
    await r.until('CANCELLED', () => r.replies.some((x) => x.type === 'CANCELLED'));
    expect(r.replies.filter((x) => x.type === 'CANCELLED' || x.type === 'CANCEL_REJECTED')).toEqual([
      { type: 'CANCELLED', clientOrderId: `${id}.1`, venueOrderId: r.at(`${id}.1`).orderId, at: expect.any(Number) },
    ]);
  });

  it('reads Binance’s cancel-replace errors: -2022 and -2021 definitive (BadResponse on api.binance.com), timeouts unknown', () => {
    const body = (code: number, cancelResult: string) =>
      `binance {"code":${code},"msg":"m","data":{"cancelResult":"${cancelResult}","newOrderResult":"NOT_ATTEMPTED","cancelResponse":{"code":-2011,"msg":"Unknown order sent."},"newOrderResponse":null}}`;
    expect(binanceReplace.refusal(new ccxt.BadResponse(body(-2022, 'FAILURE')))).toEqual({
      reason: '-2022 m (cancel: -2011 Unknown order sent.)',
      cancelled: false,
    });
    expect(binanceReplace.refusal(new ccxt.BadResponse(body(-2021, 'SUCCESS')))?.cancelled).toBe(true);
    expect(binanceReplace.refusal(new ccxt.InvalidOrder('binance {"code":-1013,"msg":"Invalid quantity."}'))).toEqual({
      reason: '{"code":-1013,"msg":"Invalid quantity."}',
      cancelled: false,
    });
    expect(binanceReplace.refusal(new ccxt.RequestTimeout('binance POST ... timed out'))).toBeUndefined();
    expect(binanceReplace.refusal(new ccxt.ExchangeNotAvailable('binance {"code":-1001,"msg":"x"}'))).toBeUndefined();
  });
});
