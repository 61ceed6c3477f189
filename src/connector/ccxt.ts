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
 *
 * Modify (contract section 4b) is a cancel-replace through ccxt's `editOrder` when the dialect has
 * `replace` (Binance spot: `order/cancelReplace`, STOP_ON_FAILURE): the replacement's client order
 * id is the modification id, and `replace-tracker.ts` keeps each order's chain of venue orders so
 * that the stream's reports of a replace become one MODIFIED (never a CANCELLED of the order), and
 * cancels and queries reach the current venue order, with the fills of every one of the chain.
 */
import type { Exchange, Order, Trade } from 'ccxt';
import { type Clock, systemClock } from '../clock.js';
import { decAdd, decCmp } from '../decimal.js';
import { PlacementRejectedError } from '../errors.js';
import type { StrategyLedger } from '../ledger/types.js';
import type { ExchangeReply, ModifyChanges, OrderRequest } from '../types.js';
import {
  type LegEvent,
  type LegSnapshot,
  type Lineage,
  type OrderValues,
  type ReplaceRequest,
  createReplaceTracker,
} from './replace-tracker.js';
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
  /** The venue's state of an order fetched by REST, with its values and fills (trades fetched as needed). */
  venueState(exchange: Exchange, order: Order, symbol: string): Promise<VenueOrderState>;
  /** How the exchange modifies an order by cancel-replace; without it the connector has no `modifyOrder`. */
  replace?: CcxtReplaceDialect;
}

