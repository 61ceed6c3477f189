/**
 * Contract section 4b (modifying an order) event by event, in the form of `contract-rows.ts`: for
 * an order in some status, which event, on what condition of the order, leads to which status and
 * what it does to the cancel and the modify outstanding. Written by hand from `shared/contract.md`
 * section 4b (its table and the text under it); nothing is read from `machines/` or the handler.
 *
 * The facts the rows add: whether a modify is outstanding (`modifyOutstanding`) and whether it asks
 * for a quantity above the one in force (`modifyRaises`). A FILL `completes` at the values in
 * force; a MODIFIED `completes` when the filled quantity reaches the quantity it puts in force.
 * A query answer that resolves a modify is the MODIFIED or MODIFY_REJECTED it counts as.
 *
 * Readings where section 4b is silent (the reference model holds the handler to them):
 * - A MODIFY_PENDING order takes a new ACCEPTED as OPEN and PARTIALLY_FILLED do (ADR 0001.3): the
 *   venue id is learnt, outcome `duplicate` (a MODIFY_PENDING order was OPEN or PARTIALLY_FILLED).
 * - REJECTED, or the venue not knowing the order, resolves an outstanding modify with the order:
 *   section 4b keeps asking only about an order that ended FILLED, CANCELLED or EXPIRED, and a
 *   "not known" answer for a final order changes nothing (ADR 0001.7), so asking again could never
 *   resolve it (`contractStep` applies this). For the same reason an order that ended FILLED,
 *   CANCELLED or EXPIRED with a modify outstanding, once the venue does not know it, has that
 *   modify refused (its values stay): otherwise it would be asked about forever (promise 7).
 * - A MODIFIED answering no outstanding modify applies the venue's values and records LATE_REPLY
 *   (outcome `applied`, ADR 0007); it changes the status only where the table says so
 *   (CANCEL_PENDING, FILLED when the new quantity is reached), elsewhere the status is unchanged.
 */
import type { ContractEvent, ContractRow, OrderFacts } from './contract-rows.js';
import type { OrderStatus } from '../types.js';

const outstanding = (f: OrderFacts): boolean => f.modifyOutstanding;
const noneOutstanding = (f: OrderFacts): boolean => !f.modifyOutstanding;
const fillCompletes = (e: ContractEvent): boolean => e.type === 'FILL' && e.completes;
const modifiedCompletes = (e: ContractEvent): boolean => e.type === 'MODIFIED' && e.completes;
/** "FILLED if filled >= the quantity, else PARTIALLY_FILLED if it has fills, else OPEN". */
const workingOrFilled = (complete: boolean, f: OrderFacts): OrderStatus =>
  complete ? 'FILLED' : f.fills !== 'none' ? 'PARTIALLY_FILLED' : 'OPEN';

/** The statuses an order can end in with a modify still outstanding (it is asked about until resolved). */
const ENDED_WITH_MODIFY: readonly OrderStatus[] = ['FILLED', 'CANCELLED', 'EXPIRED'];
/** Every status but MODIFY_PENDING (which has a modify outstanding by definition). */
const NOT_MODIFYING: readonly OrderStatus[] = [
  'PENDING',
  'OPEN',
  'PARTIALLY_FILLED',
  'FILLED',
  'CANCEL_PENDING',
  'CANCELLED',
  'REJECTED',
  'EXPIRED',
  'TIMED_OUT',
];

