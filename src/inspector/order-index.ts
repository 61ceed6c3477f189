/**
 * What the inspector shows of every order, kept in memory and refreshed from the ledger as its
 * events arrive: one small summary per order, counts per status, and filtered, paged listing.
 */
import type { LedgerOrder } from '../ledger/types.js';
import { ORDER_STATUSES, type OrderStatus } from '../types.js';

/** One row of the order list. */
export interface OrderSummary {
  orderId: string;
  strategyId: string;
  directiveId: string;
  status: OrderStatus;
  symbol: string;
  side: string;
  type: string;
  quantity: string;
  price?: string;
  filledQuantity: string;
  leavesQuantity: string;
  averagePrice?: string;
  venueOrderId?: string;
  fills: number;
  placedAt: number;
}

/** A page of the list. */
export interface OrderPage {
  total: number;
  offset: number;
  orders: OrderSummary[];
}

/** The summary of a ledger order. */
export function summaryOf(o: LedgerOrder): OrderSummary {
  return {
    orderId: o.orderId,
    strategyId: o.strategyId,
    directiveId: o.directiveId,
    status: o.status,
    symbol: o.orderDetails.symbol,
    side: o.orderDetails.side,
    type: o.orderDetails.type,
    quantity: o.orderDetails.quantity,
    ...(o.orderDetails.price === undefined ? {} : { price: o.orderDetails.price }),
    filledQuantity: o.filledQuantity,
    leavesQuantity: o.leavesQuantity,
    ...(o.averagePrice === undefined ? {} : { averagePrice: o.averagePrice }),
    ...(o.venueOrderId === undefined ? {} : { venueOrderId: o.venueOrderId }),
    fills: o.fills.length,
    placedAt: o.placedAt,
  };
}

/** Every order's summary, newest first in listings. */
export class OrderIndex {
  private readonly byId = new Map<string, OrderSummary>();
  /** Insertion order is placement order; listings walk it backwards. */
  private ordered: OrderSummary[] = [];
  private readonly counts = new Map<OrderStatus, number>(ORDER_STATUSES.map((s) => [s, 0]));

  /** Adds or replaces an order's summary. */
  put(s: OrderSummary): void {
    const old = this.byId.get(s.orderId);
    if (old) {
      this.counts.set(old.status, this.counts.get(old.status)! - 1);
      Object.assign(old, s);
    } else {
      this.byId.set(s.orderId, s);
      this.ordered.push(s);
    }
    this.counts.set(s.status, (this.counts.get(s.status) ?? 0) + 1);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Orders per status, every status present. */
  statusCounts(): Record<OrderStatus, number> {
    return Object.fromEntries(this.counts) as Record<OrderStatus, number>;
  }

  /**
   * Newest first, filtered by status (any of) and by text (case-insensitive, in the OrderID,
   * venue id, directive, symbol or strategy), `limit` from `offset`.
   */
  page(filter: { statuses?: readonly OrderStatus[]; text?: string; offset: number; limit: number }): OrderPage {
    const statuses = filter.statuses && filter.statuses.length > 0 ? new Set(filter.statuses) : undefined;
    const text = filter.text?.trim().toLowerCase();
    const orders: OrderSummary[] = [];
    let total = 0;
    for (let i = this.ordered.length - 1; i >= 0; i--) {
      const s = this.ordered[i]!;
      if (statuses && !statuses.has(s.status)) continue;
      if (text && !matches(s, text)) continue;
      if (total >= filter.offset && orders.length < filter.limit) orders.push(s);
      total++;
    }
    return { total, offset: filter.offset, orders };
  }
}

function matches(s: OrderSummary, text: string): boolean {
  return [s.orderId, s.venueOrderId ?? '', s.directiveId, s.symbol, s.strategyId].some((f) =>
    f.toLowerCase().includes(text),
  );
}
