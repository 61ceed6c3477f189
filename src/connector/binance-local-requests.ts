/**
 * How the local Binance venue judges a request before it touches the book, as Binance does: the
 * HMAC-SHA256 signature (REST and the WebSocket API's subscription), the request's timing against
 * its recvWindow, and a new order's parameters (form, precision, time in force) and filters.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { decCmp } from '../decimal.js';
import { type LocalMarketRules, brokenFilter } from './binance-local-rules.js';

/** A refusal in Binance's terms: HTTP status, error code, message. */
export interface Refusal {
  status: number;
  code: number;
  msg: string;
}

/** Why a signed REST request (query string and body, `raw`) is refused; undefined when it is good. */
export function restSignatureRefusal(
  raw: string,
  apiKey: string | undefined,
  keys: { apiKey: string; secret: string },
): string | undefined {
  if (apiKey !== keys.apiKey) return 'API-key format invalid.';
  const m = /(^|&)signature=([0-9a-f]+)/.exec(raw);
  if (!m) return "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.";
  const payload = raw.replace(/&?signature=[0-9a-f]+/, '');
  const expected = createHmac('sha256', keys.secret).update(payload).digest();
  const got = Buffer.from(m[2]!, 'hex');
  return got.length === expected.length && timingSafeEqual(got, expected)
    ? undefined
    : 'Signature for this request is not valid.';
}

/** Is a WebSocket API request signed as Binance signs it: the key-sorted parameters but the signature? */
export function streamSignatureValid(
  params: Record<string, string> | undefined,
  keys: { apiKey: string; secret: string },
): boolean {
  const signed = Object.entries(params ?? {})
    .filter(([k]) => k !== 'signature')
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const expected = createHmac('sha256', keys.secret)
    .update(signed.map(([k, v]) => `${k}=${v}`).join('&'))
    .digest('hex');
  return params?.apiKey === keys.apiKey && params?.signature === expected;
}

/**
 * Binance's timing rule for signed requests, checked on receipt and again when a held request
 * reaches the matching engine: executed only while serverTime - timestamp <= recvWindow
 * (default 5,000 ms), and refused when the timestamp is more than 1 s ahead.
 */
export function outsideRecvWindow(p: URLSearchParams, nowMs: number): string | undefined {
  const timestamp = Number(p.get('timestamp'));
  const recvWindow = Number(p.get('recvWindow') ?? 5_000);
  if (timestamp - nowMs > 1_000) return "Timestamp for this request was 1000ms ahead of the server's time.";
  return nowMs - timestamp > recvWindow ? 'Timestamp for this request is outside of the recvWindow.' : undefined;
}

const isDecimal = (v: string): boolean => /^\d{1,20}(\.\d{1,20})?$/.test(v);
/** More places than the asset's precision (8 on these symbols), which Binance refuses outright. */
const tooPrecise = (v: string): boolean => (v.split('.')[1] ?? '').replace(/0+$/, '').length > 8;
const mandatory = (name: string): Refusal => ({
  status: 400,
  code: -1102,
  msg: `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`,
});

/**
 * Why a new order (of a listed symbol) is refused before anything happens, in Binance's order:
 * each parameter's form and precision, the time in force, then the filters as listed.
 */
export function newOrderRefusal(
  p: URLSearchParams,
  rules: LocalMarketRules,
  averagePrice: string,
): Refusal | undefined {
  const type = p.get('type') ?? '';
  const market = type === 'MARKET';
  const named = ['quantity', ...(market ? [] : ['price']), ...(p.has('stopPrice') ? ['stopPrice'] : [])];
  for (const name of named) {
    const v = p.get(name);
    if (v === null || !isDecimal(v)) return mandatory(name);
    if (tooPrecise(v))
      return { status: 400, code: -1111, msg: 'Precision is over the maximum defined for this asset.' };
  }
  if (decCmp(p.get('quantity')!, '0') <= 0) return { status: 400, code: -1013, msg: 'Invalid quantity.' };
  if (!market && !p.has('timeInForce')) return mandatory('timeInForce');
  if (!market && !['GTC', 'IOC', 'FOK'].includes(p.get('timeInForce')!))
    return { status: 400, code: -1115, msg: 'Invalid timeInForce.' };
  const order = {
    type,
    quantity: p.get('quantity')!,
    price: p.get('price') ?? undefined,
    stopPrice: p.get('stopPrice') ?? undefined,
  };
  const broken = brokenFilter(rules, order, averagePrice);
  return broken ? { status: 400, code: -1013, msg: `Filter failure: ${broken}` } : undefined;
}
