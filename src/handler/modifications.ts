/**
 * The `modification` of a change record (contract section 7): the values a modify requested, the
 * values now in force, or why it was refused. The ledgers and the cache turn it into the view's
 * modifications and values in force with `withModification` (src/order-view.ts).
 */
import type { OrderContext, OrderEvent } from '../../machines/order.js';
import type { LedgerWrite } from '../ledger/types.js';

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
