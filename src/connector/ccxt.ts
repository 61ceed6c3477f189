/**
 * The connector to real venues through ccxt (REST for orders, ccxt's `pro` WebSockets for the user
 * data stream). The OrderID travels as the exchange's client order id; replies come from
 * `watchOrders` (acknowledgements, cancels, rejections, expiries) and `watchMyTrades` (fills, with
 * the exchange's trade id as `venueFillId`). Quantities and prices are read from the exchange's raw
 * `info` strings, never from ccxt's parsed numbers. What is exchange-specific (field names,
 * statuses, how to list an order's trades) is a `CcxtDialect`; Binance spot's is built in.
 *
 * Errors: a definitive refusal of a placement (insufficient balance, invalid order, rate limit)
 * becomes `PlacementRejectedError` with the exchange's reason; network errors and timeouts are
 * rethrown, so the outcome stays unknown and the handler's retry and query path decides. After the
 * stream drops, the connector resubscribes and then tells the handler to reconcile.
 */
import type { Exchange, Order, Trade } from 'ccxt';
import { type Clock, systemClock } from '../clock.js';
import { decCmp } from '../decimal.js';
import { PlacementRejectedError } from '../errors.js';
import type { StrategyLedger } from '../ledger/types.js';
import type { ExchangeReply, OrderRequest } from '../types.js';
import type { ExchangeConnector, OrderRef, VenueOrderState } from './types.js';

/** What differs from one exchange to another. */
export interface CcxtDialect {
  /** Extra `createOrder` params: the client order id under the exchange's name, time in force, stop price. */
  placeParams(order: OrderRequest & { clientOrderId: string }): Record<string, unknown>;
  /** ccxt's order type for ours. */
  orderType(order: OrderRequest): string;
  /** Params that name an order by our client order id in `fetchOrder` / `cancelOrder`. */
  refParams(ref: OrderRef): Record<string, unknown>;
  /** The reply an order update of the stream stands for; undefined for updates that are not news (trades come from `tradeReply`). */
  orderReply(update: Order): ExchangeReply | undefined;
  /** The FILL reply of a trade of the stream. */
  tradeReply(trade: Trade): ExchangeReply | undefined;
  /** The venue's state of an order fetched by REST, with its fills (trades fetched as needed). */
  venueState(exchange: Exchange, order: Order, symbol: string): Promise<VenueOrderState>;
}

/** Options of the ccxt connector. */
export interface CcxtConnectorOptions {
  /** Our symbol → ccxt's unified symbol. Default `BTC_USDT` → `BTC/USDT`. */
  symbolOf?: (symbol: string) => string;
  /** Default: chosen by `exchange.id` (`binance`). */
  dialect?: CcxtDialect;
  /**
   * Where to find the symbol of an order this process did not place (after a restart): cancels
   * and queries need it on most exchanges. The handler's ledger is the natural source.
   */
  ledger?: StrategyLedger;
  /** Wait before resubscribing after the stream drops: doubles from this, up to 30 s. Default 500. */
  reconnectDelayMs?: number;
  /** Default: the system clock. */
  clock?: Clock;
  /** Stream errors that are not disconnects, for logs. Default: a process warning. */
  onError?: (error: unknown) => void;
}

/** The connector, with its stream lifecycle. */
export interface CcxtConnector extends ExchangeConnector {
  /** Starts the stream loops (done by the first `onReply`); resolves once subscribed. */
  start(): Promise<void>;
  /** Stops the stream loops and closes the exchange's connections. */
  close(): Promise<void>;
}

/**
 * Is `err` a ccxt error of class `name` (or a subclass)? Read from the class chain rather than
 * with `instanceof`, so this module does not load ccxt (a large library) until an exchange is
 * made, and works with whichever copy of ccxt the exchange instance came from.
 */
function isCcxt(err: unknown, name: string): boolean {
  for (let c = (err as object | null)?.constructor; c && c !== Error && c !== Object; c = Object.getPrototypeOf(c)) {
    if (c.name === name) return true;
  }
  return false;
}

/** Why an exchange refused an order, as the handler records it. */
function reasonOf(err: Error): string {
  return err.message.replace(/^\w+ /, ''); // ccxt prefixes the exchange id
}

/**
 * Is this placement error a definitive refusal? A rate limit answered by the exchange refused the
 * request; an exchange error is its verdict on the order; anything else (network, timeout, 5xx,
 * an unexpected answer) leaves the outcome unknown.
 */
function isDefinitiveRefusal(err: unknown): boolean {
  if (isCcxt(err, 'DDoSProtection')) return true; // includes RateLimitExceeded
  if (isCcxt(err, 'OperationFailed')) return false; // NetworkError, RequestTimeout, ExchangeNotAvailable…
  return isCcxt(err, 'ExchangeError');
}

