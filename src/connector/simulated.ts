/**
 * The embedded venue: a seeded, deterministic order book with latency, partial fills, rejections
 * and faults (drops, duplicates, reordering, delays, lost acknowledgements, failing or hanging
 * calls). Every timer runs on the injected clock and every draw on a seeded random source, so a
 * seed and a clock reproduce a whole session. Each order draws its fate (rejection, fill sizes,
 * prices, trades) from its own source seeded by its client order id, and its venue and fill ids
 * derive from it too, so what happens to an order does not shift when the handler asks the venue
 * more or less often. It keeps its own truth (`venueOrders()`, and `fillRecords()`: the FILL
 * messages it sent, duplicates included) for tests to compare with the handler's ledger.
 *
 * `modifyOrder` amends an order in place or, in 'replace' mode, cancels and replaces it as FIX does
 * (a new venue id, the modification id as the new client order id, the filled quantity carried
 * over). The venue keeps one record per order either way, known by every id it has had.
 */
import BigFactory from 'big.js';
import type { Clock } from '../clock.js';
import { PlacementRejectedError } from '../errors.js';
import { hash53 } from '../hash.js';
import { type RandomSource, seededRandom } from '../random.js';
import type { ExchangeReply, ModifyChanges, OrderRequest } from '../types.js';
import type { ExchangeConnector, OrderRef, VenueOrderState } from './types.js';

const Dec = BigFactory();

/** Fault rates, each a probability in [0, 1]. All default to 0. */
export interface SimulatedFaults {
  /** A reply is never delivered. */
  dropRate?: number;
  /** A reply is delivered twice. */
  duplicateRate?: number;
  /** A reply is held back a little, so replies sent after it overtake it. */
  reorderRate?: number;
  /** A reply is held back long (up to `delayMsMax`). */
  delayRate?: number;
  delayMsMax?: number;
  /** An acknowledgement (ACCEPTED) is lost. */
  lostAckRate?: number;
  /**
   * `placeOrder` fails with a network error; half the time the venue took the order anyway. Also
   * `modifyOrder`: half the time the venue never heard of the modify, half the time it applied it.
   */
  placeErrorRate?: number;
  /** `queryOrder` fails. */
  queryErrorRate?: number;
  /** `queryOrder` never answers. */
  queryHangRate?: number;
  /** `cancelOrder` fails and the venue never hears of the cancel. */
  cancelErrorRate?: number;
  /** A reply other than ACCEPTED names the order by its venue id only. */
  venueIdOnlyRate?: number;
}

/**
 * A dropped reply is a gap in the venue's message sequence: like a real user-data stream, the
 * simulated one notices it and reconnects (telling `onReconnect` listeners) this long after the
 * first gap, so the handler reconciles. Default 1,000 ms; 0 disables gap detection.
 */
const DEFAULT_GAP_RECONNECT_MS = 1_000;

/** Options of the simulated venue. */
export interface SimulatedExchangeOptions {
  clock: Clock;
  /** Seed of every random draw; default 1. */
  seed?: number;
  /** One-way latency of every reply and venue call, drawn per message; default 1..20 ms. */
  latencyMsMin?: number;
  latencyMsMax?: number;
  /** The venue rejects an order after taking it (a REJECTED reply); default 0.02. */
  rejectRate?: number;
  /** `placeOrder` refuses an order outright (`PlacementRejectedError`); default 0. */
  placementRejectRate?: number;
  /**
   * `placeOrder` answers with the venue id (counts as ACCEPTED); default 0.5. Also `modifyOrder`:
   * it answers `modified: true` (or throws `PlacementRejectedError` for a refused modify) at this
   * rate, and otherwise resolves without `modified` (the stream's reply tells).
   */
  ackInResultRate?: number;
  /** How often resting orders may trade; default 100 ms. */
  matchIntervalMs?: number;
  /** Chance a resting LIMIT order trades at a match; default 0.15 (STOP_LIMIT: a third of it). */
  fillProbability?: number;
  /** Chance a trade takes only part of what is left; default 0.5. */
  partialFillRate?: number;
  /** Lifetime of a DAY order; default 60,000 ms. */
  dayMs?: number;
  /** Reference prices by symbol; unknown symbols trade at 100. */
  prices?: Record<string, string>;
  /** When false the venue never trades or acknowledges by itself (tests drive it); default true. */
  autoMatch?: boolean;
  /** Delay from a dropped reply to the stream's reconnect; 0 disables it. Default 1,000 ms. */
  gapReconnectMs?: number;
  faults?: SimulatedFaults;
  /** Orders of an earlier life of this venue (from `venueOrders()`), e.g. to resume a demo. */
  restore?: readonly SavedVenueOrder[];
  /**
   * How `modifyOrder` changes an order: 'amend' in place (same venue order id), or 'replace' as
   * FIX's cancel/replace (a new venue order id, the modification id as the new client order id,
   * the filled quantity carried over). Default 'amend'.
   */
  modifyMode?: 'amend' | 'replace';
}

