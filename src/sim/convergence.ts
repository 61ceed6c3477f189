/**
 * Promise 7's bound, checked for every order of a simulated session: once the faults stop, an
 * order still PENDING must agree with the venue within ackTimeoutMs + (queryRetries + 1) x
 * queryIntervalMs, and an order with an unanswered cancel within cancelTimeoutMs + (queryRetries +
 * 1) x queryIntervalMs, or, once CANCEL_UNCONFIRMED was recorded for that cancel, by its next
 * slow-pace query (every 10 x queryIntervalMs from the record). The session stops the virtual clock
 * at each order's bound and this watch compares the ledger with the venue's own record there.
 *
 * A cancel sent again by a change (`cancelAll()` of a TIMED_OUT order, a late ACCEPTED, a gave-up
 * order's retry) starts its own wait, as the machine does: its bound counts from that change, and
 * after a CANCEL_UNCONFIRMED recorded before it, its slow pace from the end of its own queries.
 *
 * A query is given queryIntervalMs to be answered (after that the contract counts it unanswered),
 * as the bound's "+ 1" gives the last query of the normal cycle: so the slow-pace bound is that
 * query's time plus queryIntervalMs.
 */
import type { SimulatedExchange, VenueOrder } from '../connector/simulated.js';
import type { LedgerOrder, StrategyLedger } from '../ledger/types.js';
import type { OrderStatus } from '../types.js';
import { cancelPeriods } from './cancel-periods.js';
import { type FindingCounts, countFinding, ordersWithRefusedVenueId } from './known-findings.js';
import type { ConvergenceWatch, SessionTiming } from './session.js';

/** A check due: by `at`, the order must agree with the venue. */
interface Due {
  orderId: string;
  at: number;
  /** The rule that set `at`, for the problem's text. */
  rule: string;
  /**
   * For a cancel: from when its bound counts, so a cancel sent again or a CANCEL_UNCONFIRMED
   * recorded meanwhile moves the bound on (see `cancelBound`).
   */
  cancelFrom?: number;
}

/** What the watch found. */
export interface ConvergenceFindings {
  /** One line per order that did not agree with the venue by its bound. */
  problems: string[];
  /** Orders checked against a bound. */
  checked: number;
  /** Disagreements that a known deviation of the handler explains (`KNOWN_DEVIATIONS`), one line each. */
  excused: string[];
  /** Disagreements that a known finding of the modify checks explains (`KNOWN_FINDINGS`), per finding. */
  known: FindingCounts;
}

/**
 * Where the handler is known to break promise 7, pinned so the seeds keep judging everything else
 * while the fix is pending; `test/simulation/known-deviations.test.ts` checks that each one still
 * happens, so the flag is turned off with the fix.
 */
export const KNOWN_DEVIATIONS = {
  /**
   * An order the handler gave up on (TIMED_OUT) whose cancel the venue answers, by rejecting it
   * naming the order ("order is FILLED", with its venue id: it exists, and has ended) or by
   * CANCELLED, is not asked about: with the rejection it stays TIMED_OUT, its cancel settled; with
   * CANCELLED it is final. Its end, and fills lost on the wire, are learnt only if a reconcile or
   * a restart happens to ask. Seen after a venue outage, when the session's closing cancelAll()
   * re-sends the cancel of orders gone CANCEL_UNCONFIRMED (seeds 53, 586): the re-send
   * restarts the cancel's wait, which drops the slow-pace query that would have found the rest.
   */
  givenUpOrderNotAskedAfterCancelAnswered: false,
};

/**
 * The ledger shows the known deviation above: the order's last cancel was outstanding while it was
 * TIMED_OUT and the venue's answer settled it straight from there.
 */
async function notAskedAfterCancelAnswered(ledger: StrategyLedger, orderId: string): Promise<boolean> {
  if (!KNOWN_DEVIATIONS.givenUpOrderNotAskedAfterCancelAnswered) return false;
  const settled = cancelPeriods(await ledger.getTransitions(orderId)).at(-1)?.closedBy;
  return settled?.from === 'TIMED_OUT' && /^(reply|query) (CANCEL_REJECTED|CANCELLED) #/.test(settled.cause);
}

/** Statuses of an order the handler treats as not working: what agrees with a venue that never had it. */
const NOT_WORKING: ReadonlySet<OrderStatus> = new Set(['TIMED_OUT', 'REJECTED', 'CANCELLED']);

/** Statuses with a cancel outstanding (TIMED_OUT: the cancel sent on the timeout, tracked until answered). */
const CANCELLING: ReadonlySet<OrderStatus> = new Set(['CANCEL_PENDING', 'TIMED_OUT']);

/** Why `order` does not agree with the venue's record `v` (undefined: the venue does not know it), or undefined. */
export function disagreement(order: LedgerOrder, v: VenueOrder | undefined): string | undefined {
  if (!v) return NOT_WORKING.has(order.status) ? undefined : `it is ${order.status}, the venue does not know it`;
  if (order.status !== v.status) return `it is ${order.status}, the venue says ${v.status}`;
  if (order.fills.length !== v.fills.length)
    return `it has ${order.fills.length} fills, the venue made ${v.fills.length}`;
  return undefined;
}