/** Contract section 4b, row by row (the table first, then the text under it, then the readings). */
export const SECTION_4B_ROWS: readonly ContractRow[] = [
  {
    says: '4b: OPEN, PARTIALLY_FILLED | modify() | MODIFY_PENDING (recorded with the requested values first)',
    from: ['OPEN', 'PARTIALLY_FILLED'],
    event: 'MODIFY',
    to: 'MODIFY_PENDING',
    modify: 'send',
  },
  {
    says: '4b: MODIFY_PENDING | MODIFIED | FILLED if filled >= the new quantity, else PARTIALLY_FILLED if it has fills, else OPEN',
    from: ['MODIFY_PENDING'],
    event: 'MODIFIED',
    to: (f, e) => workingOrFilled(modifiedCompletes(e), f),
    modify: 'settle',
  },
  {
    says: '4b: MODIFY_PENDING | MODIFY_REJECTED | FILLED if filled >= the quantity in force, else PARTIALLY_FILLED if it has fills, else OPEN (OVERFILL if above)',
    from: ['MODIFY_PENDING'],
    event: 'MODIFY_REJECTED',
    to: (f) => workingOrFilled(f.fills === 'complete', f),
    modify: 'settle',
  },
  {
    says: '4b: MODIFY_PENDING | FILL, order not complete at the values in force | MODIFY_PENDING (fill applied)',
    from: ['MODIFY_PENDING'],
    event: 'FILL',
    when: (_f, e) => !fillCompletes(e),
    to: 'same',
  },
  {
    says: '4b: MODIFY_PENDING | FILL, order complete at the values in force | FILLED',
    from: ['MODIFY_PENDING'],
    event: 'FILL',
    when: (f, e) => fillCompletes(e) && !f.modifyRaises,
    to: 'FILLED',
  },
  {
    says: '4b: MODIFY_PENDING | FILL, complete at the values in force, the modify raises the quantity | MODIFY_PENDING',
    from: ['MODIFY_PENDING'],
    event: 'FILL',
    when: (f, e) => fillCompletes(e) && f.modifyRaises,
    to: 'same',
  },
  {
    says: '4b: MODIFY_PENDING | CANCELLED | CANCELLED (fills kept; the modify still asked about)',
    from: ['MODIFY_PENDING'],
    event: 'CANCELLED',
    to: 'CANCELLED',
  },
  {
    says: '4b: MODIFY_PENDING | EXPIRED | EXPIRED (fills kept; the modify still asked about)',
    from: ['MODIFY_PENDING'],
    event: 'EXPIRED',
    to: 'EXPIRED',
  },
  {
    says: '4b: MODIFY_PENDING (no fills) | REJECTED | REJECTED',
    from: ['MODIFY_PENDING'],
    event: 'REJECTED',
    when: (f) => f.fills === 'none',
    to: 'REJECTED',
  },
  {
    says: "4b: MODIFY_PENDING | cancel() | CANCEL_PENDING (the modify's answer still updates the values)",
    from: ['MODIFY_PENDING'],
    event: 'CANCEL',
    to: 'CANCEL_PENDING',
    cancel: 'send',
  },
  {
    says: '4b: CANCEL_PENDING | MODIFIED answering the outstanding modify | CANCEL_PENDING (values updated), FILLED if filled >= the new quantity',
    from: ['CANCEL_PENDING'],
    event: 'MODIFIED',
    when: outstanding,
    to: (f, e) => (modifiedCompletes(e) ? 'FILLED' : f.status),
    modify: 'settle',
  },
  {
    says: '4b: CANCEL_PENDING with a modify outstanding | CANCEL_REJECTED | MODIFY_PENDING (its query cycle resumes)',
    from: ['CANCEL_PENDING'],
    event: 'CANCEL_REJECTED',
    // An order the handler gave up on keeps section 4's rule: it stays CANCEL_PENDING, the cancel retried.
    when: (f) => f.modifyOutstanding && !f.gaveUp,
    to: 'MODIFY_PENDING',
    cancel: 'settle',
  },
  {
    says: '4b: CANCEL_PENDING | MODIFY_REJECTED answering the outstanding modify | FILLED if filled >= the quantity in force, else unchanged; not an anomaly',
    from: ['CANCEL_PENDING'],
    event: 'MODIFY_REJECTED',
    when: outstanding,
    to: (f) => (f.fills === 'complete' ? 'FILLED' : f.status),
    modify: 'settle',
  },
  {
    says: '4b: FILLED, CANCELLED, EXPIRED | MODIFY_REJECTED answering the outstanding modify | unchanged, not an anomaly',
    from: ENDED_WITH_MODIFY,
    event: 'MODIFY_REJECTED',
    when: outstanding,
    to: 'same',
    modify: 'settle',
  },
  {
    says: '4b: FILLED, CANCELLED, EXPIRED | MODIFIED answering the outstanding modify | unchanged, values updated, not an anomaly',
    from: ENDED_WITH_MODIFY,
    event: 'MODIFIED',
    when: outstanding,
    to: 'same',
    modify: 'settle',
  },
  {
    says: '4b: any | MODIFY_REJECTED with no modify outstanding | unchanged, outcome duplicate',
    from: NOT_MODIFYING,
    event: 'MODIFY_REJECTED',
    when: noneOutstanding,
    to: 'same',
    answers: 'duplicate',
    recordsNothing: true,
  },
  {
    says: '4b: MODIFY_PENDING | the venue, asked, does not know the order | CANCELLED (NOT_FOUND_AT_VENUE)',
    from: ['MODIFY_PENDING'],
    event: 'NOT_FOUND',
    to: 'CANCELLED',
    records: 'VENUE_LOST_ORDER',
  },
  // The text under the table.
  {
    says: "4b text: CANCEL_PENDING | MODIFIED answering no outstanding modify | the venue's values applied (FILLED if filled >= the new quantity), LATE_REPLY",
    from: ['CANCEL_PENDING'],
    event: 'MODIFIED',
    when: noneOutstanding,
    to: (f, e) => (modifiedCompletes(e) ? 'FILLED' : f.status),
    records: 'LATE_REPLY',
  },
  {
    says: "4b text: any other | MODIFIED answering no outstanding modify | unchanged, the venue's values applied, LATE_REPLY",
    from: NOT_MODIFYING.filter((s) => s !== 'CANCEL_PENDING'),
    event: 'MODIFIED',
    when: noneOutstanding,
    to: 'same',
    records: 'LATE_REPLY',
  },
  // Readings (see the file's comment).
  {
    says: '4b reading: MODIFY_PENDING | ACCEPTED | unchanged (venue id learnt; outcome duplicate), as OPEN and PARTIALLY_FILLED',
    from: ['MODIFY_PENDING'],
    event: 'ACCEPTED',
    to: 'same',
    answers: 'duplicate',
  },
  {
    says: '4b reading: FILLED, CANCELLED, EXPIRED with a modify outstanding | the venue, asked, does not know the order | unchanged, the modify refused (NOT_FOUND_AT_VENUE)',
    from: ENDED_WITH_MODIFY,
    event: 'NOT_FOUND',
    when: outstanding,
    to: 'same',
    modify: 'settle',
  },
];
