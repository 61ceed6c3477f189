/**
 * A realistic trading session against the simulated venue, on virtual time: an engine sends
 * directives over several symbols (all order types, the three batch modes), cancels some orders,
 * the venue trades, rejects and misbehaves as its fault rates say, and at the end the faults stop,
 * everything still resting is cancelled, and the handler is given time to agree with the venue.
 * The engine also modifies a share of its working orders (`engine-modify.ts`), against a venue that
 * amends them in place or replaces them (a new venue order id), as `modifyMode` says.
 * The demo runs it; the simulation tests run it and then check the promises, among them, through a
 * `ConvergenceWatch`, promise 7's bound on how soon after the faults stop each order agrees.
 */
import { createManualClock } from '../clock.js';
import {
  type SimulatedExchange,
  type SimulatedExchangeStats,
  type SimulatedFaults,
  type VenueOrder,
  createSimulatedExchange,
} from '../connector/simulated.js';
import { type ExecutionHandler, createExecutionHandler } from '../handler/create.js';
import { createMemoryLedger } from '../ledger/memory.js';
import type { StrategyLedger } from '../ledger/types.js';
import { type RandomSource, seededRandom } from '../random.js';
import type {
  AnomalyKind,
  BatchMode,
  ExecutionDirective,
  OrderRequest,
  OrderStatus,
  RecoveryReport,
  TimeInForce,
} from '../types.js';
import { Engine, type EngineActions, type EngineLog } from './engine-log.js';
import { ModifyEngine } from './engine-modify.js';

/** Options of a session. */
export interface SessionOptions {
  /** Orders to place; default 1,000. */
  orders?: number;
  /** Seed of the engine's and the venue's draws; default 1. */
  seed?: number;
  faults?: SimulatedFaults;
  /** Default: a memory ledger. */
  ledger?: StrategyLedger;
  strategyId?: string;
  /** Chance per second that the engine cancels a given working order; default 0.05. */
  cancelRatePerSecond?: number;
  /** Chance per second that the engine modifies a given working order; default 0.05. */
  modifyRatePerSecond?: number;
  /** How the venue applies a modify: in place, or as a cancel/replace with a new venue id; default 'amend'. */
  modifyMode?: 'amend' | 'replace';
  /** Venue rejection rate; default 0.02. */
  rejectRate?: number;
  /** Chance a resting order trades at each of the venue's matches (every 100 ms); default the venue's 0.15. */
  fillProbability?: number;
  /** Called as orders are placed. */
  onProgress?: (placed: number, total: number) => void;
  /** Handler timing overrides (virtual milliseconds). */
  timing?: Partial<SessionTiming>;
  /** A saved session to continue: its venue comes back, the handler recovers from the ledger. */
  resume?: SessionState;
  /** Receives the state to save every few steps and at the end, so a later run can resume. */
  onCheckpoint?: (state: SessionState) => void;
  /** Receives a function that returns the state as it is now (for a save on Ctrl-C). */
  onStateReader?: (read: () => SessionState) => void;
  /**
   * Chance per step that the handler process "crashes": it is stopped (its memory is gone, the
   * ledger and the venue stay) and a new handler recovers from the ledger. Default 0.
   */
  restartRate?: number;
  /**
   * Awaited after every step of virtual time, for a ledger doing real I/O (PostgreSQL): the manual
   * clock would otherwise run the session's last two minutes ahead of commits still in flight, and
   * deadlines the handler arms once they land would never come due.
   */
  realIo?: () => Promise<void>;
  /** Called after every step with the ledger, venue and handler, for checks that must hold all along. */
  onStep?: (
    step: number,
    ledger: StrategyLedger,
    exchange: SimulatedExchange,
    handler: ExecutionHandler,
  ) => Promise<void>;
  /** Checks made on virtual time once the faults stop (see `ConvergenceWatch`). */
  convergence?: ConvergenceWatch;
  /** The engine's emergency stop mid-session and its stops of SEQUENTIAL directives; default none. */
  engine?: EngineActions;
  /** A venue outage that starts while orders are placed and may outlast the placing; default none. */
  outage?: VenueOutage;
}