/** The venue's own record of an order. */
export interface VenueOrder {
  clientOrderId: string;
  venueOrderId: string;
  request: OrderRequest;
  status: VenueOrderState['status'];
  filledQuantity: string;
  fills: VenueOrderState['fills'];
  createdAt: number;
  /** The quantity in force: `request.quantity` until a modify changes it (`request` stays as placed). */
  quantity: string;
  /** The price in force, when the order has one. */
  price?: string;
  /** The stop price in force, when the order has one. */
  stopPrice?: string;
  /**
   * Every client order id the venue knows the order by, oldest first: `clientOrderId`, then the
   * modification id of each replacement. The last one names the order in the venue's replies.
   */
  clientOrderIds: string[];
  /** Every venue order id the order has had, oldest first; the last one is `venueOrderId` (current). */
  venueOrderIds: string[];
  /** Modifies the venue applied to the order. */
  modifications: number;
}

/** A venue order saved by an earlier life of the venue, maybe before modifies existed. */
export type SavedVenueOrder = Omit<VenueOrder, 'quantity' | 'clientOrderIds' | 'venueOrderIds' | 'modifications'> &
  Partial<Pick<VenueOrder, 'quantity' | 'clientOrderIds' | 'venueOrderIds' | 'modifications'>>;

/**
 * The venue's own record of one order's fills and of the FILL messages it sent for them: what an
 * audit counts the handler's fills against, before any dedupe of the handler or its ledger.
 */
export interface VenueFillRecord {
  clientOrderId: string;
  /** The fills the venue made, each once (as in `venueOrders()`). */
  made: VenueOrderState['fills'];
  /**
   * The `venueFillId` of every FILL reply delivered to the reply listeners, one entry per copy: a
   * duplicated reply appears twice, a dropped one not at all.
   */
  delivered: string[];
  /** FILL replies lost on the wire. */
  dropped: number;
  /** Fills restated in `queryOrder` answers (each answer restates every fill made so far). */
  queried: number;
}

/**
 * The venue's own record of the cancels asked of one client order id: the virtual time of each
 * `cancelOrder` call, i.e. when the handler sent it (before the wire's latency or a failure), also
 * for an order the venue never had.
 */
export interface VenueCancelRecord {
  clientOrderId: string;
  sentAt: number[];
}

/**
 * The venue's own record of one `modifyOrder` call: when the handler sent it (before the wire's
 * latency or a failure) and what the venue did with it. An audit judges the handler's modify
 * protocol against it (one modify outstanding per order, none sent twice, none assumed applied).
 */
export interface VenueModifyRecord {
  /** The order's first client order id (how `venueOrders()` lists it), or the id named when unknown. */
  clientOrderId: string;
  modificationId: string;
  sentAt: number;
  changes: ModifyChanges;
  /** 'unheard': the call failed before the venue heard of it (or the venue has not got to it yet). */
  outcome: 'applied' | 'refused' | 'unheard';
  /** When the venue applied or refused it. */
  decidedAt?: number;
  /** 'applied': the values in force right after it (a quantity at or below the filled one is the filled one). */
  values?: { quantity: string; price?: string; stopPrice?: string };
  /** 'refused': the venue's reason. */
  reason?: string;
}

/** Counters of the simulated venue. */
export interface SimulatedExchangeStats {
  placements: number;
  /** Placements of a client order id the venue already had (deduplicated, not a new order). */
  duplicatePlacements: number;
  repliesSent: number;
  repliesDropped: number;
  repliesDuplicated: number;
  /** Stream reconnects after a gap. */
  reconnects: number;
  /** `modifyOrder` calls. */
  modifies: number;
  /** Modifies the venue refused (MODIFY_REJECTED). */
  modifiesRefused: number;
}

