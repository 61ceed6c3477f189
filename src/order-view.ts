/**
 * Pure arithmetic of an `OrderView`: one place computes filled, leaves and average price, so the
 * cache and every ledger adapter agree to the last digit.
 */
import { decAdd, decCmp, decDiv, decMul, decSubFloor } from './decimal.js';
import type { CausalityChain, Fill, OrderRequest, OrderStatus, OrderView } from './types.js';

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

/** True for FILLED, REJECTED, CANCELLED and EXPIRED. */
export function isFinal(status: OrderStatus): boolean {
  return DONE.has(status);
}
