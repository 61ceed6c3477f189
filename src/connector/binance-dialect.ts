/**
 * Binance spot as a `CcxtDialect`: orders go out through ccxt's own signed endpoints
 * (`privatePostOrder`, `privatePostOrderCancelReplace`) with a request we build, so the quantity
 * and prices are the recorded strings: ccxt's `createOrder` and `editOrder` would pass them through
 * `amountToPrecision` / `priceToPrecision` and send other values (0.10000001 as 0.1, a BUY limit
 * of 60000.015 as 60000.02). Before anything is sent, the order is checked against the symbol's
 * published filters (`binance-filters.ts`) and refused, never rounded, when it does not fit; so is
 * a time in force Binance spot lacks (DAY), never swapped for another. Replies are read from the
 * raw `executionReport` and REST fields in ccxt's `info`, never from its parsed numbers; an
 * order's trades are paged with `fromId` until all are read.
 */
import type { Exchange, Order } from 'ccxt';
import { decCmp } from '../decimal.js';
import type { OrderRequest } from '../types.js';
import { type FilteredOrder, binanceFilterRefusal, binanceFiltersOf, needsAveragePrice } from './binance-filters.js';
import type { CcxtDialect, CcxtReplaceDialect } from './ccxt.js';
import { isDefinitiveRefusal, reasonOf } from './ccxt-errors.js';
import type { OrderValues } from './replace-tracker.js';
import type { VenueOrderState } from './types.js';
import type { VenueFill } from './venue-replies.js';

/** The Binance spot endpoints the dialect calls through ccxt (its implicit, signed API). */
interface BinanceApi {
  privatePostOrder(params: Record<string, unknown>): Promise<Record<string, unknown>>;
  privatePostOrderCancelReplace(params: Record<string, unknown>): Promise<Record<string, unknown>>;
  publicGetAvgPrice(params: Record<string, unknown>): Promise<Record<string, unknown>>;
}
const api = (exchange: Exchange): BinanceApi => exchange as unknown as BinanceApi;

const isZero = (d: string): boolean => decCmp(d, '0') === 0;
/** Binance's decimal field as a value, or undefined when absent or zero ("0.00000000": none). */
const nonZero = (v: unknown): string | undefined =>
  v === undefined || v === null || v === '' || isZero(String(v)) ? undefined : String(v);
const BINANCE_TYPES: Record<string, OrderRequest['type']> = {
  LIMIT: 'LIMIT',
  MARKET: 'MARKET',
  STOP_LOSS_LIMIT: 'STOP_LIMIT',
};
const BINANCE_TYPE_OF: Record<OrderRequest['type'], string> = {
  LIMIT: 'LIMIT',
  MARKET: 'MARKET',
  STOP_LIMIT: 'STOP_LOSS_LIMIT',
};
/** Binance spot's times in force; DAY is not one of them. */
const BINANCE_TIME_IN_FORCE = new Set(['GTC', 'IOC', 'FOK']);

/** The order's own values as Binance's request fields, strings exactly as recorded. */
function orderFields(marketId: string, v: OrderValues): Record<string, unknown> {
  return {
    symbol: marketId,
    side: v.side,
    type: BINANCE_TYPE_OF[v.type],
    quantity: v.quantity,
    // A market order takes neither price nor time in force; the rest always carry both.
    ...(v.type === 'MARKET' ? {} : { price: v.price, timeInForce: v.timeInForce ?? 'GTC' }),
    ...(v.stopPrice === undefined ? {} : { stopPrice: v.stopPrice }),
  };
}

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

/**
 * How long a symbol's average price is reused. Binance's is a 5-minute average and its price band
 * spans 0.2 to 5 times it, so a few seconds' staleness changes no verdict that matters (the venue
 * judges again anyway), and fetching it for every order would double the requests.
 */
const AVERAGE_PRICE_TTL_MS = 5_000;
/** Per exchange instance: symbol → its average price and when it was fetched (one entry per symbol). */
const averagePrices = new WeakMap<Exchange, Map<string, { price: string; atMs: number }>>();

/** The symbol's average price (`GET /api/v3/avgPrice`), fetched at most every few seconds. */
async function averagePrice(exchange: Exchange, marketId: string, nowMs: number): Promise<string> {
  const cache = averagePrices.get(exchange) ?? new Map<string, { price: string; atMs: number }>();
  averagePrices.set(exchange, cache);
  const known = cache.get(marketId);
  if (known && nowMs - known.atMs < AVERAGE_PRICE_TTL_MS) return known.price;
  const price = String((await api(exchange).publicGetAvgPrice({ symbol: marketId })).price);
  cache.set(marketId, { price, atMs: nowMs });
  return price;
}