/** The simulated venue: a connector plus its truth and controls. */
export interface SimulatedExchange extends ExchangeConnector {
  /** Every order the venue holds (its truth). */
  venueOrders(): VenueOrder[];
  /** Per order, the fills made and the FILL messages sent (this life of the venue only). */
  fillRecords(): VenueFillRecord[];
  /** Per client order id, when each cancel of it was sent (this life of the venue only). */
  cancelRecords(): VenueCancelRecord[];
  /** Every `modifyOrder` call and what the venue did with it, in call order (this life of the venue only). */
  modifyRecords(): VenueModifyRecord[];
  /** Replaces the fault rates; `setFaults({})` stops every fault. */
  setFaults(faults: SimulatedFaults): void;
  /** What the venue did so far. */
  stats(): SimulatedExchangeStats;
  /** Trades `quantity` (default: all that is left) of an order now; for tests. */
  trade(clientOrderId: string, quantity?: string): void;
  /** Simulates a dropped and restored connection: listeners of `onReconnect` are told. */
  reconnect(): void;
}

interface Working extends VenueOrder {
  /** The order's own random source: its fate does not depend on what else the venue was asked. */
  rng: RandomSource;
  fillCount: number;
  expiryTimer?: unknown;
  /** The matching engine has processed the order (before that it cannot trade). */
  resting?: boolean;
  /** The FILL messages sent for the order (see `VenueFillRecord`). */
  sent: { delivered: string[]; dropped: number; queried: number };
}

