/**
 * Contract sections 4 and 4b event by event (section 4b's rows are in `contract-rows-4b.ts`): each
 * row says, for an order in some status, which event, on what condition of the order, leads to
 * which status and what else it does. Written by hand from `shared/contract.md` (the tables and the
 * rules under them), with `docs/adr/0001-contract-readings.md` where the contract is silent; nothing
 * is read from `machines/` (a test checks that no `src/sim/contract-*` file imports from it).
 * `contract-table.ts` states the same sections as bare status changes; a test checks the two
 * statements agree.
 *
 * The rows judge news after it was classified: an exact repeat, a fill with a known `venueFillId`,
 * an ACCEPTED with the known venue id, a CANCEL_REJECTED with no cancel outstanding are
 * `duplicate` before any row is looked at. A reply that no row takes changes nothing (LATE_REPLY).
 */
import type { AnomalyKind, OrderStatus } from '../types.js';
import { SECTION_4B_ROWS } from './contract-rows-4b.js';

/** How much of the order is filled: nothing, part of it, or all of it (or more). */
export type FillsState = 'none' | 'some' | 'complete';

/** What the rows look at: an order reduced to the facts the contract's conditions name. */
export interface OrderFacts {
  status: OrderStatus;
  fills: FillsState;
  /** The venue acknowledged the order (an ACCEPTED, or a query answer naming a venue id). */
  acknowledged: boolean;
  /**
   * The handler gave up on the order: it was TIMED_OUT, or made CANCELLED as NOT_FOUND_AT_VENUE
   * before any acknowledgement. Such an order is cancelled again on any sign of life.
   */
  gaveUp: boolean;
  /** The final status was reported by the venue (a reply or a query answer), not decided by the handler. */
  venueReportedFinal: boolean;
  /** A cancel awaits the venue's word. */
  cancelOutstanding: boolean;
  /** The ack deadline has passed (before it, "the venue does not know it" may mean "not arrived yet"). */
  pastAckDeadline: boolean;
  /** Section 4b: a modify awaits the venue's word (also on an order that ended with it outstanding). */
  modifyOutstanding: boolean;
  /** Section 4b: the outstanding modify asks for a quantity above the quantity in force. */
  modifyRaises: boolean;
}

/**
 * News for an order, as the contract's table names it. ACCEPTED, FILL, REJECTED, CANCELLED,
 * EXPIRED and CANCEL_REJECTED are the venue's replies (or what a query answer stands for);
 * CANCEL is `cancel()`; NOT_FOUND is the venue, asked, not knowing the order (an answer that is
 * not stale); ACK_TIMEOUT is the ack deadline passed with the queries spent unanswered. Section
 * 4b: MODIFY is `modify()` passing its validation; MODIFIED and MODIFY_REJECTED are the venue's
 * replies, or the query answers that count as them.
 */
export type ContractEvent =
  | { type: 'ACCEPTED' }
  /** A fill with a new `venueFillId`; `completes`: the filled quantity reaches the order's with it. */
  | { type: 'FILL'; completes: boolean }
  | { type: 'REJECTED' }
  | { type: 'CANCELLED' }
  | { type: 'EXPIRED' }
  | { type: 'CANCEL_REJECTED' }
  | { type: 'CANCEL' }
  | { type: 'NOT_FOUND' }
  | { type: 'ACK_TIMEOUT' }
  /** `raises`: the requested quantity is above the quantity in force. */
  | { type: 'MODIFY'; raises: boolean }
  /** `completes`: the filled quantity reaches the quantity the MODIFIED puts in force. */
  | { type: 'MODIFIED'; completes: boolean }
  | { type: 'MODIFY_REJECTED' };

/** The name of a contract event. */
export type ContractEventType = ContractEvent['type'];

