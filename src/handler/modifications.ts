/**
 * Order modification as the ledger and the cache see it: the `modification` of a change record
 * (the values requested, the values now in force, or why refused) and the view's modifications
 * with the values in force in `orderDetails` (contract sections 4b, 5 and 7).
 */
import type { OrderContext, OrderEvent } from '../../machines/order.js';
import type { LedgerWrite } from '../ledger/types.js';
import type { OrderView } from '../types.js';

/** A change record's `modification`: the values requested, the values now in force, or why refused. */
export function modificationOf(
  event: OrderEvent,
  before: OrderContext,
  after: OrderContext,
): { modification?: ChangeModification } {
  if (event.type === 'MODIFY' && after.modify) {
    return { modification: { modificationId: after.modify.modificationId, ...after.modify.requested } };
  }
  const resolved = after.lastModify !== before.lastModify ? after.lastModify : null;
  if (!resolved) return {};
  if (resolved.outcome === 'REJECTED') {
    return {
      modification: {
        modificationId: resolved.modificationId,
        ...(resolved.reason ? { reason: resolved.reason } : {}),
      },
    };
  }
  const v = resolved.values!;
  return {
    modification: {
      modificationId: resolved.modificationId,
      quantity: v.quantity,
      ...(v.price === null ? {} : { price: v.price }),
      ...(v.stopPrice === null ? {} : { stopPrice: v.stopPrice }),
    },
  };
}

type ChangeModification = NonNullable<Extract<LedgerWrite, { kind: 'change' }>['modification']>;

/** The view after a modify was asked or resolved: its modifications, and the values in force in `orderDetails`. */
export function viewWithModify(view: OrderView, before: OrderContext, after: OrderContext, at: number): OrderView {
  let modifications = [...(view.modifications ?? [])];
  if (after.modify && after.modify !== before.modify) {
    modifications.push({
      modificationId: after.modify.modificationId,
      requested: after.modify.requested,
      status: 'PENDING',
      at,
    });
  }
  const resolved = after.lastModify !== before.lastModify ? after.lastModify : null;
  if (resolved) {
    modifications = modifications.map((m) =>
      m.modificationId === resolved.modificationId && m.status === 'PENDING'
        ? { ...m, status: resolved.outcome, ...(resolved.reason ? { reason: resolved.reason } : {}) }
        : m,
    );
  }
  const orderDetails = {
    ...view.orderDetails,
    quantity: after.quantity,
    ...(after.price === null ? {} : { price: after.price }),
    ...(after.stopPrice === null ? {} : { stopPrice: after.stopPrice }),
  };
  return { ...view, orderDetails, modifications };
}
