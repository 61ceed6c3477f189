/**
 * What a connector remembers of the orders it modifies by cancel-replace (Binance spot's
 * `order/cancelReplace`): each order's chain of venue orders ("legs": the original, then one
 * replacement per applied modify, whose client order id is the modification id), the values in
 * force, and every modify sent until its outcome is known. It turns the stream's reports of a
 * replace (the old leg's cancel, the replacement's acknowledgement) into one MODIFIED, never into a
 * CANCELLED of the order, and tells queries and cancels which leg is current.
 *
 * Quantities are totals, fills included (contract section 4b): a replacement is sent for the new
 * total less what the chain has executed, and the quantity in force is what the replaced legs
 * executed plus the replacement's own quantity. Pure bookkeeping (no I/O), bounded: the oldest
 * orders and modifications are forgotten first.
 */
import { decAdd, decCmp, decEq, decSub } from '../decimal.js';
import { PlacementRejectedError } from '../errors.js';
import type { ExchangeReply, ModifyChanges, OrderRequest } from '../types.js';
import type { VenueOrderState } from './types.js';

/** An order's values (the quantity is the total, fills included, when they are the values in force). */
export type OrderValues = Omit<OrderRequest, 'symbol'>;

/** One venue order of a chain. */
export interface Leg {
  readonly clientOrderId: string;
  venueOrderId?: string;
  /** Executed quantity as last seen; `final` once the leg is replaced and its fills are counted. */
  executed: string;
  final: boolean;
}

/** A stream report as the bookkeeping reads it (a dialect's `event`). */
export interface LegEvent {
  kind: 'NEW' | 'CANCELED' | 'OTHER';
  /** The venue order the report is about (for a cancel: the cancelled order, not the cancel request). */
  clientOrderId: string;
  venueOrderId: string;
  executed: string;
  /** The venue order's own quantity, price and stop price. */
  quantity: string;
  price?: string;
  stopPrice?: string;
  at: number;
}

/** A venue order fetched by REST or answered by a replace (a dialect's `leg`). */
export interface LegSnapshot {
  clientOrderId: string;
  venueOrderId: string;
  status: VenueOrderState['status'];
  executed: string;
  /** Its own values: `quantity` is this venue order's quantity, not the chain's total. */
  values: OrderValues;
  /** The venue's time of its last change. */
  at: number;
}

/** What a replace sends. */
export interface ReplaceRequest {
  /** The replacement's client order id. */
  modificationId: string;
  /** The leg it cancels. */
  cancelClientOrderId: string;
  cancelVenueOrderId?: string;
  /** The replacement's own values: its quantity is the new total less what the chain executed. */
  values: OrderValues;
  /** The leg had no fills: the cancel must succeed only while it has none (Binance's ONLY_NEW). */
  onlyNew: boolean;
}

/** An order's chain. */
export interface Lineage {
  readonly orderId: string;
  /** The exchange's symbol. */
  readonly symbol: string;
  /** The values in force (total quantity). */
  values: OrderValues;
  /** Oldest first; the last is the current leg. Replaced legs with no fills are dropped. */
  legs: Leg[];
  /** Modifies sent whose outcome is not known yet, oldest first. */
  open: Modification[];
}

/** One modify sent. */
export interface Modification {
  readonly id: string;
  readonly lineage: Lineage;
  /** The leg it cancels. */
  readonly old: Leg;
  /** What the legs before `old` executed. */
  readonly prior: string;
  /** The values asked for (total quantity). */
  readonly requested: OrderValues;
  readonly onlyNew: boolean;
  state: 'sent' | 'replaced' | 'failed' | 'unknown';
  /** A MODIFIED went to the handler (the REST answer or the stream). */
  confirmed: boolean;
  /** A CANCELLED of the old leg went to the handler (the replace cancelled it but placed nothing). */
  cancelReported: boolean;
  /** The old leg's cancel report, held until the outcome decides what it means. */
  held?: { reply: ExchangeReply | undefined; executed: string; at: number };
  /** The replacement as the venue reported it. */
  replacement?: Replacement;
}

/** A replacement as the venue reported it. */
interface Replacement {
  venueOrderId: string;
  executed: string;
  quantity: string;
  price?: string;
  stopPrice?: string;
  at: number;
}

