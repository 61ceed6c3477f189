/**
 * The order's protocol beyond its status, as pure functions of the machine's context: deadlines,
 * the query cycle and its retries, cancel pacing, placement retries, the stale-answer rule and
 * which anomalies were already recorded. The machine (`order.ts`) calls them from its actions;
 * each returns the context patch and the effects to perform, so the whole protocol is in the
 * persisted snapshot and nothing about an order lives in the runtime (contract section 4).
 */
import type { AnomalyKind, OrderStatus } from '../src/types.js';

/** The timing options of contract section 5 the machine decides with. */
export interface OrderTiming {
  ackTimeoutMs: number;
  cancelTimeoutMs: number;
  queryIntervalMs: number;
  queryRetries: number;
  placeRetries: number;
  modifyTimeoutMs: number;
}

/** A round of status queries: after the ack deadline, or after the cancel deadline. */
export interface QueryCycle {
  purpose: 'ack' | 'cancel' | 'modify';
  /** Query slots used (a hanging query uses its slot without a second query being sent). */
  slots: number;
  /** After the queries were spent on an unconfirmed cancel: every 10 x queryIntervalMs. */
  slow: boolean;
  /** When the next step of the cycle is due. */
  nextAt: number;
}

/** A query sent and not answered yet. */
export interface QueryInFlight {
  /** Names the query: its answer carries this id back. */
  id: number;
  sentAt: number;
}

/** The protocol part of the order's context. */
export interface OrderProtocol {
  timing: OrderTiming;
  /** Waiting for the venue's acknowledgement (the order is PENDING). */
  awaitingAck: boolean;
  ackDeadlineAt: number;
  /** Placements sent so far (the first goes out as the order is recorded). */
  placeAttempts: number;
  /** When a placement whose outcome was unknown is sent again. */
  placeRetryAt: number | null;
  cancelOutstanding: boolean;
  /** While a cancel is outstanding: when the venue is asked whether it took the cancel. */
  cancelDeadlineAt: number | null;
  /** Cancels sent so far, and when the last one went out (cancel pacing). */
  cancelsSent: number;
  lastCancelSentAt: number | null;
  /** A cancel that fell due sooner than `queryIntervalMs` after the previous one goes out then. */
  cancelResendAt: number | null;
  cycle: QueryCycle | null;
  query: QueryInFlight | null;
  /** Queries sent so far (their ids). */
  queriesSent: number;
  /** ACCEPTED or FILL replies naming the order so far: a `null` answer sent before news is stale. */
  news: number;
  /** CANCEL_UNCONFIRMED was recorded for the outstanding cancel. */
  unconfirmedRecorded: boolean;
  /** While a modify is outstanding: when the venue is asked whether it applied it. */
  modifyDeadlineAt: number | null;
  /** MODIFY_UNCONFIRMED was recorded for the outstanding modify. */
  modifyUnconfirmedRecorded: boolean;
  /** The order's end (first final status or TIMED_OUT) was announced to its directive. */
  endAnnounced: boolean;
  /** When the runtime must wake the order (send WAKE), or null. */
  wakeAt: number | null;
}

/** What the machine asks the runtime to do, after the change is durable. */
export type OrderEffect =
  | { type: 'place' }
  | { type: 'cancel' }
  /** Send the outstanding modify (once: a modify is never re-sent). */
  | { type: 'modify' }
  | { type: 'query'; queryId: number }
  /** Recorded in the same commit as the change that decided it. */
  | { type: 'anomaly'; kind: AnomalyKind; reason: string }
  /** The order first reached a final status or TIMED_OUT: its directive may move on. */
  | { type: 'ended'; status: OrderStatus };

/** A context patch with the effects that go with it. */
export interface Step {
  patch: Partial<OrderProtocol>;
  effects: OrderEffect[];
}

/** Backoff before placement retry `attempt` (1-based): 250 ms, 500 ms, 1 s, ... */
export function placeBackoffMs(attempt: number): number {
  return 250 * 2 ** (attempt - 1);
}

