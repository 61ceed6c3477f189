/**
 * The order state machine of contract section 4, as a pure XState v5 definition: no I/O, no
 * clock, no randomness. Every event carries the time it happened (`at`), and the deadlines the
 * supervisor drives live in the context, so a persisted snapshot holds everything.
 *
 * Effects are not performed here; they are facts in the context the supervisor acts on:
 * `cancelRequests` grows each time the machine wants a cancel sent (again), and
 * `cancelOutstanding` says a cancel awaits the venue's word.
 *
 * Classification of replies that change nothing (exact repeats, known fills, a second ACCEPTED)
 * happens in the supervisor before an event is sent; an event this machine does not handle in
 * its current state leaves the snapshot untouched, which is how the supervisor detects a reply
 * with no row in the table (LATE_REPLY).
 */
import { assign, setup } from 'xstate';
import { decAdd, decCmp } from '../src/decimal.js';
import type { OrderStatus } from '../src/types.js';

/** What an order actor is created with. */
export interface OrderMachineInput {
  orderId: string;
  /** Decimal string, the ordered quantity. */
  quantity: string;
  /** When the order was recorded and handed to the venue (the ack deadline counts from here). */
  placedAt: number;
  ackTimeoutMs: number;
  cancelTimeoutMs: number;
}

/** The actor's context: small on purpose (fills live in the view and the ledger). */
export interface OrderContext {
  orderId: string;
  quantity: string;
  filledQuantity: string;
  venueOrderId: string | null;
  /** The venue acknowledged the order (ACCEPTED, or a query answer naming a venue id). */
  acknowledged: boolean;
  /**
   * The handler gave up on this order (TIMED_OUT, or CANCELLED as NOT_FOUND_AT_VENUE before any
   * acknowledgement): any sign of life at the venue gets it cancelled.
   */
  gaveUp: boolean;
  cancelOutstanding: boolean;
  /** Incremented each time a cancel must be sent to the venue (first time or again). */
  cancelRequests: number;
  rejectReason: string | null;
  cancelReason: string | null;
  ackTimeoutMs: number;
  cancelTimeoutMs: number;
  /** While PENDING: when the venue is asked about the order if it has not acknowledged it. */
  ackDeadlineAt: number;
  /** While a cancel is outstanding: when the venue is asked whether it took the cancel. */
  cancelDeadlineAt: number | null;
}

/** Why an order became CANCELLED without the venue saying so. */
export const NOT_FOUND_AT_VENUE = 'NOT_FOUND_AT_VENUE';

/** Events of the order machine. Every one carries the handler's time `at`. */
export type OrderEvent =
  | { type: 'ACCEPTED'; venueOrderId: string; at: number }
  | { type: 'FILL'; quantity: string; venueOrderId?: string; at: number }
  | { type: 'REJECTED'; reason: string; venueOrderId?: string; at: number }
  | { type: 'CANCELLED'; reason?: string; venueOrderId?: string; at: number }
  | { type: 'EXPIRED'; venueOrderId?: string; at: number }
  | { type: 'CANCEL_REJECTED'; reason: string; venueOrderId?: string; at: number }
  /** The engine asked to cancel (`cancel()`, `cancelAll()`, a coordinated batch). */
  | { type: 'CANCEL'; at: number }
  /** The venue, asked, does not know the order. */
  | { type: 'NOT_FOUND'; at: number }
  /** No acknowledgement by the ack deadline and the queries were spent unanswered. */
  | { type: 'ACK_TIMEOUT'; at: number };

type Ev<T extends OrderEvent['type']> = Extract<OrderEvent, { type: T }>;

const venueIdOf = (context: OrderContext, event: OrderEvent): string | null =>
  context.venueOrderId ?? ('venueOrderId' in event && event.venueOrderId ? event.venueOrderId : null);

