/**
 * The reconciler: `recover()` rebuilds every open order from the ledger (its protocol comes back
 * with its snapshot), then it and `reconcile()` ask the venue about every open order and every
 * order that ended recently, and apply the answers through the venue gateway. A query that fails
 * is asked again on a timer, within a stated bound.
 */
import type { QueryToken } from '../../machines/order.js';
import type { OrderRef, VenueOrderState } from '../connector/types.js';
import type { StrategyLedger } from '../ledger/types.js';
import { isFinal } from '../order-view.js';
import type { RecoveryReport } from '../types.js';
import type { Background } from './background.js';
import { BoundedMap, BoundedSet } from './bounded.js';
import type { DirectiveBook } from './directives.js';
import { contextOf } from './live-order.js';
import { BOUNDS, type ResolvedOptions } from './options.js';
import { type OrderRuntime, viewOf } from './order-runtime.js';
import type { VenueGateway } from './venue-gateway.js';

/** Counters of a reconcile run. */
type ReconcileTally = Omit<RecoveryReport, 'ordersRestored'>;

const emptyTally = (): ReconcileTally => ({
  ordersQueried: 0,
  fillsLearnt: 0,
  ordersResolved: 0,
  ordersPlacedAgain: 0,
  queriesFailed: 0,
  anomalies: 0,
});

/** Recovery and reconciliation against the venue. */
export class Reconciler {
  /** Orders whose reconcile query failed, with the attempts so far; asked again on a timer. */
  private readonly unanswered = new BoundedMap<string, number>(BOUNDS.recentlyEnded);
  private timer: unknown;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly ledger: StrategyLedger,
    private readonly runtime: OrderRuntime,
    private readonly gateway: VenueGateway,
    private readonly directives: DirectiveBook,
    private readonly work: Background,
  ) {}

  /** Rebuilds every open order from the ledger, then reconciles with the venue. */
  async recover(): Promise<RecoveryReport> {
    let restored = 0;
    const restoring: Promise<unknown>[] = [];
    for (const stored of await this.ledger.getOpenOrders()) {
      if (this.runtime.live.has(stored.orderId)) continue;
      // Loaded in turn; their RESTORED steps go concurrently, so the ledger group-commits them.
      const loaded = this.work.serial(stored.orderId, async () => {
        if (this.runtime.live.has(stored.orderId)) return;
        const order = await this.runtime.load(stored);
        this.directives.adopt(stored);
        restored++;
        // A cancel that was due may have died with the process: the machine sends it again (paced).
        if (contextOf(order).cancelOutstanding) {
          const at = this.opts.clock.now();
          restoring.push(
            this.runtime.onOrder(
              stored.orderId,
              async (o) => o && this.runtime.apply(o, { type: 'RESTORED', at }, { cause: 'recover()' }),
            ),
          );
        }
      });
      await loaded;
    }
    await Promise.all(restoring);
    // Orders that ended shortly before the restart: a fill of theirs may have died with the process.
    const since = this.opts.clock.now() - this.opts.recoverLookbackMs;
    for (const recent of await this.ledger.getOrdersChangedSince(since)) {
      if (isFinal(recent.status)) {
        this.runtime.recentlyEnded.add(recent.orderId);
        this.runtime.cache.put(viewOf(recent));
      }
    }
    const report = await this.reconcileAll(true);
    return { ordersRestored: restored, ...report };
  }

  /** Asks the venue about every open order and applies the answers. */
  async reconcile(): Promise<RecoveryReport> {
    return { ordersRestored: 0, ...(await this.reconcileAll(false)) };
  }

  /** Asks the venue about one order (its replies expired unrouted, say), outside any query cycle. */
  askAbout(orderId: string): void {
    this.work.spawn(() => this.reconcileIds([orderId], false));
  }

  private async reconcileAll(recovering: boolean): Promise<ReconcileTally> {
    const ended = this.runtime.recentlyEnded;
    this.runtime.recentlyEnded = new BoundedSet<string>(BOUNDS.recentlyEnded);
    return this.reconcileIds([...new Set([...this.runtime.live.keys(), ...ended.values()])], recovering);
  }

  private async reconcileIds(ids: readonly string[], recovering: boolean): Promise<ReconcileTally> {
    const tally = emptyTally();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        const orderId = ids[next++]!;
        await this.reconcileOne(orderId, recovering, tally);
      }
    };
    await Promise.all(Array.from({ length: Math.min(BOUNDS.reconcileConcurrency, ids.length) }, worker));
    return tally;
  }

  private async reconcileOne(orderId: string, recovering: boolean, tally: ReconcileTally): Promise<void> {
    const live = this.runtime.live.get(orderId);
    const ctx = live ? contextOf(live) : undefined;
    const venueOrderId = ctx ? ctx.venueOrderId : (this.runtime.cache.get(orderId)?.venueOrderId ?? null);
    const ref: OrderRef = venueOrderId === null ? { clientOrderId: orderId } : { clientOrderId: orderId, venueOrderId };
    const token: QueryToken = { newsAtSend: ctx?.news ?? 0, cancelsAtSend: ctx?.cancelsSent ?? 0 };
    tally.ordersQueried++;
    let answer: VenueOrderState | null;
    try {
      answer = await this.answerWithin(orderId, ref, token);
    } catch {
      tally.queriesFailed++;
      this.retry(orderId);
      return;
    }
    this.unanswered.delete(orderId);
    await this.runtime.onOrder(orderId, async (o) => {
      if (o) await this.gateway.applyAnswer(o, answer, token, recovering, tally);
    });
  }

  /**
   * A reconcile query that failed is asked again: every `queryIntervalMs` for `queryRetries`
   * rounds, then every 10 x `queryIntervalMs`, until the venue answers (at most
   * `BOUNDS.recentlyEnded` orders wait at once; the oldest is dropped beyond that).
   */
  private retry(orderId: string): void {
    const attempts = (this.unanswered.get(orderId) ?? 0) + 1;
    this.unanswered.set(orderId, attempts);
    if (this.timer !== undefined || this.work.stopped) return;
    const slow = [...this.unanswered.values()].every((n) => n > this.opts.queryRetries);
    const wait = slow ? 10 * this.opts.queryIntervalMs : this.opts.queryIntervalMs;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      const ids = [...this.unanswered.keys()];
      this.work.spawn(() => this.reconcileIds(ids, false));
    }, wait);
  }

  /**
   * Asks the venue about an order for reconcile(): an answer later than `queryIntervalMs` counts
   * as a failure (so a hanging venue cannot stall reconcile), yet is still applied when it comes.
   */
  private answerWithin(orderId: string, ref: OrderRef, token: QueryToken): Promise<VenueOrderState | null> {
    const query = this.work.track(this.gateway.ask(ref));
    return new Promise((resolve, reject) => {
      let late = false;
      const timer = this.opts.clock.setTimeout(() => {
        late = true;
        reject(new Error(`no answer within ${this.opts.queryIntervalMs} ms`));
      }, this.opts.queryIntervalMs);
      query.then(
        (answer) => {
          this.opts.clock.clearTimeout(timer);
          if (!late) return resolve(answer);
          this.work.persist(
            () => this.runtime.onOrder(orderId, async (o) => o && this.gateway.applyAnswer(o, answer, token, false)),
            orderId,
          );
        },
        (err: unknown) => {
          this.opts.clock.clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  /** Stops the retry timer. */
  stop(): void {
    this.opts.clock.clearTimeout(this.timer);
  }
}
