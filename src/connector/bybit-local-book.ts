/**
 * The order book of the local Bybit venue: v5 spot's rules for creating, cancelling and amending
 * an order (instrument filters, balance, `orderLinkId` unique per account), and trades made by
 * hand. Each change is reported to `report` as the private stream's `order` and `execution`
 * topics carry it. Answers are Bybit's `[retCode, retMsg]` refusals, or the order.
 */
import { decAdd, decCmp, decMul, decSubFloor } from '../decimal.js';
import { BYBIT_ERRORS, type BybitLocalExecution, type BybitLocalOrder, isMultiple } from './bybit-local-wire.js';

/** A spot instrument as `/v5/market/instruments-info` publishes it. */
export interface BybitLocalMarket {
  base: string;
  quote: string;
  /** Where market orders trade. */
  price: string;
  basePrecision: string;
  tickSize: string;
  minOrderQty: string;
  maxOrderQty: string;
  minOrderAmt: string;
  maxOrderAmt: string;
}

/** A refusal as Bybit answers it. */
export type BybitRefusal = readonly [number, string];

/** What changed, for the stream: the order, and the trade when one was made. */
export type BybitReport = (order: BybitLocalOrder, execution?: BybitLocalExecution) => void;

/** The taker/maker fee the local venue charges (Bybit spot's base rate). */
const FEE_RATE = '0.001';

const refusalOf = (key: keyof typeof BYBIT_ERRORS): BybitRefusal => BYBIT_ERRORS[key];
/** Is the order still working (it can trade, be cancelled or amended)? */
export const working = (o: BybitLocalOrder): boolean => o.orderStatus === 'New' || o.orderStatus === 'PartiallyFilled';

/** Why the instrument's filters refuse this quantity and price; undefined when they fit. */
function filterRefusal(m: BybitLocalMarket, qty: string, price: string): BybitRefusal | undefined {
  if (!isMultiple(qty, m.basePrecision)) return refusalOf('qtyDecimals');
  if (!isMultiple(price, m.tickSize)) return refusalOf('priceDecimals');
  if (decCmp(qty, m.minOrderQty) < 0) return refusalOf('qtyTooSmall');
  if (decCmp(qty, m.maxOrderQty) > 0) return refusalOf('qtyTooLarge');
  if (decCmp(decMul(qty, price), m.minOrderAmt) < 0) return refusalOf('amountTooSmall');
  return undefined;
}

