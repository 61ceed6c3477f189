/**
 * The StrategyLedger contract (section 7): the only owner of orders and fills. The handler writes
 * through `commit` alone; every adapter (memory, SQLite, PostgreSQL, a user's own) implements it.
 */
import type { AnomalyKind, BatchMode, CausalityChain, Fill, OrderRequest, OrderStatus, OrderView } from '../types.js';

/** What a ledger event says happened. */
export type LedgerEventType =
  | 'ORDER_PLACED'
  | 'ORDER_ACCEPTED'
  | 'ORDER_PARTIALLY_FILLED'
  | 'ORDER_FILLED'
  | 'ORDER_CANCEL_REQUESTED'
  | 'ORDER_CANCEL_REJECTED'
  | 'ORDER_MODIFY_REQUESTED'
  | 'ORDER_MODIFIED'
  | 'ORDER_MODIFY_REJECTED'
  | 'ORDER_CANCELLED'
  | 'ORDER_REJECTED'
  | 'ORDER_EXPIRED'
  | 'ORDER_TIMED_OUT'
  | 'ORDER_ANOMALY';

/** A new order, born PENDING. */
export interface OrderRecordInput {
  orderId: string;
  directiveId: string;
  strategyId: string;
  orderDetails: OrderRequest;
  causality: CausalityChain;
  at: number;
  /** Where the order stands in its directive, so recovery keeps the batch mode (ADR 0002). */
  batch?: BatchInfo;
}

/** The batch an order belongs to: its directive's mode and size, and its index in it. */
export interface BatchInfo {
  mode: BatchMode;
  index: number;
  size: number;
}

/** A recorded anomaly: something that happened that the handler did not apply as asked. */
export interface AnomalyRecord {
  kind: AnomalyKind;
  reason: string;
  orderId?: string;
  strategyId: string;
  at: number;
  /** The raw reply, JSON-safe and truncated. */
  reply?: unknown;
}

/** One change of an order: input of `commit`. */
export interface ChangeInput {
  orderId: string;
  eventType: LedgerEventType;
  from: OrderStatus;
  to: OrderStatus;
  at: number;
  /** What caused it: `reply FILL #hash`, `cancel()`, `ack-timeout`, `query NOT_FOUND`… */
  cause: string;
  venueOrderId?: string;
  rejectReason?: string;
  /** A modify's values: requested (ORDER_MODIFY_REQUESTED), in force (ORDER_MODIFIED), or why rejected. */
  modification?: {
    modificationId: string;
    quantity?: string;
    price?: string;
    stopPrice?: string;
    reason?: string;
  };
  /** The actor's persisted snapshot after the change, for recovery. */
  snapshot?: unknown;
}

/** A write the handler hands to `commit`; a batch is applied atomically and durably. */
export type LedgerWrite =
  | { kind: 'order'; order: OrderRecordInput }
  | ({ kind: 'change' } & ChangeInput)
  | { kind: 'fill'; orderId: string; fill: Fill }
  | { kind: 'anomaly'; anomaly: AnomalyRecord }
  /**
   * The order's protocol moved on without a change of its own (a query sent, a cancel sent again,
   * a retry scheduled): its persisted snapshot is replaced, no change record or event is made.
   */
  | { kind: 'snapshot'; orderId: string; snapshot: unknown };

/** A persisted change, with the `seq` the ledger assigned (from 1, contiguous per order). */
export type TransitionRecord = Omit<ChangeInput, 'snapshot'> & { seq: number };

/**
 * An order as the ledger holds it: its view (values in force in `orderDetails`, its
 * `modifications`) plus the last persisted actor snapshot and, once an ORDER_MODIFIED is recorded,
 * `originalDetails`: the order as it was placed.
 */
export type LedgerOrder = OrderView & {
  snapshot?: unknown;
  placedAt: number;
  batch?: BatchInfo;
  originalDetails?: OrderRequest;
};

/** The flat event published after every durable record. */
export interface LedgerUpdatedEvent {
  type: 'STRATEGY_LEDGER_UPDATED';
  eventType: LedgerEventType;
  strategyId: string;
  orderId?: string;
  /** The order's status after the record. */
  status?: OrderStatus;
  seq?: number;
  at: number;
}

/** A filter and page of the order list, newest placement first (ties: the greater OrderID first). */
export interface OrderListQuery {
  /** Any of these statuses; none or empty: every status. */
  statuses?: readonly OrderStatus[];
  /** Case-insensitive text in the OrderID, venue order id, directive, strategy or symbol. */
  text?: string;
  offset: number;
  limit: number;
  /** Count the matching orders (`total`); default true. A viewer that keeps its own counts skips it. */
  countTotal?: boolean;
}

/** A page of the order list. */
export interface OrderListPage {
  /** How many orders match, when counted. */
  total?: number;
  orders: LedgerOrder[];
}

/** Receives ledger events. */
export type LedgerListener = (event: LedgerUpdatedEvent) => void;

/** Persistence of one strategy's orders, changes, fills and anomalies. */
export interface StrategyLedger {
  /** Applies a batch atomically and durably, then publishes one event per order/change/anomaly. */
  commit(writes: readonly LedgerWrite[]): Promise<void>;
  /** The order with its last snapshot; undefined when unknown to this strategy. */
  getOrder(orderId: string): Promise<LedgerOrder | undefined>;
  /** The order's changes in `seq` order. */
  getTransitions(orderId: string): Promise<TransitionRecord[]>;
  /** Every anomaly of the strategy, in the order recorded. */
  getAnomalies(): Promise<AnomalyRecord[]>;
  /**
   * The orders recorded for a directive, in the order of its `orders`. Not named by the contract:
   * it makes `execute` idempotent across restarts (ADR 0002).
   */
  getOrdersByDirective(directiveId: string): Promise<LedgerOrder[]>;
  /**
   * Orders whose last change (or placement) is at or after `at`, final ones included. Not named by
   * the contract: `recover()` asks the venue about orders that ended shortly before a crash, whose
   * last fills may have been lost with the process (ADR 0002).
   */
  getOrdersChangedSince(at: number): Promise<LedgerOrder[]>;
  /**
   * True when any strategy of this ledger's store already has an order with this id. Not named
   * by the contract: a file or database shared by strategies keeps OrderIDs unique across all of
   * them, though each strategy reads only its own (`getOrder` cannot see the others). Ledgers
   * without it fall back to `getOrder`.
   */
  isOrderIdTaken?(orderId: string): Promise<boolean>;
  /** Every order not FILLED, REJECTED, CANCELLED or EXPIRED (TIMED_OUT included). */
  getOpenOrders(): Promise<LedgerOrder[]>;
  /**
   * Optional, for viewers of large ledgers (the inspector), answered from indexes rather than by
   * loading every order: the number of orders in each status (every status present).
   */
  countOrdersByStatus?(): Promise<Record<OrderStatus, number>>;
  /** Optional, as `countOrdersByStatus`: one page of the order list. */
  listOrders?(query: OrderListQuery): Promise<OrderListPage>;
  /** Optional, as `countOrdersByStatus`: how many anomalies are recorded. */
  countAnomalies?(): Promise<number>;
  /** Optional, as `countOrdersByStatus`: the anomalies recorded for one order, in the order recorded. */
  getOrderAnomalies?(orderId: string): Promise<AnomalyRecord[]>;
  /** Listens to `STRATEGY_LEDGER_UPDATED`; returns the unsubscribe function. */
  subscribe(listener: LedgerListener): () => void;
  close(): Promise<void>;
}