/** Every contract event, FILL, MODIFY and MODIFIED in both of their kinds. */
export const CONTRACT_EVENTS: readonly ContractEvent[] = [
  { type: 'ACCEPTED' },
  { type: 'FILL', completes: false },
  { type: 'FILL', completes: true },
  { type: 'REJECTED' },
  { type: 'CANCELLED' },
  { type: 'EXPIRED' },
  { type: 'CANCEL_REJECTED' },
  { type: 'CANCEL' },
  { type: 'NOT_FOUND' },
  { type: 'ACK_TIMEOUT' },
  { type: 'MODIFY', raises: false },
  { type: 'MODIFY', raises: true },
  { type: 'MODIFIED', completes: false },
  { type: 'MODIFIED', completes: true },
  { type: 'MODIFY_REJECTED' },
];

/** One row: in a status of `from`, `event`, when `when` holds, leads to `to` and does `cancel`. */
export interface ContractRow {
  /** The contract's words for the row (table or rule), short. */
  says: string;
  from: readonly OrderStatus[];
  event: ContractEventType;
  /** The condition on the order (and the fill); the row applies only when it holds. */
  when?: (facts: OrderFacts, event: ContractEvent) => boolean;
  /** The status after the event: a status, `same` (unchanged), or decided from the order's facts and the event. */
  to: OrderStatus | 'same' | ((facts: OrderFacts, event: ContractEvent) => OrderStatus);
  /** A cancel is sent (first time or again), or the outstanding one is settled. */
  cancel?: 'send' | 'settle';
  /** Section 4b: a modify is sent, or the outstanding one is resolved (MODIFIED or MODIFY_REJECTED). */
  modify?: 'send' | 'settle';
  /** The anomaly the row records besides applying the event. */
  records?: AnomalyKind;
  /** The reply's outcome when it is not `applied`. */
  answers?: 'duplicate';
  /** The row changes nothing that is recorded (no ledger change). */
  recordsNothing?: true;
}

const FINAL: readonly OrderStatus[] = ['FILLED', 'REJECTED', 'CANCELLED', 'EXPIRED'];
const completes = (_f: OrderFacts, e: ContractEvent): boolean => e.type === 'FILL' && e.completes;
const notComplete = (_f: OrderFacts, e: ContractEvent): boolean => e.type === 'FILL' && !e.completes;
/**
 * Late news reopens a CANCELLED order only when the handler gave up on it and the venue did not
 * itself report it ended: "An order made CANCELLED as NOT_FOUND_AT_VENUE before any acknowledgement
 * takes late news the same way [as TIMED_OUT] ... A final status the venue itself reported ... is
 * never reopened that way".
 */
const reopens = (f: OrderFacts): boolean => f.status === 'CANCELLED' && f.gaveUp && !f.venueReportedFinal;

