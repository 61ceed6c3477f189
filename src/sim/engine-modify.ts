/**
 * The simulated engine's modifies (contract section 4b): on a share of its working orders it chases
 * the price toward the market, cuts or raises the size, or moves a stop; sometimes it calls
 * `modify()` again while the first is pending (it must answer false) or `cancel()`s the order with
 * the modify outstanding. Its draws come from their own seeded source, so the rest of a session
 * (orders, cancels, the venue's fates) draws what it drew before modifies existed. Every call is
 * logged with what the ledger showed just before, so an audit can judge the handler from the ledger
 * and the venue's record without reading the handler's memory.
 */
import BigFactory from 'big.js';
import type { ExecutionHandler } from '../handler/create.js';
import type { StrategyLedger } from '../ledger/types.js';
import { type RandomSource, seededRandom } from '../random.js';
import type { ModifyChanges, OrderStatus, OrderView } from '../types.js';

const Dec = BigFactory();

/** What a modify asks for: a price chase, a size cut or raise, a stop moved, or a second modify while one is pending. */
export type ModifyKind = 'chase' | 'cut' | 'raise' | 'stop' | 'second';

/** One `modify()` call of the engine. */
export interface ModifyCall {
  orderId: string;
  at: number;
  kind: ModifyKind;
  changes: ModifyChanges;
  /** The order's status in the ledger just before the call. */
  ledgerStatus: OrderStatus | undefined;
  /** `modify()`'s answer; undefined when it threw. */
  answered?: boolean;
  /** The name of the error it threw (a ValidationError: the order filled past the new quantity meanwhile). */
  error?: string;
}

/** One `cancel()` the engine called right after a modify it made outstanding. */
export interface CancelWhileModifying {
  orderId: string;
  at: number;
  answered: boolean;
}

/** The engine's record of its modifies. */
export interface ModifyLog {
  modifies: ModifyCall[];
  cancelsWhileModifying: CancelWhileModifying[];
}

/** Chance that a modify made outstanding is followed at once by a second `modify()` of the order. */
const SECOND_MODIFY_CHANCE = 0.2;
/** Chance that a modify made outstanding is followed at once by `cancel()` of the order. */
const CANCEL_WHILE_PENDING_CHANCE = 0.15;

/** The number of decimals of `s` (how the session priced the order: its symbol's tick). */
const decimals = (s: string): number => (s.split('.')[1] ?? '').length;

/** A price moved by `fraction` (positive: up), at the same precision, and never equal to the old one. */
function moved(price: string, fraction: number): string {
  const dp = decimals(price);
  const tick = new Dec(1).div(new Dec(10).pow(dp));
  let next = new Dec(price).times(1 + fraction).round(dp);
  if (next.eq(price)) next = fraction >= 0 ? next.plus(tick) : next.minus(tick);
  return next.gt(0) ? next.toFixed(dp) : new Dec(price).toFixed(dp);
}

/** The engine's draws and calls of `modify()`, for one session. */
export class ModifyEngine {
  private readonly rnd: RandomSource;

  constructor(
    seed: number,
    /** Chance per step that the engine modifies a given working order. */
    private readonly chancePerStep: number,
    private readonly log: ModifyLog,
    /** The session's virtual clock. */
    private readonly now: () => number,
  ) {
    this.rnd = seededRandom(seed * 15_485_863 + 41);
  }

  /** Modifies a share of the working orders the handler shows. */
  async step(handler: ExecutionHandler, ledger: StrategyLedger): Promise<void> {
    if (this.chancePerStep <= 0) return;
    for (const view of handler.orders({ status: ['OPEN', 'PARTIALLY_FILLED'] })) {
      if (!(this.rnd() < this.chancePerStep)) continue;
      const changes = this.draw(view);
      if (!changes) continue;
      const answered = await this.call(handler, ledger, view.orderId, changes.kind, changes.changes);
      if (!answered) continue;
      if (this.rnd() < SECOND_MODIFY_CHANCE) {
        const again = this.draw(view);
        if (again) await this.call(handler, ledger, view.orderId, 'second', again.changes);
      }
      if (this.rnd() < CANCEL_WHILE_PENDING_CHANCE) {
        const at = this.now();
        this.log.cancelsWhileModifying.push({
          orderId: view.orderId,
          at,
          answered: await handler.cancel(view.orderId),
        });
      }
    }
  }

  /**
   * The changes of one modify of `view`, as a trader would make them: a price chased toward the
   * market (a BUY up, a SELL down, maybe through it), part of what is left cut, the size raised,
   * a stop moved; undefined when the order leaves nothing to change (a cut needs leaves).
   */
  private draw(view: OrderView): { kind: ModifyKind; changes: ModifyChanges } | undefined {
    const o = view.orderDetails;
    const r = this.rnd();
    const up = o.side === 'BUY' ? 1 : -1;
    if (o.price !== undefined && r < 0.45) {
      return { kind: 'chase', changes: { price: moved(o.price, up * (0.0005 + this.rnd() * 0.012)) } };
    }
    if (o.stopPrice !== undefined && r < 0.55) {
      return { kind: 'stop', changes: { stopPrice: moved(o.stopPrice, up * (this.rnd() - 0.5) * 0.01) } };
    }
    const dp = Math.max(3, decimals(o.quantity));
    const left = new Dec(o.quantity).minus(view.filledQuantity);
    if (r < 0.8) {
      const cut = left.times(0.2 + this.rnd() * 0.6).round(dp, Dec.roundDown);
      if (cut.lte(0) || cut.gte(left)) return undefined;
      return { kind: 'cut', changes: { quantity: new Dec(o.quantity).minus(cut).toFixed() } };
    }
    const raise = new Dec(o.quantity).times(0.1 + this.rnd()).round(dp, Dec.roundUp);
    const changes: ModifyChanges = { quantity: new Dec(o.quantity).plus(raise.gt(0) ? raise : '0.001').toFixed() };
    if (o.price !== undefined && this.rnd() < 0.3) changes.price = moved(o.price, -up * this.rnd() * 0.005);
    return { kind: 'raise', changes };
  }

  /** Calls `modify()` and logs it with the ledger's status of the order just before. */
  private async call(
    handler: ExecutionHandler,
    ledger: StrategyLedger,
    orderId: string,
    kind: ModifyKind,
    changes: ModifyChanges,
  ): Promise<boolean> {
    const ledgerStatus = (await ledger.getOrder(orderId))?.status;
    const call: ModifyCall = { orderId, at: this.now(), kind, changes, ledgerStatus };
    this.log.modifies.push(call);
    try {
      call.answered = await handler.modify(orderId, changes, `engine ${kind}`);
    } catch (err) {
      // A fill the engine had not seen yet may take the filled quantity to the new one.
      if ((err as Error).name !== 'ValidationError') throw err;
      call.error = 'ValidationError';
    }
    return call.answered === true;
  }
}