/** The bookkeeping. */
export interface ReplaceTracker {
  /** An order placed with these values. */
  placed(orderId: string, symbol: string, values: OrderValues, venueOrderId?: string): void;
  get(orderId: string): Lineage | undefined;
  /** A chain rebuilt from the venue's orders (after a restart): legs oldest first. */
  adopt(orderId: string, symbol: string, legs: LegSnapshot[]): Lineage;
  /** A modify about to be sent; `PlacementRejectedError` when it cannot be (nothing is sent). */
  begin(lineage: Lineage, modificationId: string, changes: ModifyChanges): [Modification, ReplaceRequest];
  /**
   * The venue answered that it replaced the leg. `oldExecuted`: what the old leg had executed when
   * cancelled, when known. `modified`: the values in force are the requested ones and nothing
   * confirmed them yet (the answer counts as MODIFIED); `replies`: a MODIFIED with other values.
   */
  succeeded(
    m: Modification,
    replacement: LegSnapshot,
    oldExecuted: string | undefined,
  ): { modified: boolean; replies: ExchangeReply[] };
  /** The venue refused it; `cancelled`: it cancelled the old leg nonetheless (the new order failed). */
  failed(m: Modification, cancelled: { reason: string; at: number } | undefined): ExchangeReply[];
  /** The answer was lost (network error, timeout): the stream or a query decides. */
  unknown(m: Modification): ExchangeReply[];
  /** A stream report and the reply it would be alone: the replies to emit instead. */
  event(e: LegEvent, reply: ExchangeReply | undefined): ExchangeReply[];
  /** The client order ids a query or cancel should try, the likeliest current first. */
  candidates(lineage: Lineage): string[];
  /** A query found this venue order under `clientOrderId`. */
  found(lineage: Lineage, snapshot: LegSnapshot): void;
  /** A query did not find `clientOrderId`; replies held for a modify that this settles. */
  absent(lineage: Lineage, clientOrderId: string): ExchangeReply[];
}

/** Modifies of one order whose outcome is unknown, kept for queries (a stated bound). */
const OPEN_PER_ORDER = 8;

const isZero = (d: string): boolean => decCmp(d, '0') === 0;
const sum = (...ds: string[]): string => ds.reduce((a, b) => (isZero(b) ? a : isZero(a) ? b : decAdd(a, b)), '0');
const sameOptional = (want: string | undefined, got: string | undefined): boolean =>
  want === undefined || (got !== undefined && decEq(want, got));

