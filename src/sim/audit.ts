/**
 * An audit of a ledger against the venue's own truth: the promises of contract section 8 as checks.
 * The demo prints its verdict and the simulation, crash and failover tests assert it is empty. Each
 * problem states the rule that broke.
 *
 * Nothing here trusts the code under test: a change is legal when the hand-written contract table
 * (`contract-table.ts`) has its row, not when the machine allows it; and fills are counted against
 * the venue's record of the fills it made. What the handler says it applied is read where a fill
 * counted twice would show: its change records (one `ORDER_PARTIALLY_FILLED` or `ORDER_FILLED` per
 * fill applied, contract section 7), the filled quantity in its persisted snapshot and its view.
 * The ledger's fill rows alone cannot show it: the ledger drops a repeated `venueFillId`.
 */
import type { VenueOrderState } from '../connector/types.js';
import { decAdd, decCmp } from '../decimal.js';
import type { LedgerOrder, StrategyLedger, TransitionRecord } from '../ledger/types.js';
import type { OrderView } from '../types.js';
import { isLegalChange } from './contract-table.js';

/** What the audit needs of a venue: its own record of every order (the simulated venue's `venueOrders()`). */
export interface VenueTruth {
  /** Fill quantities, when the venue states them, let the audit compare filled quantities too. */
  venueOrders(): {
    clientOrderId: string;
    status: VenueOrderState['status'];
    fills: { venueFillId: string; quantity?: string }[];
  }[];
  /**
   * The FILL messages the venue delivered per order, one entry per copy, and the fills it restated
   * in query answers (the simulated venue's).
   */
  fillRecords?(): { clientOrderId: string; delivered: readonly string[]; queried: number }[];
}

/** What an audit looked at, added to by every call it is passed to. */
export interface AuditTally {
  /** Venue orders audited. */
  orders: number;
  /** Venue fills whose application the handler's own records were counted against. */
  fillsChecked: number;
  /** FILL messages the venue delivered for those orders, duplicates included. */
  fillMessages: number;
  /** Of those, copies of a fill already delivered: repeats a handler must not apply again. */
  fillRepeats: number;
  /** Orders whose persisted snapshot stated a filled quantity that was compared with the venue's. */
  snapshotsChecked: number;
  /** Orders whose live view was compared with the venue's. */
  viewsChecked: number;
}

/** How to audit. */
export interface AuditOptions {
  /** Also check that every order agrees with the venue and none is left open. */
  converged: boolean;
  /** The live handler's views (`handler.order`), checked like the ledger's. */
  views?: (orderId: string) => OrderView | undefined;
  tally?: AuditTally;
}

/** The change records that say a fill was applied (contract section 7). */
const FILL_EVENTS: ReadonlySet<string> = new Set(['ORDER_PARTIALLY_FILLED', 'ORDER_FILLED']);

type VenueOrder = ReturnType<VenueTruth['venueOrders']>[number];

/** The venue's filled quantity, or undefined when it does not state every fill's quantity. */
function venueFilled(v: VenueOrder): string | undefined {
  let sum = '0';
  for (const f of v.fills) {
    if (f.quantity === undefined) return undefined;
    sum = decAdd(sum, f.quantity);
  }
  return sum;
}

/**
 * The filled quantity the handler's persisted snapshot holds (what a restart restores), if its
 * context states one: a fill counted twice there comes back after every crash.
 */
function snapshotFilled(order: LedgerOrder): string | undefined {
  const ctx = (order.snapshot as { context?: { filledQuantity?: unknown } } | undefined)?.context;
  return typeof ctx?.filledQuantity === 'string' ? ctx.filledQuantity : undefined;
}

/** `claimed` filled quantity against the venue's: never above it, and equal once converged. */
function compareFilled(id: string, what: string, claimed: string, venue: string, converged: boolean): string[] {
  const cmp = decCmp(claimed, venue);
  if (cmp > 0)
    return [`Promise 2 (each venue fill applied once): ${id} ${what} is ${claimed}, the venue filled ${venue}`];
  if (cmp < 0 && converged) return [`Promise 7: ${id} ${what} is ${claimed}, the venue filled ${venue}`];
  return [];
}