/** Creates the book over the instruments (by Bybit symbol, e.g. `BTCUSDT`). */
export function createBybitBook(markets: Map<string, BybitLocalMarket>, balance: string, report: BybitReport) {
  /** The orders by venue id, oldest first; and the order of each `orderLinkId` ever used. */
  const byId = new Map<string, BybitLocalOrder>();
  const byLinkId = new Map<string, BybitLocalOrder>();
  let nextOrderId = 1_900_000_000_000_000_000n;
  let nextExecId = 1;

  const trade = (o: BybitLocalOrder, qty: string, price: string, nowMs: number): void => {
    const m = markets.get(o.symbol)!;
    const value = decMul(qty, price);
    // Bybit spot charges a buy's fee in the base coin and a sell's in the quote coin.
    const fee = decMul(o.side === 'Buy' ? qty : value, FEE_RATE);
    const e: BybitLocalExecution = {
      execId: `e-${nextExecId++}`,
      execQty: qty,
      execPrice: price,
      execValue: value,
      execFee: fee,
      feeCurrency: o.side === 'Buy' ? m.base : m.quote,
      feeRate: FEE_RATE,
      isMaker: o.orderType === 'Limit',
      execTime: nowMs,
    };
    o.executions.push(e);
    o.cumExecQty = decAdd(o.cumExecQty, qty);
    o.cumExecValue = decAdd(o.cumExecValue, value);
    o.cumExecFee = decAdd(o.cumExecFee, fee);
    o.orderStatus = decCmp(o.cumExecQty, o.qty) >= 0 ? 'Filled' : 'PartiallyFilled';
    o.updatedTime = nowMs;
    report(o, e);
  };
  const find = (p: Record<string, string>): BybitLocalOrder | undefined =>
    p.orderId ? byId.get(p.orderId) : p.orderLinkId ? byLinkId.get(p.orderLinkId) : undefined;

  return {
    /** `POST /v5/order/create`. */
    create(p: Record<string, string>, nowMs: number): BybitLocalOrder | BybitRefusal {
      const m = markets.get(p.symbol ?? '');
      if (p.category !== 'spot') return refusalOf('params');
      if (!m) return refusalOf('symbol');
      const market = p.orderType === 'Market';
      if (!p.qty || (!market && !p.price) || (p.side !== 'Buy' && p.side !== 'Sell')) return refusalOf('params');
      // Unique per account, not only among open orders: a repeat is refused, whatever became of the first.
      if (p.orderLinkId && byLinkId.has(p.orderLinkId)) return refusalOf('duplicate');
      const price = market ? m.price : p.price!;
      const refused = filterRefusal(m, p.qty, price);
      if (refused) return refused;
      if (decCmp(p.side === 'Buy' ? decMul(p.qty, price) : p.qty, balance) > 0) return refusalOf('balance');
      const o: BybitLocalOrder = {
        symbol: m.base + m.quote,
        orderId: String(nextOrderId++),
        orderLinkId: p.orderLinkId ?? '',
        side: p.side,
        orderType: market ? 'Market' : 'Limit',
        timeInForce: market ? 'IOC' : (p.timeInForce ?? 'GTC'),
        price: market ? '0' : price,
        qty: p.qty,
        triggerPrice: p.triggerPrice ?? '0',
        cumExecQty: '0',
        cumExecValue: '0',
        cumExecFee: '0',
        orderStatus: 'New',
        rejectReason: 'EC_NoError',
        createdTime: nowMs,
        updatedTime: nowMs,
        executions: [],
      };
      byId.set(o.orderId, o);
      if (o.orderLinkId) byLinkId.set(o.orderLinkId, o);
      report(o);
      if (market) trade(o, o.qty, m.price, nowMs); // a market order trades at once, in full
      return o;
    },
    /** `POST /v5/order/cancel`. */
    cancel(p: Record<string, string>, nowMs: number): BybitLocalOrder | BybitRefusal {
      const o = find(p);
      if (!o || !working(o)) return refusalOf('cancelGone');
      o.orderStatus = o.orderStatus === 'PartiallyFilled' ? 'PartiallyFilledCanceled' : 'Cancelled';
      o.updatedTime = nowMs;
      report(o);
      return o;
    },
    /** `POST /v5/order/amend`: in place, the order keeps its ids; `qty` is the new total. */
    amend(p: Record<string, string>, nowMs: number): BybitLocalOrder | BybitRefusal {
      const o = find(p);
      if (!o || !working(o)) return refusalOf('notExists');
      if (!p.qty && !p.price && !p.triggerPrice) return refusalOf('params');
      const qty = p.qty ?? o.qty;
      const price = p.price ?? o.price;
      const refused = filterRefusal(markets.get(o.symbol)!, qty, price);
      if (refused) return refused;
      if (decCmp(qty, o.cumExecQty) <= 0) return refusalOf('params'); // no new total at or below what traded
      Object.assign(o, { qty, price, triggerPrice: p.triggerPrice ?? o.triggerPrice, updatedTime: nowMs });
      report(o);
      return o;
    },
    find,
    /** Trades `qty` (default: what is left) of a working order at `price` (default: its limit). */
    fill(o: BybitLocalOrder, nowMs: number, qty?: string, price?: string): void {
      if (!working(o)) throw new Error(`order ${o.orderLinkId} is ${o.orderStatus}`);
      trade(o, qty ?? decSubFloor(o.qty, o.cumExecQty), price ?? o.price, nowMs);
    },
    /** Every order, oldest first. */
    orders: (): BybitLocalOrder[] => [...byId.values()],
  };
}

/** The book's interface. */
export type BybitBook = ReturnType<typeof createBybitBook>;
