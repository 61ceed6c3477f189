/**
 * The seed's ledger operations (`recordOrder`, `updateOrderFill`, `updateOrderRejection`) as
 * helpers over any ledger's `commit`, for engines and tools that write outside the handler.
 */
import type { Fill, OrderStatus } from '../types.js';
import type { OrderRecordInput, StrategyLedger } from './types.js';

/** Records a new order, born PENDING. */
export function recordOrder(ledger: StrategyLedger, order: OrderRecordInput): Promise<void> {
  return ledger.commit([{ kind: 'order', order }]);
}

/**
 * Records a fill and the change it causes in one atomic commit. `to` is the status after the
 * fill: FILLED when it completes the order, else the status it keeps or gains.
 */
export function updateOrderFill(
  ledger: StrategyLedger,
  args: { orderId: string; fill: Fill; from: OrderStatus; to: OrderStatus; cause?: string },
): Promise<void> {
  return ledger.commit([
    { kind: 'fill', orderId: args.orderId, fill: args.fill },
    {
      kind: 'change',
      orderId: args.orderId,
      eventType: args.to === 'FILLED' ? 'ORDER_FILLED' : 'ORDER_PARTIALLY_FILLED',
      from: args.from,
      to: args.to,
      at: args.fill.at,
      cause: args.cause ?? `fill ${args.fill.venueFillId}`,
    },
  ]);
}

/** Records the rejection of an order with its reason. */
export function updateOrderRejection(
  ledger: StrategyLedger,
  args: { orderId: string; from: OrderStatus; reason: string; at: number; cause?: string },
): Promise<void> {
  return ledger.commit([
    {
      kind: 'change',
      orderId: args.orderId,
      eventType: 'ORDER_REJECTED',
      from: args.from,
      to: 'REJECTED',
      at: args.at,
      cause: args.cause ?? 'rejected',
      rejectReason: args.reason,
    },
  ]);
}
