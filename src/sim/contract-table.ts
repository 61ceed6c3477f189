/**
 * The legal status changes of an order, written by hand from `shared/contract.md` sections 4 and
 * 4b: an independent statement that the machine in `machines/` is judged against. Nothing here is
 * read from the machine (a test checks this file imports nothing from `machines/`), so a rule broken
 * in the machine cannot also quietly change what the checks accept.
 */
import type { OrderStatus } from '../types.js';

/** The statuses of the contract. */
type Status = OrderStatus;

/** A status change `from>to` (from != to). */
export type Edge = `${Status}>${Status}`;

/** Contract section 4, row by row, as status changes (from != to). */
export const SECTION_4_EDGES: readonly Edge[] = [
  // ACCEPTED
  'PENDING>OPEN',
  // FILL, order not complete / complete
  'PENDING>PARTIALLY_FILLED',
  'OPEN>PARTIALLY_FILLED',
  'PENDING>FILLED',
  'OPEN>FILLED',
  'PARTIALLY_FILLED>FILLED',
  'CANCEL_PENDING>FILLED',
  // REJECTED (no fills)
  'PENDING>REJECTED',
  'OPEN>REJECTED',
  'CANCEL_PENDING>REJECTED',
  // CANCELLED, EXPIRED (fills kept)
  'PENDING>CANCELLED',
  'OPEN>CANCELLED',
  'PARTIALLY_FILLED>CANCELLED',
  'CANCEL_PENDING>CANCELLED',
  'PENDING>EXPIRED',
  'OPEN>EXPIRED',
  'PARTIALLY_FILLED>EXPIRED',
  'CANCEL_PENDING>EXPIRED',
  // cancel()
  'PENDING>CANCEL_PENDING',
  'OPEN>CANCEL_PENDING',
  'PARTIALLY_FILLED>CANCEL_PENDING',
  // CANCEL_REJECTED: back to what the order was
  'CANCEL_PENDING>PARTIALLY_FILLED',
  'CANCEL_PENDING>OPEN',
  'CANCEL_PENDING>PENDING',
  // the ack deadline passed and the venue does not know the order
  'PENDING>TIMED_OUT',
  // late news of an order the handler gave up on
  'TIMED_OUT>CANCEL_PENDING',
  'TIMED_OUT>FILLED',
  'TIMED_OUT>REJECTED',
  'TIMED_OUT>CANCELLED',
  'TIMED_OUT>EXPIRED',
  // a fill that crossed the cancel (or the expiry) at the venue completes the order
  'CANCELLED>FILLED',
  'EXPIRED>FILLED',
  // "An order made CANCELLED as NOT_FOUND_AT_VENUE before any acknowledgement takes late news the
  // same way: an ACCEPTED or FILL moves it to CANCEL_PENDING" (the rules under the table).
  'CANCELLED>CANCEL_PENDING',
];

/** Contract section 4b (modifying an order), as status changes (from != to). */
export const SECTION_4B_EDGES: readonly Edge[] = [
  // modify()
  'OPEN>MODIFY_PENDING',
  'PARTIALLY_FILLED>MODIFY_PENDING',
  // MODIFIED / MODIFY_REJECTED: FILLED, PARTIALLY_FILLED or OPEN as the values in force say
  'MODIFY_PENDING>FILLED',
  'MODIFY_PENDING>PARTIALLY_FILLED',
  'MODIFY_PENDING>OPEN',
  // cancel(), CANCELLED, EXPIRED, REJECTED (no fills), the venue does not know the order
  'MODIFY_PENDING>CANCEL_PENDING',
  'MODIFY_PENDING>CANCELLED',
  'MODIFY_PENDING>EXPIRED',
  'MODIFY_PENDING>REJECTED',
  // CANCEL_REJECTED while a modify is outstanding: its query cycle resumes
  'CANCEL_PENDING>MODIFY_PENDING',
];

/** Every legal status change of contract sections 4 and 4b. */
export const CONTRACT_EDGES: ReadonlySet<string> = new Set<string>([...SECTION_4_EDGES, ...SECTION_4B_EDGES]);

/** True when `from>to` is a row of the contract's tables (a change that keeps the status always is). */
export function isLegalChange(from: Status, to: Status): boolean {
  return from === to || CONTRACT_EDGES.has(`${from}>${to}`);
}