/**
 * A venue outage: once `startFraction` of the orders is placed, for `durationMs`, the venue fails
 * at `severity`: placements, queries and cancels fail, acknowledgements are lost, and half as often
 * other replies. Long enough for orders to time out (some never reached the venue, some rest there
 * unseen) and for cancels to go unconfirmed and be re-sent at the slow pace. When the placing ends
 * first, the session waits for the outage to end, the handler crashing and recovering meanwhile
 * each second with `restartChance`; the faults stop after it.
 */
export interface VenueOutage {
  startFraction: number;
  durationMs: number;
  severity: number;
  restartChance: number;
}

/** The venue's faults during `outage`: the session's own, made worse. */
function outageFaults(faults: SimulatedFaults, outage: VenueOutage): SimulatedFaults {
  const worse = (rate: number | undefined, to: number) => Math.max(rate ?? 0, to);
  return {
    ...faults,
    placeErrorRate: worse(faults.placeErrorRate, outage.severity),
    queryErrorRate: worse(faults.queryErrorRate, outage.severity),
    cancelErrorRate: worse(faults.cancelErrorRate, outage.severity),
    lostAckRate: worse(faults.lostAckRate, outage.severity),
    dropRate: worse(faults.dropRate, outage.severity / 2),
  };
}

/** The handler timings a session runs with: the ones promise 7's bound is made of. */
export interface SessionTiming {
  ackTimeoutMs: number;
  cancelTimeoutMs: number;
  modifyTimeoutMs: number;
  queryIntervalMs: number;
  queryRetries: number;
}

/** The defaults of contract section 5, passed to the handler explicitly so the bound uses the same. */
export const DEFAULT_TIMING: SessionTiming = {
  ackTimeoutMs: 10_000,
  cancelTimeoutMs: 10_000,
  modifyTimeoutMs: 10_000,
  queryIntervalMs: 2_000,
  queryRetries: 5,
};

/** The timings of a session given `overrides`: what its handler runs with and its bound is made of. */
export function sessionTiming(overrides?: Partial<SessionTiming>): SessionTiming {
  return { ...DEFAULT_TIMING, ...overrides };
}

/**
 * Checks that need the clock stopped at given virtual times after the faults stop (promise 7's
 * bound): the session tells it when the faults stopped and what `cancelAll()` cancelled, and stops
 * the clock at every time `next()` names to call `check` there.
 */
export interface ConvergenceWatch {
  /** The venue's faults stopped at `now`. */
  faultsStopped(now: number, ledger: StrategyLedger, exchange: SimulatedExchange): Promise<void>;
  /** At `now` the engine's `cancelAll()` made a cancel outstanding for `orderIds`. */
  cancelledAll(now: number, orderIds: readonly string[], ledger: StrategyLedger): Promise<void>;
  /** The earliest virtual time a check is due, if any. */
  next(): number | undefined;
  /** Runs the checks due at or before `now`; afterwards `next()` is later than `now`. */
  check(now: number, ledger: StrategyLedger, exchange: SimulatedExchange): Promise<void>;
}

/** What a later run needs to resume a session: its plan, progress, virtual time and venue. */
export interface SessionState {
  version: 1;
  seed: number;
  total: number;
  placed: number;
  directives: number;
  now: number;
  done: boolean;
  venue: VenueOrder[];
  /** How the venue applies modifies; absent in a state saved before modifies existed ('amend'). */
  modifyMode?: 'amend' | 'replace';
}