/** What differs in a cancel-replace from one exchange to another. */
export interface CcxtReplaceDialect {
  /** `editOrder`'s arguments: the replacement's values, its client order id, the order it cancels. */
  editArgs(request: ReplaceRequest): {
    type: string;
    side: 'buy' | 'sell';
    amount: string;
    price?: string;
    params: Record<string, unknown>;
  };
  /**
   * A failed `editOrder`: a definitive refusal (`cancelled`: the old order was cancelled though
   * the new one failed), or undefined when the outcome is unknown.
   */
  refusal(err: unknown): { reason: string; cancelled: boolean } | undefined;
  /** A stream update as the replace bookkeeping reads it; undefined for anything else. */
  event(update: Order): LegEvent | undefined;
  /** An order fetched by REST, or `editOrder`'s answer, as one venue order of a chain. */
  leg(order: Order): LegSnapshot;
  /** The fills of one venue order. */
  fills(exchange: Exchange, symbol: string, venueOrderId: string): Promise<VenueOrderState['fills']>;
  /**
   * The venue orders of an order's chain, oldest first, found from its first one (after a restart
   * the connector remembers none): those placed later whose client order id is a modification id
   * of `orderId` (`${orderId}.${n}`, contract section 4b).
   */
  chain(exchange: Exchange, symbol: string, orderId: string, first: Order): Promise<Order[]>;
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

const isZero = (d: string): boolean => decCmp(d, '0') === 0;
/** Binance's decimal field as a value, or undefined when absent or zero ("0.00000000": none). */
const nonZero = (v: unknown): string | undefined =>
  v === undefined || v === null || v === '' || isZero(String(v)) ? undefined : String(v);
const BINANCE_TYPES: Record<string, OrderRequest['type']> = {
  LIMIT: 'LIMIT',
  MARKET: 'MARKET',
  STOP_LOSS_LIMIT: 'STOP_LIMIT',
};
const binanceType = (order: Pick<OrderRequest, 'type'>): string =>
  order.type === 'MARKET' ? 'market' : order.type === 'LIMIT' ? 'limit' : 'STOP_LOSS_LIMIT';
const binanceTimeInForce = (order: Pick<OrderRequest, 'timeInForce'>): string =>
  order.timeInForce === 'DAY' ? 'GTC' : (order.timeInForce ?? 'GTC');

/** A Binance order's (REST or stream) own values: quantity = its `origQty`. */
function binanceValues(r: Record<string, unknown>): Omit<OrderValues, 'side' | 'type' | 'timeInForce'> {
  const market = (r.type ?? r.o) === 'MARKET';
  const price = market ? undefined : nonZero(r.price ?? r.p);
  const stopPrice = nonZero(r.stopPrice ?? r.P);
  return {
    quantity: String(r.origQty ?? r.q),
    ...(price === undefined ? {} : { price }),
    ...(stopPrice === undefined ? {} : { stopPrice }),
  };
}

async function binanceFills(exchange: Exchange, symbol: string, venueOrderId: string) {
  const trades = await exchange.fetchMyTrades(symbol, undefined, undefined, { orderId: venueOrderId });
  return trades.map((t) => {
    const ti = t.info as Record<string, string | number>;
    return { venueFillId: String(ti.id), quantity: String(ti.qty), price: String(ti.price), at: Number(ti.time) };
  });
}

/** The Binance code and body in a ccxt error's message (`binance {"code":-2022,...}`), when there. */
function binanceBody(err: unknown): { code?: number; msg?: string; data?: Record<string, unknown> } | undefined {
  const text = err instanceof Error ? err.message : '';
  const at = text.indexOf('{');
  if (at < 0) return undefined;
  try {
    return JSON.parse(text.slice(at)) as { code?: number; msg?: string; data?: Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** Pages of `allOrders` read to rebuild a chain after a restart (a stated bound: 10,000 orders). */
const CHAIN_PAGES = 10;

/**
 * Binance spot's `POST /api/v3/order/cancelReplace` (ccxt's `editOrder` → `editSpotOrder`), mode
 * STOP_ON_FAILURE: the new order is placed only once the old one is cancelled. -2022 (the cancel
 * failed: the order is filled, cancelled or unknown, or a cancel restriction held; nothing changed)
 * and -2021 (cancelled, but the new order failed: the order is gone) are definitive; both come with
 * HTTP 400/409 and a `data` body that ccxt keeps in the error's message (ccxt classes them as
 * BadResponse for api.binance.com, so the code decides, not the class).
 */
export const binanceReplace: CcxtReplaceDialect = {
  editArgs(request) {
    const v = request.values;
    return {
      type: binanceType(v),
      side: v.side === 'BUY' ? 'buy' : 'sell',
      amount: v.quantity,
      ...(v.price === undefined ? {} : { price: v.price }),
      params: {
        newClientOrderId: request.modificationId,
        cancelOrigClientOrderId: request.cancelClientOrderId,
        // A fill that crossed our view of the order makes the cancel fail rather than the
        // replacement's quantity (total less executed) wrong.
        cancelRestrictions: request.onlyNew ? 'ONLY_NEW' : 'ONLY_PARTIALLY_FILLED',
        ...(v.type === 'MARKET' ? {} : { timeInForce: binanceTimeInForce(v) }),
        ...(v.stopPrice === undefined ? {} : { stopPrice: v.stopPrice }),
      },
    };
  },
  refusal(err) {
    const body = binanceBody(err);
    if (body?.code === -2021 || body?.code === -2022) {
      const data = body.data ?? {};
      const part = (name: string, r: unknown) => {
        const e = r as { code?: number; msg?: string } | null | undefined;
        return e?.code === undefined ? [] : [`${name}: ${e.code} ${e.msg ?? ''}`.trim()];
      };
      const why = [...part('cancel', data.cancelResponse), ...part('new order', data.newOrderResponse)].join('; ');
      return {
        reason: `${body.code} ${body.msg ?? ''}${why ? ` (${why})` : ''}`,
        cancelled: data.cancelResult === 'SUCCESS',
      };
    }
    return isDefinitiveRefusal(err) ? { reason: reasonOf(err as Error), cancelled: false } : undefined;
  },
  event(update) {
    const r = update.info as Record<string, unknown>;
    if (r.e !== 'executionReport') return undefined;
    return {
      kind: r.x === 'NEW' ? 'NEW' : r.x === 'CANCELED' ? 'CANCELED' : 'OTHER',
      clientOrderId: String(r.x === 'CANCELED' && r.C ? r.C : r.c),
      venueOrderId: String(r.i),
      executed: String(r.z ?? '0'),
      ...binanceValues(r),
      at: Number(r.E ?? r.T),
    };
  },
  leg(order) {
    const r = order.info as Record<string, unknown>;
    const status = BINANCE_STATUS[String(r.status)];
    const type = BINANCE_TYPES[String(r.type)];
    if (!status || !type) throw new Error(`binance order ${String(r.orderId)}: unknown status or type`);
    const tif = String(r.timeInForce);
    return {
      clientOrderId: String(r.clientOrderId),
      venueOrderId: String(r.orderId),
      status,
      executed: String(r.executedQty ?? '0'),
      values: {
        side: r.side === 'SELL' ? 'SELL' : 'BUY',
        type,
        ...binanceValues(r),
        ...(tif === 'IOC' || tif === 'FOK' ? { timeInForce: tif } : {}),
      },
      at: Number(r.updateTime ?? r.transactTime ?? r.time),
    };
  },
  fills: binanceFills,
  async chain(exchange, symbol, orderId, first) {
    const legs = [first];
    let from = Number((first.info as Record<string, unknown>).orderId) + 1;
    for (let page = 0; page < CHAIN_PAGES; page++) {
      const batch = await exchange.fetchOrders(symbol, undefined, 1000, { orderId: from });
      for (const o of batch)
        if (String((o.info as Record<string, unknown>).clientOrderId).startsWith(`${orderId}.`)) legs.push(o);
      if (batch.length < 1000) break;
      from = Math.max(...batch.map((o) => Number((o.info as Record<string, unknown>).orderId))) + 1;
    }
    const id = (o: Order) => Number((o.info as Record<string, unknown>).orderId);
    return legs.sort((a, b) => id(a) - id(b));
  },
};

/** Binance spot: `newClientOrderId`, `executionReport` fields in `info`, trades by `orderId`, cancel-replace. */
export const binanceDialect: CcxtDialect = {
  placeParams(order) {
    return {
      newClientOrderId: order.clientOrderId,
      ...(order.type === 'MARKET' ? {} : { timeInForce: binanceTimeInForce(order) }),
      ...(order.stopPrice === undefined ? {} : { stopPrice: order.stopPrice }),
    };
  },
  orderType: binanceType,
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
    const fills = isZero(r.executedQty ?? '0') ? [] : await binanceFills(exchange, symbol, String(r.orderId));
    return { venueOrderId: String(r.orderId), status, ...binanceValues(r), fills };
  },
  replace: binanceReplace,
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

const listOf = (reply: ExchangeReply | undefined): ExchangeReply[] => (reply ? [reply] : []);

/** What the cancel-replace side of the connector needs from the rest of it. */
interface ReplacingContext {
  exchange: Exchange;
  dialect: CcxtDialect;
  replace: CcxtReplaceDialect;
  clock: Clock;
  emit(replies: readonly ExchangeReply[]): void;
}

/** Looks an order up by client order id: undefined when the exchange does not know it. */
async function fetchBy(
  c: Pick<ReplacingContext, 'exchange' | 'dialect'>,
  symbol: string,
  clientOrderId: string,
): Promise<Order | undefined> {
  try {
    return await c.exchange.fetchOrder('', symbol, c.dialect.refParams({ clientOrderId }));
  } catch (err) {
    if (isCcxt(err, 'OrderNotFound')) return undefined;
    throw err;
  }
}

/**
 * The cancel-replace side of the connector: `modifyOrder`, and the chain-aware query and cancel.
 * Each order's chain is remembered from its placement, or rebuilt from the exchange (after a
 * restart) by the modification ids of its later orders.
 */
function createReplacing(c: ReplacingContext) {
  const { exchange, replace } = c;
  const tracker = createReplaceTracker(SYMBOLS_REMEMBERED);
  /** The order's chain; undefined when the exchange does not know the order. */
  const lineage = async (orderId: string, symbol: string): Promise<Lineage | undefined> => {
    const known = tracker.get(orderId);
    if (known) return known;
    const first = await fetchBy(c, symbol, orderId);
    if (!first) return undefined;
    const replaced = replace.leg(first).status === 'CANCELLED'; // perhaps by a replace
    const orders = replaced ? await replace.chain(exchange, symbol, orderId, first) : [first];
    return tracker.adopt(orderId, symbol, orders.map(replace.leg));
  };
  /** The current venue order of a chain (the replacement of a modify whose outcome is unknown first). */
  const current = async (lin: Lineage): Promise<Order | undefined> => {
    for (const id of tracker.candidates(lin)) {
      const order = await fetchBy(c, lin.symbol, id);
      if (order) {
        tracker.found(lin, replace.leg(order));
        return order;
      }
      c.emit(tracker.absent(lin, id));
    }
    return undefined;
  };
  /** The current venue order's state as the whole order's: earlier fills and quantities counted. */
  const withHistory = async (lin: Lineage, current: string, state: VenueOrderState): Promise<VenueOrderState> => {
    const earlier = lin.legs.filter((l) => l.clientOrderId !== current);
    const fills: VenueOrderState['fills'] = [];
    for (const leg of earlier) {
      if (leg.venueOrderId === undefined) continue;
      const own = await replace.fills(exchange, lin.symbol, leg.venueOrderId);
      leg.executed = own.reduce((a, f) => decAdd(a, f.quantity), '0'); // replaced: its fills are all
      fills.push(...own);
    }
    const prior = earlier.reduce((a, l) => decAdd(a, l.executed), '0');
    if (isZero(prior)) return { ...state, fills: [...fills, ...state.fills] };
    const quantity = state.quantity === undefined ? undefined : decAdd(prior, state.quantity);
    if (quantity !== undefined) lin.values = { ...lin.values, quantity };
    return {
      ...state,
      ...(quantity === undefined ? {} : { quantity }),
      status: state.status === 'OPEN' ? 'PARTIALLY_FILLED' : state.status,
      fills: [...fills, ...state.fills],
    };
  };
  /** What the old venue order had executed when a replace cancelled it; undefined when not learnt. */
  const executedOf = async (symbol: string, clientOrderId: string): Promise<string | undefined> => {
    try {
      const order = await fetchBy(c, symbol, clientOrderId);
      return order ? replace.leg(order).executed : undefined;
    } catch {
      return undefined;
    }
  };

  return {
    placed(order: OrderRequest & { clientOrderId: string }, symbol: string, venueOrderId?: string): void {
      const { symbol: _ours, clientOrderId: _id, ...values } = order;
      tracker.placed(order.clientOrderId, symbol, values, venueOrderId);
    },
    /** A stream update: the replies it stands for, a replace's reports translated. */
    update(order: Order): ExchangeReply[] {
      const reply = c.dialect.orderReply(order);
      const e = replace.event(order);
      return e ? tracker.event(e, reply) : reply ? [reply] : [];
    },
    async query(ref: OrderRef, symbol: string): Promise<VenueOrderState | null> {
      const lin = await lineage(ref.clientOrderId, symbol);
      const order = lin && (await current(lin));
      if (!lin || !order) return null;
      const state = await c.dialect.venueState(exchange, order, symbol);
      return withHistory(lin, replace.leg(order).clientOrderId, state);
    },
    /** Cancels the current venue order; the "unknown order" error when none was working. */
    async cancel(
      ref: OrderRef,
      symbol: string,
      cancelBy: (clientOrderId: string) => Promise<Error | undefined>,
    ): Promise<Error | undefined> {
      const lin = tracker.get(ref.clientOrderId);
      let miss: Error | undefined;
      for (const id of lin ? tracker.candidates(lin) : [ref.clientOrderId]) {
        miss = await cancelBy(id);
        if (!miss) return undefined;
      }
      if (lin) return miss;
      const now = (await lineage(ref.clientOrderId, symbol))?.legs.at(-1)?.clientOrderId;
      return now !== undefined && now !== ref.clientOrderId ? cancelBy(now) : miss;
    },
    async modify(
      ref: OrderRef & { modificationId: string },
      changes: ModifyChanges,
      symbol: string,
    ): Promise<{ modified?: boolean; venueOrderId?: string }> {
      const lin = await lineage(ref.clientOrderId, symbol).catch((err: unknown) => {
        throw new PlacementRejectedError(`the order could not be looked up, modify not sent: ${String(err)}`);
      });
      if (!lin) throw new PlacementRejectedError('the exchange does not know the order: modify not sent');
      const [m, send] = tracker.begin(lin, ref.modificationId, changes);
      let replacement: LegSnapshot;
      try {
        const a = replace.editArgs(send);
        const answer = await exchange.editOrder(
          send.cancelVenueOrderId ?? '',
          symbol,
          a.type,
          a.side,
          a.amount as unknown as number, // ccxt takes decimal strings as they are
          a.price as unknown as number | undefined,
          a.params,
        );
        replacement = replace.leg(answer);
      } catch (err) {
        const refusal = replace.refusal(err);
        if (!refusal) {
          c.emit(tracker.unknown(m)); // the stream's reports or the modify deadline's queries decide
          throw err;
        }
        c.emit(tracker.failed(m, refusal.cancelled ? { reason: refusal.reason, at: c.clock.now() } : undefined));
        throw new PlacementRejectedError(refusal.reason);
      }
      const known = send.onlyNew || m.held !== undefined;
      const executed = known ? undefined : await executedOf(symbol, send.cancelClientOrderId);
      const { modified, replies } = tracker.succeeded(m, replacement, executed);
      c.emit(replies);
      return modified
        ? { modified: true, venueOrderId: replacement.venueOrderId }
        : { venueOrderId: replacement.venueOrderId };
    },
  };
}

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

  const emit = (replies: readonly ExchangeReply[]): void => {
    for (const reply of replies) for (const l of replyListeners) l(reply);
  };
  const replacing = dialect.replace
    ? createReplacing({ exchange, dialect, replace: dialect.replace, clock, emit })
    : undefined;
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
        if (stopped) break; // closed while waiting: no new connection
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
  const loop = async <T>(watch: () => Promise<T[]>, handle: (item: T) => readonly ExchangeReply[]): Promise<void> => {
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
        (o) => replacing?.update(o) ?? listOf(dialect.orderReply(o)),
      );
      void loop(
        () => exchange.watchMyTrades(),
        (t) => listOf(dialect.tradeReply(t)),
      );
    })().catch((err: unknown) => {
      started = undefined; // the exchange was out of reach: the next call tries again
      throw err;
    });
    return started;
  };

