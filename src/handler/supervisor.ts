/**
 * The supervisor: a small facade that wires the runtime's parts and answers the handler's API.
 * The order machine decides everything about an order (its protocol included); the parts act:
 * - `OrderRuntime`: one mailbox per order; send, commit the writes, then perform the effects;
 * - `ReplyRouter`: parse, route by client or venue id, hold, classify replies;
 * - `Scheduler`: one timer per order at the machine's `wakeAt`;
 * - `VenueGateway`: place, cancel, query through the connector, outcomes back as events;
 * - `Reconciler`: recover() and reconcile();
 * - `DirectiveBook`: directives and their batch modes.
 */
import type { OrderEffect } from '../../machines/order.js';
import { type StrategyCache, createStrategyCache } from '../cache.js';
import type { ExchangeConnector } from '../connector/types.js';
import { IdMinter } from '../ids.js';
import type { StrategyLedger } from '../ledger/types.js';
import { newOrderView } from '../order-view.js';
import type {
  CausalityChain,
  ExecutionDirective,
  ModifyChanges,
  OrderStatus,
  RecoveryReport,
  ReplyOutcome,
} from '../types.js';
import { ModifyUnsupportedError } from '../errors.js';
import { parseDirective, parseModifyChanges } from '../validation.js';
import { Background } from './background.js';
import { DirectiveBook, type DirectiveRun } from './directives.js';
import { type LiveOrder, contextOf, statusOfOrder } from './live-order.js';
import { BOUNDS, type ResolvedOptions } from './options.js';
import { type EffectPerformer, OrderRuntime } from './order-runtime.js';
import { Reconciler } from './reconciler.js';
import { ReplyRouter } from './reply-router.js';
import { Scheduler } from './scheduler.js';
import { VenueGateway } from './venue-gateway.js';

const WORKING: readonly OrderStatus[] = ['PENDING', 'OPEN', 'PARTIALLY_FILLED', 'MODIFY_PENDING'];

/** The engine of `createExecutionHandler`. */
export class Supervisor implements EffectPerformer {
  readonly cache: StrategyCache;
  private readonly ledger: StrategyLedger;
  private readonly connector: ExchangeConnector;
  private readonly ids: IdMinter;
  private readonly work: Background;
  private readonly runtime: OrderRuntime;
  private readonly router: ReplyRouter;
  private readonly scheduler: Scheduler;
  private readonly gateway: VenueGateway;
  private readonly reconciler: Reconciler;
  private readonly directives = new DirectiveBook(BOUNDS.finishedDirectives);
  private readonly unsubscribers: (() => void)[] = [];

  constructor(private readonly opts: ResolvedOptions) {
    this.cache = opts.cache ?? createStrategyCache();
    this.ledger = opts.ledger;
    this.connector = opts.connector;
    this.ids = new IdMinter(opts.clock, opts.random);
    this.work = new Background(
      opts.clock,
      opts.queryIntervalMs,
      opts.maxRetriesWaiting,
      opts.onError,
      (orderId, error) => {
        // The retry bound was hit: the next reconcile asks the venue about the order instead.
        if (orderId !== undefined) this.runtime.recentlyEnded.add(orderId);
        opts.telemetry?.dropped(orderId, error);
      },
    );
    this.runtime = new OrderRuntime(opts, this.ledger, this.cache, this.work);
    this.runtime.performer = this;
    this.router = new ReplyRouter(opts, this.ledger, this.runtime, this.work, this.ids);
    this.scheduler = new Scheduler(
      opts.clock,
      (order) => this.runtime.live.get(order.orderId) === order,
      (orderId, dueAt) => this.wake(orderId, dueAt),
      opts.onError,
    );
    this.gateway = new VenueGateway(opts, this.connector, this.runtime, this.router, this.work);
    this.reconciler = new Reconciler(opts, this.ledger, this.runtime, this.gateway, this.directives, this.work);
    this.router.askAbout = (order) => this.reconciler.askAbout(order.orderId);
    // A pushed reply cannot be delivered again by the venue: if its write fails, we redeliver it.
    const offReply = this.connector.onReply?.((reply) => this.work.persist(() => this.route(reply)));
    if (offReply) this.unsubscribers.push(offReply);
    const offReconnect = this.connector.onReconnect?.(() => {
      this.opts.telemetry?.reconnected();
      this.reconcile().catch((err: unknown) => this.opts.onError(err));
    });
    if (offReconnect) this.unsubscribers.push(offReconnect);
  }

  // ─── What the runtime hands over: effects, pairings, wake-ups ────────────────────────────

  /** Performs what the machine decided, now that the change is durable. */
  perform(order: LiveOrder, effects: readonly OrderEffect[]): void {
    for (const effect of effects) {
      if (effect.type === 'place') this.gateway.place(order);
      else if (effect.type === 'cancel') this.gateway.cancel(order);
      else if (effect.type === 'query') this.gateway.query(order, effect.queryId);
      else if (effect.type === 'modify') this.gateway.modify(order);
      else if (effect.type === 'ended') this.onOrderEnded(order, effect.status);
      // 'anomaly' effects were recorded in the change's own commit.
    }
  }

