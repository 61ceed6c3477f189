/**
 * The order state machine of contract section 4, as a pure XState v5 definition: no I/O, no
 * clock, no randomness. Every event carries the time it happened (`at`).
 *
 * The machine owns the order's whole protocol, not only its status: deadlines, the query cycle,
 * cancel pacing, placement retries, the stale-answer rule and which anomalies were recorded live
 * in its context (see `order-protocol.ts`), with `wakeAt`, the next time the runtime must send
 * WAKE. Effects (place, cancel, query, record an anomaly, announce the end) are emitted events
 * (`OrderEffect`) that the runtime collects and performs once the change is durable.
 *
 * Replies that change nothing (exact repeats, known fills, a second ACCEPTED with the known venue
 * id) are classified by the runtime before an event is sent; an event this machine has no row for
 * in its current state (`snapshot.can(event)` is false) is a LATE_REPLY.
 */
import { assign, enqueueActions, setup } from 'xstate';
import { decAdd, decCmp } from '../src/decimal.js';
import type { ModifyChanges, OrderStatus } from '../src/types.js';
import {
  type OrderEffect,
  type OrderProtocol,
  type OrderTiming,
  type Step,
  ackQueriesSpent,
  askOnce,
  chain,
  initialProtocol,
  leavePending,
  modifyQueriesSpent,
  placeFailed,
  queryDone,
  requestCancel,
  sendCancelPaced,
  settleCancel,
  settleModify,
  startModify,
  stillWorking,
  wake,
  wakeAtOf,
} from './order-protocol.js';

import {
  type ModifyFacts,
  NOT_APPLIED_AT_VENUE,
  answerShowsModify,
  applyValues,
  beginModify,
  filledReaches,
  modifyRaises,
  refuseModify,
} from './order-modify.js';

export type { OrderEffect, OrderTiming } from './order-protocol.js';
export type { ModifyOutcome, OutstandingModify } from './order-modify.js';

/** What an order actor is created with. */
export interface OrderMachineInput {
  orderId: string;
  /** Decimal string, the ordered quantity. */
  quantity: string;
  /** When the order was recorded and handed to the venue (the ack deadline counts from here). */
  placedAt: number;
  timing: OrderTiming;
  /** The limit and stop prices ordered (values a modify can change). */
  price?: string;
  stopPrice?: string;
}

/** The actor's context: the order's facts and its protocol (fills live in the view and the ledger). */
export interface OrderContext extends OrderProtocol, ModifyFacts {
  orderId: string;
  /** The quantity in force (a modify may have changed it). */
  quantity: string;
  filledQuantity: string;
  venueOrderId: string | null;
  /** The venue acknowledged the order (ACCEPTED, or a query answer naming a venue id). */
  acknowledged: boolean;
  /**
   * The handler gave up on this order (TIMED_OUT, or CANCELLED as NOT_FOUND_AT_VENUE before any
   * acknowledgement): any sign of life at the venue gets it cancelled. A final status the venue
   * itself reports clears it: such an order is never reopened.
   */
  gaveUp: boolean;
  rejectReason: string | null;
  cancelReason: string | null;
}

/** Why an order became CANCELLED without the venue saying so. */
export const NOT_FOUND_AT_VENUE = 'NOT_FOUND_AT_VENUE';

