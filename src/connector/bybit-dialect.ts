/**
 * Bybit v5 spot (unified trading account) as a `CcxtDialect`. The OrderID travels as
 * `orderLinkId`. Orders and amends go out through ccxt's own signed endpoints
 * (`privatePostV5OrderCreate`, `privatePostV5OrderAmend`) with a request we build, so quantities
 * and prices are the recorded strings (ccxt's `createOrder` and `editOrder` pass them through
 * `amountToPrecision` / `priceToPrecision`); a market order's `qty` is sent with `marketUnit:
 * baseCoin`, since Bybit reads a spot market BUY's qty in the quote coin otherwise. Before
 * anything is sent the order is checked against the instrument's published `lotSizeFilter` and
 * `priceFilter` and refused, never rounded, when it does not fit; so is a time in force Bybit
 * spot lacks (DAY). Modify is an amend in place (`/v5/order/amend`: the order keeps its ids, `qty`
 * is the new total). Replies are read from the raw `order` and `execution` topic records and REST
 * fields in ccxt's `info`, never from its parsed numbers; an order's executions are paged with
 * `cursor` until all are read.
 *
 * Bybit keeps an `orderLinkId` unique per account (not only among open orders) and refuses a
 * repeat with 170141: that refusal is not a verdict on the order, so it leaves the outcome
 * unknown and the connector's safe-retry lookup (by `orderLinkId`) applies what Bybit holds.
 */
import type { Exchange, Order } from 'ccxt';
import { decCmp, decDiv, decMul } from '../decimal.js';
import { PlacementRejectedError } from '../errors.js';
import type { ModifyChanges, OrderRequest } from '../types.js';
import type { CcxtDialect } from './ccxt.js';
import { isCcxt, isDefinitiveRefusal, reasonOf } from './ccxt-errors.js';
import type { OrderValues } from './replace-tracker.js';
import type { OrderRef, VenueOrderState } from './types.js';
import type { VenueFill } from './venue-replies.js';

/** The Bybit endpoints the dialect calls through ccxt (its implicit, signed API). */
interface BybitApi {
  privatePostV5OrderCreate(params: Record<string, unknown>): Promise<{ result?: Record<string, unknown> }>;
  privatePostV5OrderAmend(params: Record<string, unknown>): Promise<{ result?: Record<string, unknown> }>;
  privateGetV5ExecutionList(
    params: Record<string, unknown>,
  ): Promise<{ result?: { list?: Record<string, string>[]; nextPageCursor?: string } }>;
  getUrlByMarketType(symbol: undefined, isPrivate: boolean, method: string, params: object): Promise<string>;
  authenticate(url: string): Promise<unknown>;
}
const api = (exchange: Exchange): BybitApi => exchange as unknown as BybitApi;

/** Bybit spot's times in force for a limit order; DAY is not one of them. */
const BYBIT_TIME_IN_FORCE = new Set(['GTC', 'IOC', 'FOK']);
/** Executions per `/v5/execution/list` call: Bybit's maximum. */
export const BYBIT_EXECUTIONS_PER_PAGE = 100;
/** Pages read for one order: a stated bound of 100,000 fills. */
const EXECUTION_PAGES = 1000;

const STATUS: Record<string, VenueOrderState['status']> = {
  New: 'OPEN',
  Untriggered: 'OPEN',
  PartiallyFilled: 'PARTIALLY_FILLED',
  Filled: 'FILLED',
  Cancelled: 'CANCELLED',
  // Cancelled after some traded (by us, or the venue's IOC remainder): Bybit's own status for it.
  PartiallyFilledCanceled: 'CANCELLED',
  Deactivated: 'CANCELLED',
  Rejected: 'REJECTED',
};

const isMultiple = (value: string, step: string): boolean => !decDiv(value, step).includes('.');

/** Why the instrument's published filters refuse the order; undefined when it fits. */
function filterRefusal(info: Record<string, Record<string, string>>, o: OrderValues): string | undefined {
  const lot = info.lotSizeFilter ?? {};
  const tick = info.priceFilter?.tickSize;
  const q = o.quantity;
  if (lot.basePrecision && !isMultiple(q, lot.basePrecision))
    return `lotSizeFilter: quantity ${q} is not a multiple of basePrecision ${lot.basePrecision}`;
  if (o.price !== undefined && tick && !isMultiple(o.price, tick))
    return `priceFilter: price ${o.price} is not a multiple of tickSize ${tick}`;
  if (lot.minOrderQty && decCmp(q, lot.minOrderQty) < 0)
    return `lotSizeFilter: quantity ${q} is below minOrderQty ${lot.minOrderQty}`;
  if (lot.maxOrderQty && decCmp(q, lot.maxOrderQty) > 0)
    return `lotSizeFilter: quantity ${q} is above maxOrderQty ${lot.maxOrderQty}`;
  if (o.price !== undefined && lot.minOrderAmt && decCmp(decMul(q, o.price), lot.minOrderAmt) < 0)
    return `lotSizeFilter: order value ${decMul(q, o.price)} is below minOrderAmt ${lot.minOrderAmt}`;
  return undefined;
}

