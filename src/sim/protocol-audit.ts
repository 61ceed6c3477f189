/**
 * The order protocol's promises (contract sections 4 and 5) checked for a whole simulated session
 * from the venue's own record (when each cancel was sent, which orders it took) and the ledger (the
 * change records, anomalies and placement times), never from the handler's memory:
 * 1. cancel pacing: no two cancels of one order sent closer than `queryIntervalMs`, on any path;
 * 2. `cancelAll()` sends a cancel for every order the ledger showed TIMED_OUT when it was called;
 * 3. SEQUENTIAL turns: an order is placed only once its predecessor FILLED, and then it is; after
 *    `cancel()` of an order not yet placed, neither it nor a later one reaches the venue;
 * 4. a final status the venue reported is never reopened (only a fill that crossed a CANCELLED or
 *    EXPIRED makes it FILLED), and no cancel is sent for that order afterwards;
 * 5. CANCEL_UNCONFIRMED is recorded once per outstanding cancel, restarts included, and is recorded
 *    for a cancel left unanswered past its queries.
 * Each problem states the rule that broke; the tally says how much each check looked at, so a check
 * that never fires can be told from one that always passes.
 */
import type { LedgerOrder, StrategyLedger, TransitionRecord } from '../ledger/types.js';
import type { OrderStatus } from '../types.js';
import { cancelPeriods, requestsCancel, settlesCancel } from './cancel-periods.js';
import type { EngineLog, SequentialRun } from './engine-log.js';
import { type FindingCounts, KNOWN_FINDINGS, countFinding, modifyOutstandingAt } from './known-findings.js';
import type { SessionTiming } from './session.js';

/** What the audit needs of a venue: when each cancel was sent, and which orders it took. */
export interface VenueRecord {
  cancelRecords(): { clientOrderId: string; sentAt: readonly number[] }[];
  venueOrders(): { clientOrderId: string }[];
}

/** How much each check looked at, added to by every call it is passed to. */
export interface ProtocolTally {
  /** 1: cancels the venue recorded, and pairs of one order's successive cancels compared. */
  cancelsSent: number;
  cancelGapsChecked: number;
  /** 2: `cancelAll()` calls, and orders TIMED_OUT at a call that were checked for a cancel after it. */
  cancelAllCalls: number;
  timedOutAtCancelAll: number;
  /** 3: SEQUENTIAL directives, successors whose turn was judged, and stops before an unplaced order. */
  sequentialRuns: number;
  turnsChecked: number;
  sequentialStops: number;
  /** 4: orders whose end the venue reported, and of those, orders that had been TIMED_OUT (given up on) before. */
  venueReportedEnds: number;
  reportedAfterTimedOut: number;
  /** 5: outstanding-cancel periods, those left unanswered past their queries, and those with a CANCEL_UNCONFIRMED. */
  cancelPeriods: number;
  unansweredPeriods: number;
  unconfirmedPeriods: number;
}

/** A tally with nothing counted yet. */
export function emptyProtocolTally(): ProtocolTally {
  return {
    cancelsSent: 0,
    cancelGapsChecked: 0,
    cancelAllCalls: 0,
    timedOutAtCancelAll: 0,
    sequentialRuns: 0,
    turnsChecked: 0,
    sequentialStops: 0,
    venueReportedEnds: 0,
    reportedAfterTimedOut: 0,
    cancelPeriods: 0,
    unansweredPeriods: 0,
    unconfirmedPeriods: 0,
  };
}

/** What a session left to audit. */
export interface ProtocolAuditInput {
  ledger: StrategyLedger;
  venue: VenueRecord;
  engine: EngineLog;
  timing: SessionTiming;
  /** Virtual time the session ended: a cancel period open until then is judged up to it. */
  endAt: number;
  tally: ProtocolTally;
  /** Problems excused as a known finding of the handler (`KNOWN_FINDINGS`), counted per finding. */
  findings?: FindingCounts;
}

