/**
 * Reading a venue's "slow down" out of a connector error: how long the throttle (`throttle.ts`)
 * must pause before sending to that venue again.
 */
import { isCcxt } from './ccxt-errors.js';

/**
 * How long a rate-limit error asks to wait, in ms, or undefined when `err` is no rate limit.
 * `nowMs` lets a ban "until" a time become a wait.
 */
export type RetryAfterMsOf = (err: unknown, nowMs: number) => number | undefined;

/**
 * Without a Retry-After to read, a pause of one minute: Binance's request weight is counted per
 * minute, so a minute clears the window that was exceeded.
 */
export const defaultRetryAfterMs = 60_000;

/**
 * Binance's codes for too much: -1003 TOO_MANY_REQUESTS (weight, or an IP ban with 418) and
 * -1015 TOO_MANY_ORDERS; and the HTTP statuses 429 and 418 as ccxt and plain clients word them.
 */
const rateLimitText = /-1003|-1015|\b429\b|\b418\b|too many (new )?(requests|orders)|banned until/i;

/**
 * The default reading, for Binance through ccxt or a plain HTTP error: a `retryAfterMs` or a
 * `Retry-After` header (seconds) on the error when there is one; else a ccxt `DDoSProtection` /
 * `RateLimitExceeded`, or a message naming Binance's -1003 / -1015 or HTTP 429 / 418 (the ccxt
 * connector turns a refused placement into `PlacementRejectedError` keeping the exchange's
 * message), paused until the ban's "banned until <epoch ms>" when the message gives one, else
 * `defaultRetryAfterMs`.
 */
export const binanceRetryAfterMsOf: RetryAfterMsOf = (err, nowMs) => {
  const e = err as { retryAfterMs?: unknown; headers?: Record<string, unknown>; message?: unknown } | null;
  if (typeof e?.retryAfterMs === 'number') return e.retryAfterMs;
  const header = Number(e?.headers?.['retry-after']);
  if (Number.isFinite(header) && header >= 0) return header * 1000;
  const message = typeof e?.message === 'string' ? e.message : '';
  const limited = isCcxt(err, 'DDoSProtection') || isCcxt(err, 'RateLimitExceeded') || rateLimitText.test(message);
  if (!limited) return undefined;
  const until = /banned until (\d{13})/i.exec(message);
  return until ? Math.max(0, Number(until[1]) - nowMs) : defaultRetryAfterMs;
};