  paired(order: LiveOrder, venueOrderId: string): void {
    this.router.paired(order, venueOrderId);
  }

  reschedule(order: LiveOrder): void {
    this.scheduler.reschedule(order);
  }

  released(order: LiveOrder): void {
    // The directive moves to bounded memory once none of its orders is live and none is to come.
    const run = this.directives.get(order.directiveId);
    if (run) this.directives.settleIfDone(run, (id) => this.runtime.live.has(id));
  }

  private wake(orderId: string, dueAt: number): void {
    this.work.persist(
      () =>
        this.runtime.onOrder(orderId, async (o) => {
          if (!o) return;
          await this.runtime.apply(o, { type: 'WAKE', at: this.opts.clock.now() }, { cause: 'wake' });
          if (this.runtime.live.get(orderId) === o) this.scheduler.woke(o, dueAt);
        }),
      orderId,
    );
  }

  // ─── execute ─────────────────────────────────────────────────────────────────────────────

  /** Contract section 5: validate, mint, record (durably), make routable, then place. */
  async execute(input: ExecutionDirective): Promise<{ orderIds: string[]; causality: CausalityChain }> {
    this.assertRunning();
    const directive = parseDirective(input);
    return this.work.serial(`directive:${directive.directiveId}`, async () => {
      const run =
        this.directives.get(directive.directiveId) ??
        (await this.directives.restore(directive, this.ledger)) ??
        (await this.newRun(directive));
      await this.recordAndPlace(run, run.placeableNow());
      return { orderIds: [...run.orderIds], causality: run.causality };
    });
  }

  private async newRun(directive: ExecutionDirective): Promise<DirectiveRun> {
    const orderIds: string[] = [];
    for (let i = 0; i < directive.orders.length; i++) orderIds.push(await this.mintOrderId());
    return this.directives.create(directive, orderIds);
  }

  /** A fresh OrderID, unique in the ledger across every strategy that shares its store. */
  private async mintOrderId(): Promise<string> {
    for (;;) {
      const id = this.ids.mint('ORD');
      const taken = this.ledger.isOrderIdTaken
        ? await this.ledger.isOrderIdTaken(id)
        : (await this.ledger.getOrder(id)) !== undefined;
      if (!taken) return id;
    }
  }

  /** Records the orders at `indexes` PENDING in one durable commit, then places each (its first placement). */
  private async recordAndPlace(run: DirectiveRun, indexes: readonly number[]): Promise<void> {
    if (indexes.length === 0) return;
    const at = this.opts.clock.now();
    const views = indexes.map((i) =>
      newOrderView({
        orderId: run.orderIds[i]!,
        directiveId: run.directiveId,
        strategyId: this.opts.strategyId,
        orderDetails: run.requests[i]!,
        causality: run.causality,
      }),
    );
    await this.ledger.commit(
      views.map((v, k) => ({
        kind: 'order',
        order: {
          orderId: v.orderId,
          directiveId: v.directiveId,
          strategyId: v.strategyId,
          orderDetails: v.orderDetails,
          causality: v.causality,
          at,
          batch: { mode: run.mode, index: indexes[k]!, size: run.orderIds.length },
        },
      })),
    );
    for (const i of indexes) run.markRecorded(i);
    // A new order's machine counts this first placement (`placeAttempts` starts at 1).
    for (const order of views.map((v) => this.runtime.register(v, at, undefined))) this.gateway.place(order);
  }

  private onOrderEnded(order: LiveOrder, status: OrderStatus): void {
    const run = this.directives.get(order.directiveId);
    if (!run) return;
    const index = run.orderIds.indexOf(order.orderId);
    if (run.mode === 'COORDINATED' && (status === 'REJECTED' || status === 'TIMED_OUT')) {
      for (const other of run.orderIds) {
        if (other !== order.orderId && this.runtime.live.has(other)) {
          this.work.persist(() => this.cancel(other, 'coordinated'), other);
        }
      }
    }
    if (run.mode === 'SEQUENTIAL') {
      const next = run.advance(index, status === 'FILLED');
      if (next !== undefined) {
        const key = `directive:${run.directiveId}`;
        this.work.persist(() =>
          this.work.serial(key, () => this.recordAndPlace(run, run.recorded[next] ? [] : [next])),
        );
      }
    }
  }

  // ─── Replies, cancels ────────────────────────────────────────────────────────────────────

  /** Contract section 5: never throws on bad input; rejects only when a ledger write failed. */
  onExchangeReply(raw: unknown): Promise<ReplyOutcome> {
    return this.work.track(this.route(raw));
  }