const FINAL: ReadonlySet<OrderStatus> = new Set(['FILLED', 'REJECTED', 'CANCELLED', 'EXPIRED']);
/** A change record whose cause is the venue's word on the order's end: a reply, a query answer, a refused placement. */
const VENUE_END_CAUSE = /^(reply|query|place) (CANCELLED|REJECTED|EXPIRED) #/;

/** Everything the checks read, loaded once. */
interface Loaded {
  orders: Map<string, LedgerOrder>;
  changes: Map<string, TransitionRecord[]>;
  cancels: Map<string, readonly number[]>;
  unconfirmed: Map<string, number[]>;
  atVenue: Set<string>;
}

async function load(input: ProtocolAuditInput): Promise<Loaded> {
  const orders = new Map((await input.ledger.getOrdersChangedSince(0)).map((o) => [o.orderId, o]));
  const changes = new Map<string, TransitionRecord[]>();
  for (const id of orders.keys()) changes.set(id, await input.ledger.getTransitions(id));
  const unconfirmed = new Map<string, number[]>();
  for (const a of await input.ledger.getAnomalies()) {
    if (a.kind !== 'CANCEL_UNCONFIRMED' || a.orderId === undefined) continue;
    unconfirmed.set(a.orderId, [...(unconfirmed.get(a.orderId) ?? []), a.at]);
  }
  const cancels = new Map(input.venue.cancelRecords().map((r) => [r.clientOrderId, r.sentAt]));
  const atVenue = new Set(input.venue.venueOrders().map((v) => v.clientOrderId));
  return { orders, changes, cancels, unconfirmed, atVenue };
}

/** Checks the five promises for a finished session; returns the problems found. */
export async function auditProtocol(input: ProtocolAuditInput): Promise<string[]> {
  const data = await load(input);
  return [
    ...checkPacing(data, input),
    ...checkCancelAll(data, input),
    ...input.engine.sequential.flatMap((run) => checkSequential(run, data, input)),
    ...[...data.orders.keys()].flatMap((id) => checkVenueEnd(id, data, input.tally)),
    ...[...data.orders.keys()].flatMap((id) => checkUnconfirmed(id, data, input)),
  ];
}

/** 1. "A cancel is never re-sent sooner than queryIntervalMs after the previous one, whatever made it due." */
function checkPacing(data: Loaded, input: ProtocolAuditInput): string[] {
  const problems: string[] = [];
  const gapMs = input.timing.queryIntervalMs;
  for (const [id, sentAt] of data.cancels) {
    input.tally.cancelsSent += sentAt.length;
    for (let i = 1; i < sentAt.length; i++) {
      input.tally.cancelGapsChecked++;
      const gap = sentAt[i]! - sentAt[i - 1]!;
      if (gap < gapMs) {
        problems.push(
          `Cancel pacing: ${id} was sent cancels at ${sentAt[i - 1]} and ${sentAt[i]}, ${gap} ms apart (queryIntervalMs ${gapMs})`,
        );
      }
    }
  }
  return problems;
}

/** The order's cancel was answered (settled, or the order ended) in [from, until): a paced resend was no longer due. */
function answeredBetween(changes: readonly TransitionRecord[], from: number, until: number): boolean {
  return changes.some((t) => t.at >= from && t.at < until && settlesCancel(t));
}

/**
 * 2. "cancelAll() ... sends the cancel again (paced as in section 4) for every TIMED_OUT order of
 * the strategy, also those no longer held in memory": a cancel sent at or after the call, unless
 * the venue answered the outstanding one before the paced resend fell due.
 */
function checkCancelAll(data: Loaded, input: ProtocolAuditInput): string[] {
  const problems: string[] = [];
  for (const call of input.engine.cancelAlls) {
    input.tally.cancelAllCalls++;
    for (const id of call.timedOut) {
      input.tally.timedOutAtCancelAll++;
      if ((data.cancels.get(id) ?? []).some((t) => t >= call.at)) continue;
      if (answeredBetween(data.changes.get(id) ?? [], call.at, call.at + input.timing.queryIntervalMs)) continue;
      problems.push(`cancelAll(): ${id} was TIMED_OUT at the call (${call.at}) and no cancel was sent for it after`);
    }
  }
  return problems;
}

