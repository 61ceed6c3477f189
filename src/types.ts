/**
 * The vocabulary of the public API (contract sections 3 and 5): directives, orders, replies,
 * views and outcomes. Quantities, prices and commissions are decimal strings; times are epoch
 * milliseconds of the injected clock.
 */

/** What started the flow that led to a directive. */
export type OriginType = 'TICK' | 'NEWS' | 'SCHEDULE';

/** Immutable chain of ids from origin to fills; extended by copy, never mutated. */
export interface CausalityChain {
  readonly origin: { readonly id: string; readonly type: OriginType };
  readonly signalIds: readonly string[];
  readonly riskIds: readonly string[];
  readonly strategyDirectiveId?: string;
  readonly entryPlanId?: string;
  readonly sizePlanId?: string;
  readonly exitPlanId?: string;
  readonly executionPlanId?: string;
  readonly executionCommandId?: string;
  /** Appended by `execute()`, one per order of the directive. */
  readonly orderIds: readonly string[];
  /** Appended per applied fill (per order, in its view). */
  readonly fillIds: readonly string[];
}

/** Buy or sell. */
export type OrderSide = 'BUY' | 'SELL';
/** Order types the handler places. */
export type OrderType = 'MARKET' | 'LIMIT' | 'STOP_LIMIT';
/** Time in force; GTC when absent. */
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'DAY';

/** One order of a directive, as the engine asks for it. */
export interface OrderRequest {
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: OrderType;
  /** Decimal string, > 0. */
  readonly quantity: string;
  /** Decimal string; required for LIMIT and STOP_LIMIT. */
  readonly price?: string;
  /** Decimal string; required for STOP_LIMIT. */
  readonly stopPrice?: string;
  readonly timeInForce?: TimeInForce;
}

/** How the orders of one directive relate to each other. */
export type BatchMode = 'INDEPENDENT' | 'COORDINATED' | 'SEQUENTIAL';

/** What the engine hands the handler: one or more orders and the chain saying why. */
export interface ExecutionDirective {
  /** Idempotency key: executing it again returns the same orderIds and places nothing new. */
  readonly directiveId: string;
  readonly causality: CausalityChain;
  readonly orders: readonly OrderRequest[];
  readonly mode?: BatchMode;
}

/** A venue's message about one order; names it by `clientOrderId`, `venueOrderId`, or both. */
export type ExchangeReply =
  | { type: 'ACCEPTED'; clientOrderId?: string; venueOrderId: string; at: number }
  | {
      type: 'FILL';
      clientOrderId?: string;
      venueOrderId?: string;
      venueFillId: string;
      quantity: string;
      price: string;
      commission?: string;
      commissionAsset?: string;
      at: number;
    }
  | { type: 'REJECTED'; clientOrderId?: string; venueOrderId?: string; reason: string; at: number }
  | { type: 'CANCELLED'; clientOrderId?: string; venueOrderId?: string; reason?: string; at: number }
  | {
      type: 'CANCEL_REJECTED';
      clientOrderId?: string;
      venueOrderId?: string;
      reason: string;
      at: number;
    }
  | { type: 'EXPIRED'; clientOrderId?: string; venueOrderId?: string; at: number }
  /** A modify took effect: the values now in force (section 4b); `newVenueOrderId` when the venue replaced the order. */
  | {
      type: 'MODIFIED';
      clientOrderId?: string;
      venueOrderId?: string;
      newVenueOrderId?: string;
      quantity: string;
      price?: string;
      stopPrice?: string;
      at: number;
    }
  | { type: 'MODIFY_REJECTED'; clientOrderId?: string; venueOrderId?: string; reason: string; at: number };

/** Every status an order can have (contract section 4). */
export type OrderStatus =
  | 'PENDING'
  | 'OPEN'
  | 'PARTIALLY_FILLED'
  | 'FILLED'
  | 'MODIFY_PENDING'
  | 'CANCEL_PENDING'
  | 'CANCELLED'
  | 'REJECTED'
  | 'EXPIRED'
  | 'TIMED_OUT';

/** Every status, in the order of the state table. */
export const ORDER_STATUSES: readonly OrderStatus[] = [
  'PENDING',
  'OPEN',
  'PARTIALLY_FILLED',
  'FILLED',
  'MODIFY_PENDING',
  'CANCEL_PENDING',
  'CANCELLED',
  'REJECTED',
  'EXPIRED',
  'TIMED_OUT',
];

/** Statuses after which the strategy's flow never sees the order trade again (late fills aside). */
export const FINAL_STATUSES: readonly OrderStatus[] = ['FILLED', 'REJECTED', 'CANCELLED', 'EXPIRED'];

/** Kinds of anomaly the handler records instead of failing. */
export type AnomalyKind =
  | 'MALFORMED_REPLY'
  | 'UNKNOWN_ORDER'
  | 'LATE_REPLY'
  | 'OVERFILL'
  | 'CONFLICTING_FILL'
  | 'CANCEL_UNCONFIRMED'
  | 'MODIFY_UNCONFIRMED'
  | 'VENUE_LOST_ORDER';

/** One applied fill of an order. */
export interface Fill {
  readonly fillId: string;
  readonly venueFillId: string;
  readonly quantity: string;
  readonly price: string;
  readonly commission?: string;
  readonly commissionAsset?: string;
  readonly at: number;
}

/** The StrategyCache entry of an order: everything an engine needs to know about it. */
export interface OrderView {
  readonly orderId: string;
  readonly directiveId: string;
  readonly strategyId: string;
  readonly status: OrderStatus;
  readonly orderDetails: OrderRequest;
  readonly venueOrderId?: string;
  readonly filledQuantity: string;
  readonly leavesQuantity: string;
  readonly averagePrice?: string;
  readonly fills: readonly Fill[];
  /** The chain `execute()` returned plus this order's fillIds. */
  readonly causality: CausalityChain;
  readonly rejectReason?: string;
  /** Every modify asked of the order, in order (section 4b); `orderDetails` holds the values in force. */
  readonly modifications?: readonly Modification[];
}

/** The values a modify changes (section 4b): the new total quantity, price and/or stop price. */
export interface ModifyChanges {
  quantity?: string;
  price?: string;
  stopPrice?: string;
}

/** One modify of an order as its view shows it. */
export interface Modification {
  /** `${orderId}.${n}`. */
  readonly modificationId: string;
  readonly requested: ModifyChanges;
  readonly status: 'PENDING' | 'ACCEPTED' | 'REJECTED';
  readonly reason?: string;
  readonly at: number;
}

/** What `onExchangeReply` did with a reply. */
export type ReplyOutcome =
  | { outcome: 'applied'; orderId: string; status: OrderStatus }
  | { outcome: 'duplicate'; orderId: string; status: OrderStatus }
  | { outcome: 'held'; venueOrderId: string }
  | { outcome: 'anomaly'; anomaly: AnomalyKind; orderId?: string };

/** What `recover()` and `reconcile()` found and did. */
export interface RecoveryReport {
  /** Orders rebuilt from the ledger (0 for a plain reconcile). */
  ordersRestored: number;
  /** Orders the venue was asked about. */
  ordersQueried: number;
  /** Fills learnt from the venue's answers and applied (duplicates excluded). */
  fillsLearnt: number;
  /** Orders whose status changed because of what the venue said. */
  ordersResolved: number;
  /** PENDING orders the venue did not know, placed again with the same client order id. */
  ordersPlacedAgain: number;
  /** Queries that failed; those orders are left to the deadline path. */
  queriesFailed: number;
  /** Anomalies recorded while reconciling. */
  anomalies: number;
}