/** A watch of promise 7's bound for a session run with `timing`, and what it found. */
export function convergenceWatch(timing: SessionTiming): ConvergenceWatch & { findings: ConvergenceFindings } {
  const cycleMs = (timing.queryRetries + 1) * timing.queryIntervalMs;
  const slowMs = 10 * timing.queryIntervalMs;
  const findings: ConvergenceFindings = { problems: [], checked: 0, excused: [], known: {} };
  const due: Due[] = [];
  const scheduled = new Set<string>();
  let stoppedAt = 0;

  /** The first slow-pace query after `after` of a cancel made CANCEL_UNCONFIRMED at `unconfirmedAt`. */
  const slowQueryAfter = (unconfirmedAt: number, after: number): number =>
    unconfirmedAt + slowMs * Math.max(1, Math.floor((after - unconfirmedAt) / slowMs) + 1);

  const schedule = (d: Due): void => {
    due.push(d);
    scheduled.add(d.orderId);
    findings.checked++;
  };

  /**
   * The bound of the order's outstanding cancel, judged from `from` on (when the faults stopped,
   * or cancelAll() made it outstanding): counted from its last (re)send, or from the slow pace its
   * CANCEL_UNCONFIRMED put it on. Undefined when no cancel is outstanding.
   */
  const cancelBound = async (ledger: StrategyLedger, orderId: string, from: number) => {
    const period = cancelPeriods(await ledger.getTransitions(orderId)).at(-1);
    if (!period || period.closeAt !== undefined) return undefined;
    const unconfirmed = (await ledger.getAnomalies()).find(
      (a) => a.kind === 'CANCEL_UNCONFIRMED' && a.orderId === orderId && a.at >= period.openAt,
    )?.at;
    const sentAt = period.requestedAt;
    if (unconfirmed !== undefined && unconfirmed >= sentAt) {
      return {
        at: slowQueryAfter(unconfirmed, from) + timing.queryIntervalMs,
        rule: 'CANCEL_UNCONFIRMED: by its next slow-pace query',
      };
    }
    if (unconfirmed !== undefined) {
      // Sent again after its CANCEL_UNCONFIRMED: its own queries, then the slow pace (recorded once, not again).
      const slowFrom = sentAt + timing.cancelTimeoutMs + cycleMs;
      const at = (from <= slowFrom ? slowFrom + slowMs : slowQueryAfter(slowFrom, from)) + timing.queryIntervalMs;
      return { at, rule: 'CANCEL_UNCONFIRMED, sent again: its queries, then by its next slow-pace query' };
    }
    const at = Math.max(from, sentAt) + timing.cancelTimeoutMs + cycleMs;
    return { at, rule: 'cancelTimeoutMs + (queryRetries + 1) x queryIntervalMs' };
  };

  /** The bound of an order whose cancel is outstanding from `from` on. */
  const scheduleCancel = async (ledger: StrategyLedger, orderId: string, from: number, why: string) => {
    const bound = await cancelBound(ledger, orderId, from);
    const at = bound?.at ?? from + timing.cancelTimeoutMs + cycleMs;
    schedule({ orderId, at, rule: `${why}: ${bound?.rule ?? 'no cancel outstanding'}`, cancelFrom: from });
  };

  /** A disagreement at the bound, unless the cancel was sent again or went CANCEL_UNCONFIRMED meanwhile (a later bound). */
  const judge = async (d: Due, order: LedgerOrder, v: VenueOrder | undefined, ledger: StrategyLedger) => {
    const why = disagreement(order, v);
    if (why === undefined) return;
    const anomalies = (await ledger.getAnomalies()).filter((a) => a.orderId === d.orderId);
    if (ordersWithRefusedVenueId(anomalies, () => v?.venueOrderIds).size > 0) {
      countFinding(findings.known, 'replacementVenueIdRefused');
      return;
    }
    await judgeDisagreement(d, why, ledger);
  };

  const judgeDisagreement = async (d: Due, why: string, ledger: StrategyLedger) => {
    if (d.cancelFrom !== undefined) {
      const bound = await cancelBound(ledger, d.orderId, d.cancelFrom);
      if (bound && bound.at > d.at) {
        due.push({ ...d, at: bound.at, rule: `${d.rule}; then ${bound.rule}` });
        return;
      }
    }
    const problem = `Promise 7 (bound): ${d.orderId} (${d.rule}) at ${d.at - stoppedAt} ms after the faults stopped: ${why}`;
    if (await notAskedAfterCancelAnswered(ledger, d.orderId)) findings.excused.push(problem);
    else findings.problems.push(problem);
  };

  return {
    findings,
    async faultsStopped(now, ledger) {
      stoppedAt = now;
      for (const order of await ledger.getOpenOrders()) {
        if (order.status === 'PENDING') {
          const rule = 'PENDING when the faults stopped: ackTimeoutMs + (queryRetries + 1) x queryIntervalMs';
          schedule({ orderId: order.orderId, at: now + timing.ackTimeoutMs + cycleMs, rule });
        } else if (CANCELLING.has(order.status)) {
          await scheduleCancel(ledger, order.orderId, now, `${order.status} when the faults stopped`);
        }
      }
    },
    async cancelledAll(now, orderIds, ledger) {
      for (const orderId of orderIds) {
        if (!scheduled.has(orderId)) await scheduleCancel(ledger, orderId, now, 'cancelled by cancelAll()');
      }
    },
    next() {
      return due.reduce<number | undefined>((min, d) => (min === undefined || d.at < min ? d.at : min), undefined);
    },
    async check(now, ledger, exchange: SimulatedExchange) {
      const ripe = due.filter((d) => d.at <= now);
      if (ripe.length === 0) return;
      due.splice(0, due.length, ...due.filter((d) => d.at > now));
      const venue = new Map(exchange.venueOrders().map((v) => [v.clientOrderId, v]));
      for (const d of ripe) {
        const order = await ledger.getOrder(d.orderId);
        if (order) await judge(d, order, venue.get(d.orderId), ledger);
      }
    },
  };
}