/** What a session did. */
export interface SessionResult {
  /** OrderIDs minted by this run (not by the run it resumed). */
  orderIds: string[];
  seed: number;
  /** Orders the whole session planned (its directives' orders, SEQUENTIAL ones never placed included). */
  total: number;
  directives: number;
  /** The handler timings the session ran with. */
  timing: SessionTiming;
  /** How the venue applied modifies. */
  modifyMode: 'amend' | 'replace';
  /** What `recover()` found when resuming. */
  recovery?: RecoveryReport;
  /** Simulated crashes and recoveries during the session. */
  restarts: number;
  byStatus: Partial<Record<OrderStatus, number>>;
  fills: number;
  anomalies: Partial<Record<AnomalyKind, number>>;
  duplicatesDropped: number;
  venue: SimulatedExchangeStats;
  virtualMs: number;
  handler: ExecutionHandler;
  exchange: SimulatedExchange;
  ledger: StrategyLedger;
  /** What the engine did besides trading (this run only): its cancelAll() calls, SEQUENTIAL stops, restarts. */
  engine: EngineLog;
}

/** Session start: 2026-01-05 09:00:00 UTC, a Monday morning. */
export const SESSION_START_MS = Date.UTC(2026, 0, 5, 9, 0, 0);

const SYMBOLS: { symbol: string; price: number; dp: number }[] = [
  { symbol: 'BTC_USDT', price: 60_000, dp: 2 },
  { symbol: 'ETH_USDT', price: 3_000, dp: 2 },
  { symbol: 'SOL_USDT', price: 150, dp: 3 },
  { symbol: 'XRP_USDT', price: 0.6, dp: 5 },
];

const STEP_MS = 50;
/** The step of an outage that outlasts the placing (the engine places nothing meanwhile). */
const OUTAGE_TICK_MS = 1_000;
/** Steps between checkpoints of the session state. */
const CHECKPOINT_STEPS = 10;

function pick<T>(rnd: RandomSource, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)]!;
}

/** A plausible order: mostly limits near the reference price, some market and stop-limit orders. */
function randomOrder(rnd: RandomSource): OrderRequest {
  const s = pick(rnd, SYMBOLS);
  const side = rnd() < 0.5 ? 'BUY' : 'SELL';
  const quantity = (Math.floor(rnd() * 1000) / 1000 + 0.001).toFixed(3);
  const px = (f: number) => (s.price * f).toFixed(s.dp);
  const r = rnd();
  if (r < 0.3) return { symbol: s.symbol, side, type: 'MARKET', quantity };
  const tif = pick<TimeInForce>(rnd, ['GTC', 'GTC', 'GTC', 'DAY', 'IOC', 'FOK']);
  const price = px(1 + (rnd() - 0.5) / 50);
  if (r < 0.9) return { symbol: s.symbol, side, type: 'LIMIT', quantity, price, timeInForce: tif };
  return { symbol: s.symbol, side, type: 'STOP_LIMIT', quantity, price, stopPrice: px(side === 'BUY' ? 1.01 : 0.99) };
}

/** Awaits `work` while advancing the manual clock step by step (at most ten virtual minutes). */
async function whileAdvancing<T>(clock: ReturnType<typeof createManualClock>, work: Promise<T>): Promise<T> {
  let done = false;
  const result = work.finally(() => {
    done = true;
  });
  for (let waited = 0; !done && waited < 600_000; waited += STEP_MS) await clock.advance(STEP_MS);
  return result;
}

/** Advances the clock to `target`, stopping at each time the watch has a check due. */
async function advanceTo(
  clock: ReturnType<typeof createManualClock>,
  target: number,
  watch: ConvergenceWatch | undefined,
  ledger: StrategyLedger,
  exchange: SimulatedExchange,
  realIo?: () => Promise<void>,
): Promise<void> {
  const until = async (t: number): Promise<void> => {
    // With real I/O, step by step so the ledger's commits keep up with virtual time.
    for (let now = clock.now(); realIo && now + STEP_MS < t; now = clock.now()) {
      await clock.advance(STEP_MS);
      await realIo();
    }
    if (t > clock.now()) await clock.advance(t - clock.now());
  };
  for (let due = watch?.next(); watch && due !== undefined && due <= target; due = watch.next()) {
    await until(due);
    await watch.check(clock.now(), ledger, exchange);
  }
  await until(target);
}