/** Contract section 4, row by row (the table first, then the rules under it). */
export const SECTION_4_ROWS: readonly ContractRow[] = [
  { says: 'PENDING | ACCEPTED | OPEN', from: ['PENDING'], event: 'ACCEPTED', to: 'OPEN' },
  {
    says: 'PENDING, OPEN, PARTIALLY_FILLED | FILL, order not complete | PARTIALLY_FILLED',
    from: ['PENDING', 'OPEN', 'PARTIALLY_FILLED'],
    event: 'FILL',
    when: notComplete,
    to: 'PARTIALLY_FILLED',
  },
  {
    says: 'PENDING, OPEN, PARTIALLY_FILLED, CANCEL_PENDING | FILL, order complete | FILLED',
    from: ['PENDING', 'OPEN', 'PARTIALLY_FILLED', 'CANCEL_PENDING'],
    event: 'FILL',
    when: completes,
    to: 'FILLED',
  },
  {
    says: 'CANCEL_PENDING | FILL, order not complete | CANCEL_PENDING (fill applied)',
    from: ['CANCEL_PENDING'],
    event: 'FILL',
    when: notComplete,
    to: 'same',
  },
  {
    says: 'FILLED | FILL with a new venueFillId | FILLED (fill applied, OVERFILL recorded)',
    from: ['FILLED'],
    event: 'FILL',
    to: 'same',
    records: 'OVERFILL',
  },
  {
    says: 'PENDING, OPEN, CANCEL_PENDING (no fills) | REJECTED | REJECTED',
    from: ['PENDING', 'OPEN', 'CANCEL_PENDING'],
    event: 'REJECTED',
    when: (f) => f.fills === 'none',
    to: 'REJECTED',
  },
  {
    says: 'PENDING, OPEN, PARTIALLY_FILLED, CANCEL_PENDING | CANCELLED | CANCELLED (fills kept)',
    from: ['PENDING', 'OPEN', 'PARTIALLY_FILLED', 'CANCEL_PENDING'],
    event: 'CANCELLED',
    to: 'CANCELLED',
  },
  {
    says: 'PENDING, OPEN, PARTIALLY_FILLED, CANCEL_PENDING | EXPIRED | EXPIRED (fills kept)',
    from: ['PENDING', 'OPEN', 'PARTIALLY_FILLED', 'CANCEL_PENDING'],
    event: 'EXPIRED',
    to: 'EXPIRED',
  },
  {
    says: 'PENDING, OPEN, PARTIALLY_FILLED | cancel() | CANCEL_PENDING',
    from: ['PENDING', 'OPEN', 'PARTIALLY_FILLED'],
    event: 'CANCEL',
    to: 'CANCEL_PENDING',
    cancel: 'send',
  },
  {
    says: 'CANCEL_PENDING | ACCEPTED (cancelled before the ack) | CANCEL_PENDING (venue id learnt)',
    from: ['CANCEL_PENDING'],
    event: 'ACCEPTED',
    to: 'same',
  },
  {
    says: 'CANCEL_PENDING | CANCEL_REJECTED | PARTIALLY_FILLED if it has fills, else OPEN if acknowledged, else PENDING',
    from: ['CANCEL_PENDING'],
    event: 'CANCEL_REJECTED',
    // With a modify outstanding section 4b's row takes it: back to MODIFY_PENDING.
    when: (f) => !f.gaveUp && !f.modifyOutstanding,
    to: (f) => (f.fills !== 'none' ? 'PARTIALLY_FILLED' : f.acknowledged ? 'OPEN' : 'PENDING'),
    cancel: 'settle',
  },
  {
    says: 'CANCEL_PENDING | CANCEL_REJECTED | an order that came from TIMED_OUT stays CANCEL_PENDING, the cancel retried',
    from: ['CANCEL_PENDING'],
    event: 'CANCEL_REJECTED',
    when: (f) => f.gaveUp,
    to: 'same',
    cancel: 'send',
  },
  {
    says: 'OPEN, PARTIALLY_FILLED, FILLED, CANCELLED, EXPIRED | ACCEPTED | unchanged (venue id learnt; outcome duplicate)',
    from: ['OPEN', 'PARTIALLY_FILLED', 'FILLED', 'CANCELLED', 'EXPIRED'],
    event: 'ACCEPTED',
    when: (f) => !reopens(f),
    to: 'same',
    answers: 'duplicate',
  },
  {
    says: 'PENDING | no ack by the ack deadline, the venue cannot be asked after the retries | TIMED_OUT',
    from: ['PENDING'],
    event: 'ACK_TIMEOUT',
    to: 'TIMED_OUT',
    cancel: 'send',
  },
  {
    says: 'PENDING | no ack by the ack deadline, and the venue, asked, does not know the order | TIMED_OUT',
    from: ['PENDING'],
    event: 'NOT_FOUND',
    when: (f) => f.pastAckDeadline,
    to: 'TIMED_OUT',
    cancel: 'send',
  },
  {
    says: 'OPEN, PARTIALLY_FILLED, CANCEL_PENDING | the venue, asked, does not know the order | CANCELLED (NOT_FOUND_AT_VENUE)',
    from: ['OPEN', 'PARTIALLY_FILLED', 'CANCEL_PENDING'],
    event: 'NOT_FOUND',
    to: 'CANCELLED',
    records: 'VENUE_LOST_ORDER',
  },
  {
    says: 'TIMED_OUT | ACCEPTED | CANCEL_PENDING (cancel sent again)',
    from: ['TIMED_OUT'],
    event: 'ACCEPTED',
    to: 'CANCEL_PENDING',
    cancel: 'send',
  },
  {
    says: 'TIMED_OUT | FILL with the order not complete | CANCEL_PENDING (fill applied; cancel sent again)',
    from: ['TIMED_OUT'],
    event: 'FILL',
    when: notComplete,
    to: 'CANCEL_PENDING',
    cancel: 'send',
  },
  {
    says: 'TIMED_OUT | FILL, order complete | FILLED',
    from: ['TIMED_OUT'],
    event: 'FILL',
    when: completes,
    to: 'FILLED',
  },
  { says: 'TIMED_OUT | REJECTED | REJECTED', from: ['TIMED_OUT'], event: 'REJECTED', to: 'REJECTED' },
  { says: 'TIMED_OUT | CANCELLED | CANCELLED', from: ['TIMED_OUT'], event: 'CANCELLED', to: 'CANCELLED' },
  { says: 'TIMED_OUT | EXPIRED | EXPIRED', from: ['TIMED_OUT'], event: 'EXPIRED', to: 'EXPIRED' },
  {
    says: 'TIMED_OUT | CANCEL_REJECTED (the usual answer to the cancel sent on timeout) | TIMED_OUT, not an anomaly',
    from: ['TIMED_OUT'],
    event: 'CANCEL_REJECTED',
    to: 'same',
    cancel: 'settle',
  },
  {
    says: 'CANCELLED, EXPIRED | FILL (it crossed the cancel at the venue) | FILLED if now complete',
    from: ['CANCELLED', 'EXPIRED'],
    event: 'FILL',
    when: completes,
    to: 'FILLED',
  },
  {
    says: 'CANCELLED, EXPIRED | FILL (it crossed the cancel at the venue) | fill applied, else unchanged',
    from: ['CANCELLED', 'EXPIRED'],
    event: 'FILL',
    when: (f, e) => notComplete(f, e) && !reopens(f),
    to: 'same',
  },
  {
    says: 'REJECTED | FILL | REJECTED (fill applied, LATE_REPLY recorded)',
    from: ['REJECTED'],
    event: 'FILL',
    to: 'same',
    records: 'LATE_REPLY',
  },
  // The rules under the table.
  {
    says: 'rules: CANCELLED as NOT_FOUND_AT_VENUE by a handler that gave up | ACCEPTED | CANCEL_PENDING, cancel sent again',
    from: ['CANCELLED'],
    event: 'ACCEPTED',
    when: reopens,
    to: 'CANCEL_PENDING',
    cancel: 'send',
  },
  {
    says: 'rules: CANCELLED as NOT_FOUND_AT_VENUE by a handler that gave up | FILL, not complete | CANCEL_PENDING, cancel sent again',
    from: ['CANCELLED'],
    event: 'FILL',
    when: (f, e) => notComplete(f, e) && reopens(f),
    to: 'CANCEL_PENDING',
    cancel: 'send',
  },
  {
    says: 'rules: cancel() on TIMED_OUT returns true and the cancel is sent again',
    from: ['TIMED_OUT'],
    event: 'CANCEL',
    to: 'same',
    cancel: 'send',
  },
  {
    says: 'rules: cancel() on CANCEL_PENDING returns true and it stays as it is',
    from: ['CANCEL_PENDING'],
    event: 'CANCEL',
    to: 'same',
    recordsNothing: true,
  },
  {
    says: 'ADR 0001.4: TIMED_OUT | the venue, asked about the cancel, does not know the order | TIMED_OUT, cancel settled',
    from: ['TIMED_OUT'],
    event: 'NOT_FOUND',
    when: (f) => f.cancelOutstanding,
    to: 'same',
    cancel: 'settle',
  },
];

