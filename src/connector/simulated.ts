/**
 * The embedded venue: a seeded, deterministic order book with latency, partial fills, rejections
 * and faults (drops, duplicates, reordering, delays, lost acknowledgements, failing or hanging
 * calls). Every timer runs on the injected clock and every draw on a seeded random source, so a
 * seed and a clock reproduce a whole session. Each order draws its fate (rejection, fill sizes,
 * prices, trades) from its own source seeded by its client order id, and its venue and fill ids
 * derive from it too, so what happens to an order does not shift when the handler asks the venue
 * more or less often. It keeps its own truth (`venueOrders()`, and `fillRecords()`: the FILL
 * messages it sent, duplicates included) for tests to compare with the handler's ledger.
 */
import BigFactory from 'big.js';
import type { Clock } from '../clock.js';
import { PlacementRejectedError } from '../errors.js';
import { hash53 } from '../hash.js';
import { type RandomSource, seededRandom } from '../random.js';
import type { ExchangeReply, OrderRequest } from '../types.js';
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
  /** `placeOrder` fails with a network error; half the time the venue took the order anyway. */
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
  /** `placeOrder` answers with the venue id (counts as ACCEPTED); default 0.5. */
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
  restore?: readonly VenueOrder[];
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
}

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
}

/** The simulated venue: a connector plus its truth and controls. */
export interface SimulatedExchange extends ExchangeConnector {
  /** Every order the venue holds (its truth). */
  venueOrders(): VenueOrder[];
  /** Per order, the fills made and the FILL messages sent (this life of the venue only). */
  fillRecords(): VenueFillRecord[];
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
  const replyListeners = new Set<(r: ExchangeReply) => void>();
  const reconnectListeners = new Set<() => void>();
  const counters: SimulatedExchangeStats = {
    placements: 0,
    duplicatePlacements: 0,
    repliesSent: 0,
    repliesDropped: 0,
    repliesDuplicated: 0,
    reconnects: 0,
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

  const ref = (o: Working) => ({ clientOrderId: o.clientOrderId, venueOrderId: o.venueOrderId });
  const working = (o: Working): boolean => o.status === 'OPEN' || o.status === 'PARTIALLY_FILLED';
  const remaining = (o: Working): string => new Dec(o.request.quantity).minus(o.filledQuantity).toFixed();
  const decimals = (s: string): number => (s.split('.')[1] ?? '').length;

  const priceFor = (o: Working): string => {
    if (o.request.price !== undefined) return o.request.price;
    const ref0 = new Dec(options.prices?.[o.request.symbol] ?? '100');
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
    o.status = new Dec(o.filledQuantity).gte(o.request.quantity) ? 'FILLED' : 'PARTIALLY_FILLED';
    const commission = new Dec(qty).times(f.price).times('0.001').round(8).toFixed();
    emit({ type: 'FILL', ...ref(o), ...f, commission, commissionAsset: 'USDT' }, o);
  };

  /** A piece of what is left: all of it, or a random part at the order's precision. */
  const piece = (o: Working): string => {
    const left = new Dec(remaining(o));
    if (!chance(options.partialFillRate ?? 0.5, o.rng)) return left.toFixed();
    const dp = Math.max(decimals(o.request.quantity), 0) + 1;
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

  const find = (r: OrderRef): Working | undefined =>
    byClient.get(r.clientOrderId) ?? (r.venueOrderId === undefined ? undefined : byVenue.get(r.venueOrderId));

  const stateOf = (o: Working): VenueOrderState => ({
    venueOrderId: o.venueOrderId,
    status: o.status,
    fills: o.fills.map((f) => ({ ...f })),
  });

  for (const saved of options.restore ?? []) {
    const o: Working = {
      ...saved,
      fills: [...saved.fills],
      rng: orderRng(saved.clientOrderId),
      fillCount: saved.fills.length,
      sent: { delivered: [], dropped: 0, queried: 0 },
    };
    // Skip the draws the order already made so its future does not replay its past.
    for (let i = 0; i < saved.fills.length * 3; i++) o.rng();
    byClient.set(o.clientOrderId, o);
    byVenue.set(o.venueOrderId, o);
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
        o = {
          clientOrderId,
          venueOrderId: venueIdFor(clientOrderId),
          rng: orderRng(clientOrderId),
          fillCount: 0,
          sent: { delivered: [], dropped: 0, queried: 0 },
          request,
          status: 'OPEN',
          filledQuantity: '0',
          fills: [],
          createdAt: clock.now(),
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
      })),
    fillRecords: () =>
      [...byClient.values()].map((o) => ({
        clientOrderId: o.clientOrderId,
        made: o.fills.map((f) => ({ ...f })),
        delivered: [...o.sent.delivered],
        dropped: o.sent.dropped,
        queried: o.sent.queried,
      })),
    setFaults(f) {
      faults = { ...f };
    },
    stats: () => ({ ...counters }),
    trade(clientOrderId, quantity) {
      const o = byClient.get(clientOrderId);
      if (!o || !working(o)) throw new Error(`order ${clientOrderId} is not working at the venue`);
      fill(o, quantity ?? remaining(o));
    },
    reconnect,
  };
}