/** Promises 2 and 3 for one order: each venue fill applied once, by every record of the handler. */
function checkFills(
  order: LedgerOrder,
  transitions: readonly TransitionRecord[],
  v: VenueOrder,
  sent: { delivered: readonly string[]; queried: number },
  opts: AuditOptions,
): string[] {
  const problems: string[] = [];
  const id = order.orderId;
  const made = new Set(v.fills.map((f) => f.venueFillId));
  const ids = order.fills.map((f) => f.venueFillId);
  if (new Set(ids).size !== ids.length) problems.push(`Promise 2: ${id} has a fill applied twice in the ledger`);
  for (const f of ids) if (!made.has(f)) problems.push(`Promise 2: ${id} has fill ${f} the venue never made`);
  if (opts.converged && ids.length !== made.size)
    problems.push(`Promise 7: ${id} has ${ids.length} fills in the ledger, the venue made ${made.size}`);
  // The ledger keeps one row per venueFillId, so the change records are what count applications.
  const applied = transitions.filter((t) => FILL_EVENTS.has(t.eventType)).length;
  if (applied > made.size) {
    problems.push(
      `Promise 2 (each venue fill applied once): ${id} recorded ${applied} fills applied, the venue made ` +
        `${made.size}, delivered ${sent.delivered.length} FILL messages and restated ${sent.queried} fills in query answers`,
    );
  } else if (opts.converged && applied < made.size) {
    problems.push(`Promise 7: ${id} recorded ${applied} fills applied, the venue made ${made.size}`);
  }
  const sum = order.fills.reduce((s, f) => decAdd(s, f.quantity), '0');
  if (decCmp(sum, order.filledQuantity) !== 0)
    problems.push(`Promise 3: ${id} filled ${order.filledQuantity} != sum of fills ${sum}`);
  const truth = venueFilled(v);
  if (truth === undefined) return problems;
  problems.push(...compareFilled(id, 'filled in the ledger', order.filledQuantity, truth, opts.converged));
  const snap = snapshotFilled(order);
  if (snap !== undefined) {
    problems.push(...compareFilled(id, 'filled in its snapshot', snap, truth, opts.converged));
    if (opts.tally) opts.tally.snapshotsChecked++;
  }
  const view = opts.views?.(id);
  if (view) {
    if (opts.tally) opts.tally.viewsChecked++;
    const viewIds = view.fills.map((f) => f.venueFillId);
    if (new Set(viewIds).size !== viewIds.length)
      problems.push(`Promise 2: ${id} has a fill applied twice in its view`);
    problems.push(...compareFilled(id, 'filled in its view', view.filledQuantity, truth, opts.converged));
  }
  return problems;
}

/** Promise 4 and the ledger's order of changes. */
function checkChanges(id: string, transitions: readonly TransitionRecord[]): string[] {
  const problems: string[] = [];
  transitions.forEach((t, i) => {
    if (t.seq !== i + 1) problems.push(`Ledger: ${id} seq ${t.seq} at position ${i + 1}`);
    if (!isLegalChange(t.from, t.to)) problems.push(`Promise 4: ${id} made illegal change ${t.from} -> ${t.to}`);
  });
  return problems;
}

/**
 * Checks promises 1-4 and the ledger's order for every order the venue knows; with `converged`,
 * also that every order agrees with the venue and none is left open. Returns the problems found.
 */
export async function auditAgainstVenue(
  ledger: StrategyLedger,
  venue: VenueTruth,
  opts: AuditOptions,
): Promise<string[]> {
  const problems: string[] = [];
  const truth = venue.venueOrders();
  const sentBy = new Map((venue.fillRecords?.() ?? []).map((r) => [r.clientOrderId, r]));
  const overfilled = new Set((await ledger.getAnomalies()).filter((a) => a.kind === 'OVERFILL').map((a) => a.orderId));
  for (const v of truth) {
    const order = await ledger.getOrder(v.clientOrderId);
    if (!order) {
      problems.push(`Promise 1 (no loss): venue order ${v.clientOrderId} is not in the ledger`);
      continue;
    }
    const transitions = await ledger.getTransitions(order.orderId);
    const sent = sentBy.get(v.clientOrderId) ?? { delivered: [], queried: 0 };
    problems.push(...checkFills(order, transitions, v, sent, opts));
    if (decCmp(order.filledQuantity, order.orderDetails.quantity) > 0 && !overfilled.has(order.orderId)) {
      problems.push(`Invariant: filled <= quantity unless OVERFILL (${order.orderId})`);
    }
    problems.push(...checkChanges(order.orderId, transitions));
    if (opts.converged && order.status !== v.status) {
      problems.push(`Promise 7: ${order.orderId} is ${order.status} but the venue says ${v.status}`);
    }
    if (opts.tally) {
      opts.tally.orders++;
      opts.tally.fillsChecked += v.fills.length;
      opts.tally.fillMessages += sent.delivered.length;
      opts.tally.fillRepeats += sent.delivered.length - new Set(sent.delivered).size;
    }
  }
  if (opts.converged) {
    const known = new Set(truth.map((v) => v.clientOrderId));
    for (const order of await ledger.getOpenOrders()) {
      if (order.status === 'TIMED_OUT' && !known.has(order.orderId)) continue; // never reached the venue
      problems.push(`Promise 7: ${order.orderId} is still ${order.status} after convergence`);
    }
  }
  return problems;
}