/** The order's fields as Bybit's create request takes them, strings exactly as recorded. */
function createFields(marketId: string, o: OrderRequest & { clientOrderId: string }): Record<string, unknown> {
  const market = o.type === 'MARKET';
  return {
    category: 'spot',
    symbol: marketId,
    side: o.side === 'BUY' ? 'Buy' : 'Sell',
    orderType: market ? 'Market' : 'Limit',
    qty: o.quantity,
    ...(market ? { marketUnit: 'baseCoin' } : { price: o.price, timeInForce: o.timeInForce ?? 'GTC' }),
    orderLinkId: o.clientOrderId,
  };
}

/** Every execution of one order, with commissions: `/v5/execution/list` by `orderId`, paged by `cursor`. */
async function bybitFills(exchange: Exchange, marketId: string, orderId: string): Promise<VenueFill[]> {
  const fills: VenueFill[] = [];
  const seen = new Set<string>();
  let cursor = '';
  for (let page = 0; page < EXECUTION_PAGES; page++) {
    const { result } = await api(exchange).privateGetV5ExecutionList({
      category: 'spot',
      symbol: marketId,
      orderId,
      limit: BYBIT_EXECUTIONS_PER_PAGE,
      ...(cursor ? { cursor } : {}),
    });
    for (const e of result?.list ?? []) {
      if (e.execType !== undefined && e.execType !== 'Trade') continue; // funding, settlement: not fills
      if (seen.has(String(e.execId))) continue; // never counted twice, whatever a page repeats
      seen.add(String(e.execId));
      fills.push(fillOf(e));
    }
    cursor = result?.nextPageCursor ?? '';
    if (!cursor) return fills;
  }
  throw new Error(`bybit order ${orderId}: more than ${EXECUTION_PAGES * BYBIT_EXECUTIONS_PER_PAGE} executions`);
}

/** A raw execution (REST or the `execution` topic) as a fill with its commission. */
function fillOf(e: Record<string, unknown>, feeCurrency?: string): VenueFill {
  const asset = e.feeCurrency ? String(e.feeCurrency) : feeCurrency;
  return {
    venueFillId: String(e.execId),
    quantity: String(e.execQty),
    price: String(e.execPrice),
    at: Number(e.execTime),
    ...(e.execFee === undefined ? {} : { commission: String(e.execFee) }),
    ...(e.execFee !== undefined && asset ? { commissionAsset: asset } : {}),
  };
}

/** The 170141 refusal of a repeated `orderLinkId`: the order exists, whatever became of it. */
const isDuplicateLinkId = (err: unknown): boolean => err instanceof Error && /"retCode":\s*170141\b/.test(err.message);

/** Bybit's order values (REST or stream record): a market order has no price of ours. */
function valuesOf(r: Record<string, unknown>): Pick<VenueOrderState, 'quantity' | 'price'> {
  const price =
    r.orderType === 'Market' || !r.price || decCmp(String(r.price), '0') === 0 ? undefined : String(r.price);
  return { quantity: String(r.qty), ...(price === undefined ? {} : { price }) };
}