/** The protocol of a new order, placed once as it is recorded at `placedAt`. */
export function initialProtocol(timing: OrderTiming, placedAt: number): OrderProtocol {
  return {
    timing,
    awaitingAck: true,
    ackDeadlineAt: placedAt + timing.ackTimeoutMs,
    placeAttempts: 1,
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
    modifyDeadlineAt: null,
    modifyUnconfirmedRecorded: false,
    endAnnounced: false,
    wakeAt: placedAt + timing.ackTimeoutMs,
  };
}

/** The earliest time something is due for the order, or null. */
export function wakeAtOf(p: OrderProtocol): number | null {
  const due: number[] = [];
  if (cancelTakesOverModifyCycle(p)) due.push(p.cancelDeadlineAt!);
  if (p.cycle) due.push(p.cycle.nextAt);
  else if (p.awaitingAck) due.push(p.ackDeadlineAt);
  else if (p.cancelOutstanding && p.cancelDeadlineAt !== null) due.push(p.cancelDeadlineAt);
  else if (p.modifyDeadlineAt !== null) due.push(p.modifyDeadlineAt);
  if (p.placeRetryAt !== null) due.push(p.placeRetryAt);
  if (p.cancelResendAt !== null) due.push(p.cancelResendAt);
  return due.length === 0 ? null : Math.min(...due);
}

/** Sends a cancel now, or as soon as `queryIntervalMs` has passed since the previous one. */
export function sendCancelPaced(p: OrderProtocol, at: number): Step {
  const earliest = p.lastCancelSentAt === null ? at : p.lastCancelSentAt + p.timing.queryIntervalMs;
  if (earliest <= at) {
    return {
      patch: { lastCancelSentAt: at, cancelsSent: p.cancelsSent + 1, cancelResendAt: null },
      effects: [{ type: 'cancel' }],
    };
  }
  return { patch: { cancelResendAt: Math.min(p.cancelResendAt ?? earliest, earliest) }, effects: [] };
}

/** A cancel is (again) wanted: outstanding, its deadline armed, sent as pacing allows. */
export function requestCancel(p: OrderProtocol, at: number): Step {
  const send = sendCancelPaced(p, at);
  return {
    patch: {
      cancelOutstanding: true,
      cancelDeadlineAt: at + p.timing.cancelTimeoutMs,
      // A new cancel starts its own wait: the queries about the previous one are over.
      cycle: p.cycle?.purpose === 'cancel' ? null : p.cycle,
      ...send.patch,
    },
    effects: send.effects,
  };
}

/** The venue answered the cancel (or the order ended): nothing about it is due any more. */
export function settleCancel(p: OrderProtocol): Step {
  return {
    patch: {
      cancelOutstanding: false,
      cancelDeadlineAt: null,
      cancelResendAt: null,
      cycle: p.cycle?.purpose === 'cancel' ? null : p.cycle,
      unconfirmedRecorded: false,
    },
    effects: [],
  };
}

/** The order left PENDING: its ack deadline, ack queries and placement retries are over. */
export function leavePending(p: OrderProtocol): Step {
  return {
    patch: { awaitingAck: false, placeRetryAt: null, cycle: p.cycle?.purpose === 'ack' ? null : p.cycle },
    effects: [],
  };
}

/** A placement's outcome is unknown: retry with the same client order id while it makes sense. */
export function placeFailed(p: OrderProtocol, at: number): Step {
  const retryAt = at + placeBackoffMs(p.placeAttempts);
  if (!p.awaitingAck || p.placeAttempts > p.timing.placeRetries || retryAt >= p.ackDeadlineAt) {
    return { patch: {}, effects: [] }; // the ack-timeout path decides from here
  }
  return { patch: { placeRetryAt: retryAt }, effects: [] };
}

/** Asks the venue about the order (unless a query still hangs). */
function sendQuery(p: OrderProtocol, at: number): Step {
  if (p.query) return { patch: {}, effects: [] };
  const id = p.queriesSent + 1;
  return { patch: { queriesSent: id, query: { id, sentAt: at } }, effects: [{ type: 'query', queryId: id }] };
}

