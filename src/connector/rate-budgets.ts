/**
 * A venue's published rate limits as budgets the throttle (`throttle.ts`) spends: windows of
 * request weight or of order count, and what each connector call costs in them.
 */

/** The connector calls the throttle paces, highest priority first. */
export type CallKind = 'cancel' | 'query' | 'modify' | 'place';

/** One limit of the venue: at most `limit` units of `unit` in any `windowMs`. */
export interface RateWindow {
  /** For messages and tests, e.g. 'orders/10s'. */
  name: string;
  unit: 'weight' | 'orders';
  limit: number;
  windowMs: number;
}

/** What one call spends of each unit. */
export interface CallCost {
  weight: number;
  orders: number;
}

/** A venue's limits and the cost of each call in them. */
export interface RateBudgets {
  windows: RateWindow[];
  costs: Record<CallKind, CallCost>;
}

/**
 * Binance spot, per account (orders) and per IP (weight), as published in "LIMITS" of the spot
 * REST API (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits) and in
 * `GET /api/v3/exchangeInfo` `rateLimits`: REQUEST_WEIGHT 6,000 per minute, ORDERS 50 per 10 s and
 * 160,000 per day. Endpoint weights from the same documents: `POST /api/v3/order` 1,
 * `DELETE /api/v3/order` 1, `GET /api/v3/order` 4, `POST /api/v3/order/cancelReplace` 1. A cancel
 * does not count as an order; a cancel-replace counts one.
 */
export const binanceSpotBudgets: RateBudgets = {
  windows: [
    { name: 'weight/1m', unit: 'weight', limit: 6_000, windowMs: 60_000 },
    { name: 'orders/10s', unit: 'orders', limit: 50, windowMs: 10_000 },
    { name: 'orders/1d', unit: 'orders', limit: 160_000, windowMs: 86_400_000 },
  ],
  costs: {
    place: { weight: 1, orders: 1 },
    cancel: { weight: 1, orders: 0 },
    query: { weight: 4, orders: 0 },
    modify: { weight: 1, orders: 1 },
  },
};

/**
 * The spending of one window, as a log of what was spent when. Sliding rather than aligned to
 * the venue's interval boundaries: our clock and the venue's differ, and a sliding count within
 * the limit keeps every aligned window within it too. The log holds at most `limit` entries
 * (each spends at least one unit).
 */
export class SlidingWindow {
  private readonly at: number[] = [];
  private readonly spent: number[] = [];
  private head = 0;
  private used = 0;

  constructor(readonly window: RateWindow) {}

  /** How long until `amount` more fits (0: now; Infinity: it never fits, more than the limit). */
  waitMs(nowMs: number, amount: number): number {
    if (amount <= 0) return 0;
    this.expire(nowMs);
    const { limit, windowMs } = this.window;
    if (this.used + amount <= limit) return 0;
    let freed = 0;
    for (let i = this.head; i < this.at.length; i++) {
      freed += this.spent[i]!;
      if (this.used - freed + amount <= limit) return this.at[i]! + windowMs - nowMs;
    }
    return Number.POSITIVE_INFINITY;
  }

  /** Records `amount` spent at `nowMs`. */
  spend(nowMs: number, amount: number): void {
    if (amount <= 0) return;
    this.expire(nowMs);
    this.at.push(nowMs);
    this.spent.push(amount);
    this.used += amount;
  }

  private expire(nowMs: number): void {
    const windowMs = this.window.windowMs;
    while (this.head < this.at.length && this.at[this.head]! + windowMs <= nowMs) {
      this.used -= this.spent[this.head]!;
      this.head++;
    }
    // Drop the expired prefix now and then, so the log stays as long as the window's entries.
    if (this.head > 1024 && this.head * 2 > this.at.length) {
      this.at.splice(0, this.head);
      this.spent.splice(0, this.head);
      this.head = 0;
    }
  }
}
