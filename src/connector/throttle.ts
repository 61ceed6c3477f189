/**
 * A throttle per venue in front of a connector: each call spends the venue's published rate
 * budgets, and a call over budget waits on the injected clock in a bounded queue, cancels first.
 */
import type { Clock } from '../clock.js';
import type { ExchangeReply } from '../types.js';
import { CallQueue, type ThrottledCall } from './call-queue.js';
import { type RateBudgets, binanceSpotBudgets } from './rate-budgets.js';
import { type RetryAfterMsOf, binanceRetryAfterMsOf } from './retry-after.js';
import type { ExchangeConnector } from './types.js';

export type { ThrottledCall } from './call-queue.js';

/** How `throttleConnector` paces a venue. */
export interface ThrottleOptions {
  /** The time seam: windows, waits and pauses run on it. */
  clock: Clock;
  /** The venue's limits and call costs; default `binanceSpotBudgets`. */
  budgets?: RateBudgets;
  /** Placements, modifies and queries that may wait at once; default 1,000 (cancels wait outside it). */
  maxQueue?: number;
  /**
   * A placement or modify that waited this long is refused as the queue-full case is; default
   * none. Until the handler counts the ack deadline from the send, set it below `ackTimeoutMs`,
   * so an order never times out while its placement still waits here.
   */
  maxWaitMs?: number;
  /** Told of each call that waited, as it leaves the queue and just before it is sent. */
  onWait?: (call: ThrottledCall, waitedMs: number) => void;
  /** Reads a venue's "too much" from an error; default `binanceRetryAfterMsOf`. */
  retryAfterMsOf?: RetryAfterMsOf;
}

/** Replies that end an order at the venue: its queued placement or modify has nothing left to do. */
const ending = new Set<ExchangeReply['type']>(['CANCELLED', 'EXPIRED', 'REJECTED']);

/**
 * Wraps `connector` so its calls keep within the venue's rate budgets. Calls that fit go out at
 * once; the rest wait, sent by priority (cancel, query, modify, place; first come first within
 * each) as the budgets' windows free up. A query of an order whose placement still waits goes
 * right behind that placement.
 *
 * Ended orders: a queued placement or modify is dropped when a cancel of the same client order id
 * comes in, or when a CANCELLED, EXPIRED or REJECTED reply for it passes through `onReply`. An
 * order filled in full is not recognised (a reply alone does not say the fill completed it): its
 * queued modify goes out and the venue refuses it.
 *
 * Full queue (`maxQueue` placements, modifies and queries waiting): a new placement is refused with
 * `PlacementRejectedError('rate limit: queue full')`, definitive, nothing sent (REJECTED); a
 * modify the same way (MODIFY_REJECTED); a query fails with a plain error (QUERY_FAILED, asked
 * again). A placement sent once before is never refused definitively (the venue may have the
 * first): it fails with a plain error, its outcome left unknown. A cancel is never refused: it
 * waits, one per order (a second cancel of an order whose cancel waits shares its outcome), so
 * cancels stay bounded by the orders in play. Dropped and expired calls are refused the same way.
 *
 * Rate limits answered by the venue (an error `retryAfterMsOf` recognises: HTTP 429 with
 * Retry-After, Binance's 418 ban or -1003) pause every call to the venue until the time given;
 * the error itself passes through to the caller, the call is not sent again by the throttle.
 *
 * `modifyOrder` is present only when the wrapped connector has it; `onReply` and `onReconnect`
 * pass through.
 */
export function throttleConnector(connector: ExchangeConnector, options: ThrottleOptions): ExchangeConnector {
  const queue = new CallQueue({
    clock: options.clock,
    budgets: options.budgets ?? binanceSpotBudgets,
    maxQueue: options.maxQueue ?? 1_000,
    maxWaitMs: options.maxWaitMs,
    onWait: options.onWait,
    retryAfterMsOf: options.retryAfterMsOf ?? binanceRetryAfterMsOf,
  });
  const throttled: ExchangeConnector = {
    placeOrder: (order) =>
      queue.submit({ kind: 'place', clientOrderId: order.clientOrderId }, () => connector.placeOrder(order)),
    cancelOrder: (ref) =>
      queue.submit({ kind: 'cancel', clientOrderId: ref.clientOrderId }, () => connector.cancelOrder(ref)),
    queryOrder: (ref) =>
      queue.submit({ kind: 'query', clientOrderId: ref.clientOrderId }, () => connector.queryOrder(ref)),
  };
  if (connector.modifyOrder) {
    throttled.modifyOrder = (ref, changes) =>
      queue.submit({ kind: 'modify', clientOrderId: ref.clientOrderId }, () => connector.modifyOrder!(ref, changes));
  }
  if (connector.onReply) {
    throttled.onReply = (listener) =>
      connector.onReply!((reply) => {
        if (reply.clientOrderId !== undefined && ending.has(reply.type)) {
          queue.drop(reply.clientOrderId, `the order ended (${reply.type}) while its call waited`);
          queue.forget(reply.clientOrderId);
        }
        listener(reply);
      });
  }
  if (connector.onReconnect) throttled.onReconnect = (listener) => connector.onReconnect!(listener);
  return throttled;
}