/** What a query's sender knew when it asked: an answer older than news of the order is stale. */
export interface QueryToken {
  /** The in-flight query it answers (absent for reconcile's own queries). */
  queryId?: number;
  /** `news` of the context when the query was sent. */
  newsAtSend: number;
  /** `cancelsSent` of the context when the query was sent. */
  cancelsAtSend: number;
}

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
  /** The venue, asked, does not know the order; `recovering` during `recover()`. */
  | ({ type: 'NOT_FOUND'; at: number; recovering?: boolean } & QueryToken)
  /**
   * The venue answered a query with the order's state (its replies were applied before): whether
   * it works the order, whether it ended there, and the values it shows in force.
   */
  | {
      type: 'QUERY_ANSWERED';
      queryId?: number;
      working: boolean;
      ended?: boolean;
      values?: ModifyChanges;
      /** The venue order the answer describes: at a venue that replaces orders, maybe the replacement. */
      venueOrderId?: string;
      at: number;
    }
  /** The engine asked to modify the order (`modify()`, section 4b). */
  | { type: 'MODIFY'; changes: ModifyChanges; at: number }
  /** The venue applied a modify: the values now in force, maybe under a new venue order id. */
  | {
      type: 'MODIFIED';
      quantity: string;
      price?: string;
      stopPrice?: string;
      newVenueOrderId?: string;
      venueOrderId?: string;
      at: number;
    }
  /** The venue refused the outstanding modify. */
  | { type: 'MODIFY_REJECTED'; reason: string; at: number }
  /** A query could not be answered (it failed or went unanswered). */
  | { type: 'QUERY_FAILED'; queryId: number; at: number }
  /** A placement's outcome is unknown (not a definitive rejection). */
  | { type: 'PLACE_FAILED'; at: number }
  /** A repeated ACCEPTED or FILL arrived while a query was in flight: news of the order all the same. */
  | { type: 'NEWS'; at: number }
  /** `wakeAt` has come. */
  | { type: 'WAKE'; at: number }
  /** Restored from the ledger by `recover()`: a cancel that may have died with the process goes again. */
  | { type: 'RESTORED'; at: number };

type Ev<T extends OrderEvent['type']> = Extract<OrderEvent, { type: T }>;

const venueIdOf = (context: OrderContext, event: OrderEvent): string | null =>
  context.venueOrderId ?? ('venueOrderId' in event && event.venueOrderId ? event.venueOrderId : null);

/** An action that applies a protocol step: its patch to the context, its effects emitted. */
function stepAction(
  step: (context: OrderContext, event: OrderEvent) => { patch: Partial<OrderContext>; effects: OrderEffect[] },
) {
  return enqueueActions<OrderContext, OrderEvent, undefined, OrderEvent, never, never, never, never, OrderEffect>(
    ({ context, event, enqueue }) => {
      const s = step(context, event);
      // Every change of the protocol moves the next wake-up with it.
      const next = { ...context, ...s.patch };
      if (Object.keys(s.patch).length > 0) enqueue.assign({ ...s.patch, wakeAt: wakeAtOf(next) });
      for (const effect of s.effects) enqueue.emit(effect);
    },
  );
}

/** Announces the order's end to its directive once, also across restarts. */
function announceEnd(status: OrderStatus) {
  return enqueueActions<OrderContext, OrderEvent, undefined, OrderEvent, never, never, never, never, OrderEffect>(
    ({ context, enqueue }) => {
      if (context.endAnnounced) return;
      enqueue.assign({ endAnnounced: true });
      enqueue.emit({ type: 'ended', status });
    },
  );
}

const noStep: Step = { patch: {}, effects: [] };

/** A query answer refuses the outstanding modify: the order ended at the venue, or other values once the queries are spent. */
function answerRefuses(context: OrderContext, event: OrderEvent): boolean {
  if (event.type !== 'QUERY_ANSWERED' || context.modify === null) return false;
  if (answerShowsModify(context, event.values ?? {})) return false;
  return event.ended === true || modifyQueriesSpent(context);
}