/** Binance spot: `newClientOrderId`, `executionReport` fields in `info`, trades by `orderId`. */
export const binanceDialect: CcxtDialect = {
  placeParams(order) {
    return {
      newClientOrderId: order.clientOrderId,
      ...(order.type === 'MARKET'
        ? {}
        : { timeInForce: order.timeInForce === 'DAY' ? 'GTC' : (order.timeInForce ?? 'GTC') }),
      ...(order.stopPrice === undefined ? {} : { stopPrice: order.stopPrice }),
    };
  },
  orderType: (order) => (order.type === 'MARKET' ? 'market' : order.type === 'LIMIT' ? 'limit' : 'STOP_LOSS_LIMIT'),
  refParams: (ref) => ({ origClientOrderId: ref.clientOrderId }),
  orderReply(update) {
    const r = update.info as Record<string, unknown>;
    const venueOrderId = String(r.i);
    const at = Number(r.E ?? r.T);
    // A cancel report names the cancel request in `c` and the order in `C`.
    const clientOrderId = String(r.x === 'CANCELED' && r.C ? r.C : r.c);
    switch (r.x) {
      case 'NEW':
        return { type: 'ACCEPTED', clientOrderId, venueOrderId, at };
      case 'CANCELED':
        return { type: 'CANCELLED', clientOrderId, venueOrderId, at };
      case 'REJECTED':
        return { type: 'REJECTED', clientOrderId, venueOrderId, reason: String(r.r ?? 'rejected'), at };
      case 'EXPIRED':
      case 'TRADE_PREVENTION':
        return { type: 'EXPIRED', clientOrderId, venueOrderId, at };
      default:
        return undefined; // TRADE: from the trades stream; REPLACED, AMENDMENT: no change of ours
    }
  },
  tradeReply(trade) {
    const r = trade.info as Record<string, unknown>;
    if (r.x !== 'TRADE') return undefined;
    return {
      type: 'FILL',
      clientOrderId: String(r.c),
      venueOrderId: String(r.i),
      venueFillId: String(r.t),
      quantity: String(r.l),
      price: String(r.L),
      ...(r.N ? { commission: String(r.n), commissionAsset: String(r.N) } : {}),
      at: Number(r.T ?? r.E),
    };
  },
  async venueState(exchange, order, symbol) {
    const r = order.info as Record<string, string>;
    const status = BINANCE_STATUS[r.status ?? ''];
    if (!status) throw new Error(`binance order ${r.orderId}: unknown status ${r.status}`);
    const fills =
      decCmp(r.executedQty ?? '0', '0') > 0
        ? (await exchange.fetchMyTrades(symbol, undefined, undefined, { orderId: r.orderId })).map((t) => {
            const ti = t.info as Record<string, string | number>;
            return {
              venueFillId: String(ti.id),
              quantity: String(ti.qty),
              price: String(ti.price),
              at: Number(ti.time),
            };
          })
        : [];
    return { venueOrderId: String(r.orderId), status, fills };
  },
};

const BINANCE_STATUS: Record<string, VenueOrderState['status']> = {
  NEW: 'OPEN',
  PENDING_NEW: 'OPEN',
  PENDING_CANCEL: 'OPEN',
  PARTIALLY_FILLED: 'PARTIALLY_FILLED',
  FILLED: 'FILLED',
  CANCELED: 'CANCELLED',
  REJECTED: 'REJECTED',
  EXPIRED: 'EXPIRED',
  EXPIRED_IN_MATCH: 'EXPIRED',
};

const DIALECTS: Record<string, CcxtDialect> = { binance: binanceDialect };

/** Symbols of orders kept in memory (a stated bound); older orders' come from the ledger. */
const SYMBOLS_REMEMBERED = 50_000;

