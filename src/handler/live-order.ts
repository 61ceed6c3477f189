/**
 * A live order: its XState actor plus what the runtime keeps beside it that is not the order's
 * protocol (its timer handle, the keys of replies already handled). Everything about the order's
 * protocol is in the actor's context, persisted with its snapshot; a restart rebuilds the rest from
 * the ledger.
 */
import { type Actor, type Snapshot, createActor } from 'xstate';
import {
  type OrderContext,
  type OrderEvent,
  type OrderMachineInput,
  orderMachine,
  statusOf,
} from '../../machines/order.js';
import { initialProtocol, wakeAtOf } from '../../machines/order-protocol.js';
import type { LedgerEventType } from '../ledger/types.js';
import { isFinal } from '../order-view.js';
import type { OrderRequest, OrderStatus } from '../types.js';
import type { RecentList } from './bounded.js';
import type { InspectionObserver } from './options.js';

/** The actor of one order. */
export type OrderActor = Actor<typeof orderMachine>;

/** The runtime's record of an order whose actor is in memory. */
export interface LiveOrder {
  readonly orderId: string;
  readonly directiveId: string;
  readonly request: OrderRequest;
  actor: OrderActor;
  /** Keys of replies already handled, for exact-repeat detection (bounded). */
  replyKeys: RecentList<string>;
  timer: unknown;
  timerAt: number | null;
}

/** Creates the actor of an order, fresh from `input` or restored from a persisted snapshot. */
export function createOrderActor(
  input: OrderMachineInput,
  snapshot: Snapshot<unknown> | undefined,
  inspect: InspectionObserver | undefined,
): OrderActor {
  const restored = snapshot === undefined ? undefined : upgradeSnapshot(snapshot, input);
  return createActor(orderMachine, {
    input,
    ...(restored === undefined ? {} : { snapshot: restored }),
    ...(inspect === undefined ? {} : { inspect }),
  }).start();
}

/**
 * The snapshot a change persists, what `recover()` restores: the actor's persisted snapshot without
 * `timing` (a restored order runs on the timing options in force) and without the fields at rest.
 * An OPEN order's snapshot is so about 400 characters instead of 900, and its ledger row stays under
 * 1 KB: SQLite stores a longer row of the `orders` table (WITHOUT ROWID, 4 KiB pages) partly on an
 * overflow page of its own, which made the file four times larger and every read of an order, as
 * `recover()` makes three of, slower.
 */
export function persistedSnapshotOf(actor: OrderActor): Snapshot<unknown> {
  const s = actor.getPersistedSnapshot() as unknown as { context: Record<string, unknown> };
  const context: Record<string, unknown> = {};
  for (const key in s.context) {
    const value = s.context[key];
    if (key !== 'timing' && !(key in RESTING && atRest(value, RESTING[key]))) context[key] = value;
  }
  return { ...s, context } as never;
}

/**
 * The protocol and modification fields at rest (nothing outstanding, nothing sent or counted): a
 * persisted snapshot leaves out those at these values, and `upgradeSnapshot` puts them back.
 */
function restingFields(): Partial<OrderContext> {
  return {
    formerVenueOrderIds: [],
    modify: null,
    modificationsSent: 0,
    lastModify: null,
    modifyDeadlineAt: null,
    modifyUnconfirmedRecorded: false,
    awaitingAck: false,
    placeRetryAt: null,
    cancelOutstanding: false,
    cancelDeadlineAt: null,
    cancelsSent: 0,
    lastCancelSentAt: null,
    cancelResendAt: null,
    cycle: null,
    query: null,
    queriesSent: 0,
    news: 0,
    unconfirmedRecorded: false,
    endAnnounced: false,
  };
}

/** The fields at rest, read only (`restingFields()` gives a restored context its own arrays). */
const RESTING: Readonly<Record<string, unknown>> = restingFields();

function atRest(value: unknown, resting: unknown): boolean {
  return value === resting || (Array.isArray(value) && Array.isArray(resting) && value.length === resting.length);
}

/**
 * A persisted snapshot as this release reads it: the timing options in force now, the fields at
 * rest that `persistedSnapshotOf` left out, and the protocol filled in for a snapshot written
 * before the protocol moved into the machine (whose context had only `cancelOutstanding`,
 * `cancelDeadlineAt`, `ackDeadlineAt` and `cancelRequests` of it, and no `wakeAt`).
 *
 * The context is built with `Object.assign`, not object spread. Spread copies of a parsed context
 * fall off V8's fast path: `{ ...defaults, ...stored }` took 300-400 µs per order (against under
 * 10 µs), which alone made `recover()` slower than placing the orders afresh, and even
 * `{ ...stored }` gives each copy a hidden class of its own, more heap per restored order.
 */