/** The order machine. Its states are the statuses of contract section 4. */
export const orderMachine = setup({
  types: {
    context: {} as OrderContext,
    events: {} as OrderEvent,
    input: {} as OrderMachineInput,
    emitted: {} as OrderEffect,
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
    cancelOutstanding: ({ context }) => context.cancelOutstanding,
    /** The ack deadline passed and every query about the order went unanswered. */
    ackQueriesSpent: ({ context, event }) => ackQueriesSpent(context, event.at),
    /** A `null` answer sent before news of the order arrived says nothing (contract section 4). */
    staleAnswer: ({ context, event }) => event.type === 'NOT_FOUND' && event.newsAtSend < context.news,
    /** Not known yet before its ack deadline: the placement may still be on its way. */
    beforeAckDeadline: ({ context, event }) => event.at < context.ackDeadlineAt,
    /** During recover(), before the ack deadline: the placement may never have left. */
    recoveringBeforeAckDeadline: ({ context, event }) =>
      event.type === 'NOT_FOUND' && event.recovering === true && event.at < context.ackDeadlineAt,
    /** No cancel of a TIMED_OUT order is outstanding, or one went out after this query. */
    cancelNotAnswered: ({ context, event }) =>
      event.type === 'NOT_FOUND' && (!context.cancelOutstanding || context.cancelsSent > event.cancelsAtSend),
    modifyOutstanding: ({ context }) => context.modify !== null,
    noModifyOutstanding: ({ context }) => context.modify === null,
    /** A fill completes the order at the values in force, and no outstanding modify raises the quantity. */
    fillCompletesAsModified: ({ context, event }) =>
      event.type === 'FILL' &&
      decCmp(decAdd(context.filledQuantity, event.quantity), context.quantity) >= 0 &&
      !modifyRaises(context),
    /** The MODIFIED puts in force a quantity the fills already reach. */
    modifiedFilled: ({ context, event }) => event.type === 'MODIFIED' && filledReaches(context, event),
    /** Refused: the fills already reach the quantity in force. */
    filledInForce: ({ context }) => filledReaches(context, undefined),
    /** The answer shows the requested values in force, and the fills reach the new quantity. */
    answerAppliesModifyFilled: ({ context, event }) =>
      event.type === 'QUERY_ANSWERED' &&
      answerShowsModify(context, event.values ?? {}) &&
      filledReaches(context, context.modify?.requested),
    answerAppliesModifyPartly: ({ context, event }) =>
      event.type === 'QUERY_ANSWERED' &&
      answerShowsModify(context, event.values ?? {}) &&
      decCmp(context.filledQuantity, '0') > 0,
    answerAppliesModify: ({ context, event }) =>
      event.type === 'QUERY_ANSWERED' && answerShowsModify(context, event.values ?? {}),
    /** The answer shows other values once the queries are spent, or the order ended at the venue. */
    answerRefusesModifyFilled: ({ context, event }) =>
      answerRefuses(context, event) && filledReaches(context, undefined),
    answerRefusesModifyPartly: ({ context, event }) =>
      answerRefuses(context, event) && decCmp(context.filledQuantity, '0') > 0,
    answerRefusesModify: ({ context, event }) => answerRefuses(context, event),
  },
  actions: {
    learnVenueId: assign({ venueOrderId: ({ context, event }) => venueIdOf(context, event) }),
    acknowledge: assign({
      acknowledged: true,
      venueOrderId: ({ context, event }) => venueIdOf(context, event),
      news: ({ context }) => context.news + 1,
    }),
    applyFill: assign({
      filledQuantity: ({ context, event }) => decAdd(context.filledQuantity, (event as Ev<'FILL'>).quantity),
      venueOrderId: ({ context, event }) => venueIdOf(context, event),
      news: ({ context }) => context.news + 1,
    }),
    news: assign({ news: ({ context }) => context.news + 1 }),
    giveUp: assign({ gaveUp: true }),
    /** The venue itself says the order ended: late news never reopens it. */
    venueEnded: assign({ gaveUp: false, venueOrderId: ({ context, event }) => venueIdOf(context, event) }),
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
    venueLost: stepAction((c) => ({
      patch: {},
      effects: [
        {
          type: 'anomaly',
          kind: 'VENUE_LOST_ORDER',
          reason: `the venue does not know order ${c.orderId}: ${NOT_FOUND_AT_VENUE}`,
        },
      ],
    })),
    requestCancel: stepAction((c, e) => requestCancel(c, e.at)),
    askAboutEnd: stepAction((c, e) =>
      'venueOrderId' in e && e.venueOrderId !== undefined ? askOnce(c, e.at) : noStep,
    ),
    settleCancel: stepAction((c) => settleCancel(c)),
    awaitAck: stepAction(() => ({ patch: { awaitingAck: true }, effects: [] })),
    leavePending: stepAction((c) => leavePending(c)),
    placeFailed: stepAction((c, e) => placeFailed(c, e.at)),
    placeAgain: stepAction((c) => ({
      patch: { placeAttempts: c.placeAttempts + 1 },
      effects: [{ type: 'place' }],
    })),
    wake: stepAction((c, e) => wake(c, e.at)),
    queryDone: stepAction((c, e) => queryDone(c, 'queryId' in e ? e.queryId : undefined)),
    stillWorking: stepAction((c, e) =>
      chain(
        c,
        (q) => queryDone(q, (e as Ev<'QUERY_ANSWERED'>).queryId),
        (q) => ((e as Ev<'QUERY_ANSWERED'>).working ? stillWorking(q, e.at) : noStep),
      ),
    ),
    startModify: stepAction((c, e) =>
      chain(
        c,
        () => ({ patch: beginModify(c, (e as Ev<'MODIFY'>).changes, e.at) as Partial<OrderProtocol>, effects: [] }),
        (q) => startModify(q, e.at),
      ),
    ),
    applyModified: stepAction((c, e) => {
      const m = e as Ev<'MODIFIED'>;
      const values = {
        quantity: m.quantity,
        ...(m.price ? { price: m.price } : {}),
        ...(m.stopPrice ? { stopPrice: m.stopPrice } : {}),
      };
      return { patch: { ...applyValues(c, values, m.newVenueOrderId), ...settleModify(c).patch }, effects: [] };
    }),
    /** The venue shows the requested values: the modify took effect. */
    applyAnswerModified: stepAction((c, e) => ({
      patch: {
        ...applyValues(c, c.modify?.requested ?? {}, (e as Ev<'QUERY_ANSWERED'>).venueOrderId),
        ...settleModify(c).patch,
      },
      effects: [],
    })),
    rejectModify: stepAction((c, e) => ({
      patch: { ...refuseModify(c, (e as Ev<'MODIFY_REJECTED'>).reason), ...settleModify(c).patch },
      effects: [],
    })),
    refuseModifyByAnswer: stepAction((c) => ({
      patch: { ...refuseModify(c, NOT_APPLIED_AT_VENUE), ...settleModify(c).patch },
      effects: [],
    })),
    /** The venue lost the order: the outstanding modify cannot have been applied. */
    refuseModifyLost: stepAction((c) =>
      c.modify ? { patch: { ...refuseModify(c, NOT_FOUND_AT_VENUE), ...settleModify(c).patch }, effects: [] } : noStep,
    ),
    /** A MODIFIED answering no outstanding modify: the venue did it, so its values apply; recorded as LATE_REPLY. */
    applyUnaskedValues: stepAction((c, e) => {
      const m = e as Ev<'MODIFIED'>;
      const values = {
        quantity: m.quantity,
        ...(m.price ? { price: m.price } : {}),
        ...(m.stopPrice ? { stopPrice: m.stopPrice } : {}),
      };
      const reason = `MODIFIED answers no outstanding modify of order ${c.orderId}: the venue's values applied`;
      return {
        patch: applyValues(c, values, m.newVenueOrderId),
        effects: [{ type: 'anomaly', kind: 'LATE_REPLY', reason }],
      };
    }),
    restored: stepAction((c, e) => (c.cancelOutstanding ? sendCancelPaced(c, e.at) : noStep)),
    /** The order first ended: its directive hears of it once, also across restarts. */
    endFilled: announceEnd('FILLED'),
    endCancelled: announceEnd('CANCELLED'),
    endRejected: announceEnd('REJECTED'),
    endExpired: announceEnd('EXPIRED'),
    endTimedOut: announceEnd('TIMED_OUT'),
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
    rejectReason: null,
    cancelReason: null,
    price: input.price ?? null,
    stopPrice: input.stopPrice ?? null,
    formerVenueOrderIds: [],
    modify: null,
    modificationsSent: 0,
    lastModify: null,
    ...initialProtocol(input.timing, input.placedAt),
  }),
  states: {
    PENDING: {
      entry: 'awaitAck',
      exit: 'leavePending',
      on: {
        ACCEPTED: { target: 'OPEN', actions: 'acknowledge' },
        FILL: [
          { guard: 'fillCompletes', target: 'FILLED', actions: 'applyFill' },
          { target: 'PARTIALLY_FILLED', actions: 'applyFill' },
        ],
        REJECTED: { target: 'REJECTED', actions: ['recordReject', 'venueEnded'] },
        CANCELLED: { target: 'CANCELLED', actions: ['recordCancel', 'venueEnded'] },
        EXPIRED: { target: 'EXPIRED', actions: 'venueEnded' },
        CANCEL: { target: 'CANCEL_PENDING', actions: 'requestCancel' },
        NOT_FOUND: [
          { guard: 'staleAnswer', actions: 'queryDone' },
          // On recovery it may never have left (a crash between record and send): place it again.
          { guard: 'recoveringBeforeAckDeadline', actions: ['queryDone', 'placeAgain'] },
          { guard: 'beforeAckDeadline', actions: 'queryDone' },
          { target: 'TIMED_OUT', actions: ['queryDone', 'giveUp', 'requestCancel'] },
        ],
        WAKE: [
          { guard: 'ackQueriesSpent', target: 'TIMED_OUT', actions: ['giveUp', 'requestCancel'] },
          { actions: 'wake' },
        ],
        PLACE_FAILED: { actions: 'placeFailed' },
      },
    },
    OPEN: {
      // No ACCEPTED row: an OPEN order is always acknowledged with its venue id, so a repeat is
      // a duplicate and another venue id a LATE_REPLY, both decided by the runtime.
      on: {
        FILL: [
          { guard: 'fillCompletes', target: 'FILLED', actions: 'applyFill' },
          { target: 'PARTIALLY_FILLED', actions: 'applyFill' },
        ],
        REJECTED: { target: 'REJECTED', actions: ['recordReject', 'venueEnded'] },
        CANCELLED: { target: 'CANCELLED', actions: ['recordCancel', 'venueEnded'] },
        EXPIRED: { target: 'EXPIRED', actions: 'venueEnded' },
        CANCEL: { target: 'CANCEL_PENDING', actions: 'requestCancel' },
        MODIFY: { target: 'MODIFY_PENDING', actions: 'startModify' },
        NOT_FOUND: [
          { guard: 'staleAnswer', actions: 'queryDone' },
          { target: 'CANCELLED', actions: ['queryDone', 'recordLost', 'venueLost'] },
        ],
      },
    },
    PARTIALLY_FILLED: {
      on: {
        ACCEPTED: { guard: 'firstAcknowledgement', actions: 'acknowledge' },
        FILL: [{ guard: 'fillCompletes', target: 'FILLED', actions: 'applyFill' }, { actions: 'applyFill' }],
        CANCELLED: { target: 'CANCELLED', actions: ['recordCancel', 'venueEnded'] },
        EXPIRED: { target: 'EXPIRED', actions: 'venueEnded' },
        CANCEL: { target: 'CANCEL_PENDING', actions: 'requestCancel' },
        MODIFY: { target: 'MODIFY_PENDING', actions: 'startModify' },
        NOT_FOUND: [
          { guard: 'staleAnswer', actions: 'queryDone' },
          { target: 'CANCELLED', actions: ['queryDone', 'recordLost', 'venueLost'] },
        ],
      },
    },
    MODIFY_PENDING: {
      on: {
        ACCEPTED: { guard: 'firstAcknowledgement', actions: 'acknowledge' },
        FILL: [{ guard: 'fillCompletesAsModified', target: 'FILLED', actions: 'applyFill' }, { actions: 'applyFill' }],
        MODIFIED: [
          { guard: 'modifiedFilled', target: 'FILLED', actions: 'applyModified' },
          { guard: 'hasFills', target: 'PARTIALLY_FILLED', actions: 'applyModified' },
          { target: 'OPEN', actions: 'applyModified' },
        ],
        MODIFY_REJECTED: [
          { guard: 'filledInForce', target: 'FILLED', actions: 'rejectModify' },
          { guard: 'hasFills', target: 'PARTIALLY_FILLED', actions: 'rejectModify' },
          { target: 'OPEN', actions: 'rejectModify' },
        ],
        QUERY_ANSWERED: [
          { guard: 'answerAppliesModifyFilled', target: 'FILLED', actions: ['queryDone', 'applyAnswerModified'] },
          {
            guard: 'answerAppliesModifyPartly',
            target: 'PARTIALLY_FILLED',
            actions: ['queryDone', 'applyAnswerModified'],
          },
          { guard: 'answerAppliesModify', target: 'OPEN', actions: ['queryDone', 'applyAnswerModified'] },
          { guard: 'answerRefusesModifyFilled', target: 'FILLED', actions: ['queryDone', 'refuseModifyByAnswer'] },
          {
            guard: 'answerRefusesModifyPartly',
            target: 'PARTIALLY_FILLED',
            actions: ['queryDone', 'refuseModifyByAnswer'],
          },
          { guard: 'answerRefusesModify', target: 'OPEN', actions: ['queryDone', 'refuseModifyByAnswer'] },
          { actions: 'stillWorking' },
        ],
        REJECTED: { guard: 'noFills', target: 'REJECTED', actions: ['recordReject', 'venueEnded'] },
        CANCELLED: { target: 'CANCELLED', actions: ['recordCancel', 'venueEnded'] },
        EXPIRED: { target: 'EXPIRED', actions: 'venueEnded' },
        // The modify's answer still updates the values.
        CANCEL: { target: 'CANCEL_PENDING', actions: 'requestCancel' },
        NOT_FOUND: [
          { guard: 'staleAnswer', actions: 'queryDone' },
          { target: 'CANCELLED', actions: ['queryDone', 'recordLost', 'venueLost', 'refuseModifyLost'] },
        ],
      },
    },
    CANCEL_PENDING: {
      on: {
        ACCEPTED: { actions: 'acknowledge' },
        FILL: [
          { guard: 'fillCompletes', target: 'FILLED', actions: ['applyFill', 'settleCancel'] },
          { actions: 'applyFill' },
        ],
        REJECTED: { guard: 'noFills', target: 'REJECTED', actions: ['recordReject', 'venueEnded', 'settleCancel'] },
        CANCELLED: { target: 'CANCELLED', actions: ['recordCancel', 'venueEnded', 'settleCancel'] },
        EXPIRED: { target: 'EXPIRED', actions: ['venueEnded', 'settleCancel'] },
        MODIFIED: [
          { guard: 'modifiedFilled', target: 'FILLED', actions: ['applyModified', 'settleCancel'] },
          { guard: 'modifyOutstanding', actions: 'applyModified' },
        ],
        MODIFY_REJECTED: [
          { guard: 'filledInForce', target: 'FILLED', actions: ['rejectModify', 'settleCancel'] },
          { actions: 'rejectModify' },
        ],
        QUERY_ANSWERED: [
          {
            guard: 'answerAppliesModifyFilled',
            target: 'FILLED',
            actions: ['queryDone', 'applyAnswerModified', 'settleCancel'],
          },
          { guard: 'answerAppliesModify', actions: ['queryDone', 'applyAnswerModified'] },
          // Refused with the fills already at the quantity in force: FILLED, nothing left to cancel.
          {
            guard: 'answerRefusesModifyFilled',
            target: 'FILLED',
            actions: ['queryDone', 'refuseModifyByAnswer', 'settleCancel'],
          },
          { guard: 'answerRefusesModify', actions: ['queryDone', 'refuseModifyByAnswer'] },
          { actions: 'stillWorking' },
        ],
        CANCEL_REJECTED: [
          // An order the handler gave up on must not rest at the venue: retry the cancel.
          { guard: 'gaveUp', actions: ['learnVenueId', 'requestCancel'] },
          // A modify is still outstanding: its query cycle resumes.
          { guard: 'modifyOutstanding', target: 'MODIFY_PENDING', actions: ['learnVenueId', 'settleCancel'] },
          { guard: 'hasFills', target: 'PARTIALLY_FILLED', actions: ['learnVenueId', 'settleCancel'] },
          { guard: 'acknowledged', target: 'OPEN', actions: ['learnVenueId', 'settleCancel'] },
          { target: 'PENDING', actions: ['learnVenueId', 'settleCancel'] },
        ],
        NOT_FOUND: [
          { guard: 'staleAnswer', actions: 'queryDone' },
          {
            target: 'CANCELLED',
            actions: ['queryDone', 'recordLost', 'venueLost', 'settleCancel', 'refuseModifyLost'],
          },
        ],
      },
    },
    FILLED: {
      entry: 'endFilled',
      on: {
        QUERY_ANSWERED: [
          { guard: 'answerAppliesModify', actions: ['queryDone', 'applyAnswerModified'] },
          { guard: 'answerRefusesModify', actions: ['queryDone', 'refuseModifyByAnswer'] },
          { actions: 'stillWorking' },
        ],
        MODIFIED: { guard: 'modifyOutstanding', actions: 'applyModified' },
        MODIFY_REJECTED: { actions: 'rejectModify' },
        ACCEPTED: { guard: 'firstAcknowledgement', actions: 'acknowledge' },
        FILL: { actions: 'applyFill' },
        NOT_FOUND: [
          // Ended with a modify outstanding: a venue that no longer knows the order cannot say it was
          // applied, and asking again could never tell (ADR 0007): refused, so its values stay.
          { guard: 'staleAnswer', actions: 'queryDone' },
          { actions: ['queryDone', 'refuseModifyLost'] },
        ],
      },
    },
    CANCELLED: {
      entry: 'endCancelled',
      on: {
        QUERY_ANSWERED: [
          { guard: 'answerAppliesModify', actions: ['queryDone', 'applyAnswerModified'] },
          { guard: 'answerRefusesModify', actions: ['queryDone', 'refuseModifyByAnswer'] },
          { actions: 'stillWorking' },
        ],
        MODIFIED: { guard: 'modifyOutstanding', actions: 'applyModified' },
        MODIFY_REJECTED: { actions: 'rejectModify' },
        ACCEPTED: [
          { guard: 'gaveUp', target: 'CANCEL_PENDING', actions: ['acknowledge', 'requestCancel'] },
          { guard: 'firstAcknowledgement', actions: 'acknowledge' },
        ],
        FILL: [
          { guard: 'fillCompletes', target: 'FILLED', actions: 'applyFill' },
          { guard: 'gaveUp', target: 'CANCEL_PENDING', actions: ['applyFill', 'requestCancel'] },
          { actions: 'applyFill' },
        ],
        NOT_FOUND: [
          // Ended with a modify outstanding: a venue that no longer knows the order cannot say it was
          // applied, and asking again could never tell (ADR 0007): refused, so its values stay.
          { guard: 'staleAnswer', actions: 'queryDone' },
          { actions: ['queryDone', 'refuseModifyLost'] },
        ],
      },
    },
    REJECTED: {
      // Asked about like FILLED, CANCELLED and EXPIRED while a modify is outstanding: the venue's
      // answer says whether it applied it before rejecting (ADR 0007).
      entry: 'endRejected',
      on: {
        MODIFIED: { guard: 'modifyOutstanding', actions: 'applyModified' },
        MODIFY_REJECTED: { actions: 'rejectModify' },
        QUERY_ANSWERED: [
          { guard: 'answerAppliesModify', actions: ['queryDone', 'applyAnswerModified'] },
          { guard: 'answerRefusesModify', actions: ['queryDone', 'refuseModifyByAnswer'] },
          { actions: 'stillWorking' },
        ],
        FILL: { actions: 'applyFill' },
        NOT_FOUND: [{ guard: 'staleAnswer', actions: 'queryDone' }, { actions: ['queryDone', 'refuseModifyLost'] }],
      },
    },
    EXPIRED: {
      entry: 'endExpired',
      on: {
        QUERY_ANSWERED: [
          { guard: 'answerAppliesModify', actions: ['queryDone', 'applyAnswerModified'] },
          { guard: 'answerRefusesModify', actions: ['queryDone', 'refuseModifyByAnswer'] },
          { actions: 'stillWorking' },
        ],
        MODIFIED: { guard: 'modifyOutstanding', actions: 'applyModified' },
        MODIFY_REJECTED: { actions: 'rejectModify' },
        ACCEPTED: { guard: 'firstAcknowledgement', actions: 'acknowledge' },
        FILL: [{ guard: 'fillCompletes', target: 'FILLED', actions: 'applyFill' }, { actions: 'applyFill' }],
        NOT_FOUND: [
          // Ended with a modify outstanding: a venue that no longer knows the order cannot say it was
          // applied, and asking again could never tell (ADR 0007): refused, so its values stay.
          { guard: 'staleAnswer', actions: 'queryDone' },
          { actions: ['queryDone', 'refuseModifyLost'] },
        ],
      },
    },
    TIMED_OUT: {
      entry: 'endTimedOut',
      on: {
        ACCEPTED: { target: 'CANCEL_PENDING', actions: ['acknowledge', 'requestCancel'] },
        FILL: [
          { guard: 'fillCompletes', target: 'FILLED', actions: ['applyFill', 'settleCancel'] },
          { target: 'CANCEL_PENDING', actions: ['applyFill', 'requestCancel'] },
        ],
        REJECTED: { target: 'REJECTED', actions: ['recordReject', 'venueEnded', 'settleCancel'] },
        // The venue had the order after all: fills may have been lost on the wire, so ask once.
        CANCELLED: { target: 'CANCELLED', actions: ['recordCancel', 'venueEnded', 'settleCancel', 'askAboutEnd'] },
        EXPIRED: { target: 'EXPIRED', actions: ['venueEnded', 'settleCancel', 'askAboutEnd'] },
        // The usual answer to the cancel sent on timeout: the venue never had the order. One that
        // names a venue id says the venue had it ("already filled"): ask how it ended.
        CANCEL_REJECTED: { guard: 'cancelOutstanding', actions: ['learnVenueId', 'settleCancel', 'askAboutEnd'] },
        CANCEL: { actions: 'requestCancel' },
        // Asked about the cancel, the venue does not know the order: nothing rests there.
        NOT_FOUND: [
          { guard: 'staleAnswer', actions: 'queryDone' },
          { guard: 'cancelNotAnswered', actions: 'queryDone' },
          { actions: ['queryDone', 'settleCancel'] },
        ],
      },
    },
  },
  // Protocol events every status answers the same way.
  on: {
    WAKE: { actions: 'wake' },
    QUERY_ANSWERED: { actions: 'stillWorking' },
    MODIFIED: { guard: 'noModifyOutstanding', actions: 'applyUnaskedValues' },
    QUERY_FAILED: { actions: 'queryDone' },
    NEWS: { actions: 'news' },
    RESTORED: { actions: 'restored' },
  },
});

/** The status an order machine snapshot stands for. */
export function statusOf(snapshot: { value: unknown }): OrderStatus {
  return snapshot.value as OrderStatus;
}