  /** Routes a reply; with telemetry, times it from receipt to its outcome (durable when applied). */
  private route(raw: unknown): Promise<ReplyOutcome> {
    const t = this.opts.telemetry;
    if (!t) return this.router.route(raw);
    const started = this.opts.clock.now();
    return this.router.route(raw).then((outcome) => {
      t.replyHandled(outcome.outcome, (this.opts.clock.now() - started) / 1000);
      return outcome;
    });
  }

  /** `cancel()`: true while a cancel is, or is now, outstanding. */
  async cancel(orderId: string, cause = 'cancel()'): Promise<boolean> {
    this.assertRunning();
    return this.runtime.onOrder(orderId, async (order) => {
      // Not recorded: a SEQUENTIAL order whose turn has not come stops its directive before it.
      if (!order) return this.directives.stopBeforeUnplaced(orderId);
      const status = statusOfOrder(order);
      if (status === 'CANCEL_PENDING') return true;
      if (!WORKING.includes(status) && status !== 'TIMED_OUT') return false;
      const outcome = await this.runtime.apply(order, { type: 'CANCEL', at: this.opts.clock.now() }, { cause });
      return outcome.outcome === 'applied';
    });
  }

  /**
   * `modify()` (section 4b): true when a modify is now outstanding; false for an unknown order or
   * one not OPEN or PARTIALLY_FILLED. Malformed changes throw `ValidationError` whatever the
   * status; a connector without `modifyOrder` throws `ModifyUnsupportedError`.
   */
  async modify(orderId: string, changes: ModifyChanges, cause = 'modify()'): Promise<boolean> {
    this.assertRunning();
    return this.runtime.onOrder(orderId, async (order) => {
      if (!order) return false;
      const valid = parseModifyChanges(changes, order.request, contextOf(order).filledQuantity);
      if (!this.connector.modifyOrder) throw new ModifyUnsupportedError();
      const status = statusOfOrder(order);
      if (status !== 'OPEN' && status !== 'PARTIALLY_FILLED') return false;
      const event = { type: 'MODIFY' as const, changes: valid, at: this.opts.clock.now() };
      const outcome = await this.runtime.apply(order, event, { cause });
      return outcome.outcome === 'applied';
    });
  }

  /**
   * `cancelAll()`, the emergency stop: every working order to CANCEL_PENDING, the cancel sent again
   * for every TIMED_OUT order of the strategy (also those no longer in memory), and no SEQUENTIAL
   * directive places another order.
   */
  async cancelAll(): Promise<string[]> {
    this.assertRunning();
    this.directives.stopAllSequential();
    const working: string[] = [];
    const timedOut = new Set<string>();
    for (const order of this.runtime.live.values()) {
      const status = statusOfOrder(order);
      if (WORKING.includes(status)) working.push(order.orderId);
      else if (status === 'TIMED_OUT') timedOut.add(order.orderId);
    }
    for (const stored of await this.ledger.getOpenOrders()) {
      if (stored.status === 'TIMED_OUT') timedOut.add(stored.orderId);
    }
    const cancelled = await Promise.all(
      working.map(async (id) => ((await this.cancel(id, 'cancelAll()')) ? id : null)),
    );
    await Promise.all([...timedOut].map((id) => this.cancel(id, 'cancelAll()')));
    return cancelled.filter((id): id is string => id !== null);
  }

  // ─── Recovery, lifecycle ─────────────────────────────────────────────────────────────────

  recover(): Promise<RecoveryReport> {
    this.assertRunning();
    return this.told('recover', this.reconciler.recover());
  }

  reconcile(): Promise<RecoveryReport> {
    this.assertRunning();
    return this.told('reconcile', this.reconciler.reconcile());
  }

  /** Tells the telemetry, if any, how a recover() or reconcile() ended. */
  private told(kind: 'recover' | 'reconcile', run: Promise<RecoveryReport>): Promise<RecoveryReport> {
    const t = this.opts.telemetry;
    if (!t) return run;
    return run.then((report) => {
      t.reconciled(kind, report);
      return report;
    });
  }

  /** Resolves once no ledger write, venue call or reply is in flight. */
  settle(): Promise<void> {
    return this.work.settle();
  }

  /** Counters the demo and benchmarks read. */
  get stats(): { repliesApplied: number; repliesDuplicate: number; anomalies: number } {
    return this.runtime.stats;
  }

  /** Background works waiting to be retried after a failed ledger write. */
  retriesWaiting(): number {
    return this.work.waitingRetries();
  }

  /** Replies held for a venue id not yet paired. */
  heldReplies(): number {
    return this.router.held.count();
  }

  /** Number of actors in memory. */
  liveCount(): number {
    return this.runtime.live.size;
  }

  private assertRunning(): void {
    if (this.work.stopped) throw new Error('the execution handler is stopped');
  }

  /** Stops timers and actors and unhooks the connector; the ledger stays open (it is the caller's). */
  async stop(): Promise<void> {
    this.work.stopped = true;
    this.scheduler.stopped = true;
    this.reconciler.stop();
    for (const off of this.unsubscribers.splice(0)) off();
    this.router.held.clear();
    this.runtime.stopAll();
  }
}
