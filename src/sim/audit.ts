/**
 * An audit of a ledger against the simulated venue's own truth: the promises of contract section 8
 * as checks. The demo prints its verdict and the simulation tests assert it is empty. Each
 * problem states the rule that broke.
 */
import { legalEdges } from '../../machines/transition-table.js';
import type { VenueOrderState } from '../connector/types.js';
import { decAdd, decCmp } from '../decimal.js';
import type { StrategyLedger } from '../ledger/types.js';
import type { OrderStatus } from '../types.js';

const EDGES = legalEdges();

/** What the audit needs of a venue: its own record of every order (the simulated venue's `venueOrders()`). */
export interface VenueTruth {
  venueOrders(): { clientOrderId: string; status: VenueOrderState['status']; fills: { venueFillId: string }[] }[];
}

/**
 * Checks promises 1-4 and the ledger's order for every order the venue knows; with `converged`,
 * also that every order agrees with the venue and none is left open. Returns the problems found.
 */
export async function auditAgainstVenue(
  ledger: StrategyLedger,
  venue: VenueTruth,
  opts: { converged: boolean },
): Promise<string[]> {
  const problems: string[] = [];
  const truth = venue.venueOrders();
  const overfilled = new Set((await ledger.getAnomalies()).filter((a) => a.kind === 'OVERFILL').map((a) => a.orderId));
  for (const v of truth) {
    const order = await ledger.getOrder(v.clientOrderId);
    if (!order) {
      problems.push(`Promise 1 (no loss): venue order ${v.clientOrderId} is not in the ledger`);
      continue;
    }
    // Promise 2: each venue fill applied once, and no fill the venue did not make.
    const ids = order.fills.map((f) => f.venueFillId);
    if (new Set(ids).size !== ids.length) problems.push(`Promise 2: ${order.orderId} has a fill applied twice`);
    const venueFills = new Set(v.fills.map((f) => f.venueFillId));
    for (const id of ids)
      if (!venueFills.has(id)) problems.push(`Promise 2: ${order.orderId} has fill ${id} the venue never made`);
    // Promise 3: quantities.
    const sum = order.fills.reduce((s, f) => decAdd(s, f.quantity), '0');
    if (decCmp(sum, order.filledQuantity) !== 0)
      problems.push(`Promise 3: ${order.orderId} filled ${order.filledQuantity} != sum of fills ${sum}`);
    if (decCmp(order.filledQuantity, order.orderDetails.quantity) > 0 && !overfilled.has(order.orderId)) {
      problems.push(`Invariant: filled <= quantity unless OVERFILL (${order.orderId})`);
    }
    // Promise 4 and ledger order.
    const transitions = await ledger.getTransitions(order.orderId);
    transitions.forEach((t, i) => {
      if (t.seq !== i + 1) problems.push(`Ledger: ${order.orderId} seq ${t.seq} at position ${i + 1}`);
      if (t.from !== t.to && !EDGES.has(`${t.from}>${t.to}`))
        problems.push(`Promise 4: ${order.orderId} made illegal change ${t.from} -> ${t.to}`);
    });
    if (opts.converged) {
      if (v.fills.length !== ids.length)
        problems.push(`Promise 7: ${order.orderId} has ${ids.length} fills, the venue ${v.fills.length}`);
      const expected: Record<string, OrderStatus[]> = {
        FILLED: ['FILLED'],
        CANCELLED: ['CANCELLED'],
        EXPIRED: ['EXPIRED'],
        REJECTED: ['REJECTED'],
        OPEN: ['OPEN'],
        PARTIALLY_FILLED: ['PARTIALLY_FILLED'],
      };
      if (!expected[v.status]!.includes(order.status)) {
        problems.push(`Promise 7: ${order.orderId} is ${order.status} but the venue says ${v.status}`);
      }
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