/** Bybit v5 spot: `orderLinkId`, filters checked first, raw topic records in `info`, executions paged by cursor, amend in place. */
export const bybitDialect: CcxtDialect = {
  async refusal(exchange, symbol, order: OrderValues & Pick<OrderRequest, 'timeInForce'>) {
    if (order.type === 'STOP_LIMIT') return 'type STOP_LIMIT: not supported by the Bybit dialect; not sent as another';
    if (order.type !== 'MARKET' && order.timeInForce !== undefined && !BYBIT_TIME_IN_FORCE.has(order.timeInForce))
      return `timeInForce ${order.timeInForce}: Bybit spot has none (GTC, IOC, FOK only); not sent as another`;
    return filterRefusal(exchange.market(symbol).info as Record<string, Record<string, string>>, order);
  },
  async createOrder(exchange, symbol, order) {
    const market = exchange.market(symbol);
    try {
      const { result } = await api(exchange).privatePostV5OrderCreate(createFields(String(market.id), order));
      return exchange.parseOrder(result ?? {}, market);
    } catch (err) {
      // Not a verdict on the order: left unknown, so the handler's retry looks the id up first.
      if (isDuplicateLinkId(err)) throw new Error(`bybit: orderLinkId ${order.clientOrderId} is already used (170141)`);
      throw err;
    }
  },
  // `acknowledged`: ccxt's own flag that we know /v5/order/realtime sees recent orders only.
  refParams: (ref) => ({ orderLinkId: ref.clientOrderId, acknowledged: true }),
  // Bybit executes a request only while server time - timestamp <= recv_window (ccxt sends its
  // option, 5 s by default), and takes timestamps up to 1 s ahead of its clock.
  requestLifetimeMs: (exchange) => Number((exchange.options as { recvWindow?: number }).recvWindow ?? 5_000) + 1_000,
  async authenticate(exchange) {
    const url = await api(exchange).getUrlByMarketType(undefined, true, 'watchOrders', {});
    await api(exchange).authenticate(url);
  },
  orderReply(update) {
    const r = update.info as Record<string, unknown>;
    const ref = { clientOrderId: String(r.orderLinkId), venueOrderId: String(r.orderId) };
    const at = Number(r.updatedTime);
    switch (r.orderStatus) {
      case 'New':
        // A later update of a New order is an amend: no news (modifyOrder's answer is the MODIFIED).
        return String(r.createdTime) === String(r.updatedTime) ? { type: 'ACCEPTED', ...ref, at } : undefined;
      case 'Cancelled':
      case 'PartiallyFilledCanceled':
      case 'Deactivated':
        return { type: 'CANCELLED', ...ref, at };
      case 'Rejected':
        return { type: 'REJECTED', ...ref, reason: String(r.rejectReason ?? 'rejected'), at };
      default:
        return undefined; // PartiallyFilled, Filled: the fills come from the execution topic
    }
  },
  tradeReply(trade) {
    const r = trade.info as Record<string, unknown>;
    if (r.execType !== 'Trade') return undefined;
    return {
      type: 'FILL',
      clientOrderId: String(r.orderLinkId),
      venueOrderId: String(r.orderId),
      ...fillOf(r, trade.fee?.currency),
    };
  },
  async venueState(exchange, order: Order, symbol) {
    const r = order.info as Record<string, string>;
    const status = STATUS[r.orderStatus ?? ''];
    if (!status) throw new Error(`bybit order ${r.orderId}: unknown status ${r.orderStatus}`);
    const traded = decCmp(r.cumExecQty ?? '0', '0') > 0;
    const fills = traded ? await bybitFills(exchange, String(exchange.market(symbol).id), String(r.orderId)) : [];
    return { venueOrderId: String(r.orderId), status, ...valuesOf(r), fills };
  },
  amend: amendInPlace,
};

/**
 * Modify as Bybit's amend in place: the order is looked up for its values (so the amended order
 * is checked whole against the filters, refused and never rounded), then `/v5/order/amend` by
 * `orderLinkId`. A Bybit refusal (110001: the order is no longer working; a filter) is definitive;
 * anything else leaves the outcome unknown.
 */
async function amendInPlace(
  exchange: Exchange,
  symbol: string,
  ref: OrderRef & { modificationId: string },
  changes: ModifyChanges,
): Promise<{ modified?: boolean; venueOrderId?: string }> {
  let current: Order;
  try {
    current = await exchange.fetchOrder('', symbol, bybitDialect.refParams(ref));
  } catch (err) {
    if (isCcxt(err, 'OrderNotFound'))
      throw new PlacementRejectedError('the exchange does not know the order: amend not sent');
    throw new PlacementRejectedError(`the order could not be looked up, amend not sent: ${String(err)}`);
  }
  const r = current.info as Record<string, unknown>;
  const values: OrderValues = {
    side: r.side === 'Sell' ? 'SELL' : 'BUY',
    type: r.orderType === 'Market' ? 'MARKET' : 'LIMIT',
    ...valuesOf(r),
    quantity: changes.quantity ?? String(r.qty),
    ...(changes.price === undefined ? {} : { price: changes.price }),
  };
  const refused = await bybitDialect.refusal(exchange, symbol, values, 0);
  if (refused !== undefined) throw new PlacementRejectedError(refused);
  try {
    const { result } = await api(exchange).privatePostV5OrderAmend({
      category: 'spot',
      symbol: String(exchange.market(symbol).id),
      orderLinkId: ref.clientOrderId,
      ...(changes.quantity === undefined ? {} : { qty: changes.quantity }),
      ...(changes.price === undefined ? {} : { price: changes.price }),
      ...(changes.stopPrice === undefined ? {} : { triggerPrice: changes.stopPrice }),
    });
    return { modified: true, venueOrderId: String(result?.orderId ?? r.orderId) };
  } catch (err) {
    if (isDefinitiveRefusal(err)) throw new PlacementRejectedError(reasonOf(err as Error));
    throw err;
  }
}
