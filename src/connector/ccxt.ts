/**
 * The connector to real venues through ccxt (REST for orders, ccxt's `pro` WebSockets for the user
 * data stream). The OrderID travels as the exchange's client order id; replies come from
 * `watchOrders` (acknowledgements, cancels, rejections, expiries) and `watchMyTrades` (fills, with
 * the exchange's trade id as `venueFillId`). Quantities and prices are read from the exchange's raw
 * `info` strings, never from ccxt's parsed numbers, and sent as recorded: the dialect checks each
 * order (and each modify) against the exchange's published rules first and refuses, never
 * rounds, what does not fit. What is exchange-specific (field names, statuses, filters, how to
 * list an order's trades) is a `CcxtDialect`; Binance spot's is built in (`binance-dialect.ts`).
 *
 * Errors: a definitive refusal of a placement (insufficient balance, invalid order, rate limit)
 * becomes `PlacementRejectedError` with the exchange's reason; network errors and timeouts are
 * rethrown, so the outcome stays unknown and the handler's retry and query path decides. After the
 * stream drops, the connector resubscribes and then tells the handler to reconcile.
 *
 * Safe retries (contract section 6): exchanges such as Binance keep client order ids unique among
 * open orders only, so a placement sent again after an unknown outcome would open a second order
 * if the first already filled. Before such a retry the connector looks the client order id up at
 * the exchange; when the exchange knows it, nothing is sent and what the exchange says is emitted
 * as the stream would have told it. When it does not, the retry is sent only once the earlier
 * request can no longer be executed (`requestLifetimeMs`: Binance's recvWindow); until then the
 * outcome stays unknown.
 *
 * Modify (contract section 4b) is a cancel-replace when the dialect has `replace` (Binance spot:
 * `order/cancelReplace`, STOP_ON_FAILURE): the replacement's client order id is the modification
 * id, and `replace-tracker.ts` keeps each order's chain of venue orders so that the stream's
 * reports of a replace become one MODIFIED (never a CANCELLED of the order), and cancels and
 * queries reach the current venue order, with the fills of every one of the chain.
 */
import type { Exchange, Order, Trade } from 'ccxt';
import { type Clock, systemClock } from '../clock.js';
import { decAdd, decCmp } from '../decimal.js';
import { PlacementRejectedError } from '../errors.js';
import type { StrategyLedger } from '../ledger/types.js';
import type { ExchangeReply, ModifyChanges, OrderRequest } from '../types.js';
import { binanceDialect } from './binance-dialect.js';
import { bybitDialect } from './bybit-dialect.js';
import { isCcxt, isDefinitiveRefusal, reasonOf } from './ccxt-errors.js';
import {
  type LegEvent,
  type LegSnapshot,
  type Lineage,
  type OrderValues,
  type ReplaceRequest,
  createReplaceTracker,
} from './replace-tracker.js';
import type { ExchangeConnector, OrderRef, VenueOrderState } from './types.js';
import { commissionReplies, repliesOfVenueOrder } from './venue-replies.js';

// The built-in dialect, under the names the package has always exported from here.
export { binanceDialect, binanceReplace } from './binance-dialect.js';

