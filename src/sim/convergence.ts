/**
 * Promise 7's bound, checked for every order of a simulated session: once the faults stop, an
 * order still PENDING must agree with the venue within ackTimeoutMs + (queryRetries + 1) x
 * queryIntervalMs, and an order with an unanswered cancel within cancelTimeoutMs + (queryRetries +
 * 1) x queryIntervalMs, or, once CANCEL_UNCONFIRMED was recorded for that cancel, by its next
 * slow-pace query (every 10 x queryIntervalMs from the record). The session stops the virtual clock
 * at each order's bound and this watch compares the ledger with the venue's own record there.
 *
 * A query is given queryIntervalMs to be answered (after that the contract counts it unanswered),
 * as the bound's "+ 1" gives the last query of the normal cycle: so the slow-pace bound is that
 * query's time plus queryIntervalMs.
 */
import type { SimulatedExchange, VenueOrder } from '../connector/simulated.js';
import type { LedgerOrder, StrategyLedger } from '../ledger/types.js';
import type { OrderStatus } from '../types.js';
import type { ConvergenceWatch, SessionTiming } from './session.js';

/** A check due: by `at`, the order must agree with the venue. */
interface Due {
  orderId: string;
  at: number;
  /** The rule that set `at`, for the problem's text. */
  rule: string;
  /**
   * For a cancel not CANCEL_UNCONFIRMED when the bound was set: when its request began, so a
   * CANCEL_UNCONFIRMED recorded for it later moves the bound to its next slow-pace query.
   */
  cancelRequestedAt?: number;
}

/** What the watch found. */
export interface ConvergenceFindings {
  /** One line per order that did not agree with the venue by its bound. */
  problems: string[];
  /** Orders checked against a bound. */
  checked: number;
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
  const findings: ConvergenceFindings = { problems: [], checked: 0 };
  const due: Due[] = [];
  const scheduled = new Set<string>();
  let stoppedAt = 0;

  /** The first slow-pace query after `after` of a cancel made CANCEL_UNCONFIRMED at `unconfirmedAt`. */
  const slowQueryAfter = (unconfirmedAt: number, after: number): number =>
    unconfirmedAt + slowMs * Math.max(1, Math.floor((after - unconfirmedAt) / slowMs) + 1);

  /** When the order's outstanding cancel began: its last change into CANCEL_PENDING or TIMED_OUT. */
  const cancelRequestedAt = async (ledger: StrategyLedger, orderId: string): Promise<number> => {
    const changes = await ledger.getTransitions(orderId);
    const start = changes.findLast((t) => t.from !== t.to && CANCELLING.has(t.to));
    return start?.at ?? stoppedAt;
  };

  /** When CANCEL_UNCONFIRMED was recorded for the cancel requested at `requestedAt`, if it was. */
  const unconfirmedAt = async (ledger: StrategyLedger, orderId: string, requestedAt: number) =>
    (await ledger.getAnomalies()).findLast(
      (a) => a.kind === 'CANCEL_UNCONFIRMED' && a.orderId === orderId && a.at >= requestedAt,
    )?.at;

  const schedule = (d: Due): void => {
    due.push(d);
    scheduled.add(d.orderId);
    findings.checked++;
  };

  /** The bound of an order whose cancel is outstanding from `from` on. */
  const scheduleCancel = async (ledger: StrategyLedger, orderId: string, from: number, why: string) => {
    const requestedAt = await cancelRequestedAt(ledger, orderId);
    const unconfirmed = await unconfirmedAt(ledger, orderId, requestedAt);
    if (unconfirmed !== undefined) {
      const at = slowQueryAfter(unconfirmed, from) + timing.queryIntervalMs;
      schedule({ orderId, at, rule: `${why}, CANCEL_UNCONFIRMED: by its next slow-pace query` });
    } else {
      const rule = `${why}: cancelTimeoutMs + (queryRetries + 1) x queryIntervalMs`;
      schedule({ orderId, at: from + timing.cancelTimeoutMs + cycleMs, rule, cancelRequestedAt: requestedAt });
    }
  };

  /** A disagreement at the bound, unless CANCEL_UNCONFIRMED recorded meanwhile moves the bound on. */
  const judge = async (d: Due, order: LedgerOrder, v: VenueOrder | undefined, ledger: StrategyLedger) => {
    const why = disagreement(order, v);
    if (why === undefined) return;
    if (d.cancelRequestedAt !== undefined) {
      const unconfirmed = await unconfirmedAt(ledger, d.orderId, d.cancelRequestedAt);
      if (unconfirmed !== undefined) {
        const at = slowQueryAfter(unconfirmed, stoppedAt) + timing.queryIntervalMs;
        if (at > d.at) {
          due.push({ orderId: d.orderId, at, rule: `${d.rule}; CANCEL_UNCONFIRMED: by its next slow-pace query` });
          return;
        }
      }
    }
    findings.problems.push(
      `Promise 7 (bound): ${d.orderId} (${d.rule}) at ${d.at - stoppedAt} ms after the faults stopped: ${why}`,
    );
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
