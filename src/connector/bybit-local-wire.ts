/**
 * Bybit v5's wire format for the local Bybit venue (`bybit-local.ts`): how requests are signed
 * (REST: `X-BAPI-*` headers; private WebSocket: the `auth` op), the `retCode`/`retMsg` envelope
 * and its error codes, and the order and execution records as v5 spot sends them. Field names are
 * the ones ccxt's `bybit` parser reads (`parseOrder`, `parseTrade`), since ccxt's parser decides
 * what a counterpart must send.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { decDiv, decSubFloor } from '../decimal.js';

/** An order as the local venue holds it, in Bybit v5's own field names and spellings. */
export interface BybitLocalOrder {
  symbol: string;
  orderId: string;
  orderLinkId: string;
  side: 'Buy' | 'Sell';
  orderType: 'Limit' | 'Market';
  timeInForce: string;
  price: string;
  qty: string;
  triggerPrice: string;
  cumExecQty: string;
  cumExecValue: string;
  cumExecFee: string;
  orderStatus: 'New' | 'PartiallyFilled' | 'Filled' | 'Cancelled' | 'Rejected' | 'PartiallyFilledCanceled';
  rejectReason: string;
  createdTime: number;
  updatedTime: number;
  executions: BybitLocalExecution[];
}

/** One trade of an order, in Bybit v5's field names. */
export interface BybitLocalExecution {
  execId: string;
  execQty: string;
  execPrice: string;
  execValue: string;
  execFee: string;
  feeCurrency: string;
  feeRate: string;
  isMaker: boolean;
  execTime: number;
}

/** Bybit's error codes the local venue answers with (ccxt's `exceptions.exact` classes them). */
export const BYBIT_ERRORS = {
  params: [10001, 'params error'],
  sign: [10004, 'error sign! origin_string'],
  recvWindow: [10002, 'invalid request, please check your server timestamp or recv_window param'],
  rateLimit: [10006, 'Too many visits!'],
  notExists: [110001, 'order not exists or too late to cancel'],
  balance: [170131, 'Insufficient balance.'],
  duplicate: [170141, 'Duplicate clientOrderId.'],
  symbol: [170121, 'Invalid symbol.'],
  qtyDecimals: [170137, 'Order quantity has too many decimals.'],
  priceDecimals: [170134, 'Order price has too many decimals.'],
  qtyTooLarge: [170135, 'Order quantity exceeded upper limit.'],
  qtyTooSmall: [170136, 'Order quantity lower than the minimum.'],
  amountTooSmall: [170140, 'Order value exceeded lower limit.'],
  cancelGone: [170213, 'Order does not exist.'],
} as const satisfies Record<string, readonly [number, string]>;

/** The `retCode`/`retMsg` envelope every v5 REST answer comes in. */
export function envelope(result: unknown, nowMs: number, code = 0, msg = 'OK'): Record<string, unknown> {
  return { retCode: code, retMsg: msg, result, retExtInfo: {}, time: nowMs };
}

const hmacHex = (secret: string, text: string): string => createHmac('sha256', secret).update(text).digest('hex');
const same = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Is a v5 REST request signed with `secret`? Bybit signs timestamp + apiKey + recvWindow + (the
 * raw query string of a GET, or the raw JSON body of a POST), HMAC-SHA256 in hex.
 */
export function restSigned(
  headers: Record<string, string | string[] | undefined>,
  apiKey: string,
  secret: string,
  payload: string,
): boolean {
  const h = (name: string): string => String(headers[name] ?? '');
  if (h('x-bapi-api-key') !== apiKey) return false;
  const text = `${h('x-bapi-timestamp')}${apiKey}${h('x-bapi-recv-window')}${payload}`;
  return same(hmacHex(secret, text), h('x-bapi-sign'));
}

/**
 * Is the request out of its time? Bybit executes one only while server time - timestamp <=
 * recv_window, and refuses a timestamp 1 s or more ahead of its clock.
 */
export function outsideRecvWindow(headers: Record<string, string | string[] | undefined>, nowMs: number): boolean {
  const timestamp = Number(headers['x-bapi-timestamp']);
  const recvWindowMs = Number(headers['x-bapi-recv-window'] ?? 5_000);
  return !(nowMs - timestamp <= recvWindowMs && timestamp - nowMs < 1_000);
}

/** Is a private WebSocket `auth` op's `[apiKey, expires, signature]` valid (HMAC of `GET/realtime${expires}`)? */
export function wsAuthValid(args: unknown, apiKey: string, secret: string): boolean {
  if (!Array.isArray(args) || args.length !== 3) return false;
  const [key, expires, signature] = args.map(String) as [string, string, string];
  return key === apiKey && same(hmacHex(secret, `GET/realtime${expires}`), signature);
}

/** Is `value` a whole multiple of `step`? (Exact decimals: Bybit refuses, never rounds, a finer value.) */
export function isMultiple(value: string, step: string): boolean {
  return !decDiv(value, step).includes('.');
}

/** The order as v5 REST (`/v5/order/realtime`) and the `order` topic send it. */
export function orderRecord(o: BybitLocalOrder): Record<string, unknown> {
  const { executions: _executions, ...own } = o;
  return {
    category: 'spot',
    ...own,
    leavesQty: o.orderStatus === 'New' || o.orderStatus === 'PartiallyFilled' ? decSubFloor(o.qty, o.cumExecQty) : '0',
    avgPrice: o.cumExecQty === '0' ? '' : decDiv(o.cumExecValue, o.cumExecQty),
    // A quantity in the base coin: without it ccxt reads a spot market BUY's qty as quote.
    marketUnit: 'baseCoin',
    createdTime: String(o.createdTime),
    updatedTime: String(o.updatedTime),
  };
}

/** A trade as v5 REST (`/v5/execution/list`) and the `execution` topic send it. */
export function executionRecord(o: BybitLocalOrder, e: BybitLocalExecution): Record<string, unknown> {
  return {
    category: 'spot',
    symbol: o.symbol,
    orderId: o.orderId,
    orderLinkId: o.orderLinkId,
    side: o.side,
    orderType: o.orderType,
    orderPrice: o.price,
    orderQty: o.qty,
    execType: 'Trade',
    ...e,
    execTime: String(e.execTime),
  };
}
