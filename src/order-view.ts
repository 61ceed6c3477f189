/**
 * Pure arithmetic of an `OrderView`: one place computes filled, leaves and average price, so the
 * cache and every ledger adapter agree to the last digit.
 */
import { decAdd, decCmp, decDiv, decMul, decSubFloor } from './decimal.js';
import type {
  CausalityChain,
  Fill,
  Modification,
  ModifyChanges,
  OrderRequest,
  OrderStatus,
  OrderView,
} from './types.js';

/** Statuses whose leaves quantity is 0 whatever was filled (as FIX LeavesQty). */
const DONE: ReadonlySet<OrderStatus> = new Set(['FILLED', 'CANCELLED', 'EXPIRED', 'REJECTED']);

/** The view of an order just recorded PENDING. */
export function newOrderView(args: {
  orderId: string;
  directiveId: string;
  strategyId: string;
  orderDetails: OrderRequest;
  causality: CausalityChain;
}): OrderView {
  return {
    orderId: args.orderId,
    directiveId: args.directiveId,
    strategyId: args.strategyId,
    status: 'PENDING',
    orderDetails: args.orderDetails,
    filledQuantity: '0',
    leavesQuantity: args.orderDetails.quantity,
    fills: [],
    causality: args.causality,
  };
}

/** leavesQuantity per contract section 4. */
export function leavesOf(status: OrderStatus, quantity: string, filledQuantity: string): string {
  return DONE.has(status) ? '0' : decSubFloor(quantity, filledQuantity);
}

/** Quantity-weighted mean price of `fills`; undefined without fills. */
export function averagePriceOf(fills: readonly Fill[]): string | undefined {
  if (fills.length === 0) return undefined;
  let qty = '0';
  let notional = '0';
  for (const f of fills) {
    qty = decAdd(qty, f.quantity);
    notional = decAdd(notional, decMul(f.quantity, f.price));
  }
  return decCmp(qty, '0') === 0 ? undefined : decDiv(notional, qty);
}

/** The view with one more fill: filled, leaves, average price and causality.fillIds updated. */
export function withFill(view: OrderView, fill: Fill): OrderView {
  const fills = [...view.fills, fill];
  const filledQuantity = decAdd(view.filledQuantity, fill.quantity);
  const averagePrice = averagePriceOf(fills);
  return {
    ...view,
    fills,
    filledQuantity,
    leavesQuantity: leavesOf(view.status, view.orderDetails.quantity, filledQuantity),
    ...(averagePrice === undefined ? {} : { averagePrice }),
    causality: { ...view.causality, fillIds: [...view.causality.fillIds, fill.fillId] },
  };
}

/** The view after a change of status (and possibly a venue id or reject reason learnt). */
export function withStatus(
  view: OrderView,
  status: OrderStatus,
  extra: { venueOrderId?: string | undefined; rejectReason?: string | undefined } = {},
): OrderView {
  return {
    ...view,
    status,
    leavesQuantity: leavesOf(status, view.orderDetails.quantity, view.filledQuantity),
    ...(extra.venueOrderId === undefined ? {} : { venueOrderId: extra.venueOrderId }),
    ...(extra.rejectReason === undefined ? {} : { rejectReason: extra.rejectReason }),
  };
}

/** The view with a commission filled into a known fill that lacked one. */
export function withCommission(view: OrderView, venueFillId: string, commission: string, asset?: string): OrderView {
  return {
    ...view,
    fills: view.fills.map((f) =>
      f.venueFillId === venueFillId && f.commission === undefined
        ? { ...f, commission, ...(asset === undefined ? {} : { commissionAsset: asset }) }
        : f,
    ),
  };
}

/** A modify's values and why, as a change record carries them (the ledger's `ChangeInput.modification`). */
export interface ModificationValues {
  readonly modificationId: string;
  readonly quantity?: string | undefined;
  readonly price?: string | undefined;
  readonly stopPrice?: string | undefined;
  readonly reason?: string | undefined;
}