/**
 * The venue named an order the handler gave up on while answering its cancel: it had the order,
 * which has ended or trades on. Asked once, its answer brings the end and any fill lost on the wire.
 */
export function askOnce(p: OrderProtocol, at: number): Step {
  return sendQuery(p, at);
}

/** Applies `steps` in order, each to the context the previous ones made. */
export function chain(p: OrderProtocol, ...steps: ((q: OrderProtocol) => Step)[]): Step {
  let q = p;
  const patch: Partial<OrderProtocol> = {};
  const effects: OrderEffect[] = [];
  for (const step of steps) {
    const s = step(q);
    Object.assign(patch, s.patch);
    q = { ...q, ...s.patch };
    effects.push(...s.effects);
  }
  return { patch, effects };
}

/** CANCEL_UNCONFIRMED once per outstanding cancel; MODIFY_UNCONFIRMED once per outstanding modify. */
function recordUnconfirmedOnce(p: OrderProtocol): Step {
  if (p.cycle?.purpose === 'modify') {
    if (p.modifyUnconfirmedRecorded) return { patch: {}, effects: [] };
    const reason = `the venue neither confirmed nor refused the modify after ${p.timing.queryRetries + 1} queries`;
    return {
      patch: { modifyUnconfirmedRecorded: true },
      effects: [{ type: 'anomaly', kind: 'MODIFY_UNCONFIRMED', reason }],
    };
  }
  if (p.unconfirmedRecorded) return { patch: {}, effects: [] };
  const reason = `the venue neither confirmed nor rejected the cancel after ${p.timing.queryRetries + 1} queries`;
  return { patch: { unconfirmedRecorded: true }, effects: [{ type: 'anomaly', kind: 'CANCEL_UNCONFIRMED', reason }] };
}

/** The slow pace of an unconfirmed cancel: send it again, ask again, record it once. */
function slowStep(p: OrderProtocol, at: number): Step {
  const slowMs = 10 * p.timing.queryIntervalMs;
  return chain(
    p,
    (q) => ({ patch: { cycle: { ...q.cycle!, slow: true, nextAt: at + slowMs } }, effects: [] }),
    (q) => (q.cancelOutstanding ? sendCancelPaced(q, at) : { patch: {}, effects: [] }),
    // A query unanswered for a whole slow interval is abandoned, so the next one can go out.
    (q) => ({ patch: q.query && at - q.query.sentAt >= slowMs ? { query: null } : {}, effects: [] }),
    (q) => sendQuery(q, at),
    recordUnconfirmedOnce,
  );
}

/** The ack cycle's queries are spent: the order times out (the machine's ACK_TIMEOUT row). */
export function ackQueriesSpent(p: OrderProtocol, at: number): boolean {
  const c = p.cycle;
  return (
    c !== null && c.purpose === 'ack' && !c.slow && at >= c.nextAt && c.slots > p.timing.queryRetries && p.awaitingAck
  );
}

/**
 * What is due at `at` (the runtime sends WAKE at `wakeAt`): a placement retry, a paced cancel, a
 * deadline that starts a query cycle, the cycle's next step. The ack cycle's decision (TIMED_OUT)
 * is the machine's own row, guarded by `ackQueriesSpent`.
 */