  const connector: CcxtConnector = {
    start,
    async placeOrder(order) {
      await start();
      const symbol = symbolOf(order.symbol);
      remember(order.clientOrderId, symbol);
      replacing?.placed(order, symbol);
      try {
        const placed = await exchange.createOrder(
          symbol,
          dialect.orderType(order),
          order.side === 'BUY' ? 'buy' : 'sell',
          order.quantity as unknown as number, // ccxt takes decimal strings as they are
          order.price as unknown as number | undefined,
          dialect.placeParams(order),
        );
        if (placed.id) replacing?.placed(order, symbol, String(placed.id));
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
      const cancelBy = async (clientOrderId: string): Promise<Error | undefined> => {
        try {
          const id = clientOrderId === ref.clientOrderId ? (ref.venueOrderId ?? '') : '';
          await exchange.cancelOrder(id, symbol, dialect.refParams({ clientOrderId }));
          return undefined;
        } catch (err) {
          if (isCcxt(err, 'OrderNotFound')) return err as Error;
          throw err;
        }
      };
      const miss = replacing ? await replacing.cancel(ref, symbol, cancelBy) : await cancelBy(ref.clientOrderId);
      // "Unknown order": it already ended (a fill crossed the cancel) or never rested.
      if (miss)
        emit([
          {
            type: 'CANCEL_REJECTED',
            clientOrderId: ref.clientOrderId,
            ...(ref.venueOrderId ? { venueOrderId: ref.venueOrderId } : {}),
            reason: reasonOf(miss),
            at: clock.now(),
          },
        ]);
    },
    async queryOrder(ref) {
      await start();
      const symbol = await symbolFor(ref.clientOrderId);
      if (replacing) return replacing.query(ref, symbol);
      const order = await fetchBy({ exchange, dialect }, symbol, ref.clientOrderId);
      return order ? dialect.venueState(exchange, order, symbol) : null;
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
  if (replacing)
    connector.modifyOrder = async (ref, changes) => {
      await start();
      return replacing.modify(ref, changes, await symbolFor(ref.clientOrderId));
    };
  return connector;
}