function upgradeSnapshot(snapshot: Snapshot<unknown>, input: OrderMachineInput): Snapshot<unknown> {
  const s = snapshot as unknown as { value: OrderStatus; context: Partial<OrderContext> & { cancelRequests?: number } };
  const stored = s.context;
  // The values in force are absent from snapshots written before order modification existed.
  const missing = { price: input.price ?? null, stopPrice: input.stopPrice ?? null, ...restingFields() };
  if ('wakeAt' in stored) {
    return {
      ...s,
      context: Object.assign({}, stored, absentFrom(stored, missing), { timing: input.timing }),
    } as never;
  }
  const { cancelRequests, ...facts } = stored;
  // An old snapshot's facts hold no protocol field but those mapped here, so the protocol goes last.
  const protocol = {
    ...initialProtocol(input.timing, input.placedAt),
    awaitingAck: s.value === 'PENDING',
    ackDeadlineAt: stored.ackDeadlineAt ?? input.placedAt + input.timing.ackTimeoutMs,
    cancelOutstanding: stored.cancelOutstanding ?? false,
    cancelDeadlineAt: stored.cancelDeadlineAt ?? null,
    cancelsSent: cancelRequests ?? 0,
    endAnnounced: hasEnded(s.value),
  };
  const context = Object.assign({}, facts, absentFrom(facts, missing), protocol);
  return { ...s, context: Object.assign(context, { wakeAt: wakeAtOf(context) }) } as never;
}

/** The entries of `defaults` whose keys `stored` lacks. */
function absentFrom<T extends object>(stored: object, defaults: T): Partial<T> {
  const absent: Partial<T> = {};
  for (const key of Object.keys(defaults) as (keyof T)[]) if (!(key in stored)) absent[key] = defaults[key];
  return absent;
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
  // An order that ended with a modify outstanding is still asked about until the modify is resolved.
  if (context.modify !== null) return true;
  if (isFinal(status)) return false;
  return status !== 'TIMED_OUT' || context.cancelOutstanding;
}

/** Events that are the venue's or the engine's word: each applied one is a change record. */
const RECORDED: ReadonlySet<OrderEvent['type']> = new Set([
  'ACCEPTED',
  'FILL',
  'REJECTED',
  'CANCELLED',
  'EXPIRED',
  'CANCEL_REJECTED',
  'CANCEL',
  'MODIFY',
  'MODIFIED',
  'MODIFY_REJECTED',
]);

/**
 * Whether a handled event is a change record (else, if the context moved, only the snapshot is
 * written): the venue's and engine's words always, a protocol event when it changed the status or
 * settled a cancel.
 */
export function isRecordedChange(
  event: OrderEvent,
  before: OrderContext,
  after: OrderContext,
  moved: boolean,
): boolean {
  return (
    RECORDED.has(event.type) ||
    moved ||
    before.cancelOutstanding !== after.cancelOutstanding ||
    before.lastModify !== after.lastModify
  );
}

/** The ledger's name for a change caused by `event` that took the order from `from` to `to`. */
export function eventTypeOf(
  event: OrderEvent,
  from: OrderStatus,
  to: OrderStatus,
  modifyResolved?: 'ACCEPTED' | 'REJECTED',
): LedgerEventType {
  switch (event.type) {
    case 'MODIFY':
      return 'ORDER_MODIFY_REQUESTED';
    case 'MODIFIED':
      return 'ORDER_MODIFIED';
    case 'MODIFY_REJECTED':
      return 'ORDER_MODIFY_REJECTED';
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
    case 'NOT_FOUND':
      // PENDING → TIMED_OUT, OPEN… → CANCELLED, an ended order's outstanding modify refused, or a
      // TIMED_OUT order whose cancel found nothing to cancel (the venue's equivalent of rejecting it).
      if (to === 'CANCELLED' && from !== 'CANCELLED') return 'ORDER_CANCELLED';
      if (from === 'PENDING') return 'ORDER_TIMED_OUT';
      return from === 'TIMED_OUT' ? 'ORDER_CANCEL_REJECTED' : 'ORDER_MODIFY_REJECTED';
    default:
      // A query answer that resolved a modify, or the ack cycle's queries went unanswered.
      if (modifyResolved === 'ACCEPTED') return 'ORDER_MODIFIED';
      if (modifyResolved === 'REJECTED') return 'ORDER_MODIFY_REJECTED';
      return to === 'TIMED_OUT' ? 'ORDER_TIMED_OUT' : 'ORDER_CANCEL_REQUESTED';
  }
}
