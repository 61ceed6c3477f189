/**
 * A live order: its XState actor plus the supervisor's bookkeeping that is not part of the order's
 * persisted state (timers, the query in flight, when the last cancel was sent). Everything here
 * may be lost in a crash: `recover()` rebuilds it from the persisted snapshot and the venue.
 */
import { type Actor, createActor, type Snapshot } from 'xstate';
import {
  type OrderContext,
  type OrderEvent,
  type OrderMachineInput,
  orderMachine,
  statusOf,
} from '../../machines/order.js';
import type { LedgerEventType } from '../ledger/types.js';
import { isFinal } from '../order-view.js';
import type { OrderRequest, OrderStatus } from '../types.js';
import type { RecentList } from './bounded.js';
import type { InspectionObserver } from './options.js';

/** The actor of one order. */
export type OrderActor = Actor<typeof orderMachine>;

/** A round of status queries: after the ack deadline, or after the cancel deadline. */
export interface QueryCycle {
  purpose: 'ack' | 'cancel';
  /** Query slots used (a hanging query uses its slot without a second query being sent). */
  slots: number;
  /** After the queries were spent on an unconfirmed cancel: every 10 x queryIntervalMs. */
  slow: boolean;
  nextAt: number;
}

/** A query sent and not yet answered. */
export interface QueryInFlight {
  sentAt: number;
  /** `newsCount` when the query was sent: a `null` answer is stale if news arrived since. */
  newsAtSend: number;
  /** `cancelsDispatched` when the query was sent: a `null` does not settle a cancel sent after it. */
  cancelsAtSend: number;
}

/** The supervisor's record of an order whose actor is in memory. */
export interface LiveOrder {
  readonly orderId: string;
  readonly directiveId: string;
  readonly request: OrderRequest;
  actor: OrderActor;
  /** Keys of replies already handled, for exact-repeat detection (bounded). */
  replyKeys: RecentList<string>;
  timer: unknown;
  timerAt: number | null;
  placeAttempts: number;
  placeRetryAt: number | null;
  cycle: QueryCycle | null;
  query: QueryInFlight | null;
  /** ACCEPTED or FILL replies naming the order so far (a logical clock: virtual time may stand still). */
  newsCount: number;
  /** Cancels handed to the connector so far. */
  cancelsDispatched: number;
  /** `cancelRequests` of the context already acted on. */
  cancelsSent: number;
  lastCancelSentAt: number | null;
  cancelResendAt: number | null;
  unconfirmedRecorded: boolean;
  /** The order's directive was told it ended (first final state or TIMED_OUT). */
  endNotified: boolean;
}

/** Creates the actor of an order, fresh from `input` or restored from a persisted snapshot. */
export function createOrderActor(
  input: OrderMachineInput,
  snapshot: Snapshot<unknown> | undefined,
  inspect: InspectionObserver | undefined,
): OrderActor {
  return createActor(orderMachine, {
    input,
    ...(snapshot === undefined ? {} : { snapshot }),
    ...(inspect === undefined ? {} : { inspect }),
  }).start();
}

/** The order's status. */
export function statusOfOrder(order: LiveOrder): OrderStatus {
  return statusOf(order.actor.getSnapshot());
}

/** The order's machine context. */
export function contextOf(order: LiveOrder): OrderContext {
  return order.actor.getSnapshot().context;
}

/** Final, or TIMED_OUT: the strategy's flow is done with the order. */
export function hasEnded(status: OrderStatus): boolean {
  return isFinal(status) || status === 'TIMED_OUT';
}

/** The actor must stay in memory: not final, and not a TIMED_OUT order whose cancel is settled. */
export function needsActor(status: OrderStatus, context: OrderContext): boolean {
  if (isFinal(status)) return false;
  return status !== 'TIMED_OUT' || context.cancelOutstanding;
}

/** The ledger's name for a change caused by `event` that took the order from `from` to `to`. */
export function eventTypeOf(event: OrderEvent, from: OrderStatus, to: OrderStatus): LedgerEventType {
  switch (event.type) {
    case 'ACCEPTED':
      return 'ORDER_ACCEPTED';
    case 'FILL':
      return to === 'FILLED' ? 'ORDER_FILLED' : 'ORDER_PARTIALLY_FILLED';
    case 'REJECTED':
      return 'ORDER_REJECTED';
    case 'CANCELLED':
      return 'ORDER_CANCELLED';
    case 'EXPIRED':
      return 'ORDER_EXPIRED';
    case 'CANCEL_REJECTED':
      return 'ORDER_CANCEL_REJECTED';
    case 'CANCEL':
      return 'ORDER_CANCEL_REQUESTED';
    case 'ACK_TIMEOUT':
      return 'ORDER_TIMED_OUT';
    case 'NOT_FOUND':
      // PENDING → TIMED_OUT, OPEN… → CANCELLED, or a TIMED_OUT order whose cancel found nothing
      // to cancel (the venue's equivalent of rejecting it).
      if (to === 'CANCELLED') return 'ORDER_CANCELLED';
      return from === 'PENDING' ? 'ORDER_TIMED_OUT' : 'ORDER_CANCEL_REJECTED';
  }
}