/** The part of a change record that can touch an order's modifications. */
export interface ModificationChange {
  /** A ledger event type; only the three modify events change anything. */
  readonly eventType: string;
  readonly modification?: ModificationValues | undefined;
  readonly at: number;
}

/** The order's values in force and its modifications: what a modify event changes. */
export interface ModifiedValues {
  readonly orderDetails: OrderRequest;
  readonly modifications: readonly Modification[];
}

const changesOf = (m: ModificationValues): ModifyChanges => ({
  ...(m.quantity === undefined ? {} : { quantity: m.quantity }),
  ...(m.price === undefined ? {} : { price: m.price }),
  ...(m.stopPrice === undefined ? {} : { stopPrice: m.stopPrice }),
});

/**
 * What a modify event does to the values in force and the modifications (section 4b), or
 * undefined for a change that is no modify event or carries no modification:
 * - ORDER_MODIFY_REQUESTED adds a PENDING entry with the requested values (one already listed
 *   under that id is replaced in place, so a record written twice is listed once);
 * - ORDER_MODIFIED marks its entry ACCEPTED and makes the values it carries (those now in force)
 *   the order's; a MODIFIED that answers no listed request (the venue did it unasked) is listed
 *   ACCEPTED with those values as requested;
 * - ORDER_MODIFY_REJECTED marks its entry REJECTED with the reason (listed REJECTED if unknown);
 *   so does any other change carrying a modification with a reason (an order that ended
 *   REJECTED or lost refuses its modify in the same record).
 * An entry's `at` is when the modify was requested (or, unlisted, answered); the answer's own time
 * is its change record's. Pure: the ledgers and the handler's cache share it.
 */
export function modifiedValues(
  current: { orderDetails: OrderRequest; modifications?: readonly Modification[] | undefined },
  change: ModificationChange,
): ModifiedValues | undefined {
  const m = change.modification;
  if (m === undefined) return undefined;
  const listed = current.modifications ?? [];
  const i = listed.findIndex((e) => e.modificationId === m.modificationId);
  const known = listed[i];
  const put = (entry: Modification): readonly Modification[] =>
    known === undefined ? [...listed, entry] : listed.map((e, j) => (j === i ? entry : e));
  const requested = changesOf(m);
  /** The entry answered: its request kept when listed, else the answer's values and time. */
  const answered = (status: Modification['status'], reason?: string): readonly Modification[] =>
    put({
      modificationId: m.modificationId,
      requested: known?.requested ?? requested,
      status,
      ...(reason === undefined ? {} : { reason }),
      at: known?.at ?? change.at,
    });
  switch (change.eventType) {
    case 'ORDER_MODIFY_REQUESTED':
      return {
        orderDetails: current.orderDetails,
        modifications: put({ modificationId: m.modificationId, requested, status: 'PENDING', at: change.at }),
      };
    case 'ORDER_MODIFIED':
      return { orderDetails: { ...current.orderDetails, ...requested }, modifications: answered('ACCEPTED') };
    case 'ORDER_MODIFY_REJECTED':
      return { orderDetails: current.orderDetails, modifications: answered('REJECTED', m.reason) };
    default:
      // A status change that refused the outstanding modify on the way (the order ended REJECTED,
      // or the venue did not know it): one record, named for its main change, carries both.
      return m.reason === undefined
        ? undefined
        : { orderDetails: current.orderDetails, modifications: answered('REJECTED', m.reason) };
  }
}

/**
 * The view after a change record's modify event (see `modifiedValues`): values in force in
 * `orderDetails`, `modifications` updated and leaves recomputed from the quantity in force. Any
 * other change is returned as it is; apply `withStatus` after it for the change's new status.
 */
export function withModification<V extends OrderView>(view: V, change: ModificationChange): V {
  const next = modifiedValues(view, change);
  if (next === undefined) return view;
  return {
    ...view,
    orderDetails: next.orderDetails,
    modifications: next.modifications,
    leavesQuantity: leavesOf(view.status, next.orderDetails.quantity, view.filledQuantity),
  };
}

/** True for FILLED, REJECTED, CANCELLED and EXPIRED. */
export function isFinal(status: OrderStatus): boolean {
  return DONE.has(status);
}
