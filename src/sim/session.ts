/**
 * A realistic trading session against the simulated venue, on virtual time: an engine sends
 * directives over several symbols (all order types, the three batch modes), cancels some orders,
 * the venue trades, rejects and misbehaves as its fault rates say, and at the end the faults stop,
 * everything still resting is cancelled, and the handler is given time to agree with the venue.
 * The demo runs it; the simulation tests run it and then check the promises.
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
  /** Venue rejection rate; default 0.02. */
  rejectRate?: number;
  /** Called as orders are placed. */
  onProgress?: (placed: number, total: number) => void;
  /** Handler timing overrides (virtual milliseconds). */
  timing?: { ackTimeoutMs?: number; cancelTimeoutMs?: number; queryIntervalMs?: number; queryRetries?: number };
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
  /** Called after every step with the ledger and venue, for checks that must hold all along. */
  onStep?: (step: number, ledger: StrategyLedger, exchange: SimulatedExchange) => Promise<void>;
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
}

/** What a session did. */
export interface SessionResult {
  /** OrderIDs minted by this run (not by the run it resumed). */
  orderIds: string[];
  seed: number;
  /** Orders the whole session planned (its directives' orders, SEQUENTIAL ones never placed included). */
  total: number;
  directives: number;
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
  const exchange = createSimulatedExchange({
    clock,
    seed,
    rejectRate: options.rejectRate ?? 0.02,
    prices: Object.fromEntries(SYMBOLS.map((s) => [s.symbol, String(s.price)])),
    faults: options.faults ?? {},
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
      ...(options.timing ?? {}),
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
  });
  options.onStateReader?.(stateNow);
  const checkpoint = (): void => options.onCheckpoint?.(stateNow());
  const orderIds: string[] = [];
  const cancelChance = (options.cancelRatePerSecond ?? 0.05) * (STEP_MS / 1000);
  for (let step = 1; placed < total; step++) {
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
    }
    for (const view of handler.orders({ status: ['OPEN', 'PARTIALLY_FILLED'] })) {
      if (rnd() < cancelChance) await handler.cancel(view.orderId);
    }
    options.onProgress?.(placed, total);
    await clock.advance(STEP_MS);
    if (step % CHECKPOINT_STEPS === 0) checkpoint();
    if (options.restartRate && rnd() < options.restartRate) {
      await handler.stop();
      handler = await startHandler();
      await whileAdvancing(clock, handler.recover());
      restarts++;
    }
    await options.onStep?.(step, ledger, exchange);
  }
  // End of session: the venue behaves again, the engine cancels what still rests, and the
  // handler gets the time the convergence promise allows (plus the slow pace of one query).
  exchange.setFaults({});
  await clock.advance(2_000);
  await handler.cancelAll();
  await clock.advance(120_000);
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
  };
}