/** Every row of sections 4 and 4b. */
export const CONTRACT_ROWS: readonly ContractRow[] = [...SECTION_4_ROWS, ...SECTION_4B_ROWS];

/** The rows that take `event` for an order with these facts (the rows never overlap: at most one). */
export function rowsFor(facts: OrderFacts, event: ContractEvent): ContractRow[] {
  return CONTRACT_ROWS.filter(
    (r) => r.event === event.type && r.from.includes(facts.status) && (r.when === undefined || r.when(facts, event)),
  );
}

/** What an event does to an order by the contract: the row taken (none: nothing changes) and the facts after. */
export interface ContractStep {
  row: ContractRow | undefined;
  from: OrderStatus;
  to: OrderStatus;
  facts: OrderFacts;
}

/** Applies `event` to an order with `facts` by the rows of sections 4 and 4b; without a row nothing changes. */
export function contractStep(facts: OrderFacts, event: ContractEvent): ContractStep {
  const rows = rowsFor(facts, event);
  if (rows.length > 1) throw new Error(`Invariant: one contract row per event, got ${rows.length} for ${event.type}`);
  const row = rows[0];
  if (!row) return { row, from: facts.status, to: facts.status, facts };
  const to = row.to === 'same' ? facts.status : typeof row.to === 'function' ? row.to(facts, event) : row.to;
  const next: OrderFacts = { ...facts, status: to };
  if (event.type === 'ACCEPTED') next.acknowledged = true;
  if (event.type === 'FILL') next.fills = event.completes ? 'complete' : 'some';
  if (to === 'TIMED_OUT' && facts.status !== 'TIMED_OUT') next.gaveUp = true;
  if (event.type === 'NOT_FOUND' && to === 'CANCELLED') next.gaveUp = facts.gaveUp || !facts.acknowledged;
  // REJECTED, CANCELLED and EXPIRED as replies: the venue reported the order ended.
  if (to === event.type) next.venueReportedFinal = true;
  // An order that reached a final status has no cancel to wait for.
  if (row.cancel === 'settle' || (FINAL.includes(to) && !FINAL.includes(facts.status))) next.cancelOutstanding = false;
  if (row.cancel === 'send') next.cancelOutstanding = true;
  modifyFacts(next, facts, event, row, to);
  return { row, from: facts.status, to, facts: next };
}