/** What differs from one exchange to another. */
export interface CcxtDialect {
  /**
   * Why the exchange would refuse this order by its published rules (lot step, tick size, bounds,
   * minimum notional, price band, time in force); undefined when it fits. Checked before every
   * placement and every replacement, so that what is sent is exactly what was recorded. `nowMs`:
   * the injected clock's time, for what the dialect caches (Binance: the average price).
   */
  refusal(exchange: Exchange, symbol: string, order: OrderValues, nowMs: number): Promise<string | undefined>;
  /** Sends a new order with the recorded strings as they are (ccxt's `createOrder` reformats them). */
  createOrder(exchange: Exchange, symbol: string, order: OrderRequest & { clientOrderId: string }): Promise<Order>;
  /** Params that name an order by our client order id in `fetchOrder` / `cancelOrder`. */
  refParams(ref: OrderRef): Record<string, unknown>;
  /**
   * How long after it was sent a request may still be executed by the exchange (Binance: its
   * recvWindow, and the second ahead of its clock it tolerates); undefined when the exchange
   * states no bound. Until then, not finding an order sent without an answer proves nothing.
   */
  requestLifetimeMs?(exchange: Exchange): number;
  /** The reply an order update of the stream stands for; undefined for updates that are not news (trades come from `tradeReply`). */
  orderReply(update: Order): ExchangeReply | undefined;
  /** The FILL reply of a trade of the stream. */
  tradeReply(trade: Trade): ExchangeReply | undefined;
  /**
   * The venue's state of an order fetched by REST, with its values and every fill (trades fetched
   * as needed, all pages), each fill with its commission where the exchange tells it.
   */
  venueState(exchange: Exchange, order: Order, symbol: string): Promise<VenueOrderState>;
  /** How the exchange modifies an order by cancel-replace; without it the connector has no `modifyOrder`. */
  replace?: CcxtReplaceDialect;
  /**
   * How the exchange modifies an order in place (Bybit's amend), for a dialect without `replace`:
   * resolves as `modifyOrder` does; `PlacementRejectedError` for a definitive refusal.
   */
  amend?(
    exchange: Exchange,
    symbol: string,
    ref: OrderRef & { modificationId: string },
    changes: ModifyChanges,
  ): Promise<{ modified?: boolean; venueOrderId?: string }>;
  /**
   * Opens the private stream's session before the stream loops (re)start. Default: ccxt's
   * `authenticate()` without arguments (Binance's); Bybit's takes the stream's URL.
   */
  authenticate?(exchange: Exchange): Promise<void>;
}

