/**
 * The row shapes of the SQL ledgers (SQLite and PostgreSQL share one schema) and their conversion
 * to the ledger's records, so both adapters read an order back to the same last digit.
 */
import { averagePriceOf, leavesOf } from '../order-view.js';
import type { AnomalyKind, CausalityChain, Fill, OrderRequest, OrderStatus } from '../types.js';
import type { AnomalyRecord, BatchInfo, LedgerEventType, LedgerOrder, TransitionRecord } from './types.js';

/** A row of `orders`: JSON columns as text, times as epoch milliseconds. */
export interface OrderRow {
  order_id: string;
  strategy_id: string;
  directive_id: string;
  status: OrderStatus;
  order_details: string;
  causality: string;
  venue_order_id: string | null;
  reject_reason: string | null;
  filled_quantity: string;
  placed_at: number;
  batch: string | null;
  snapshot: string | null;
  last_seq: number;
}

/** A row of `fills`. */
export interface FillRow {
  venue_fill_id: string;
  fill_id: string;
  quantity: string;
  price: string;
  commission: string | null;
  commission_asset: string | null;
  at: number;
}

/** A row of `transitions`. */
export interface TransitionRow {
  order_id: string;
  seq: number;
  event_type: LedgerEventType;
  from_status: OrderStatus;
  to_status: OrderStatus;
  at: number;
  cause: string;
  venue_order_id: string | null;
  reject_reason: string | null;
}

/** A row of `anomalies`. */
export interface AnomalyRow {
  strategy_id: string;
  kind: AnomalyKind;
  reason: string;
  order_id: string | null;
  at: number;
  reply: string | null;
}

/** The SQL condition "still open" on a status column (TIMED_OUT is still open: recovery checks it). */
export const sqlOpen = (column = 'status'): string => `${column} NOT IN ('FILLED', 'REJECTED', 'CANCELLED', 'EXPIRED')`;

/** The order of a row and its fills (in ordinal order), with the arithmetic of the view. */
export function orderOf(row: OrderRow, fills: Fill[]): LedgerOrder {
  const base = JSON.parse(row.causality) as CausalityChain;
  const averagePrice = averagePriceOf(fills);
  const orderDetails = JSON.parse(row.order_details) as OrderRequest;
  return {
    orderId: row.order_id,
    directiveId: row.directive_id,
    strategyId: row.strategy_id,
    status: row.status,
    orderDetails,
    ...(row.venue_order_id === null ? {} : { venueOrderId: row.venue_order_id }),
    filledQuantity: row.filled_quantity,
    leavesQuantity: leavesOf(row.status, orderDetails.quantity, row.filled_quantity),
    ...(averagePrice === undefined ? {} : { averagePrice }),
    fills,
    causality: { ...base, fillIds: [...base.fillIds, ...fills.map((f) => f.fillId)] },
    ...(row.reject_reason === null ? {} : { rejectReason: row.reject_reason }),
    placedAt: row.placed_at,
    ...(row.batch === null ? {} : { batch: JSON.parse(row.batch) as BatchInfo }),
    ...(row.snapshot === null ? {} : { snapshot: JSON.parse(row.snapshot) as unknown }),
  };
}

/** A fill of a row. */
export function fillOf(r: FillRow): Fill {
  return {
    fillId: r.fill_id,
    venueFillId: r.venue_fill_id,
    quantity: r.quantity,
    price: r.price,
    ...(r.commission === null ? {} : { commission: r.commission }),
    ...(r.commission_asset === null ? {} : { commissionAsset: r.commission_asset }),
    at: r.at,
  };
}

/** A transition of a row. */
export function transitionOf(r: TransitionRow): TransitionRecord {
  return {
    orderId: r.order_id,
    seq: r.seq,
    eventType: r.event_type,
    from: r.from_status,
    to: r.to_status,
    at: r.at,
    cause: r.cause,
    ...(r.venue_order_id === null ? {} : { venueOrderId: r.venue_order_id }),
    ...(r.reject_reason === null ? {} : { rejectReason: r.reject_reason }),
  };
}

/** An anomaly of a row. */
export function anomalyOf(r: AnomalyRow): AnomalyRecord {
  return {
    kind: r.kind,
    reason: r.reason,
    ...(r.order_id === null ? {} : { orderId: r.order_id }),
    strategyId: r.strategy_id,
    at: r.at,
    ...(r.reply === null ? {} : { reply: JSON.parse(r.reply) as unknown }),
  };
}