/**
 * A restart or `cancelAll()` this soon after a predecessor FILLED may have caught its successor's
 * placement in flight (one step of the session): the turn is not judged then.
 */
const TURN_IN_FLIGHT_MS = 50;

/** The order's first end (a final status or TIMED_OUT): what decides its SEQUENTIAL successor's turn. */
function firstEnd(changes: readonly TransitionRecord[]): TransitionRecord | undefined {
  return changes.find((t) => t.from !== t.to && (FINAL.has(t.to) || t.to === 'TIMED_OUT'));
}

/**
 * 3. Contract section 5: "a later order is recorded and placed only when its turn comes ... the
 * next is placed if it was FILLED, and otherwise the directive stops for good"; `cancel()` of a
 * SEQUENTIAL order not yet placed "returns true and the directive stops before it: the orders
 * before it still take their turns, and neither it nor any later order is placed". A turn is owed
 * only within the handler's life that executed the directive (a new life places the rest when the
 * engine executes the directive again) and before a `cancelAll()` stopped it.
 */
function checkSequential(run: SequentialRun, data: Loaded, input: ProtocolAuditInput): string[] {
  const problems: string[] = [];
  const { tally } = input;
  tally.sequentialRuns++;
  const stopAt = run.stop?.index ?? run.orderIds.length;
  if (run.stop) {
    tally.sequentialStops++;
    if (!run.stop.answered)
      problems.push(`SEQUENTIAL stop: cancel() of unplaced ${run.orderIds[stopAt]} returned false`);
    for (const id of run.orderIds.slice(stopAt)) {
      if (data.orders.has(id) || data.atVenue.has(id))
        problems.push(
          `SEQUENTIAL stop: ${id} of ${run.directiveId} was placed after cancel() stopped the directive before it`,
        );
    }
  }
  const interrupted = (from: number, to: number) =>
    input.engine.restarts.some((r) => r >= from && r <= to) ||
    input.engine.cancelAlls.some((c) => c.at >= from && c.at <= to);
  for (let i = 1; i < stopAt; i++) {
    const id = run.orderIds[i]!;
    const placed = data.orders.get(id);
    const end = firstEnd(data.changes.get(run.orderIds[i - 1]!) ?? []);
    if (placed && (end?.to !== 'FILLED' || placed.placedAt < end.at)) {
      const why = end ? `first ended ${end.to} at ${end.at}` : 'had not ended';
      problems.push(`SEQUENTIAL turns: ${id} was placed at ${placed.placedAt} though its predecessor ${why}`);
    }
    if (end?.to !== 'FILLED' || interrupted(run.executedAt, end.at + TURN_IN_FLIGHT_MS)) continue;
    tally.turnsChecked++;
    if (!placed) problems.push(`SEQUENTIAL turns: ${id}'s predecessor FILLED at ${end.at} but ${id} was never placed`);
  }
  return problems;
}

/**
 * 4. "A final status the venue itself reported (CANCELLED, REJECTED, EXPIRED, or such a query
 * answer) is never reopened ...: a late ACCEPTED for that venue order changes nothing, and no
 * cancel is sent for an order the venue said has ended." Only a fill that crossed the cancel (or
 * the expiry) moves CANCELLED or EXPIRED on, to FILLED.
 */
function checkVenueEnd(id: string, data: Loaded, tally: ProtocolTally): string[] {
  const changes = data.changes.get(id) ?? [];
  const k = changes.findIndex((t) => t.from !== t.to && FINAL.has(t.to) && VENUE_END_CAUSE.test(t.cause));
  if (k < 0) return [];
  const end = changes[k]!;
  tally.venueReportedEnds++;
  if (changes.slice(0, k).some((t) => t.to === 'TIMED_OUT')) tally.reportedAfterTimedOut++;
  const problems: string[] = [];
  // Only a fill that crossed the cancel or the expiry moves the order on (to FILLED, final).
  const left = changes
    .slice(k + 1)
    .find((t) => t.from !== t.to && !(t.to === 'FILLED' && t.eventType === 'ORDER_FILLED' && t.from !== 'REJECTED'));
  if (left) {
    problems.push(
      `Venue-reported end: ${id} was reported ${end.to} by the venue (${end.cause}) at ${end.at}, ` +
        `then changed ${left.from} -> ${left.to} (${left.cause}) at ${left.at}`,
    );
  }
  const late = (data.cancels.get(id) ?? []).filter((at) => at > end.at);
  if (late.length > 0)
    problems.push(
      `Venue-reported end: ${id} ended ${end.to} by the venue at ${end.at}, a cancel was sent at ${late[0]}`,
    );
  return problems;
}