/** Creates the bookkeeping, remembering at most `bound` orders and `bound` modifies. */
export function createReplaceTracker(bound = 50_000): ReplaceTracker {
  const lineages = new Map<string, Lineage>();
  /** Every client order id of a remembered chain (the OrderID, its modification ids) → its chain. */
  const byClientId = new Map<string, Lineage>();
  const modifications = new Map<string, Modification>();
  /** A leg's client order id → the modify that cancels it, for its cancel report. */
  const replacing = new Map<string, Modification>();

  const keep = (lin: Lineage): Lineage => {
    lineages.set(lin.orderId, lin);
    byClientId.set(lin.orderId, lin);
    for (const leg of lin.legs) byClientId.set(leg.clientOrderId, lin);
    if (lineages.size > bound) {
      const oldest = lineages.values().next().value!;
      lineages.delete(oldest.orderId);
      byClientId.delete(oldest.orderId);
      for (const leg of oldest.legs) byClientId.delete(leg.clientOrderId);
    }
    return lin;
  };
  const prior = (lin: Lineage, leg: Leg): string => {
    const i = lin.legs.indexOf(leg);
    return sum(...lin.legs.slice(0, i < 0 ? lin.legs.length : i).map((l) => l.executed));
  };
  const close = (m: Modification): void => {
    m.lineage.open = m.lineage.open.filter((o) => o !== m);
  };
  /** The old leg's executed quantity at its cancel, as best known. */
  const oldExecuted = (m: Modification): string => m.held?.executed ?? (m.onlyNew ? '0' : m.old.executed);
  /** The replacement becomes the current leg; replaced legs without fills are dropped. */
  const install = (m: Modification): void => {
    const lin = m.lineage;
    const r = m.replacement!;
    m.state = 'replaced';
    close(m);
    m.old.executed = oldExecuted(m);
    m.old.final = true;
    if (!lin.legs.some((l) => l.clientOrderId === m.id)) {
      lin.legs.push({ clientOrderId: m.id, venueOrderId: r.venueOrderId, executed: r.executed, final: false });
      byClientId.set(m.id, lin);
    }
    const current = lin.legs.at(-1)!;
    const spent = (l: Leg): boolean => l !== current && l.final && isZero(l.executed);
    for (const l of lin.legs) if (spent(l) && l.clientOrderId !== lin.orderId) byClientId.delete(l.clientOrderId);
    lin.legs = lin.legs.filter((l) => !spent(l));
    lin.values = {
      ...lin.values,
      quantity: sum(m.prior, m.old.executed, r.quantity),
      ...(r.price === undefined ? {} : { price: r.price }),
      ...(r.stopPrice === undefined ? {} : { stopPrice: r.stopPrice }),
    };
  };
  /** The MODIFIED of an installed replacement, with the values now in force. */
  const modified = (m: Modification): ExchangeReply => {
    const r = m.replacement!;
    m.confirmed = true;
    return {
      type: 'MODIFIED',
      clientOrderId: m.id,
      ...(m.old.venueOrderId === undefined ? {} : { venueOrderId: m.old.venueOrderId }),
      newVenueOrderId: r.venueOrderId,
      quantity: m.lineage.values.quantity,
      ...(m.lineage.values.price === undefined ? {} : { price: m.lineage.values.price }),
      ...(m.lineage.values.stopPrice === undefined ? {} : { stopPrice: m.lineage.values.stopPrice }),
      at: r.at,
    };
  };
  const replacementOf = (s: LegSnapshot | LegEvent): Replacement => {
    const v = 'values' in s ? { ...s.values } : s;
    return {
      venueOrderId: s.venueOrderId,
      executed: s.executed,
      quantity: v.quantity,
      ...(v.price === undefined ? {} : { price: v.price }),
      ...(v.stopPrice === undefined ? {} : { stopPrice: v.stopPrice }),
      at: s.at,
    };
  };

  /** A report of a replacement (its acknowledgement or any later one) proves it exists. */
  const replacementSeen = (m: Modification, e: LegEvent): ExchangeReply[] => {
    m.replacement ??= replacementOf(e);
    if (decCmp(e.executed, m.replacement.executed) > 0) m.replacement.executed = e.executed;
    if (m.state === 'sent' || m.state === 'failed') return []; // the REST answer decides
    if (m.state === 'unknown') install(m);
    return m.confirmed ? [] : [modified(m)];
  };
  /** The cancel report of a leg a modify replaces. */
  const oldCancelled = (m: Modification, e: LegEvent, reply: ExchangeReply | undefined): ExchangeReply[] => {
    if (m.state === 'sent' || m.state === 'unknown') {
      m.held = { reply, executed: e.executed, at: e.at };
      return [];
    }
    if (m.state === 'replaced') {
      const news = !m.confirmed && m.held === undefined && !m.onlyNew && m.replacement !== undefined;
      m.held = { reply, executed: e.executed, at: e.at };
      if (!news) return [];
      install(m); // recounts the quantity in force with the executed quantity now known
      return [modified(m)];
    }
    if (m.cancelReported) return [];
    m.cancelReported = true;
    return reply ? [reply] : [];
  };
  const observe = (e: LegEvent): void => {
    const leg = byClientId.get(e.clientOrderId)?.legs.find((l) => l.clientOrderId === e.clientOrderId);
    if (!leg || leg.final) return;
    leg.venueOrderId ??= e.venueOrderId;
    if (decCmp(e.executed, leg.executed) > 0) leg.executed = e.executed;
  };

  return {
    placed(orderId, symbol, values, venueOrderId) {
      const leg: Leg = { clientOrderId: orderId, executed: '0', final: false };
      if (venueOrderId !== undefined) leg.venueOrderId = venueOrderId;
      const known = lineages.get(orderId);
      if (known) {
        if (venueOrderId !== undefined) known.legs[0]!.venueOrderId ??= venueOrderId;
        return;
      }
      keep({ orderId, symbol, values, legs: [leg], open: [] });
    },
    get: (orderId) => lineages.get(orderId),
    adopt(orderId, symbol, snapshots) {
      const current = snapshots.at(-1)!;
      const legs: Leg[] = snapshots.map((s, i) => ({
        clientOrderId: s.clientOrderId,
        venueOrderId: s.venueOrderId,
        executed: s.executed,
        final: i < snapshots.length - 1,
      }));
      const done = sum(...legs.slice(0, -1).map((l) => l.executed));
      return keep({
        orderId,
        symbol,
        values: { ...current.values, quantity: sum(done, current.values.quantity) },
        legs: legs.filter((l, i) => i === legs.length - 1 || !isZero(l.executed)),
        open: [],
      });
    },
    begin(lin, modificationId, changes) {
      if (lin.open.some((o) => o.state === 'sent'))
        throw new PlacementRejectedError('a modify of this order is still in flight: not sent');
      if (lin.values.type === 'MARKET') throw new PlacementRejectedError('a MARKET order cannot be modified: not sent');
      const old = lin.legs.at(-1)!;
      const before = prior(lin, old);
      const requested: OrderValues = { ...lin.values, ...changes };
      const executed = sum(before, old.executed);
      if (decCmp(requested.quantity, executed) <= 0)
        throw new PlacementRejectedError(
          `the new quantity ${requested.quantity} is not above the executed ${executed}: not sent`,
        );
      const m: Modification = {
        id: modificationId,
        lineage: lin,
        old,
        prior: before,
        requested,
        onlyNew: isZero(old.executed),
        state: 'sent',
        confirmed: false,
        cancelReported: false,
      };
      modifications.set(m.id, m);
      replacing.set(old.clientOrderId, m);
      if (modifications.size > bound) {
        const oldest = modifications.values().next().value!;
        modifications.delete(oldest.id);
        if (replacing.get(oldest.old.clientOrderId) === oldest) replacing.delete(oldest.old.clientOrderId);
      }
      lin.open.push(m);
      if (lin.open.length > OPEN_PER_ORDER) lin.open.shift();
      const send: ReplaceRequest = {
        modificationId,
        cancelClientOrderId: old.clientOrderId,
        // The total less what the chain executed; the string as given when nothing executed.
        values: {
          ...requested,
          quantity: isZero(executed) ? requested.quantity : decSub(requested.quantity, executed),
        },
        onlyNew: m.onlyNew,
      };
      if (old.venueOrderId !== undefined) send.cancelVenueOrderId = old.venueOrderId;
      return [m, send];
    },
    succeeded(m, replacement, executedAtCancel) {
      if (executedAtCancel !== undefined)
        m.held = { reply: m.held?.reply, executed: executedAtCancel, at: m.held?.at ?? replacement.at };
      const seen = m.replacement;
      m.replacement = replacementOf(replacement);
      if (seen && decCmp(seen.executed, replacement.executed) > 0) m.replacement.executed = seen.executed;
      install(m);
      if (m.confirmed) return { modified: false, replies: [] };
      if (executedAtCancel === undefined && m.held === undefined && !m.onlyNew) return { modified: false, replies: [] }; // its cancel report (or a query) tells the quantity in force
      const v = m.lineage.values;
      const asked =
        decEq(v.quantity, m.requested.quantity) &&
        sameOptional(m.requested.price, v.price) &&
        sameOptional(m.requested.stopPrice, v.stopPrice);
      if (asked) {
        m.confirmed = true;
        return { modified: true, replies: [] };
      }
      return { modified: false, replies: [modified(m)] };
    },
    failed(m, cancelled) {
      m.state = 'failed';
      close(m);
      if (!cancelled) return m.held?.reply ? [m.held.reply] : []; // the report was another cancel's
      if (m.cancelReported) return [];
      m.cancelReported = true;
      m.old.final = true;
      if (m.held?.reply) return [m.held.reply];
      return [
        {
          type: 'CANCELLED',
          clientOrderId: m.old.clientOrderId,
          ...(m.old.venueOrderId === undefined ? {} : { venueOrderId: m.old.venueOrderId }),
          reason: cancelled.reason,
          at: cancelled.at,
        },
      ];
    },
    unknown(m) {
      m.state = 'unknown';
      if (!m.replacement) return []; // a held cancel waits: the replacement's report or a query decides
      install(m);
      return m.confirmed ? [] : [modified(m)];
    },
    event(e, reply) {
      observe(e);
      // The cancel of a leg that a modify replaces (the leg may itself be an earlier replacement).
      const replacer = e.kind === 'CANCELED' ? replacing.get(e.clientOrderId) : undefined;
      if (replacer && (replacer.old.venueOrderId === undefined || replacer.old.venueOrderId === e.venueOrderId))
        return oldCancelled(replacer, e, reply);
      // Any report of a replacement proves it exists; its acknowledgement is the MODIFIED.
      const own = modifications.get(e.clientOrderId);
      if (own) {
        const replies = replacementSeen(own, e);
        return e.kind === 'NEW' || !reply ? replies : [...replies, reply];
      }
      return reply ? [reply] : [];
    },
    candidates: (lin) => [...lin.open.map((m) => m.id).reverse(), lin.legs.at(-1)!.clientOrderId],
    found(lin, snapshot) {
      const m = lin.open.find((o) => o.id === snapshot.clientOrderId);
      if (m) {
        m.replacement ??= replacementOf(snapshot);
        install(m);
      }
      const leg = lin.legs.find((l) => l.clientOrderId === snapshot.clientOrderId);
      if (!leg || leg.final) return;
      leg.venueOrderId ??= snapshot.venueOrderId;
      if (decCmp(snapshot.executed, leg.executed) > 0) leg.executed = snapshot.executed;
    },
    absent(lin, clientOrderId) {
      const m = lin.open.find((o) => o.id === clientOrderId && o.state === 'unknown');
      return m ? this.failed(m, undefined) : [];
    },
  };
}
