/**
 * An order's outstanding cancels read from its change records alone (contract sections 4 and 7):
 * a cancel is outstanding from the change that requested it (into CANCEL_PENDING, PENDING into
 * TIMED_OUT, `cancel()` or `cancelAll()` of a TIMED_OUT order) to the change that settled it (out of
 * CANCEL_PENDING, a TIMED_OUT order's cancel rejected or its end reported). Changes that send the
 * cancel again while it is outstanding (a late ACCEPTED or fill of a TIMED_OUT order, `cancelAll()`,
 * a gave-up order's retry after CANCEL_REJECTED) keep the period and restart its wait.
 */
import type { TransitionRecord } from '../ledger/types.js';

/** One outstanding cancel of an order. */
export interface CancelPeriod {
  /** When the change that made the cancel outstanding was recorded. */
  openAt: number;
  /** When it was last (re)sent by a change: its wait for an answer counts from here. */
  requestedAt: number;
  /** When the change that settled it was recorded; undefined while it is outstanding. */
  closeAt?: number;
  /** The settling change. */
  closedBy?: TransitionRecord;
}

/** The change (re)sends the cancel. */
export function requestsCancel(t: TransitionRecord): boolean {
  if (t.to === 'CANCEL_PENDING') return t.from !== 'CANCEL_PENDING' || t.eventType === 'ORDER_CANCEL_REJECTED';
  if (t.to === 'TIMED_OUT') return t.from === 'PENDING' || t.eventType === 'ORDER_CANCEL_REQUESTED';
  return false;
}

/** The change settles the outstanding cancel: it leaves CANCEL_PENDING, or answers a TIMED_OUT order's cancel. */
export function settlesCancel(t: TransitionRecord): boolean {
  if (t.from === 'CANCEL_PENDING') return t.to !== 'CANCEL_PENDING';
  if (t.from !== 'TIMED_OUT' || t.to === 'CANCEL_PENDING') return false;
  return t.to !== 'TIMED_OUT' || t.eventType === 'ORDER_CANCEL_REJECTED';
}

/** The order's outstanding cancels, oldest first, from its change records in `seq` order. */
export function cancelPeriods(changes: readonly TransitionRecord[]): CancelPeriod[] {
  const periods: CancelPeriod[] = [];
  let open: CancelPeriod | undefined;
  for (const t of changes) {
    if (open && settlesCancel(t)) {
      open.closeAt = t.at;
      open.closedBy = t;
      open = undefined;
    } else if (requestsCancel(t)) {
      if (open) open.requestedAt = t.at;
      else {
        open = { openAt: t.at, requestedAt: t.at };
        periods.push(open);
      }
    }
  }
  return periods;
}