/** Runs a session and returns its tallies. */
export async function runSession(options: SessionOptions = {}): Promise<SessionResult> {
  const resume = options.resume;
  const total = resume?.total ?? options.orders ?? 1_000;
  const seed = resume?.seed ?? options.seed ?? 1;
  let placed = resume?.placed ?? 0;
  let directives = resume?.directives ?? 0;
  const rnd = seededRandom(seed * 7919 + 17 + placed);
  const clock = createManualClock(resume?.now ?? SESSION_START_MS);
  const ledger = options.ledger ?? createMemoryLedger();
  const timing = sessionTiming(options.timing);
  const modifyMode = resume?.modifyMode ?? options.modifyMode ?? 'amend';
  const exchange = createSimulatedExchange({
    clock,
    seed,
    rejectRate: options.rejectRate ?? 0.02,
    ...(options.fillProbability === undefined ? {} : { fillProbability: options.fillProbability }),
    prices: Object.fromEntries(SYMBOLS.map((s) => [s.symbol, String(s.price)])),
    faults: options.faults ?? {},
    modifyMode,
    ...(resume ? { restore: resume.venue } : {}),
  });
  let lives = 0;
  const startHandler = () =>
    createExecutionHandler({
      strategyId: options.strategyId ?? 'DEMO',
      connector: exchange,
      ledger,
      clock,
      random: seededRandom(seed + placed + 7_777 * lives++),
      onError: () => {}, // background retries report here; the audit judges the outcome
      ...timing,
    });
  let handler = await startHandler();
  // Recovery asks the venue, whose answers come on virtual time: keep the clock moving meanwhile.
  const recovery = resume ? await whileAdvancing(clock, handler.recover()) : undefined;
  let restarts = 0;
  let done = false;
  const stateNow = (): SessionState => ({
    version: 1,
    seed,
    total,
    placed,
    directives,
    now: clock.now(),
    done,
    venue: exchange.venueOrders(),
    modifyMode,
  });
  options.onStateReader?.(stateNow);
  const checkpoint = (): void => options.onCheckpoint?.(stateNow());
  const orderIds: string[] = [];
  const engine = new Engine(seed, options.engine ?? {}, () => clock.now());
  const cancelChance = (options.cancelRatePerSecond ?? 0.05) * (STEP_MS / 1000);
  const modifier = new ModifyEngine(seed, (options.modifyRatePerSecond ?? 0.05) * (STEP_MS / 1000), engine.log, () =>
    clock.now(),
  );
  /** A simulated crash: the handler's memory is gone, the ledger and the venue stay; a new one recovers. */
  const restart = async (): Promise<void> => {
    await handler.stop();
    handler = await startHandler();
    engine.log.restarts.push(clock.now());
    await whileAdvancing(clock, handler.recover());
    restarts++;
  };
  const outage = options.outage;
  let outageFrom: number | undefined;
  let outageOver = false;
  /** Starts or ends the outage as due; the time into it while it lasts. */
  const outageProgress = (): number | undefined => {
    if (!outage || outageOver) return undefined;
    if (outageFrom === undefined) {
      if (placed < outage.startFraction * total) return undefined;
      outageFrom = clock.now();
      exchange.setFaults(outageFaults(options.faults ?? {}, outage));
    }
    if (clock.now() - outageFrom < outage.durationMs) return clock.now() - outageFrom;
    outageOver = true;
    exchange.setFaults(options.faults ?? {});
    return undefined;
  };
  let step = 0;
  while (placed < total) {
    step++;
    const outageMs = outageProgress();
    if (outageMs !== undefined) await engine.midway({ outageMs }, handler, ledger);
    const burst = 1 + Math.floor(rnd() * 3);
    for (let b = 0; b < burst && placed < total; b++) {
      const size = Math.min(total - placed, rnd() < 0.8 ? 1 : 2 + Math.floor(rnd() * 2));
      const mode: BatchMode =
        size === 1 ? 'INDEPENDENT' : pick(rnd, ['INDEPENDENT', 'COORDINATED', 'SEQUENTIAL'] as const);
      const directive: ExecutionDirective = {
        directiveId: `DIR_${seed}_${++directives}`,
        causality: {
          origin: { id: `TCK_${directives}`, type: 'TICK' },
          signalIds: [`SIG_${directives}`],
          riskIds: [`RSK_${directives}`],
          executionPlanId: `EXP_${directives}`,
          orderIds: [],
          fillIds: [],
        },
        orders: Array.from({ length: size }, () => randomOrder(rnd)),
        mode,
      };
      const { orderIds: ids } = await handler.execute(directive);
      orderIds.push(...ids);
      placed += ids.length;
      if (mode === 'SEQUENTIAL') engine.executed(directive.directiveId, ids, step, restarts);
    }
    await engine.stopsDue(step, restarts, handler, ledger);
    for (const view of handler.orders({ status: ['OPEN', 'PARTIALLY_FILLED'] })) {
      if (rnd() < cancelChance) await handler.cancel(view.orderId);
    }
    await modifier.step(handler, ledger);
    await engine.midway({ placed, total }, handler, ledger);
    options.onProgress?.(placed, total);
    await clock.advance(STEP_MS);
    await options.realIo?.();
    if (step % CHECKPOINT_STEPS === 0) checkpoint();
    if (options.restartRate && rnd() < options.restartRate) await restart();
    await options.onStep?.(step, ledger, exchange, handler);
  }
  // The placing is over; an outage still on lasts its course (the engine waits it out).
  for (let outageMs = outageProgress(); outageMs !== undefined; outageMs = outageProgress()) {
    await engine.midway({ outageMs }, handler, ledger);
    await clock.advance(Math.min(OUTAGE_TICK_MS, outage!.durationMs - outageMs));
    if (rnd() < outage!.restartChance) await restart();
    await options.onStep?.(++step, ledger, exchange, handler);
  }
  // End of session: the venue behaves again, the engine cancels what still rests, and the
  // handler gets the time the convergence promise allows (plus the slow pace of one query).
  exchange.setFaults({});
  const watch = options.convergence;
  const faultsStoppedAt = clock.now();
  await watch?.faultsStopped(faultsStoppedAt, ledger, exchange);
  await advanceTo(clock, faultsStoppedAt + 2_000, watch, ledger, exchange, options.realIo);
  const cancelled = await engine.cancelAll(handler, ledger);
  await watch?.cancelledAll(clock.now(), cancelled, ledger);
  await advanceTo(clock, faultsStoppedAt + 122_000, watch, ledger, exchange, options.realIo);
  // No settle(): a query the venue never answers stays in flight by design (queryHangRate).

  done = true;
  checkpoint();

  const byStatus: Partial<Record<OrderStatus, number>> = {};
  let fills = 0;
  for (const view of await ledger.getOrdersChangedSince(0)) {
    byStatus[view.status] = (byStatus[view.status] ?? 0) + 1;
    fills += view.fills.length;
  }
  const anomalies: Partial<Record<AnomalyKind, number>> = {};
  for (const a of await ledger.getAnomalies()) anomalies[a.kind] = (anomalies[a.kind] ?? 0) + 1;
  return {
    orderIds,
    seed,
    total,
    directives,
    timing,
    modifyMode,
    ...(recovery ? { recovery } : {}),
    restarts,
    byStatus,
    fills,
    anomalies,
    duplicatesDropped: handler.stats().repliesDuplicate,
    venue: exchange.stats(),
    virtualMs: clock.now() - SESSION_START_MS,
    handler,
    exchange,
    ledger,
    engine: engine.log,
  };
}
