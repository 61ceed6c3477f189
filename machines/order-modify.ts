/**
 * Modifying a working order (contract section 4b), as pure functions of the machine's context:
 * the values in force, the one outstanding modify, how a MODIFIED, a MODIFY_REJECTED or a venue's
 * answer resolves it. The machine (`order.ts`) calls them from its guards and actions.
 */
import { decCmp, decEq } from '../src/decimal.js';
import type { ModifyChanges } from '../src/types.js';

/** The values of an order that a modify can change, as the venue works them now. */
export interface ValuesInForce {
  /** Decimal string: the total quantity, fills included (FIX OrderQty). */
  quantity: string;
  price: string | null;
  stopPrice: string | null;
}

/** The modify the venue has not answered yet (one at a time). */
export interface OutstandingModify {
  /** `${orderId}.${n}`: the replacement's client order id at a venue that replaces orders. */
  modificationId: string;
  requested: ModifyChanges;
  sentAt: number;
}

/** How the last modify ended: what the change record that resolved it says. */
export interface ModifyOutcome {
  modificationId: string;
  outcome: 'ACCEPTED' | 'REJECTED';
  /** ACCEPTED: the values now in force. */
  values?: ValuesInForce;
  /** REJECTED: why. */
  reason?: string;
}

/** Why a modify counts as refused when the venue, asked, shows other values or an ended order. */
export const NOT_APPLIED_AT_VENUE = 'NOT_APPLIED_AT_VENUE';

/** The facts of the context modify reads and writes. */
export interface ModifyFacts extends ValuesInForce {
  orderId: string;
  filledQuantity: string;
  venueOrderId: string | null;
  /** Venue ids the order had before a replacement: replies naming them still reach it. */
  formerVenueOrderIds: string[];
  modify: OutstandingModify | null;
  modificationsSent: number;
  lastModify: ModifyOutcome | null;
}

const max = (a: string, b: string): string => (decCmp(a, b) >= 0 ? a : b);

/**
 * The values the venue works once `changes` are applied; a quantity at or below the filled one is
 * the filled one (section 4b: "quantity is then max(new, filled)"), also when only a price changed.
 */
export function valuesAfter(f: ModifyFacts, changes: ModifyChanges): ValuesInForce {
  return {
    quantity: max(changes.quantity ?? f.quantity, f.filledQuantity),
    price: changes.price ?? f.price,
    stopPrice: changes.stopPrice ?? f.stopPrice,
  };
}

/** A new outstanding modify with its id. */
export function beginModify(f: ModifyFacts, changes: ModifyChanges, at: number): Partial<ModifyFacts> {
  const n = f.modificationsSent + 1;
  return {
    modify: { modificationId: `${f.orderId}.${n}`, requested: changes, sentAt: at },
    modificationsSent: n,
    lastModify: null,
  };
}

/** `venueOrderId` is one the order has had: its current one, or one before a replacement. */
export function hasVenueId(f: ModifyFacts, venueOrderId: string): boolean {
  return venueOrderId === f.venueOrderId || f.formerVenueOrderIds.includes(venueOrderId);
}

/** The venue applied `values` (a MODIFIED, or an answer showing the requested values), maybe under a new venue id. */
export function applyValues(f: ModifyFacts, values: ModifyChanges, newVenueOrderId?: string): Partial<ModifyFacts> {
  const inForce = valuesAfter(f, values);
  const replaced = newVenueOrderId !== undefined && newVenueOrderId !== f.venueOrderId;
  const modificationId = f.modify?.modificationId ?? `${f.orderId}.${f.modificationsSent}`;
  return {
    ...inForce,
    ...(replaced
      ? {
          venueOrderId: newVenueOrderId,
          formerVenueOrderIds:
            f.venueOrderId === null ? f.formerVenueOrderIds : [...f.formerVenueOrderIds, f.venueOrderId],
        }
      : {}),
    modify: null,
    lastModify: { modificationId, outcome: 'ACCEPTED', values: inForce },
  };
}

/** The outstanding modify was refused; the values stay. */
export function refuseModify(f: ModifyFacts, reason: string): Partial<ModifyFacts> {
  const modificationId = f.modify?.modificationId ?? `${f.orderId}.${f.modificationsSent}`;
  return { modify: null, lastModify: { modificationId, outcome: 'REJECTED', reason } };
}

/** The venue's answer shows every requested value in force (a quantity at or below filled counts as filled). */
export function answerShowsModify(f: ModifyFacts, shown: ModifyChanges): boolean {
  if (!f.modify) return false;
  const want = valuesAfter(f, f.modify.requested);
  const r = f.modify.requested;
  const same = (a: string | undefined, b: string | null) => a !== undefined && b !== null && decEq(a, b);
  return (
    (r.quantity === undefined || same(shown.quantity, want.quantity)) &&
    (r.price === undefined || same(shown.price, want.price)) &&
    (r.stopPrice === undefined || same(shown.stopPrice, want.stopPrice))
  );
}

/** The outstanding modify raises the quantity: a fill completing the old quantity leaves the order working. */
export function modifyRaises(f: ModifyFacts): boolean {
  const q = f.modify?.requested.quantity;
  return q !== undefined && decCmp(q, f.quantity) > 0;
}

/** Filled reaches the quantity a MODIFIED (or the requested values) puts in force. */
export function filledReaches(f: ModifyFacts, changes: ModifyChanges | undefined): boolean {
  const quantity = changes?.quantity ?? f.quantity;
  return decCmp(f.filledQuantity, quantity) >= 0;
}