/** Creates the simulated venue. */
export function createSimulatedExchange(options: SimulatedExchangeOptions): SimulatedExchange {
  const clock = options.clock;
  /** Draws of the wire (latencies, faults); an order's fate draws from its own source. */
  const rnd: RandomSource = seededRandom(options.seed ?? 1);
  const latMin = options.latencyMsMin ?? 1;
  const latMax = options.latencyMsMax ?? 20;
  const autoMatch = options.autoMatch ?? true;
  let faults: SimulatedFaults = { ...(options.faults ?? {}) };
  const byClient = new Map<string, Working>();
  const byVenue = new Map<string, Working>();
  /** Replaced orders by the modification ids they took as client order ids. */
  const byModification = new Map<string, Working>();
  const modifyMode = options.modifyMode ?? 'amend';
  /** When each `cancelOrder` call was made, per client order id (see `VenueCancelRecord`). */
  const cancelsSent = new Map<string, number[]>();
  /** Every `modifyOrder` call (see `VenueModifyRecord`). */
  const modifiesSent: VenueModifyRecord[] = [];
  const replyListeners = new Set<(r: ExchangeReply) => void>();
  const reconnectListeners = new Set<() => void>();
  const counters: SimulatedExchangeStats = {
    placements: 0,
    duplicatePlacements: 0,
    repliesSent: 0,
    repliesDropped: 0,
    repliesDuplicated: 0,
    reconnects: 0,
    modifies: 0,
    modifiesRefused: 0,
  };
  const seed = options.seed ?? 1;
  /** The order's own draws, from the seed and its client order id. */
  const orderRng = (clientOrderId: string): RandomSource =>
    seededRandom(Number.parseInt(hash53(clientOrderId, seed).slice(-8), 16));
  /** A venue id derived from the client order id, so it does not depend on arrival order. */
  const venueIdFor = (clientOrderId: string): string => {
    let id = `V${hash53(clientOrderId, seed).slice(-10)}`;
    while (byVenue.has(id)) id += 'x';
    return id;
  };
  let matchTimer: unknown;
  let reconnectTimer: unknown;
  const gapReconnectMs = options.gapReconnectMs ?? DEFAULT_GAP_RECONNECT_MS;

  const reconnect = (): void => {
    reconnectTimer = undefined;
    counters.reconnects++;
    for (const l of reconnectListeners) l();
  };

  /** A reply was lost on the wire: the stream sees the gap and reconnects shortly. */
  const gap = (): void => {
    counters.repliesDropped++;
    if (gapReconnectMs > 0 && reconnectTimer === undefined) reconnectTimer = after(gapReconnectMs, reconnect);
  };

  const chance = (p: number | undefined, from: RandomSource = rnd): boolean => (p ?? 0) > 0 && from() < (p ?? 0);
  const latency = (): number => latMin + Math.floor(rnd() * (latMax - latMin + 1));
  const after = (ms: number, fn: () => void): unknown => clock.setTimeout(fn, ms);

  const deliver = (reply: ExchangeReply): void => {
    counters.repliesSent++;
    for (const l of replyListeners) l(reply);
  };

  /** Sends a reply through the faulty wire; `o` (the order of a FILL) keeps count of what went out. */
  const emit = (reply: ExchangeReply, o?: Working): void => {
    if (chance(faults.dropRate) || (reply.type === 'ACCEPTED' && chance(faults.lostAckRate))) {
      if (o) o.sent.dropped++;
      gap();
      return;
    }
    // Counted as it reaches the listeners, copy by copy, so a duplicate the wire made is on record.
    const send = (r: ExchangeReply): void => {
      if (o && r.type === 'FILL') o.sent.delivered.push(r.venueFillId);
      deliver(r);
    };
    let wire: ExchangeReply = reply;
    if (reply.type !== 'ACCEPTED' && reply.venueOrderId !== undefined && chance(faults.venueIdOnlyRate)) {
      const { clientOrderId: _c, ...rest } = reply;
      wire = rest as ExchangeReply;
    }
    let delay = latency();
    if (chance(faults.reorderRate)) delay += latMax + Math.floor(rnd() * 4 * latMax);
    if (chance(faults.delayRate)) delay += Math.floor(rnd() * (faults.delayMsMax ?? 5_000));
    after(delay, () => send(wire));
    if (chance(faults.duplicateRate)) {
      counters.repliesDuplicated++;
      after(delay + latency(), () => send(wire));
    }
  };

  /** How the venue names the order now: its latest client order id and its current venue id. */
  const ref = (o: Working) => ({
    clientOrderId: o.clientOrderIds.at(-1) ?? o.clientOrderId,
    venueOrderId: o.venueOrderId,
  });
  const working = (o: Working): boolean => o.status === 'OPEN' || o.status === 'PARTIALLY_FILLED';
  const remaining = (o: Working): string => new Dec(o.quantity).minus(o.filledQuantity).toFixed();
  const decimals = (s: string): number => (s.split('.')[1] ?? '').length;
  const positive = (s: string): boolean => {
    try {
      return new Dec(s).gt(0);
    } catch {
      return false; // not a decimal
    }
  };

  const referencePrice = (o: Working) => new Dec(options.prices?.[o.request.symbol] ?? '100');

  const priceFor = (o: Working): string => {
    if (o.price !== undefined) return o.price;
    const ref0 = referencePrice(o);
    const drift = ref0.times((o.rng() - 0.5) / 500);
    return ref0.plus(drift).round(2).toFixed();
  };

  /** Trades `qty` of a working order and tells the handler. */
  const fill = (o: Working, qty: string): void => {
    const f = {
      venueFillId: `${o.venueOrderId}-F${++o.fillCount}`,
      quantity: qty,
      price: priceFor(o),
      at: clock.now(),
    };
    o.fills.push(f);
    o.filledQuantity = new Dec(o.filledQuantity).plus(qty).toFixed();
    o.status = new Dec(o.filledQuantity).gte(o.quantity) ? 'FILLED' : 'PARTIALLY_FILLED';
    const commission = new Dec(qty).times(f.price).times('0.001').round(8).toFixed();
    emit({ type: 'FILL', ...ref(o), ...f, commission, commissionAsset: 'USDT' }, o);
  };

  /** A piece of what is left: all of it, or a random part at the order's precision. */
  const piece = (o: Working): string => {
    const left = new Dec(remaining(o));
    if (!chance(options.partialFillRate ?? 0.5, o.rng)) return left.toFixed();
    const dp = Math.max(decimals(o.quantity), 0) + 1;
    const part = left.times(0.2 + o.rng() * 0.6).round(dp, Dec.roundDown);
    return part.gt(0) && part.lt(left) ? part.toFixed() : left.toFixed();
  };

  const end = (o: Working, status: 'CANCELLED' | 'EXPIRED', reason?: string): void => {
    o.status = status;
    clock.clearTimeout(o.expiryTimer);
    emit(
      status === 'CANCELLED'
        ? { type: 'CANCELLED', ...ref(o), ...(reason ? { reason } : {}), at: clock.now() }
        : { type: 'EXPIRED', ...ref(o), at: clock.now() },
    );
  };

  /** What happens to a new order once the venue processed it. */
  const process = (o: Working): void => {
    if (!working(o)) return; // cancelled before the matching engine got to it
    if (chance(options.rejectRate ?? 0.02, o.rng)) {
      o.status = 'REJECTED';
      emit({ type: 'REJECTED', ...ref(o), reason: 'insufficient balance', at: clock.now() });
      return;
    }
    emit({ type: 'ACCEPTED', ...ref(o), at: clock.now() });
    const tif = o.request.timeInForce ?? 'GTC';
    if (o.request.type === 'MARKET') {
      while (working(o)) fill(o, piece(o));
      return;
    }
    if (tif === 'FOK') {
      if (chance(options.fillProbability ?? 0.15, o.rng)) fill(o, remaining(o));
      else end(o, 'EXPIRED');
      return;
    }
    if (tif === 'IOC') {
      if (chance(options.fillProbability ?? 0.15, o.rng)) fill(o, piece(o));
      if (working(o)) end(o, 'EXPIRED');
      return;
    }
    if (tif === 'DAY') o.expiryTimer = after(options.dayMs ?? 60_000, () => working(o) && end(o, 'EXPIRED'));
    o.resting = true;
    armMatching();
  };

  /** Resting orders trade on a timer that runs only while some order rests. */
  const armMatching = (): void => {
    if (matchTimer !== undefined || !autoMatch) return;
    matchTimer = after(options.matchIntervalMs ?? 100, () => {
      matchTimer = undefined;
      let resting = false;
      for (const o of byClient.values()) {
        if (!working(o) || !o.resting) continue;
        const p = (options.fillProbability ?? 0.15) * (o.request.type === 'STOP_LIMIT' ? 1 / 3 : 1);
        if (chance(p, o.rng)) fill(o, piece(o));
        resting ||= working(o);
      }
      if (resting) armMatching();
    });
  };

  /** The order a reference names: by any client order id it has had, else by any venue order id. */
  const find = (r: OrderRef): Working | undefined =>
    byClient.get(r.clientOrderId) ??
    byModification.get(r.clientOrderId) ??
    (r.venueOrderId === undefined ? undefined : byVenue.get(r.venueOrderId));

  /** The values in force, as a reply or an answer states them. */
  const valuesOf = (o: Working) => ({
    quantity: o.quantity,
    ...(o.price === undefined ? {} : { price: o.price }),
    ...(o.stopPrice === undefined ? {} : { stopPrice: o.stopPrice }),
  });

  const stateOf = (o: Working): VenueOrderState => ({
    venueOrderId: o.venueOrderId,
    status: o.status,
    ...valuesOf(o),
    fills: o.fills.map((f) => ({ ...f })),
  });

  /** Why the venue refuses to apply `changes` to the order (its own rules), or undefined. */
  const refusal = (o: Working | undefined, changes: ModifyChanges): string | undefined => {
    if (!o) return 'unknown order';
    if (!working(o)) return `order is ${o.status}`;
    const given = [changes.quantity, changes.price, changes.stopPrice].filter((v) => v !== undefined);
    if (given.length === 0) return 'nothing to modify';
    if (!given.every(positive)) return 'invalid value: not a positive decimal';
    if (changes.price !== undefined && o.request.type === 'MARKET') return 'a MARKET order has no price';
    if (changes.stopPrice !== undefined && o.request.type !== 'STOP_LIMIT') return 'only a STOP_LIMIT has a stop price';
    return undefined;
  };

  /**
   * Applies a modify the venue accepted and says so (MODIFIED). 'replace' gives the order a new
   * venue id and the modification id as its client id; fills made so far carry over. A quantity at
   * or below the filled quantity ends the order FILLED with quantity = filled (FIX 4.4 Appendix D,
   * D11 and D12). A resting LIMIT order whose new price crosses the reference price trades a piece
   * at once, as a new marketable order would on a book.
   */
  const applyModify = (o: Working, modificationId: string, changes: ModifyChanges): void => {
    const before = ref(o);
    if (modifyMode === 'replace') {
      o.venueOrderId = venueIdFor(modificationId);
      o.venueOrderIds.push(o.venueOrderId);
      o.clientOrderIds.push(modificationId);
      byVenue.set(o.venueOrderId, o);
      byModification.set(modificationId, o);
    }
    if (changes.quantity !== undefined) o.quantity = changes.quantity;
    if (changes.price !== undefined) o.price = changes.price;
    if (changes.stopPrice !== undefined) o.stopPrice = changes.stopPrice;
    o.modifications++;
    if (new Dec(o.quantity).lte(o.filledQuantity)) {
      o.quantity = o.filledQuantity;
      o.status = 'FILLED';
      clock.clearTimeout(o.expiryTimer);
    }
    const named =
      modifyMode === 'replace'
        ? { clientOrderId: modificationId, venueOrderId: before.venueOrderId, newVenueOrderId: o.venueOrderId }
        : before;
    emit({ type: 'MODIFIED', ...named, ...valuesOf(o), at: clock.now() });
    if (changes.price !== undefined && crosses(o)) fill(o, piece(o));
  };

  /** A resting LIMIT order priced through the reference price (a BUY above it, a SELL below it). */
  const crosses = (o: Working): boolean => {
    if (!o.resting || !working(o) || o.request.type !== 'LIMIT' || o.price === undefined) return false;
    const c = new Dec(o.price).cmp(referencePrice(o));
    return o.request.side === 'BUY' ? c > 0 : c < 0;
  };

  /** Says the venue refused a modify. 'replace' names the request's client id (the modification id), as FIX does. */
  const refuseModify = (o: Working | undefined, r: OrderRef & { modificationId: string }, reason: string): void => {
    counters.modifiesRefused++;
    const named =
      modifyMode === 'replace'
        ? { clientOrderId: r.modificationId, ...(o ? { venueOrderId: o.venueOrderId } : {}) }
        : o
          ? ref(o)
          : { clientOrderId: r.clientOrderId };
    emit({ type: 'MODIFY_REJECTED', ...named, reason, at: clock.now() });
  };

  for (const saved of options.restore ?? []) {
    const o: Working = {
      ...saved,
      ...(saved.quantity === undefined
        ? {
            quantity: saved.request.quantity,
            ...(saved.request.price === undefined ? {} : { price: saved.request.price }),
            ...(saved.request.stopPrice === undefined ? {} : { stopPrice: saved.request.stopPrice }),
          }
        : { quantity: saved.quantity }),
      clientOrderIds: [...(saved.clientOrderIds ?? [saved.clientOrderId])],
      venueOrderIds: [...(saved.venueOrderIds ?? [saved.venueOrderId])],
      modifications: saved.modifications ?? 0,
      fills: [...saved.fills],
      rng: orderRng(saved.clientOrderId),
      fillCount: saved.fills.length,
      sent: { delivered: [], dropped: 0, queried: 0 },
    };
    // Skip the draws the order already made so its future does not replay its past.
    for (let i = 0; i < saved.fills.length * 3; i++) o.rng();
    byClient.set(o.clientOrderId, o);
    for (const id of o.clientOrderIds.slice(1)) byModification.set(id, o);
    for (const id of [...o.venueOrderIds, o.venueOrderId]) byVenue.set(id, o);
    if (working(o)) {
      o.resting = true;
      armMatching();
    }
  }

  return {
    async placeOrder(order) {
      counters.placements++;
      if (chance(options.placementRejectRate, orderRng(`${order.clientOrderId}/refuse`))) {
        throw new PlacementRejectedError('invalid order: price filter');
      }
      const failing = chance(faults.placeErrorRate);
      const takenAnyway = failing && rnd() < 0.5;
      if (failing && !takenAnyway) throw new Error('network error: connection reset before the venue took the order');
      let o = byClient.get(order.clientOrderId);
      if (o) counters.duplicatePlacements++;
      else {
        const { clientOrderId, ...request } = order;
        const venueOrderId = venueIdFor(clientOrderId);
        o = {
          clientOrderId,
          venueOrderId,
          rng: orderRng(clientOrderId),
          fillCount: 0,
          sent: { delivered: [], dropped: 0, queried: 0 },
          request,
          status: 'OPEN',
          filledQuantity: '0',
          fills: [],
          createdAt: clock.now(),
          quantity: request.quantity,
          ...(request.price === undefined ? {} : { price: request.price }),
          ...(request.stopPrice === undefined ? {} : { stopPrice: request.stopPrice }),
          clientOrderIds: [clientOrderId],
          venueOrderIds: [venueOrderId],
          modifications: 0,
        };
        byClient.set(clientOrderId, o);
        byVenue.set(o.venueOrderId, o);
        const created = o;
        if (autoMatch) after(latency(), () => process(created));
      }
      if (takenAnyway) throw new Error('network error: timeout waiting for the venue (it took the order)');
      return chance(options.ackInResultRate ?? 0.5) ? { venueOrderId: o.venueOrderId } : {};
    },

    async cancelOrder(r) {
      const sent = cancelsSent.get(r.clientOrderId) ?? [];
      if (sent.length === 0) cancelsSent.set(r.clientOrderId, sent);
      sent.push(clock.now());
      if (chance(faults.cancelErrorRate)) throw new Error('network error: cancel not sent');
      after(latency(), () => {
        const o = find(r);
        if (!o) {
          emit({ type: 'CANCEL_REJECTED', clientOrderId: r.clientOrderId, reason: 'unknown order', at: clock.now() });
        } else if (working(o)) {
          end(o, 'CANCELLED', 'cancelled by client');
        } else {
          emit({ type: 'CANCEL_REJECTED', ...ref(o), reason: `order is ${o.status}`, at: clock.now() });
        }
      });
    },

    modifyOrder(r, changes) {
      counters.modifies++;
      const record: VenueModifyRecord = {
        clientOrderId: find(r)?.clientOrderId ?? r.clientOrderId,
        modificationId: r.modificationId,
        sentAt: clock.now(),
        changes: { ...changes },
        outcome: 'unheard',
      };
      modifiesSent.push(record);
      return new Promise<{ modified?: boolean; venueOrderId?: string }>((resolve, reject) => {
        const failing = chance(faults.placeErrorRate);
        const heard = failing && rnd() < 0.5;
        if (failing && !heard) return reject(new Error('network error: modify not sent'));
        after(latency(), () => {
          const o = find(r);
          const why = refusal(o, changes);
          record.decidedAt = clock.now();
          if (o && why === undefined) {
            applyModify(o, r.modificationId, changes);
            record.outcome = 'applied';
            record.values = valuesOf(o);
          } else {
            refuseModify(o, r, why ?? 'unknown order');
            record.outcome = 'refused';
            record.reason = why ?? 'unknown order';
          }
          if (heard) reject(new Error('network error: timeout waiting for the venue (it got the modify)'));
          else if (!chance(options.ackInResultRate ?? 0.5)) resolve({});
          else if (why !== undefined) reject(new PlacementRejectedError(why));
          else resolve({ modified: true, ...(modifyMode === 'replace' && o ? { venueOrderId: o.venueOrderId } : {}) });
        });
      });
    },

    queryOrder(r) {
      return new Promise<VenueOrderState | null>((resolve, reject) => {
        if (chance(faults.queryHangRate)) return; // never answers
        const failing = chance(faults.queryErrorRate);
        after(latency(), () => {
          if (failing) reject(new Error('network error: query failed'));
          else {
            const o = find(r);
            if (o) o.sent.queried += o.fills.length;
            resolve(o ? stateOf(o) : null);
          }
        });
      });
    },

    onReply(listener) {
      replyListeners.add(listener);
      return () => replyListeners.delete(listener);
    },

    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },

    venueOrders: () =>
      [...byClient.values()].map(({ expiryTimer: _t, resting: _r, rng: _g, fillCount: _n, sent: _s, ...o }) => ({
        ...o,
        fills: [...o.fills],
        clientOrderIds: [...o.clientOrderIds],
        venueOrderIds: [...o.venueOrderIds],
      })),
    fillRecords: () =>
      [...byClient.values()].map((o) => ({
        clientOrderId: o.clientOrderId,
        made: o.fills.map((f) => ({ ...f })),
        delivered: [...o.sent.delivered],
        dropped: o.sent.dropped,
        queried: o.sent.queried,
      })),
    cancelRecords: () => [...cancelsSent].map(([clientOrderId, sentAt]) => ({ clientOrderId, sentAt: [...sentAt] })),
    modifyRecords: () => modifiesSent.map((m) => ({ ...m, changes: { ...m.changes } })),
    setFaults(f) {
      faults = { ...f };
    },
    stats: () => ({ ...counters }),
    trade(clientOrderId, quantity) {
      const o = find({ clientOrderId });
      if (!o || !working(o)) throw new Error(`order ${clientOrderId} is not working at the venue`);
      fill(o, quantity ?? remaining(o));
    },
    reconnect,
  };
}