/** Trades per `myTrades` call: Binance's maximum (its default is 500). */
export const TRADES_PER_PAGE = 1000;
/** Pages read for one order: a stated bound of 1,000,000 fills. */
const TRADE_PAGES = 1000;

/**
 * Every trade of one venue order, with commissions: `myTrades` by `orderId`, paged from `fromId` 0
 * (without `fromId` Binance returns the most recent trades only) until a page is not full.
 */
async function binanceFills(exchange: Exchange, symbol: string, venueOrderId: string): Promise<VenueFill[]> {
  const fills: VenueFill[] = [];
  let fromId = 0;
  for (let page = 0; page < TRADE_PAGES; page++) {
    const trades = await exchange.fetchMyTrades(symbol, undefined, TRADES_PER_PAGE, { orderId: venueOrderId, fromId });
    for (const t of trades) {
      const ti = t.info as Record<string, string | number>;
      if (Number(ti.id) < fromId) continue; // never counted twice, whatever a page repeats
      fills.push({
        venueFillId: String(ti.id),
        quantity: String(ti.qty),
        price: String(ti.price),
        at: Number(ti.time),
        ...(ti.commission === undefined ? {} : { commission: String(ti.commission) }),
        ...(ti.commissionAsset ? { commissionAsset: String(ti.commissionAsset) } : {}),
      });
    }
    if (trades.length < TRADES_PER_PAGE) return fills;
    fromId = Math.max(...trades.map((t) => Number((t.info as Record<string, unknown>).id))) + 1;
  }
  throw new Error(`binance order ${venueOrderId}: more than ${TRADE_PAGES * TRADES_PER_PAGE} trades`);
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
 * Binance spot's `POST /api/v3/order/cancelReplace`, mode STOP_ON_FAILURE: the new order is
 * placed only once the old one is cancelled. -2022 (the cancel failed: the order is filled,
 * cancelled or unknown, or a cancel restriction held; nothing changed) and -2021 (cancelled, but
 * the new order failed: the order is gone) are definitive; both come with HTTP 400/409 and a
 * `data` body that ccxt keeps in the error's message (ccxt classes them as BadResponse for
 * api.binance.com, so the code decides, not the class).
 */
export const binanceReplace: CcxtReplaceDialect = {
  async replaceOrder(exchange, symbol, request) {
    const market = exchange.market(symbol);
    const answer = await api(exchange).privatePostOrderCancelReplace({
      ...orderFields(String(market.id), request.values),
      cancelReplaceMode: 'STOP_ON_FAILURE',
      newClientOrderId: request.modificationId,
      cancelOrigClientOrderId: request.cancelClientOrderId,
      // A fill that crossed our view of the order makes the cancel fail rather than the
      // replacement's quantity (total less executed) wrong.
      cancelRestrictions: request.onlyNew ? 'ONLY_NEW' : 'ONLY_PARTIALLY_FILLED',
      newOrderRespType: 'RESULT',
    });
    return exchange.parseOrder((answer.newOrderResponse ?? {}) as Record<string, unknown>, market);
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

/** Binance spot: `newClientOrderId`, filters checked first, `executionReport` fields in `info`, trades paged by `orderId`, cancel-replace. */
export const binanceDialect: CcxtDialect = {
  async refusal(exchange, symbol, order: FilteredOrder & Pick<OrderRequest, 'timeInForce'>, nowMs) {
    if (order.type !== 'MARKET' && order.timeInForce !== undefined && !BINANCE_TIME_IN_FORCE.has(order.timeInForce))
      return `timeInForce ${order.timeInForce}: Binance spot has none (GTC, IOC, FOK only); not sent as another`;
    const market = exchange.market(symbol);
    const filters = binanceFiltersOf(market);
    if (!needsAveragePrice(filters, order)) return binanceFilterRefusal(filters, order);
    return binanceFilterRefusal(filters, order, await averagePrice(exchange, String(market.id), nowMs));
  },
  async createOrder(exchange, symbol, order) {
    const market = exchange.market(symbol);
    const answer = await api(exchange).privatePostOrder({
      ...orderFields(String(market.id), order),
      newClientOrderId: order.clientOrderId,
      newOrderRespType: 'RESULT',
    });
    return exchange.parseOrder(answer, market);
  },
  refParams: (ref) => ({ origClientOrderId: ref.clientOrderId }),
  // Binance executes a request only while serverTime - timestamp <= recvWindow (ccxt sends its
  // option, 10 s by default; Binance's own default is 5 s), and takes timestamps up to 1 s ahead.
  requestLifetimeMs: (exchange) => Number((exchange.options as { recvWindow?: number }).recvWindow ?? 5_000) + 1_000,
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