/** What differs in a cancel-replace from one exchange to another. */
export interface CcxtReplaceDialect {
  /** Sends the cancel-replace with the recorded strings as they are; resolves with the replacement. */
  replaceOrder(exchange: Exchange, symbol: string, request: ReplaceRequest): Promise<Order>;
  /**
   * A failed `replaceOrder`: a definitive refusal (`cancelled`: the old order was cancelled though
   * the new one failed), or undefined when the outcome is unknown.
   */
  refusal(err: unknown): { reason: string; cancelled: boolean } | undefined;
  /** A stream update as the replace bookkeeping reads it; undefined for anything else. */
  event(update: Order): LegEvent | undefined;
  /** An order fetched by REST, or `replaceOrder`'s answer, as one venue order of a chain. */
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

const DIALECTS: Record<string, CcxtDialect> = { binance: binanceDialect, bybit: bybitDialect };

/** Symbols of orders kept in memory (a stated bound); older orders' come from the ledger. */
const SYMBOLS_REMEMBERED = 50_000;

const isZero = (d: string): boolean => decCmp(d, '0') === 0;
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
      // The replacement as it would be sent (its quantity: the new total less what was executed)
      // must fit the exchange's rules as it is: refused here, never rounded by the exchange or ccxt.
      const refused = await c.dialect
        .refusal(exchange, symbol, send.values, c.clock.now())
        .catch((err: unknown) => `the exchange's rules could not be read, modify not sent: ${String(err)}`);
      if (refused !== undefined) {
        c.emit(tracker.failed(m, undefined));
        throw new PlacementRejectedError(refused);
      }
      let replacement: LegSnapshot;
      try {
        replacement = replace.leg(await replace.replaceOrder(exchange, symbol, send));
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
  /**
   * Client order ids whose placement was sent without an answer, with when it was last sent (a
   * stated bound, as `symbols`): a retry of one looks it up at the exchange first.
   */
  const unsure = new Map<string, number>();
  const markUnsure = (clientOrderId: string): void => {
    unsure.delete(clientOrderId); // re-inserted as the newest
    unsure.set(clientOrderId, clock.now());
    if (unsure.size > SYMBOLS_REMEMBERED) unsure.delete(unsure.keys().next().value!); // the oldest
  };
  /**
   * The order as the exchange holds it, when an earlier attempt reached it: its replies emitted as
   * the stream would have carried them (ACCEPTED, fills with commissions, a final status) and the
   * placement's result; undefined when the exchange does not know it. A failed lookup throws: the
   * outcome stays unknown and nothing is sent.
   */
  const placedBefore = async (
    order: OrderRequest & { clientOrderId: string },
    symbol: string,
  ): Promise<{ venueOrderId: string } | undefined> => {
    const found = await fetchBy({ exchange, dialect }, symbol, order.clientOrderId);
    if (!found) {
      // The earlier request may still be on its way (queued, or in the matching engine): sent now,
      // a MARKET order could trade twice. Not sent until the exchange would refuse the earlier one.
      const sinceMs = clock.now() - (unsure.get(order.clientOrderId) ?? Number.NEGATIVE_INFINITY);
      const lifetimeMs = dialect.requestLifetimeMs?.(exchange);
      if (lifetimeMs !== undefined && sinceMs <= lifetimeMs)
        throw new Error(
          `ccxt connector: ${order.clientOrderId} is not at the exchange yet, but the request sent ${sinceMs} ms ago may still be executed (for ${lifetimeMs} ms): not sent again yet`,
        );
      return undefined;
    }
    const state = await dialect.venueState(exchange, found, symbol);
    unsure.delete(order.clientOrderId);
    if (state.status === 'REJECTED')
      throw new PlacementRejectedError('the exchange rejected the order (found on retry)');
    replacing?.placed(order, symbol, state.venueOrderId);
    emit(repliesOfVenueOrder(order.clientOrderId, state, clock.now()));
    return { venueOrderId: state.venueOrderId };
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
    if (dialect.authenticate) return dialect.authenticate(exchange);
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
      if (unsure.has(order.clientOrderId)) {
        // A retry of an unknown outcome: the exchange may hold (or have filled) the first one.
        const found = await placedBefore(order, symbol);
        if (found) return found;
      }
      replacing?.placed(order, symbol);
      const { symbol: _ours, clientOrderId: _id, ...values } = order;
      let refused: string | undefined;
      try {
        refused = await dialect.refusal(exchange, symbol, values, clock.now());
      } catch (err) {
        if (isDefinitiveRefusal(err)) throw new PlacementRejectedError(reasonOf(err as Error)); // an unknown symbol
        throw err; // nothing was sent: the handler's retry checks again
      }
      if (refused !== undefined) throw new PlacementRejectedError(refused);
      markUnsure(order.clientOrderId); // from here until an answer, the exchange may have it
      try {
        const placed = await dialect.createOrder(exchange, symbol, order);
        unsure.delete(order.clientOrderId);
        if (placed.id) replacing?.placed(order, symbol, String(placed.id));
        return placed.id ? { venueOrderId: String(placed.id) } : {};
      } catch (err) {
        // The client order id is open at the exchange (an earlier attempt rests): the order exists.
        if (isCcxt(err, 'ExchangeError') && /duplicate order/i.test((err as Error).message)) {
          unsure.delete(order.clientOrderId);
          return {};
        }
        if (isDefinitiveRefusal(err)) {
          unsure.delete(order.clientOrderId);
          throw new PlacementRejectedError(reasonOf(err as Error));
        }
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
      let state: VenueOrderState | null;
      if (replacing) state = await replacing.query(ref, symbol);
      else {
        const order = await fetchBy({ exchange, dialect }, symbol, ref.clientOrderId);
        state = order ? await dialect.venueState(exchange, order, symbol) : null;
      }
      if (state) emit(commissionReplies(ref.clientOrderId, state));
      return state;
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
  else if (dialect.amend) {
    const amend = dialect.amend;
    connector.modifyOrder = async (ref, changes) => {
      await start();
      return amend(exchange, await symbolFor(ref.clientOrderId), ref, changes);
    };
  }
  return connector;
}
