/**
 * Test rigs for the ccxt connector against the local Binance venue: the real ccxt (`pro.binance`,
 * its signing, parsing and WebSocket client) pointed at `startBinanceLocal` on 127.0.0.1, alone or
 * under a real execution handler with a memory ledger. `closeRigs()` in an `afterEach` stops them.
 */
import ccxt, { type Exchange } from 'ccxt';
import { systemClock } from '../../src/clock.js';
import {
  type BinanceLocal,
  type BinanceLocalOptions,
  pointCcxtAtLocal,
  startBinanceLocal,
} from '../../src/connector/binance-local.js';
import { type CcxtConnector, createCcxtConnector } from '../../src/connector/ccxt.js';
import { type ExecutionHandler, createExecutionHandler } from '../../src/handler/create.js';
import { createMemoryLedger } from '../../src/ledger/memory.js';
import type { StrategyLedger } from '../../src/ledger/types.js';
import type { ExchangeReply, OrderRequest, OrderStatus } from '../../src/types.js';
import { chain } from '../support/harness.js';

const open: { handler?: ExecutionHandler; connector: CcxtConnector; venue: BinanceLocal }[] = [];

/** Stops every rig made since the last call: handlers, then connectors, then venues. */
export async function closeRigs(): Promise<void> {
  for (const r of open.splice(0)) {
    await r.handler?.stop();
    await r.connector.close();
    await r.venue.close();
  }
}

/** A ccxt `pro.binance` pointed at a local venue; `recvWindowMs`: ccxt's option (default 10 s). */
export async function localBinance(
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

/** Polls `done` every 20 ms; throws after `ms`. */
export async function until(what: string, done: () => boolean, ms = 5_000): Promise<void> {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) throw new Error(`not seen after ${ms} ms: ${what}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** Options of a rig. */
export interface RigOptions {
  /** ccxt's request timeout. Default 2,000 ms. */
  timeoutMs?: number;
  /** The connector's wait before resubscribing after a drop. Default 100 ms. */
  reconnectDelayMs?: number;
  /** ccxt's recvWindow: how long the venue may still execute a request after it was sent. */
  recvWindowMs?: number;
  /** The handler's. Defaults 3,000 and 2. */
  ackTimeoutMs?: number;
  placeRetries?: number;
  venue?: Partial<BinanceLocalOptions>;
}

/** The connector alone on a fresh local venue, with every reply it emits. */
export async function bareRig(options: RigOptions = {}) {
  const venue = await startBinanceLocal({
    apiKey: 'local-key',
    secret: 'local-secret',
    balance: '100000',
    ...options.venue,
  });
  const exchange: Exchange = await localBinance(venue.url, options.timeoutMs, options.recvWindowMs);
  const connector = createCcxtConnector(exchange, {
    reconnectDelayMs: options.reconnectDelayMs ?? 100,
    onError: () => {},
  });
  const replies: ExchangeReply[] = [];
  connector.onReply!((reply) => replies.push(reply));
  await connector.start();
  open.push({ connector, venue });
  /** The venue's orders under one client order id, oldest first. */
  const at = (clientOrderId: string) => venue.orders().filter((o) => o.clientOrderId === clientOrderId);
  /** The signed requests of one route the venue received. */
  const sent = (route: string) =>
    venue
      .received()
      .filter((r) => r.route === route)
      .map((r) => r.params);
  return { venue, exchange, connector, replies, at, sent };
}

let directive = 0;

/** A real execution handler over the connector, on a fresh local venue. */
export async function handlerRig(options: RigOptions = {}) {
  const venue = await startBinanceLocal({
    apiKey: 'local-key',
    secret: 'local-secret',
    balance: '100000',
    ...options.venue,
  });
  const ledger: StrategyLedger = createMemoryLedger({ strategyId: 'CCXT' });
  const connector = createCcxtConnector(await localBinance(venue.url, options.timeoutMs, options.recvWindowMs), {
    ledger,
    reconnectDelayMs: options.reconnectDelayMs ?? 100,
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
  open.push({ handler, connector, venue });
  return {
    venue,
    connector,
    handler,
    ledger,
    async place(order: OrderRequest): Promise<string> {
      const { orderIds } = await handler.execute({
        directiveId: `B${++directive}`,
        causality: chain(),
        orders: [order],
      });
      return orderIds[0]!;
    },
    async until(orderId: string, status: OrderStatus, ms = 5_000): Promise<void> {
      await until(
        `order ${orderId} ${status} (is ${handler.order(orderId)?.status})`,
        () => handler.order(orderId)?.status === status,
        ms,
      );
    },
  };
}

/** A limit order on BTC_USDT. */
export const btcLimit = (quantity: string, price: string, side: 'BUY' | 'SELL' = 'BUY'): OrderRequest => ({
  symbol: 'BTC_USDT',
  side,
  type: 'LIMIT',
  quantity,
  price,
});