/** Creates the connector over a ccxt exchange instance (a `ccxt.pro` one for the stream). */
export function createCcxtConnector(exchange: Exchange, options: CcxtConnectorOptions = {}): CcxtConnector {
  const dialect = options.dialect ?? DIALECTS[exchange.id];
  if (!dialect)
    throw new Error(`no ccxt dialect for exchange ${exchange.id}: pass options.dialect (binance is built in)`);
  const symbolOf = options.symbolOf ?? ((s: string) => s.replace('_', '/'));
  const clock = options.clock ?? systemClock;
  const onError =
    options.onError ?? ((e: unknown) => process.emitWarning(`ccxt connector: ${String(e)}`, 'CcxtConnectorWarning'));
  /** Our client order id → ccxt symbol, for cancels and queries (older ones: from the ledger). */
  const symbols = new Map<string, string>();
  const replyListeners = new Set<(r: ExchangeReply) => void>();
  const reconnectListeners = new Set<() => void>();
  let started: Promise<void> | undefined;
  let stopped = false;

  const emit = (reply: ExchangeReply | undefined): void => {
    if (reply) for (const l of replyListeners) l(reply);
  };
  const remember = (clientOrderId: string, symbol: string): void => {
    symbols.set(clientOrderId, symbol);
    if (symbols.size > SYMBOLS_REMEMBERED) symbols.delete(symbols.keys().next().value!); // the oldest
  };
  const symbolFor = async (clientOrderId: string): Promise<string> => {
    const cached = symbols.get(clientOrderId);
    if (cached !== undefined) return cached;
    const ours = (await options.ledger?.getOrder(clientOrderId))?.orderDetails.symbol;
    if (ours === undefined)
      throw new Error(`ccxt connector: the symbol of order ${clientOrderId} is unknown (pass options.ledger)`);
    remember(clientOrderId, symbolOf(ours));
    return symbolOf(ours);
  };
  const sleep = (ms: number): Promise<void> => new Promise((r) => clock.setTimeout(r, ms));

  // ─── The stream ────────────────────────────────────────────────────────────────────────
  let reconnecting: Promise<void> | undefined;
  /** After a drop: wait, resubscribe (retrying), and only then have the handler reconcile. */
  const reconnect = (): Promise<void> => {
    reconnecting ??= (async () => {
      for (let delay = options.reconnectDelayMs ?? 500; !stopped; delay = Math.min(delay * 2, 30_000)) {
        await sleep(delay);
        try {
          await subscribe();
          break;
        } catch (err) {
          if (!isCcxt(err, 'NetworkError')) onError(err);
        }
      }
      if (!stopped) for (const l of reconnectListeners) l();
    })().finally(() => {
      reconnecting = undefined;
    });
    return reconnecting;
  };
  const subscribe = async (): Promise<void> => {
    const auth = (exchange as unknown as { authenticate?: () => Promise<unknown> }).authenticate;
    if (typeof auth === 'function') await auth.call(exchange);
  };
  const loop = async <T>(watch: () => Promise<T[]>, handle: (item: T) => ExchangeReply | undefined): Promise<void> => {
    while (!stopped) {
      try {
        for (const item of await watch()) emit(handle(item));
      } catch (err) {
        if (stopped) return;
        if (!isCcxt(err, 'NetworkError')) onError(err);
        await reconnect();
      }
    }
  };
  const start = (): Promise<void> => {
    started ??= (async () => {
      await exchange.loadMarkets();
      await subscribe();
      void loop(
        () => exchange.watchOrders(),
        (o) => dialect.orderReply(o),
      );
      void loop(
        () => exchange.watchMyTrades(),
        (t) => dialect.tradeReply(t),
      );
    })().catch((err: unknown) => {
      started = undefined; // the exchange was out of reach: the next call tries again
      throw err;
    });
    return started;
  };

  return {
    start,
    async placeOrder(order) {
      await start();
      const symbol = symbolOf(order.symbol);
      remember(order.clientOrderId, symbol);
      try {
        const placed = await exchange.createOrder(
          symbol,
          dialect.orderType(order),
          order.side === 'BUY' ? 'buy' : 'sell',
          order.quantity as unknown as number, // ccxt takes decimal strings as they are
          order.price as unknown as number | undefined,
          dialect.placeParams(order),
        );
        return placed.id ? { venueOrderId: String(placed.id) } : {};
      } catch (err) {
        // The same client order id sent again after an unknown outcome: the order exists.
        if (isCcxt(err, 'ExchangeError') && /duplicate order/i.test((err as Error).message)) return {};
        if (isDefinitiveRefusal(err)) throw new PlacementRejectedError(reasonOf(err as Error));
        throw err;
      }
    },
    async cancelOrder(ref) {
      await start();
      const symbol = await symbolFor(ref.clientOrderId);
      try {
        await exchange.cancelOrder(ref.venueOrderId ?? '', symbol, dialect.refParams(ref));
      } catch (err) {
        // "Unknown order": it already ended (a fill crossed the cancel) or never rested.
        if (isCcxt(err, 'OrderNotFound')) {
          emit({
            type: 'CANCEL_REJECTED',
            clientOrderId: ref.clientOrderId,
            ...(ref.venueOrderId ? { venueOrderId: ref.venueOrderId } : {}),
            reason: reasonOf(err as Error),
            at: clock.now(),
          });
          return;
        }
        throw err;
      }
    },
    async queryOrder(ref) {
      await start();
      const symbol = await symbolFor(ref.clientOrderId);
      let order: Order;
      try {
        order = await exchange.fetchOrder(ref.venueOrderId ?? '', symbol, dialect.refParams(ref));
      } catch (err) {
        if (isCcxt(err, 'OrderNotFound')) return null;
        throw err;
      }
      return dialect.venueState(exchange, order, symbol);
    },
    onReply(listener) {
      replyListeners.add(listener);
      start().catch(onError);
      return () => replyListeners.delete(listener);
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    async close() {
      stopped = true;
      await (exchange as unknown as { close?: () => Promise<void> }).close?.();
    },
  };
}