/** Section 4b's facts after a row was taken: the modify outstanding, and fills against the values a MODIFIED put in force. */
function modifyFacts(next: OrderFacts, facts: OrderFacts, event: ContractEvent, row: ContractRow, to: OrderStatus) {
  if (event.type === 'MODIFIED') next.fills = event.completes ? 'complete' : facts.fills === 'none' ? 'none' : 'some';
  // Only FILLED, CANCELLED and EXPIRED keep a modify outstanding (asked about until resolved): a
  // REJECTED order, or one the venue does not know, has nothing left there to modify.
  const ends = to === 'REJECTED' || (event.type === 'NOT_FOUND' && to === 'CANCELLED');
  if (row.modify === 'settle' || (ends && to !== facts.status)) {
    next.modifyOutstanding = false;
    next.modifyRaises = false;
  }
  if (row.modify === 'send' && event.type === 'MODIFY') {
    next.modifyOutstanding = true;
    next.modifyRaises = event.raises;
  }
}

/** The facts of an order just recorded and sent. */
export function initialFacts(): OrderFacts {
  return {
    status: 'PENDING',
    fills: 'none',
    acknowledged: false,
    gaveUp: false,
    venueReportedFinal: false,
    cancelOutstanding: false,
    pastAckDeadline: false,
    modifyOutstanding: false,
    modifyRaises: false,
  };
}

/** Every combination of facts, reachable or not (for checks that must hold for all of them). */
export function allFacts(): OrderFacts[] {
  const statuses: OrderStatus[] = [
    'PENDING',
    'OPEN',
    'PARTIALLY_FILLED',
    'FILLED',
    'MODIFY_PENDING',
    'CANCEL_PENDING',
    'CANCELLED',
    'REJECTED',
    'EXPIRED',
    'TIMED_OUT',
  ];
  const out: OrderFacts[] = [];
  const bools = [false, true];
  for (const status of statuses)
    for (const fills of ['none', 'some', 'complete'] as const)
      for (const acknowledged of bools)
        for (const gaveUp of bools)
          for (const venueReportedFinal of bools)
            for (const cancelOutstanding of bools)
              for (const pastAckDeadline of bools)
                for (const modifyOutstanding of bools)
                  for (const modifyRaises of bools)
                    out.push({
                      status,
                      fills,
                      acknowledged,
                      gaveUp,
                      venueReportedFinal,
                      cancelOutstanding,
                      pastAckDeadline,
                      modifyOutstanding,
                      modifyRaises,
                    });
  return out;
}
