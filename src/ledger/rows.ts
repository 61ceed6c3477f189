/**
 * The row shapes of the SQL ledgers (SQLite and PostgreSQL share one schema) and their conversion
 * to the ledger's records, so both adapters read an order back to the same last digit.
 */
import { averagePriceOf, leavesOf, modifiedValues } from '../order-view.js';
import type { AnomalyKind, CausalityChain, Fill, Modification, OrderRequest, OrderStatus } from '../types.js';
import type { AnomalyRecord, BatchInfo, ChangeInput, LedgerEventType, LedgerOrder, TransitionRecord } from './types.js';

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
  /** Since schema version 2: the view's `modifications` as JSON; null before the first modify. */
  modifications: string | null;
  /** Since schema version 2: `order_details` as placed, kept by the first ORDER_MODIFIED. */
  original_details: string | null;
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
  /** Since schema version 2: the change's `modification`, one column per field. */
  modification_id: string | null;
  modification_quantity: string | null;
  modification_price: string | null;
  modification_stop_price: string | null;
  modification_reason: string | null;
}

/** The `transitions` columns of a change's modification (all null without one). */
export type ModificationColumns = Pick<
  TransitionRow,
  'modification_id' | 'modification_quantity' | 'modification_price' | 'modification_stop_price' | 'modification_reason'
>;

/** The columns of a change's `modification`. */
export function modificationColumns(m: ChangeInput['modification']): ModificationColumns {
  return {
    modification_id: m?.modificationId ?? null,
    modification_quantity: m?.quantity ?? null,
    modification_price: m?.price ?? null,
    modification_stop_price: m?.stopPrice ?? null,
    modification_reason: m?.reason ?? null,
  };
}

/** The `orders` columns a change rewrites when it is a modify event (see `modifiedValues`). */
export interface ModifiedOrderColumns {
  order_details: string;
  modifications: string;
  original_details: string | null;
}

/**
 * The order columns a modify event rewrites: the values in force, the modifications and, kept by
 * the first ORDER_MODIFIED, the details as placed; undefined for any other change.
 */
export function modifiedOrderColumns(row: OrderRow, change: ChangeInput): ModifiedOrderColumns | undefined {
  const next = modifiedValues(
    {
      orderDetails: JSON.parse(row.order_details) as OrderRequest,
      modifications: row.modifications === null ? undefined : (JSON.parse(row.modifications) as Modification[]),
    },
    change,
  );
  if (next === undefined) return undefined;
  const modified = change.eventType === 'ORDER_MODIFIED';
  return {
    order_details: JSON.stringify(next.orderDetails),
    modifications: JSON.stringify(next.modifications),
    original_details: row.original_details ?? (modified ? row.order_details : null),
  };
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
    ...(row.modifications === null ? {} : { modifications: JSON.parse(row.modifications) as Modification[] }),
    ...(row.original_details === null ? {} : { originalDetails: JSON.parse(row.original_details) as OrderRequest }),
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
    ...(r.modification_id === null
      ? {}
      : {
          modification: {
            modificationId: r.modification_id,
            ...(r.modification_quantity === null ? {} : { quantity: r.modification_quantity }),
            ...(r.modification_price === null ? {} : { price: r.modification_price }),
            ...(r.modification_stop_price === null ? {} : { stopPrice: r.modification_stop_price }),
            ...(r.modification_reason === null ? {} : { reason: r.modification_reason }),
          },
        }),
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