/** The cancel opened at `openAt` with a modify outstanding: the known finding `cancelWithModifyOutstandingNeverUnconfirmed`. */
function excusedUnconfirmed(changes: readonly TransitionRecord[], openAt: number, findings?: FindingCounts): boolean {
  if (!KNOWN_FINDINGS.cancelWithModifyOutstandingNeverUnconfirmed || !modifyOutstandingAt(changes, openAt))
    return false;
  countFinding(findings, 'cancelWithModifyOutstandingNeverUnconfirmed');
  return true;
}

/** The periods of `changes` with, for each, when its wait ran past `waitMs` unanswered (if it did by `endAt`). */
function judgedPeriods(changes: readonly TransitionRecord[], waitMs: number, endAt: number) {
  return cancelPeriods(changes).map((p) => {
    // Every (re)send restarts the wait: it ran past unanswered when no next (re)send or settling came in time.
    const sends = changes.filter((t) => t.at >= p.openAt && t.at <= (p.closeAt ?? endAt) && requestsCancel(t));
    const stops = [...sends.slice(1).map((t) => t.at), p.closeAt ?? endAt];
    const k = sends.findIndex((t, i) => stops[i]! > t.at + waitMs);
    return { ...p, unansweredBy: k < 0 ? undefined : sends[k]!.at + waitMs };
  });
}

/**
 * 5. "CANCEL_UNCONFIRMED ... is recorded once per outstanding request, also across a failed ledger
 * write, a reload and a restart", and a cancel "that the venue neither confirms nor rejects, even
 * after the queries" records it: at most one per period, and one in every period whose wait ran
 * past cancelTimeoutMs + (queryRetries + 1) x queryIntervalMs (plus one interval for the last
 * query's answer) without an answer.
 */
function checkUnconfirmed(id: string, data: Loaded, input: ProtocolAuditInput): string[] {
  const { timing, tally } = input;
  const waitMs = timing.cancelTimeoutMs + (timing.queryRetries + 2) * timing.queryIntervalMs;
  const periods = judgedPeriods(data.changes.get(id) ?? [], waitMs, input.endAt);
  const problems: string[] = [];
  const recorded = periods.map(() => 0);
  for (const at of data.unconfirmed.get(id) ?? []) {
    const k = periods.findLastIndex((p) => p.openAt <= at);
    const p = periods[k];
    if (!p || (p.closeAt !== undefined && at > p.closeAt)) {
      problems.push(`CANCEL_UNCONFIRMED: ${id} recorded it at ${at} with no cancel outstanding`);
    } else recorded[k]!++;
  }
  periods.forEach((p, k) => {
    tally.cancelPeriods++;
    if (recorded[k]! > 0) tally.unconfirmedPeriods++;
    if (recorded[k]! > 1)
      problems.push(
        `CANCEL_UNCONFIRMED once per outstanding cancel: ${id} recorded it ${recorded[k]} times for the cancel of ${p.openAt}`,
      );
    if (p.unansweredBy === undefined) return;
    tally.unansweredPeriods++;
    if (recorded[k] === 0 && excusedUnconfirmed(data.changes.get(id) ?? [], p.openAt, input.findings)) return;
    if (recorded[k] === 0)
      problems.push(
        `CANCEL_UNCONFIRMED: ${id}'s cancel of ${p.openAt} went unanswered past ${p.unansweredBy} and it was never recorded`,
      );
  });
  return problems;
}
