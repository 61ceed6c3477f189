/**
 * What the simulated engine did besides trading, and the actions it draws from its own seeded
 * source: an emergency stop (`cancelAll()`) in the middle of a session, and `cancel()` of a
 * SEQUENTIAL directive's order whose turn has not come. The log is the engine's own record (what it
 * called and when, what the ledger showed it then), so an audit can judge the handler from the
 * ledger and the venue's record without reading the handler's memory.
 */
import type { ExecutionHandler } from '../handler/create.js';
import type { StrategyLedger } from '../ledger/types.js';
import { type RandomSource, seededRandom } from '../random.js';
import type { ModifyLog } from './engine-modify.js';

/** Engine actions of a session; each is off unless set. */
export interface EngineActions {
  /**
   * The engine calls `cancelAll()` mid-session: once, when this fraction of the orders is placed;
   * or this long into the venue outage (see the session's `outage`), and again every `everyMs`
   * while the outage lasts.
   */
  cancelAllAt?: { placedFraction: number } | { outageMs: number; everyMs: number };
  /** Chance that the engine cancels one not yet placed order of a SEQUENTIAL directive it executed. */
  sequentialStopRate?: number;
}

/** One `cancelAll()` call: when, and the orders the ledger showed TIMED_OUT just before it. */
export interface CancelAllCall {
  at: number;
  timedOut: string[];
  /** Ids `cancelAll()` returned (the working orders it moved to CANCEL_PENDING). */
  cancelled: string[];
}

/** A SEQUENTIAL directive the engine executed, and the stop it asked for, if it did. */
export interface SequentialRun {
  directiveId: string;
  orderIds: string[];
  executedAt: number;
  /** `cancel()` of `orderIds[index]`, not in the ledger then: the directive stops before it. */
  stop?: { index: number; at: number; answered: boolean };
}

/** The engine's record of a session, its modifies (`engine-modify.ts`) included. */
export interface EngineLog extends ModifyLog {
  /** Virtual times of the handler's crash-restarts. */
  restarts: number[];
  cancelAlls: CancelAllCall[];
  sequential: SequentialRun[];
}

/** A stop the engine means to ask for at `step` (0: right after the execute). */
interface PlannedStop {
  run: SequentialRun;
  index: number;
  step: number;
  /** The handler's life when the directive was executed: a new life does not know its turns. */
  life: number;
}

/** Steps a planned stop may wait after its directive was executed. */
const STOP_DELAY_STEPS_MAX = 20;

/** The engine's extra actions for one session, drawn from `seed` alone, and their log. */
export class Engine {
  readonly log: EngineLog = { restarts: [], cancelAlls: [], sequential: [], modifies: [], cancelsWhileModifying: [] };
  private readonly rnd: RandomSource;
  private readonly planned: PlannedStop[] = [];
  /** The mid-session cancelAll() calls made so far. */
  private midwayCalls = 0;

  constructor(
    seed: number,
    private readonly actions: EngineActions,
    /** The session's virtual clock. */
    private readonly now: () => number,
  ) {
    this.rnd = seededRandom(seed * 104_729 + 29);
  }

  /** A SEQUENTIAL directive was executed now, at `step`, by the handler's life `life`. */
  executed(directiveId: string, orderIds: string[], step: number, life: number): void {
    const run: SequentialRun = { directiveId, orderIds, executedAt: this.now() };
    this.log.sequential.push(run);
    if (orderIds.length < 2 || !(this.rnd() < (this.actions.sequentialStopRate ?? 0))) return;
    const index = 1 + Math.floor(this.rnd() * (orderIds.length - 1));
    const delay = this.rnd() < 0.5 ? 0 : 1 + Math.floor(this.rnd() * STOP_DELAY_STEPS_MAX);
    this.planned.push({ run, index, step: step + delay, life });
  }

  /** Asks for the stops due at `step`, of orders the ledger does not hold yet, in the life that executed them. */
  async stopsDue(step: number, life: number, handler: ExecutionHandler, ledger: StrategyLedger): Promise<void> {
    for (const p of this.planned.filter((s) => s.step <= step)) {
      this.planned.splice(this.planned.indexOf(p), 1);
      const orderId = p.run.orderIds[p.index]!;
      if (p.life !== life || (await ledger.getOrder(orderId)) !== undefined) continue;
      const at = this.now();
      p.run.stop = { index: p.index, at, answered: await handler.cancel(orderId) };
    }
  }

  /** The mid-session `cancelAll()`, once the session is as far as drawn: so many orders placed, so long into the outage. */
  async midway(
    now: { placed: number; total: number } | { outageMs: number },
    handler: ExecutionHandler,
    ledger: StrategyLedger,
  ): Promise<void> {
    const due = this.actions.cancelAllAt;
    if (due === undefined) return;
    if ('placedFraction' in due) {
      if (this.midwayCalls > 0 || !('placed' in now) || now.placed < due.placedFraction * now.total) return;
    } else if (!('outageMs' in now) || now.outageMs < due.outageMs + this.midwayCalls * due.everyMs) return;
    this.midwayCalls++;
    await this.cancelAll(handler, ledger);
  }

  /** Calls `cancelAll()`, noting which orders the ledger showed TIMED_OUT just before. */
  async cancelAll(handler: ExecutionHandler, ledger: StrategyLedger): Promise<string[]> {
    const at = this.now();
    const timedOut = (await ledger.getOpenOrders()).filter((o) => o.status === 'TIMED_OUT').map((o) => o.orderId);
    const cancelled = await handler.cancelAll();
    this.log.cancelAlls.push({ at, timedOut, cancelled });
    return cancelled;
  }
}
