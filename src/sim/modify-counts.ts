/**
 * How a session's modifies ended, counted from the ledger alone (its change records and
 * anomalies), so a resumed demo counts the whole session, not only its last run.
 */
import type { StrategyLedger } from '../ledger/types.js';

/** Modifies by outcome: each modification id counted once, by the first record that answered it. */
export interface ModifyCounts {
  /** ORDER_MODIFY_REQUESTED: modifies made outstanding. */
  requested: number;
  /** First answered by ORDER_MODIFIED (the venue's values in force). */
  applied: number;
  /** First answered by ORDER_MODIFY_REJECTED. */
  rejected: number;
  /** Never answered (the order ended meanwhile, or the venue is still to be asked). */
  unanswered: number;
  /** MODIFY_UNCONFIRMED anomalies: modifies the venue neither confirmed nor refused after the queries. */
  unconfirmed: number;
}

/** Counts every modify of the ledger's orders. */
export async function modifyCounts(ledger: StrategyLedger): Promise<ModifyCounts> {
  const counts: ModifyCounts = { requested: 0, applied: 0, rejected: 0, unanswered: 0, unconfirmed: 0 };
  for (const order of await ledger.getOrdersChangedSince(0)) {
    const answered = new Set<string>();
    const requested = new Set<string>();
    for (const t of await ledger.getTransitions(order.orderId)) {
      const id = t.modification?.modificationId;
      if (id === undefined) continue;
      if (t.eventType === 'ORDER_MODIFY_REQUESTED') requested.add(id);
      else if (requested.has(id) && !answered.has(id)) {
        // A late or repeated answer of the same modify is not a second outcome.
        answered.add(id);
        if (t.eventType === 'ORDER_MODIFIED') counts.applied++;
        else if (t.eventType === 'ORDER_MODIFY_REJECTED') counts.rejected++;
      }
    }
    counts.requested += requested.size;
    counts.unanswered += requested.size - answered.size;
  }
  counts.unconfirmed = (await ledger.getAnomalies()).filter((a) => a.kind === 'MODIFY_UNCONFIRMED').length;
  return counts;
}
