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
 *
 * Modifies (contract section 4b): once things settle, every order's values in force (quantity,
 * price, stopPrice: the ledger's view with its modifications applied, and the live view) must be
 * the venue's; and a venue that replaces orders lists all of an order's fills, under every venue id
 * it had, in one record, so each is counted once against the handler's records for the order.
 */
import type { VenueOrderState } from '../connector/types.js';
import { decAdd, decCmp, decEq } from '../decimal.js';
import type { LedgerOrder, StrategyLedger, TransitionRecord } from '../ledger/types.js';
import type { OrderView } from '../types.js';
import { isLegalChange } from './contract-table.js';
import {
  type FindingCounts,
  type KnownFinding,
  countFinding,
  ordersWithRefusedVenueId,
  cutCappedAtVenue,
  revertedByStaleModified,
} from './known-findings.js';

/** What the audit needs of a venue: its own record of every order (the simulated venue's `venueOrders()`). */
export interface VenueTruth {
  /** Fill quantities, when the venue states them, let the audit compare filled quantities too. */
  venueOrders(): {
    clientOrderId: string;
    status: VenueOrderState['status'];
    fills: { venueFillId: string; quantity?: string }[];
    /** The values in force, when the venue states them: compared with the handler's once converged. */
    quantity?: string;
    price?: string;
    stopPrice?: string;
    /** Every venue order id the order has had, oldest first (more than one: it was replaced). */
    venueOrderIds?: string[];
    /** Modifies the venue applied to the order. */
    modifications?: number;
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
  /** Orders whose values in force (quantity, price, stopPrice) were compared with the venue's, once converged. */
  valuesChecked: number;
  /** Of those, orders the venue modified. */
  modifiedChecked: number;
  /** Orders the venue replaced (a new venue order id), and the fills it made under a replacement's id. */
  replacedChecked: number;
  replacementFills: number;
}

/** A tally with nothing counted yet. */
export function emptyAuditTally(): AuditTally {
  return {
    orders: 0,
    fillsChecked: 0,
    fillMessages: 0,
    fillRepeats: 0,
    snapshotsChecked: 0,
    viewsChecked: 0,
    valuesChecked: 0,
    modifiedChecked: 0,
    replacedChecked: 0,
    replacementFills: 0,
  };
}

/** How to audit. */
export interface AuditOptions {
  /** Also check that every order agrees with the venue and none is left open. */
  converged: boolean;
  /** The live handler's views (`handler.order`), checked like the ledger's. */
  views?: (orderId: string) => OrderView | undefined;
  tally?: AuditTally;
  /** Problems excused as a known finding of the handler (`known-findings.ts`), counted per finding. */
  findings?: FindingCounts;
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

/** The values a view holds in force, named as the venue names them. */
const VALUE_NAMES = ['quantity', 'price', 'stopPrice'] as const;

/**
 * Section 4b: the values in force `what` holds (the ledger's order or the live view) are the
 * venue's, value by value; a value one side has and the other lacks is a difference too.
 */
function compareValues(id: string, what: string, held: OrderView['orderDetails'], v: VenueOrder): string[] {
  const problems: string[] = [];
  for (const name of VALUE_NAMES) {
    const mine = held[name];
    const theirs = v[name];
    const same = mine === undefined || theirs === undefined ? mine === theirs : decEq(mine, theirs);
    if (!same)
      problems.push(
        `Values in force (section 4b): ${id} ${what} has ${name} ${mine ?? '(none)'}, the venue ${theirs ?? '(none)'}`,
      );
  }
  return problems;
}

/**
 * Once converged, the order's values in force in the ledger and the live view against the venue's.
 * Not for an order the venue REJECTED: section 4b promises the venue's values for an order that
 * keeps working or ends FILLED, CANCELLED or EXPIRED; a rejected order works no values at all.
 */
function checkValues(order: LedgerOrder, v: VenueOrder, opts: AuditOptions): string[] {
  if (!opts.converged || v.quantity === undefined || v.status === 'REJECTED') return [];
  const problems = compareValues(order.orderId, 'in the ledger', order.orderDetails, v);
  const view = opts.views?.(order.orderId);
  if (view) problems.push(...compareValues(order.orderId, 'in its view', view.orderDetails, v));
  if (opts.tally) {
    opts.tally.valuesChecked++;
    if ((v.modifications ?? 0) > 0) opts.tally.modifiedChecked++;
  }
  return problems;
}

/** Counts a replaced order and the fills the venue made under its replacements' ids. */
function countReplaced(v: VenueOrder, tally: AuditTally | undefined): void {
  const ids = v.venueOrderIds ?? [];
  if (!tally || ids.length < 2) return;
  tally.replacedChecked++;
  tally.replacementFills += v.fills.filter((f) => !f.venueFillId.startsWith(`${ids[0]}-`)).length;
}

/** Problems each known finding explains: the disagreements with the venue it causes, never a fill counted twice. */
const EXCUSABLE: Partial<Record<KnownFinding, RegExp>> = {
  replacementVenueIdRefused: /^(Promise 7|Values in force)/,
  staleModifiedRevertsValues: /^Values in force/,
  modifiedResultTakesRequestedQuantity: /^Values in force/,
};

/** `problems` less those the order's known finding explains; the finding counted when it explained one. */
function excused(problems: string[], finding: KnownFinding | undefined, counts: FindingCounts | undefined): string[] {
  const explained = finding === undefined ? undefined : EXCUSABLE[finding];
  if (finding === undefined || !explained || !problems.some((p) => explained.test(p))) return problems;
  countFinding(counts, finding);
  return problems.filter((p) => !explained.test(p));
}

/**
 * The quantity fills may reach without an OVERFILL: "the larger of the quantity in force and the
 * quantity an outstanding modify asks for" (section 4b), the outstanding modify read from the
 * change records (requested, and not yet answered by ORDER_MODIFIED or ORDER_MODIFY_REJECTED).
 */
function overfillLimit(order: LedgerOrder, transitions: readonly TransitionRecord[]): string {
  const requested = transitions.filter((t) => t.eventType === 'ORDER_MODIFY_REQUESTED').at(-1)?.modification;
  const answered = transitions.some(
    (t) => t.eventType !== 'ORDER_MODIFY_REQUESTED' && t.modification?.modificationId === requested?.modificationId,
  );
  const asked = requested && !answered ? requested.quantity : undefined;
  const inForce = order.orderDetails.quantity;
  return asked !== undefined && decCmp(asked, inForce) > 0 ? asked : inForce;
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
  const anomalies = await ledger.getAnomalies();
  const overfilled = new Set(anomalies.filter((a) => a.kind === 'OVERFILL').map((a) => a.orderId));
  const venueIds = new Map(truth.map((v) => [v.clientOrderId, v.venueOrderIds]));
  const refused = ordersWithRefusedVenueId(anomalies, (id) => venueIds.get(id));
  for (const v of truth) {
    const order = await ledger.getOrder(v.clientOrderId);
    if (!order) {
      problems.push(`Promise 1 (no loss): venue order ${v.clientOrderId} is not in the ledger`);
      continue;
    }
    const transitions = await ledger.getTransitions(order.orderId);
    const sent = sentBy.get(v.clientOrderId) ?? { delivered: [], queried: 0 };
    const mine = [...checkFills(order, transitions, v, sent, opts), ...checkValues(order, v, opts)];
    if (opts.converged && order.status !== v.status) {
      mine.push(`Promise 7: ${order.orderId} is ${order.status} but the venue says ${v.status}`);
    }
    const finding: KnownFinding | undefined = refused.has(order.orderId)
      ? 'replacementVenueIdRefused'
      : revertedByStaleModified(order, transitions, anomalies)
        ? 'staleModifiedRevertsValues'
        : cutCappedAtVenue(order, transitions, v.quantity)
          ? 'modifiedResultTakesRequestedQuantity'
          : undefined;
    problems.push(...excused(mine, finding, opts.findings));
    countReplaced(v, opts.tally);
    if (decCmp(order.filledQuantity, overfillLimit(order, transitions)) > 0 && !overfilled.has(order.orderId)) {
      problems.push(`Invariant: filled <= quantity unless OVERFILL (${order.orderId})`);
    }
    problems.push(...checkChanges(order.orderId, transitions));
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
      if (refused.has(order.orderId)) continue; // counted above as the known finding
      problems.push(`Promise 7: ${order.orderId} is still ${order.status} after convergence`);
    }
  }
  return problems;
}