export function wake(p: OrderProtocol, at: number): Step {
  return chain(
    p,
    (q) => {
      if (q.placeRetryAt === null || at < q.placeRetryAt) return { patch: {}, effects: [] };
      if (!q.awaitingAck || at >= q.ackDeadlineAt) return { patch: { placeRetryAt: null }, effects: [] };
      return { patch: { placeRetryAt: null, placeAttempts: q.placeAttempts + 1 }, effects: [{ type: 'place' }] };
    },
    (q) => {
      if (q.cancelResendAt === null || at < q.cancelResendAt) return { patch: {}, effects: [] };
      const cleared = { ...q, cancelResendAt: null };
      return q.cancelOutstanding ? sendCancelPaced(cleared, at) : { patch: { cancelResendAt: null }, effects: [] };
    },
    (q) => {
      if (q.cycle && !(cancelTakesOverModifyCycle(q) && at >= q.cancelDeadlineAt!)) return { patch: {}, effects: [] };
      if (q.awaitingAck && at >= q.ackDeadlineAt) {
        return { patch: { cycle: { purpose: 'ack', slots: 0, slow: false, nextAt: at } }, effects: [] };
      }
      if (q.cancelOutstanding && q.cancelDeadlineAt !== null && at >= q.cancelDeadlineAt) {
        return { patch: { cycle: { purpose: 'cancel', slots: 0, slow: false, nextAt: at } }, effects: [] };
      }
      if (q.modifyDeadlineAt !== null && at >= q.modifyDeadlineAt) {
        return { patch: { cycle: { purpose: 'modify', slots: 0, slow: false, nextAt: at } }, effects: [] };
      }
      return { patch: {}, effects: [] };
    },
    (q) => stepCycle(q, at),
  );
}

/**
 * A cancel made while the modify's query cycle runs gets a cycle of its own at its deadline (the
 * queries answer both, and an unanswered cancel must end CANCEL_UNCONFIRMED, section 4); the
 * modify's cycle starts again from its deadline once the cancel is answered.
 */
function cancelTakesOverModifyCycle(p: OrderProtocol): boolean {
  return p.cycle?.purpose === 'modify' && p.cancelOutstanding && p.cancelDeadlineAt !== null;
}

/**
 * One step of a query round: ask (unless a query still hangs, which uses its slot); once
 * `1 + queryRetries` slots are spent, an unconfirmed cancel goes to the slow pace (the ack
 * cycle's end is the machine's TIMED_OUT row).
 */
function stepCycle(p: OrderProtocol, at: number): Step {
  const c = p.cycle;
  if (!c || at < c.nextAt) return { patch: {}, effects: [] };
  if (c.slow) return slowStep(p, at);
  if (c.slots <= p.timing.queryRetries) {
    return chain(
      p,
      () => ({ patch: { cycle: { ...c, slots: c.slots + 1, nextAt: at + p.timing.queryIntervalMs } }, effects: [] }),
      (q) => sendQuery(q, at),
    );
  }
  if (c.purpose === 'ack') return { patch: {}, effects: [] };
  return slowStep(p, at);
}

/** A modify was sent: its deadline armed (a modify is sent once and never re-sent). */
export function startModify(p: OrderProtocol, at: number): Step {
  return {
    patch: { modifyDeadlineAt: at + p.timing.modifyTimeoutMs, modifyUnconfirmedRecorded: false },
    effects: [{ type: 'modify' }],
  };
}

/** The modify was answered (applied or refused): its deadline and queries are over. */
export function settleModify(p: OrderProtocol): Step {
  return {
    patch: {
      modifyDeadlineAt: null,
      modifyUnconfirmedRecorded: false,
      cycle: p.cycle?.purpose === 'modify' ? null : p.cycle,
    },
    effects: [],
  };
}

/** The modify's queries are spent (at the normal pace, or it is at the slow pace). */
export function modifyQueriesSpent(p: OrderProtocol): boolean {
  const c = p.cycle;
  return c !== null && c.purpose === 'modify' && (c.slow || c.slots > p.timing.queryRetries);
}

/** A query's answer (or failure) came back: the query no longer hangs. */
export function queryDone(p: OrderProtocol, queryId: number | undefined): Step {
  return { patch: p.query && p.query.id === queryId ? { query: null } : {}, effects: [] };
}

/** The venue, asked, still shows the order working while our cancel is outstanding: send it again. */
export function stillWorking(p: OrderProtocol, at: number): Step {
  return p.cancelOutstanding ? sendCancelPaced(p, at) : { patch: {}, effects: [] };
}