/** The order machine. Its states are the statuses of contract section 4. */
export const orderMachine = setup({
  types: {
    context: {} as OrderContext,
    events: {} as OrderEvent,
    input: {} as OrderMachineInput,
  },
  guards: {
    /** The fill in the event completes the order (or takes it past its quantity). */
    fillCompletes: ({ context, event }) =>
      event.type === 'FILL' && decCmp(decAdd(context.filledQuantity, event.quantity), context.quantity) >= 0,
    hasFills: ({ context }) => decCmp(context.filledQuantity, '0') > 0,
    noFills: ({ context }) => decCmp(context.filledQuantity, '0') === 0,
    acknowledged: ({ context }) => context.acknowledged,
    gaveUp: ({ context }) => context.gaveUp,
    /** An ACCEPTED that tells the order something new: its first acknowledgement or venue id. */
    firstAcknowledgement: ({ context, event }) =>
      event.type === 'ACCEPTED' && (!context.acknowledged || context.venueOrderId === null),
  },
  actions: {
    learnVenueId: assign({ venueOrderId: ({ context, event }) => venueIdOf(context, event) }),
    acknowledge: assign({
      acknowledged: true,
      venueOrderId: ({ context, event }) => venueIdOf(context, event),
    }),
    applyFill: assign({
      filledQuantity: ({ context, event }) => decAdd(context.filledQuantity, (event as Ev<'FILL'>).quantity),
      venueOrderId: ({ context, event }) => venueIdOf(context, event),
    }),
    requestCancel: assign({
      cancelOutstanding: true,
      cancelRequests: ({ context }) => context.cancelRequests + 1,
      cancelDeadlineAt: ({ context, event }) => event.at + context.cancelTimeoutMs,
    }),
    settleCancel: assign({ cancelOutstanding: false, cancelDeadlineAt: null }),
    giveUp: assign({ gaveUp: true }),
    recordReject: assign({
      rejectReason: ({ event }) => (event as Ev<'REJECTED'>).reason,
      venueOrderId: ({ context, event }) => venueIdOf(context, event),
    }),
    recordCancel: assign({
      cancelReason: ({ event }) => (event as Ev<'CANCELLED'>).reason ?? null,
      venueOrderId: ({ context, event }) => venueIdOf(context, event),
    }),
    recordLost: assign({
      cancelReason: NOT_FOUND_AT_VENUE,
      // Lost before any acknowledgement: the order may still reach the venue late.
      gaveUp: ({ context }) => context.gaveUp || !context.acknowledged,
    }),
  },
}).createMachine({
  id: 'order',
  initial: 'PENDING',
  context: ({ input }) => ({
    orderId: input.orderId,
    quantity: input.quantity,
    filledQuantity: '0',
    venueOrderId: null,
    acknowledged: false,
    gaveUp: false,
    cancelOutstanding: false,
    cancelRequests: 0,
    rejectReason: null,
    cancelReason: null,
    ackTimeoutMs: input.ackTimeoutMs,
    cancelTimeoutMs: input.cancelTimeoutMs,
    ackDeadlineAt: input.placedAt + input.ackTimeoutMs,
    cancelDeadlineAt: null,
  }),
  states: {
    PENDING: {
      on: {
        ACCEPTED: { target: 'OPEN', actions: 'acknowledge' },
        FILL: [
          { guard: 'fillCompletes', target: 'FILLED', actions: 'applyFill' },
          { target: 'PARTIALLY_FILLED', actions: 'applyFill' },
        ],
        REJECTED: { target: 'REJECTED', actions: 'recordReject' },
        CANCELLED: { target: 'CANCELLED', actions: 'recordCancel' },
        EXPIRED: { target: 'EXPIRED', actions: 'learnVenueId' },
        CANCEL: { target: 'CANCEL_PENDING', actions: 'requestCancel' },
        NOT_FOUND: { target: 'TIMED_OUT', actions: ['giveUp', 'requestCancel'] },
        ACK_TIMEOUT: { target: 'TIMED_OUT', actions: ['giveUp', 'requestCancel'] },
      },
    },
    OPEN: {
      // No ACCEPTED row: an OPEN order is always acknowledged with its venue id, so a repeat is
      // a duplicate and another venue id a LATE_REPLY, both decided by the supervisor.
      on: {
        FILL: [
          { guard: 'fillCompletes', target: 'FILLED', actions: 'applyFill' },
          { target: 'PARTIALLY_FILLED', actions: 'applyFill' },
        ],
        REJECTED: { target: 'REJECTED', actions: 'recordReject' },
        CANCELLED: { target: 'CANCELLED', actions: 'recordCancel' },
        EXPIRED: { target: 'EXPIRED', actions: 'learnVenueId' },
        CANCEL: { target: 'CANCEL_PENDING', actions: 'requestCancel' },
        NOT_FOUND: { target: 'CANCELLED', actions: 'recordLost' },
      },
    },
    PARTIALLY_FILLED: {
      on: {
        ACCEPTED: { guard: 'firstAcknowledgement', actions: 'acknowledge' },
        FILL: [{ guard: 'fillCompletes', target: 'FILLED', actions: 'applyFill' }, { actions: 'applyFill' }],
        CANCELLED: { target: 'CANCELLED', actions: 'recordCancel' },
        EXPIRED: { target: 'EXPIRED', actions: 'learnVenueId' },
        CANCEL: { target: 'CANCEL_PENDING', actions: 'requestCancel' },
        NOT_FOUND: { target: 'CANCELLED', actions: 'recordLost' },
      },
    },
    CANCEL_PENDING: {
      on: {
        ACCEPTED: { actions: 'acknowledge' },
        FILL: [
          { guard: 'fillCompletes', target: 'FILLED', actions: ['applyFill', 'settleCancel'] },
          { actions: 'applyFill' },
        ],
        REJECTED: { guard: 'noFills', target: 'REJECTED', actions: ['recordReject', 'settleCancel'] },
        CANCELLED: { target: 'CANCELLED', actions: ['recordCancel', 'settleCancel'] },
        EXPIRED: { target: 'EXPIRED', actions: ['learnVenueId', 'settleCancel'] },
        CANCEL_REJECTED: [
          // An order the handler gave up on must not rest at the venue: retry the cancel.
          { guard: 'gaveUp', actions: ['learnVenueId', 'requestCancel'] },
          { guard: 'hasFills', target: 'PARTIALLY_FILLED', actions: ['learnVenueId', 'settleCancel'] },
          { guard: 'acknowledged', target: 'OPEN', actions: ['learnVenueId', 'settleCancel'] },
          { target: 'PENDING', actions: ['learnVenueId', 'settleCancel'] },
        ],
        NOT_FOUND: { target: 'CANCELLED', actions: ['recordLost', 'settleCancel'] },
      },
    },
    FILLED: {
      on: {
        ACCEPTED: { guard: 'firstAcknowledgement', actions: 'acknowledge' },
        FILL: { actions: 'applyFill' },
      },
    },
    CANCELLED: {
      on: {
        ACCEPTED: [
          { guard: 'gaveUp', target: 'CANCEL_PENDING', actions: ['acknowledge', 'requestCancel'] },
          { guard: 'firstAcknowledgement', actions: 'acknowledge' },
        ],
        FILL: [
          { guard: 'fillCompletes', target: 'FILLED', actions: 'applyFill' },
          { guard: 'gaveUp', target: 'CANCEL_PENDING', actions: ['applyFill', 'requestCancel'] },
          { actions: 'applyFill' },
        ],
      },
    },
    REJECTED: {
      on: {
        FILL: { actions: 'applyFill' },
      },
    },
    EXPIRED: {
      on: {
        ACCEPTED: { guard: 'firstAcknowledgement', actions: 'acknowledge' },
        FILL: [{ guard: 'fillCompletes', target: 'FILLED', actions: 'applyFill' }, { actions: 'applyFill' }],
      },
    },
    TIMED_OUT: {
      on: {
        ACCEPTED: { target: 'CANCEL_PENDING', actions: ['acknowledge', 'requestCancel'] },
        FILL: [
          { guard: 'fillCompletes', target: 'FILLED', actions: ['applyFill', 'settleCancel'] },
          { target: 'CANCEL_PENDING', actions: ['applyFill', 'requestCancel'] },
        ],
        REJECTED: { target: 'REJECTED', actions: ['recordReject', 'settleCancel'] },
        CANCELLED: { target: 'CANCELLED', actions: ['recordCancel', 'settleCancel'] },
        EXPIRED: { target: 'EXPIRED', actions: ['learnVenueId', 'settleCancel'] },
        // The usual answer to the cancel sent on timeout: the venue never had the order.
        CANCEL_REJECTED: { actions: ['learnVenueId', 'settleCancel'] },
        CANCEL: { actions: 'requestCancel' },
        // Asked about the cancel, the venue does not know the order: nothing rests there.
        NOT_FOUND: { actions: 'settleCancel' },
      },
    },
  },
});

/** The status an order machine snapshot stands for. */
export function statusOf(snapshot: { value: unknown }): OrderStatus {
  return snapshot.value as OrderStatus;
}
