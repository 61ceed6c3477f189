/**
 * The supervisor: owns the live order actors in a plain Map, routes every venue reply to its order,
 * drives deadlines through the injected clock, and writes every change to the ledger before the
 * cache or anyone else sees it.
 *
 * Concurrency model: all work on one order runs on that order's serial queue (`onOrder`), so a
 * reply, a deadline and a query answer never interleave on the same actor. An event is applied to
 * the actor, the resulting change is committed, and only then does the rest of the world (cache,
 * venue, directives) hear of it; a failed commit drops the order from memory, to be reloaded from
 * the ledger, so memory never runs ahead of the ledger.
 */
import type { Snapshot } from 'xstate';
import { NOT_FOUND_AT_VENUE, type OrderEvent, statusOf } from '../../machines/order.js';
import { type StrategyCache, createStrategyCache } from '../cache.js';
import type { ExchangeConnector, OrderRef, VenueOrderState } from '../connector/types.js';
import { decAdd, decCmp, decEq } from '../decimal.js';
import { LedgerFencedError, PlacementRejectedError } from '../errors.js';
import { IdMinter } from '../ids.js';
import type { LedgerOrder, LedgerWrite, StrategyLedger } from '../ledger/types.js';
import { isFinal, newOrderView, withCommission, withFill, withStatus } from '../order-view.js';
import type {
  AnomalyKind,
  CausalityChain,
  ExchangeReply,
  ExecutionDirective,
  Fill,
  OrderStatus,
  OrderView,
  RecoveryReport,
  ReplyOutcome,
} from '../types.js';
import { jsonSafe, parseDirective, parseReply } from '../validation.js';
import { BoundedMap, BoundedSet, RecentList } from './bounded.js';
import { DirectiveBook, type DirectiveRun } from './directives.js';
import { HeldReplies } from './held-replies.js';
import {
  type LiveOrder,
  type QueryInFlight,
  contextOf,
  createOrderActor,
  eventTypeOf,
  hasEnded,
  needsActor,
  statusOfOrder,
} from './live-order.js';
import { BOUNDS, type ResolvedOptions, placeBackoffMs } from './options.js';
import { replyKey, replyKeyOfCause } from './reply-key.js';
import { repliesOfVenueState } from './venue-answer.js';

/** Where a reply came from: the venue's stream, a placement result, or a query answer. */
type ReplySource = 'reply' | 'place' | 'query';

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

/** The engine of `createExecutionHandler`. */
export class Supervisor {
  readonly cache: StrategyCache;
  private readonly ledger: StrategyLedger;
  private readonly connector: ExchangeConnector;
  private readonly ids: IdMinter;
  private readonly live = new Map<string, LiveOrder>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** venueOrderId → OrderID of live orders (exact) and of retired ones (bounded). */
  private readonly liveVenueIds = new Map<string, string>();
  private readonly retiredVenueIds = new BoundedMap<string, string>(BOUNDS.retiredVenueIds);
  private readonly retiredReplyKeys = new BoundedMap<string, string[]>(BOUNDS.retiredReplyKeys);
  private readonly held: HeldReplies;
  /** Orders that became final since the last reconcile: a gap in the stream may hide a fill of theirs. */
  private recentlyEnded = new BoundedSet<string>(BOUNDS.recentlyEnded);
  /** Orders whose reconcile query failed, with the attempts so far; asked again on a timer. */
  private readonly unanswered = new BoundedMap<string, number>(BOUNDS.recentlyEnded);
  private reconcileTimer: unknown;
  private readonly directives: DirectiveBook;
  private readonly unsubscribers: (() => void)[] = [];
  private stopped = false;
  /** Counters the demo and benchmarks read. */
  readonly stats = { repliesDuplicate: 0, repliesApplied: 0, anomalies: 0 };

  constructor(private readonly opts: ResolvedOptions) {
    this.cache = opts.cache ?? createStrategyCache();
    this.ledger = opts.ledger;
    this.connector = opts.connector;
    this.ids = new IdMinter(opts.clock, opts.random);
    this.directives = new DirectiveBook(BOUNDS.finishedDirectives);
    this.held = new HeldReplies(opts.clock, opts.ackTimeoutMs, (venueOrderId) => this.expireHeld(venueOrderId));
    // A pushed reply cannot be delivered again by the venue: if its write fails, we redeliver it.
    const offReply = this.connector.onReply?.((reply) => this.persist(() => this.onExchangeReply(reply)));
    if (offReply) this.unsubscribers.push(offReply);
    const offReconnect = this.connector.onReconnect?.(() => {
      this.reconcile().catch((err: unknown) => this.opts.onError(err));
    });
    if (offReconnect) this.unsubscribers.push(offReconnect);
  }

  // ─── Serial queues and in-flight tracking ────────────────────────────────────────────────

  /** Tracks a promise so `settle()` waits for it. */
  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    const done = (): void => {
      this.inFlight.delete(promise);
    };
    promise.then(done, done);
    return promise;
  }

  /** Starts background work that nobody awaits: tracked, and its failure reported. */
  private spawn(work: () => Promise<unknown>): void {
    this.track(work()).catch((err: unknown) => {
      if (!this.stopped) this.opts.onError(err);
    });
  }

  /**
   * Background work that must happen (venue news already in hand, a decision already due): when it
   * fails (a ledger write, say) the error is reported and the same work runs again every
   * `queryIntervalMs` until it succeeds or the handler stops. Replies and decisions are idempotent,
   * so running one again is safe.
   */
  private persist(work: () => Promise<unknown>): void {
    this.spawn(async () => {
      try {
        await work();
      } catch (err) {
        if (this.stopped) return;
        this.opts.onError(err);
        // Another process owns the strategy now: it recovers this work, and retrying here is futile.
        if (err instanceof LedgerFencedError) return;
        this.opts.clock.setTimeout(() => this.persist(work), this.opts.queryIntervalMs);
      }
    });
  }

  /** Runs `task` after every task queued before it under the same key. */
  private serial<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    // A stopped handler does nothing more: like a dead process, it writes nothing after its stop.
    const guarded = (): Promise<T> =>
      this.stopped ? Promise.reject(new Error('the execution handler is stopped')) : task();
    const run = prev.then(guarded, guarded);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return this.track(run);
  }

  /**
   * Runs `task` on the order's queue with the order loaded (from memory, or from the ledger when
   * its actor was released); `task` gets undefined for an order this strategy never recorded.
   * Afterwards an order that no longer needs its actor is released.
   */
  private onOrder<T>(orderId: string, task: (order: LiveOrder | undefined) => Promise<T>): Promise<T> {
    return this.serial(orderId, async () => {
      const order = this.live.get(orderId) ?? (await this.reload(orderId));
      try {
        return await task(order);
      } finally {
        if (order && this.live.get(orderId) === order && !needsActor(statusOfOrder(order), contextOf(order))) {
          this.release(order);
        }
      }
    });
  }

  /** Resolves once no ledger write, venue call or reply is in flight. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
    }
  }

  // ─── Orders in memory ────────────────────────────────────────────────────────────────────

  private register(view: OrderView, placedAt: number, snapshot: Snapshot<unknown> | undefined): LiveOrder {
    const actor = createOrderActor(
      {
        orderId: view.orderId,
        quantity: view.orderDetails.quantity,
        placedAt,
        ackTimeoutMs: this.opts.ackTimeoutMs,
        cancelTimeoutMs: this.opts.cancelTimeoutMs,
      },
      snapshot,
      this.opts.inspect,
    );
    const ctx = actor.getSnapshot().context;
    const order: LiveOrder = {
      orderId: view.orderId,
      directiveId: view.directiveId,
      request: view.orderDetails,
      actor,
      replyKeys: new RecentList(BOUNDS.replyKeysPerOrder),
      timer: undefined,
      timerAt: null,
      placeAttempts: 0,
      placeRetryAt: null,
      cycle: null,
      query: null,
      newsCount: 0,
      cancelsDispatched: 0,
      cancelsSent: ctx.cancelRequests,
      lastCancelSentAt: null,
      cancelResendAt: null,
      unconfirmedRecorded: false,
      endNotified: hasEnded(statusOf(actor.getSnapshot())),
    };
    this.live.set(order.orderId, order);
    this.cache.put(view);
    if (ctx.venueOrderId !== null) this.liveVenueIds.set(ctx.venueOrderId, order.orderId);
    this.reschedule(order);
    return order;
  }

  /** Brings a recorded order whose actor was released back into memory, with its reply keys. */
  private async reload(orderId: string): Promise<LiveOrder | undefined> {
    const stored = await this.ledger.getOrder(orderId);
    if (!stored) return undefined;
    const order = this.register(viewOf(stored), stored.placedAt, stored.snapshot as Snapshot<unknown> | undefined);
    for (const t of await this.ledger.getTransitions(orderId)) {
      const key = replyKeyOfCause(t.cause);
      if (key) order.replyKeys.add(key);
    }
    for (const key of this.retiredReplyKeys.get(orderId) ?? []) order.replyKeys.add(key);
    return order;
  }

  /** Stops and forgets the actor of an order that no longer needs one; its view stays cached. */
  private release(order: LiveOrder): void {
    this.opts.clock.clearTimeout(order.timer);
    order.actor.stop();
    this.live.delete(order.orderId);
    this.retiredReplyKeys.set(order.orderId, order.replyKeys.toArray());
    // The directive moves to bounded memory once none of its orders is live and none is to come.
    const run = this.directives.get(order.directiveId);
    if (run) this.directives.settleIfDone(run, (id) => this.live.has(id));
    const venueOrderId = contextOf(order).venueOrderId;
    if (venueOrderId !== null) {
      this.liveVenueIds.delete(venueOrderId);
      this.retiredVenueIds.set(venueOrderId, order.orderId);
    }
  }

  /** Number of actors in memory. */
  liveCount(): number {
    return this.live.size;
  }

  // ─── execute ─────────────────────────────────────────────────────────────────────────────

  /** Contract section 5: validate, mint, record (durably), make routable, then place. */
  async execute(input: ExecutionDirective): Promise<{ orderIds: string[]; causality: CausalityChain }> {
    this.assertRunning();
    const directive = parseDirective(input);
    return this.serial(`directive:${directive.directiveId}`, async () => {
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

  /** Records the orders at `indexes` PENDING in one durable commit, then places each. */
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
    const orders = views.map((v) => this.register(v, at, undefined));
    for (const order of orders) {
      this.placeOnce(order);
      this.reschedule(order);
    }
  }

  // ─── Placement ───────────────────────────────────────────────────────────────────────────

  /** Sends the order to the venue once; the answer comes back through the order's queue. */
  private placeOnce(order: LiveOrder): void {
    order.placeAttempts++;
    const { orderId } = order;
    this.spawn(async () => {
      let result: { venueOrderId?: string };
      try {
        result = await this.connector.placeOrder({ ...order.request, clientOrderId: orderId });
      } catch (err) {
        const at = this.opts.clock.now();
        if (err instanceof PlacementRejectedError || (err as Error | undefined)?.name === 'PlacementRejectedError') {
          const reason = String((err as PlacementRejectedError).reason ?? (err as Error).message);
          const rejected = { type: 'REJECTED', clientOrderId: orderId, reason, at };
          this.persist(() => this.onOrder(orderId, (o) => this.applyRaw(o, rejected, 'place')));
        } else {
          await this.onOrder(orderId, async (o) => this.schedulePlaceRetry(o));
        }
        return;
      }
      if (result?.venueOrderId) {
        const accepted = {
          type: 'ACCEPTED',
          clientOrderId: orderId,
          venueOrderId: result.venueOrderId,
          at: this.opts.clock.now(),
        };
        this.persist(() => this.onOrder(orderId, (o) => this.applyRaw(o, accepted, 'place')));
      }
    });
  }

  /** After an outcome-unknown failure: retry with the same client order id while it makes sense. */
  private schedulePlaceRetry(order: LiveOrder | undefined): void {
    if (!order || this.live.get(order.orderId) !== order) return;
    const now = this.opts.clock.now();
    const retryAt = now + placeBackoffMs(order.placeAttempts);
    const ctx = contextOf(order);
    if (statusOfOrder(order) !== 'PENDING' || order.placeAttempts > this.opts.placeRetries) return;
    if (retryAt >= ctx.ackDeadlineAt) return; // the ack-timeout path decides from here
    order.placeRetryAt = retryAt;
    this.reschedule(order);
  }

  // ─── Replies ─────────────────────────────────────────────────────────────────────────────

  /** Contract section 5: never throws on bad input; rejects only when a ledger write failed. */
  async onExchangeReply(raw: unknown): Promise<ReplyOutcome> {
    return this.track(this.routeReply(raw));
  }

  private async routeReply(raw: unknown): Promise<ReplyOutcome> {
    const parsed = parseReply(raw);
    if (!parsed.ok) return this.anomaly('MALFORMED_REPLY', parsed.reason, undefined, raw);
    const reply = parsed.reply;
    if (reply.clientOrderId !== undefined) return this.replyToOrder(reply.clientOrderId, reply, 'reply');
    const venueOrderId = reply.venueOrderId!;
    const orderId = this.liveVenueIds.get(venueOrderId) ?? this.retiredVenueIds.get(venueOrderId);
    if (orderId !== undefined) return this.replyToOrder(orderId, reply, 'reply');
    return this.hold(venueOrderId, reply);
  }

  private replyToOrder(orderId: string, reply: ExchangeReply, source: ReplySource): Promise<ReplyOutcome> {
    return this.onOrder(orderId, (order) => {
      if (!order) {
        return this.anomaly(
          'UNKNOWN_ORDER',
          `no order ${orderId} was sent to the venue by this handler`,
          undefined,
          reply,
        );
      }
      return this.applyReply(order, reply, source).then((o) => this.count(o, source));
    });
  }

  /** Counts what the venue's own replies came to (query answers restate what is known: not counted). */
  private count(outcome: ReplyOutcome, source: ReplySource): ReplyOutcome {
    if (source === 'reply' && outcome.outcome === 'duplicate') this.stats.repliesDuplicate++;
    if (source === 'reply' && outcome.outcome === 'applied') this.stats.repliesApplied++;
    return outcome;
  }

  /** Parses a reply built by the handler itself (placement result, query answer) and applies it. */
  private async applyRaw(order: LiveOrder | undefined, raw: unknown, source: ReplySource): Promise<ReplyOutcome> {
    const parsed = parseReply(raw);
    if (!parsed.ok) return this.anomaly('MALFORMED_REPLY', `${source}: ${parsed.reason}`, order?.orderId, raw);
    if (!order)
      return this.anomaly('UNKNOWN_ORDER', `${source} for an order this handler does not know`, undefined, raw);
    return this.applyReply(order, parsed.reply, source).then((o) => this.count(o, source));
  }

  /** Classifies a reply for its order (contract section 4, the rules) and applies what is new. */
  private async applyReply(order: LiveOrder, reply: ExchangeReply, source: ReplySource): Promise<ReplyOutcome> {
    const key = replyKey(reply);
    if (order.replyKeys.has(key)) return this.duplicate(order);
    const ctx = contextOf(order);
    const status = statusOfOrder(order);
    if (reply.venueOrderId !== undefined && ctx.venueOrderId !== null && reply.venueOrderId !== ctx.venueOrderId) {
      order.replyKeys.add(key);
      const reason = `reply names venue order ${reply.venueOrderId} but order ${order.orderId} is venue order ${ctx.venueOrderId}`;
      return this.anomaly('LATE_REPLY', reason, order.orderId, reply);
    }
    const at = this.opts.clock.now();
    const cause = `${source} ${reply.type} #${key}`;
    const venueOrderId = reply.venueOrderId === undefined ? {} : { venueOrderId: reply.venueOrderId };
    if (reply.type === 'ACCEPTED' || reply.type === 'FILL') order.newsCount++;
    switch (reply.type) {
      case 'ACCEPTED': {
        if (ctx.acknowledged && ctx.venueOrderId === reply.venueOrderId) return this.duplicate(order, key);
        const quiet: readonly OrderStatus[] = ['OPEN', 'PARTIALLY_FILLED', 'FILLED', 'EXPIRED'];
        const asDuplicate = quiet.includes(status) || (status === 'CANCELLED' && !ctx.gaveUp);
        return this.applyEvent(
          order,
          { type: 'ACCEPTED', venueOrderId: reply.venueOrderId, at },
          { cause, key, reply, asDuplicate },
        );
      }
      case 'FILL':
        return this.applyFill(order, reply, { cause, key });
      case 'REJECTED':
        return this.applyEvent(
          order,
          { type: 'REJECTED', reason: reply.reason, ...venueOrderId, at },
          { cause, key, reply },
        );
      case 'CANCELLED':
        return this.applyEvent(
          order,
          { type: 'CANCELLED', ...(reply.reason === undefined ? {} : { reason: reply.reason }), ...venueOrderId, at },
          { cause, key, reply },
        );
      case 'EXPIRED':
        return this.applyEvent(order, { type: 'EXPIRED', ...venueOrderId, at }, { cause, key, reply });
      case 'CANCEL_REJECTED':
        if (!ctx.cancelOutstanding) return this.duplicate(order, key);
        return this.applyEvent(
          order,
          { type: 'CANCEL_REJECTED', reason: reply.reason, ...venueOrderId, at },
          { cause, key, reply },
        );
    }
  }

  private async applyFill(
    order: LiveOrder,
    reply: Extract<ExchangeReply, { type: 'FILL' }>,
    meta: { cause: string; key: string },
  ): Promise<ReplyOutcome> {
    const view = this.cache.get(order.orderId)!;
    const known = view.fills.find((f) => f.venueFillId === reply.venueFillId);
    if (known) {
      if (!(decEq(known.quantity, reply.quantity) && decEq(known.price, reply.price))) {
        order.replyKeys.add(meta.key);
        const reason = `fill ${reply.venueFillId} was ${known.quantity} @ ${known.price}, now ${reply.quantity} @ ${reply.price}`;
        return this.anomaly('CONFLICTING_FILL', reason, order.orderId, reply);
      }
      if (known.commission === undefined && reply.commission !== undefined) {
        const fill: Fill = { ...known, commission: reply.commission, ...commissionAssetOf(reply) };
        await this.ledger.commit([{ kind: 'fill', orderId: order.orderId, fill }]);
        this.cache.put(withCommission(view, known.venueFillId, reply.commission, reply.commissionAsset));
      }
      return this.duplicate(order, meta.key);
    }
    const fill: Fill = {
      fillId: this.ids.mint('FIL', undefined, `${order.orderId}/${reply.venueFillId}`),
      venueFillId: reply.venueFillId,
      quantity: reply.quantity,
      price: reply.price,
      ...(reply.commission === undefined ? {} : { commission: reply.commission }),
      ...commissionAssetOf(reply),
      at: reply.at,
    };
    const wasRejected = statusOfOrder(order) === 'REJECTED';
    const filledBefore = contextOf(order).filledQuantity;
    const event: OrderEvent = {
      type: 'FILL',
      quantity: reply.quantity,
      ...(reply.venueOrderId === undefined ? {} : { venueOrderId: reply.venueOrderId }),
      at: this.opts.clock.now(),
    };
    const anomalies: { kind: AnomalyKind; reason: string }[] = [];
    const filledAfter = decAdd(filledBefore, reply.quantity);
    const quantity = order.request.quantity;
    if (decCmp(filledAfter, quantity) > 0) {
      anomalies.push({
        kind: 'OVERFILL',
        reason: `Invariant: filled <= quantity unless OVERFILL: fill ${reply.venueFillId} takes filled to ${filledAfter} of ${quantity}`,
      });
    }
    if (wasRejected) {
      anomalies.push({
        kind: 'LATE_REPLY',
        reason: `fill ${reply.venueFillId} for a REJECTED order: a rejected order should not trade`,
      });
    }
    return this.applyEvent(order, event, { cause: meta.cause, key: meta.key, reply, fill, anomalies });
  }

  /**
   * Sends `event` to the order's actor; when it changes the order, commits the change (with the
   * fill and anomalies it brings) and then lets the world know. A reply the state has no row for
   * is recorded as LATE_REPLY and changes nothing.
   */
  private async applyEvent(
    order: LiveOrder,
    event: OrderEvent,
    meta: {
      cause: string;
      key?: string;
      reply?: ExchangeReply;
      fill?: Fill;
      anomalies?: { kind: AnomalyKind; reason: string }[];
      asDuplicate?: boolean;
    },
  ): Promise<ReplyOutcome> {
    const before = order.actor.getSnapshot();
    order.actor.send(event);
    const after = order.actor.getSnapshot();
    if (after === before) {
      if (meta.key) order.replyKeys.add(meta.key);
      const reason = `${event.type} has no row in the state table for an order ${statusOf(before)}`;
      return this.anomaly('LATE_REPLY', reason, order.orderId, meta.reply ?? event);
    }
    const from = statusOf(before);
    const to = statusOf(after);
    const persisted = order.actor.getPersistedSnapshot(); // what recovery restores
    const venueLearnt = after.context.venueOrderId !== before.context.venueOrderId ? after.context.venueOrderId : null;
    const writes: LedgerWrite[] = [];
    if (meta.fill) writes.push({ kind: 'fill', orderId: order.orderId, fill: meta.fill });
    writes.push({
      kind: 'change',
      orderId: order.orderId,
      eventType: eventTypeOf(event, from, to),
      from,
      to,
      at: event.at,
      cause: meta.cause,
      ...(venueLearnt === null ? {} : { venueOrderId: venueLearnt }),
      ...(to === 'REJECTED' && from !== 'REJECTED' && after.context.rejectReason !== null
        ? { rejectReason: after.context.rejectReason }
        : {}),
      snapshot: persisted,
    });
    for (const a of meta.anomalies ?? []) writes.push(this.anomalyWrite(a.kind, a.reason, order.orderId, meta.reply));
    try {
      await this.ledger.commit(writes);
    } catch (err) {
      // Memory must not run ahead of the ledger: drop the order and reload it from the ledger
      // (which also re-arms its deadlines), then let the caller know.
      this.release(order);
      this.persist(() => this.onOrder(order.orderId, async () => undefined));
      throw err;
    }
    if (meta.key) order.replyKeys.add(meta.key);
    this.stats.anomalies += meta.anomalies?.length ?? 0;
    this.updateView(order, meta.fill, venueLearnt);
    this.afterChange(order, from, to);
    if (meta.asDuplicate) return this.duplicate(order);
    return { outcome: 'applied', orderId: order.orderId, status: to };
  }

  private updateView(order: LiveOrder, fill: Fill | undefined, venueLearnt: string | null): void {
    const ctx = contextOf(order);
    let view = this.cache.get(order.orderId)!;
    if (fill) view = withFill(view, fill);
    view = withStatus(view, statusOfOrder(order), {
      venueOrderId: venueLearnt ?? undefined,
      rejectReason: ctx.rejectReason ?? undefined,
    });
    this.cache.put(view);
  }

  private duplicate(order: LiveOrder, key?: string): ReplyOutcome {
    if (key) order.replyKeys.add(key);
    return { outcome: 'duplicate', orderId: order.orderId, status: statusOfOrder(order) };
  }

  private anomalyWrite(kind: AnomalyKind, reason: string, orderId: string | undefined, raw: unknown): LedgerWrite {
    return {
      kind: 'anomaly',
      anomaly: {
        kind,
        reason,
        ...(orderId === undefined ? {} : { orderId }),
        strategyId: this.opts.strategyId,
        at: this.opts.clock.now(),
        ...(raw === undefined ? {} : { reply: jsonSafe(raw) }),
      },
    };
  }

  /** Records an anomaly durably and answers with it. */
  private async anomaly(
    kind: AnomalyKind,
    reason: string,
    orderId: string | undefined,
    raw: unknown,
  ): Promise<ReplyOutcome> {
    await this.ledger.commit([this.anomalyWrite(kind, reason, orderId, raw)]);
    this.stats.anomalies++;
    return { outcome: 'anomaly', anomaly: kind, ...(orderId === undefined ? {} : { orderId }) };
  }

  // ─── Held replies (venue id not known yet) ───────────────────────────────────────────────

  private async hold(venueOrderId: string, reply: ExchangeReply): Promise<ReplyOutcome> {
    const refused = this.held.hold(venueOrderId, reply);
    if (refused)
      return this.anomaly('UNKNOWN_ORDER', `venue order ${venueOrderId} is unknown and ${refused}`, undefined, reply);
    return { outcome: 'held', venueOrderId };
  }

  /** No ACCEPTED revealed the venue id in time: what waited for it is recorded as UNKNOWN_ORDER. */
  private expireHeld(venueOrderId: string): void {
    const replies = this.held.waiting(venueOrderId);
    if (!replies) return;
    this.persist(async () => {
      if (this.held.waiting(venueOrderId) !== replies) return; // paired meanwhile: nothing expired
      const reason = `no ACCEPTED revealed venue order ${venueOrderId} within ${this.opts.ackTimeoutMs} ms`;
      const writes = replies.map((r) => this.anomalyWrite('UNKNOWN_ORDER', reason, undefined, r));
      await this.ledger.commit(writes);
      this.stats.anomalies += writes.length;
      this.held.markExpired(venueOrderId, replies);
    });
  }

  /** A venue id was paired with an order: route what waited for it, ask about what expired. */
  private learnPairing(order: LiveOrder, venueOrderId: string): void {
    this.liveVenueIds.set(venueOrderId, order.orderId);
    for (const reply of this.held.release(venueOrderId)) {
      this.persist(() => this.onOrder(order.orderId, (o) => this.applyRaw(o, reply, 'reply')));
    }
    // Replies for it expired as UNKNOWN_ORDER: ask the venue what we missed (unless already asking).
    if (this.held.takeExpired(venueOrderId) && !order.query) this.sendQuery(order);
  }

  // ─── After a change: effects ─────────────────────────────────────────────────────────────

  private afterChange(order: LiveOrder, from: OrderStatus, to: OrderStatus): void {
    const ctx = contextOf(order);
    if (ctx.venueOrderId !== null && this.liveVenueIds.get(ctx.venueOrderId) !== order.orderId) {
      this.learnPairing(order, ctx.venueOrderId);
    }
    if (ctx.cancelRequests > order.cancelsSent) {
      order.cancelsSent = ctx.cancelRequests;
      order.cycle = order.cycle?.purpose === 'cancel' ? null : order.cycle;
      this.requestCancelSend(order);
    }
    if (order.cycle?.purpose === 'ack' && to !== 'PENDING') order.cycle = null;
    if (order.cycle?.purpose === 'cancel' && !ctx.cancelOutstanding) order.cycle = null;
    if (to !== 'PENDING') order.placeRetryAt = null;
    if (isFinal(to) && !isFinal(from)) this.recentlyEnded.add(order.orderId);
    if (!order.endNotified && hasEnded(to) && !hasEnded(from)) {
      order.endNotified = true;
      this.onOrderEnded(order, to);
    }
    this.reschedule(order);
  }

  private onOrderEnded(order: LiveOrder, status: OrderStatus): void {
    const run = this.directives.get(order.directiveId);
    if (!run) return;
    const index = run.orderIds.indexOf(order.orderId);
    if (run.mode === 'COORDINATED' && (status === 'REJECTED' || status === 'TIMED_OUT')) {
      for (const other of run.orderIds) {
        if (other !== order.orderId && this.live.has(other)) this.persist(() => this.cancel(other, 'coordinated'));
      }
    }
    if (run.mode === 'SEQUENTIAL') {
      const next = run.advance(index, status === 'FILLED');
      if (next !== undefined) {
        this.persist(() =>
          this.serial(`directive:${run.directiveId}`, () => this.recordAndPlace(run, run.recorded[next] ? [] : [next])),
        );
      }
    }
  }

  // ─── Cancels ─────────────────────────────────────────────────────────────────────────────

  /** Sends a cancel now, or as soon as `queryIntervalMs` has passed since the previous one. */
  private requestCancelSend(order: LiveOrder): void {
    const now = this.opts.clock.now();
    const earliest = order.lastCancelSentAt === null ? now : order.lastCancelSentAt + this.opts.queryIntervalMs;
    if (earliest <= now) this.sendCancel(order);
    else order.cancelResendAt = Math.min(order.cancelResendAt ?? earliest, earliest);
  }

  private sendCancel(order: LiveOrder): void {
    order.lastCancelSentAt = this.opts.clock.now();
    order.cancelsDispatched++;
    order.cancelResendAt = null;
    const ref = refOf(order);
    // A cancel that fails to send is an unanswered cancel: the cancel deadline's queries follow it.
    this.spawn(() => this.connector.cancelOrder(ref).catch(() => undefined));
  }

  /** `cancel()`: true while a cancel is, or is now, outstanding. */
  async cancel(orderId: string, cause = 'cancel()'): Promise<boolean> {
    this.assertRunning();
    return this.onOrder(orderId, async (order) => {
      // Not recorded: a SEQUENTIAL order whose turn has not come stops its directive; else unknown.
      if (!order) return this.directives.stopBeforeUnplaced(orderId);
      const status = statusOfOrder(order);
      if (status === 'CANCEL_PENDING') return true;
      if (status !== 'PENDING' && status !== 'OPEN' && status !== 'PARTIALLY_FILLED' && status !== 'TIMED_OUT') {
        return false;
      }
      const outcome = await this.applyEvent(order, { type: 'CANCEL', at: this.opts.clock.now() }, { cause });
      return outcome.outcome === 'applied';
    });
  }

  /** `cancelAll()`: the emergency stop. */
  async cancelAll(): Promise<string[]> {
    this.assertRunning();
    this.directives.stopAllSequential();
    const working: string[] = [];
    const timedOut: string[] = [];
    for (const order of this.live.values()) {
      const status = statusOfOrder(order);
      if (status === 'PENDING' || status === 'OPEN' || status === 'PARTIALLY_FILLED') working.push(order.orderId);
      else if (status === 'TIMED_OUT') timedOut.push(order.orderId);
    }
    const cancelled = await Promise.all(
      working.map(async (id) => ((await this.cancel(id, 'cancelAll()')) ? id : null)),
    );
    await Promise.all(timedOut.map((id) => this.cancel(id, 'cancelAll()')));
    return cancelled.filter((id): id is string => id !== null);
  }

  // ─── Deadlines and queries ───────────────────────────────────────────────────────────────

  /** Arms the order's single timer for its earliest due time. */
  private reschedule(order: LiveOrder): void {
    if (this.live.get(order.orderId) !== order || this.stopped) return;
    const ctx = contextOf(order);
    const status = statusOfOrder(order);
    const due: number[] = [];
    if (order.cycle) due.push(order.cycle.nextAt);
    else if (status === 'PENDING') due.push(ctx.ackDeadlineAt);
    else if (ctx.cancelOutstanding && ctx.cancelDeadlineAt !== null) due.push(ctx.cancelDeadlineAt);
    if (order.placeRetryAt !== null) due.push(order.placeRetryAt);
    if (order.cancelResendAt !== null) due.push(order.cancelResendAt);
    const at = due.length === 0 ? null : Math.min(...due);
    if (at === order.timerAt) return;
    this.opts.clock.clearTimeout(order.timer);
    order.timerAt = at;
    order.timer =
      at === null
        ? undefined
        : this.opts.clock.setTimeout(() => {
            order.timerAt = null;
            this.persist(() => this.onOrder(order.orderId, (o) => this.tick(o)));
          }, at - this.opts.clock.now());
  }

  /** Does whatever is due for the order now. */
  private async tick(order: LiveOrder | undefined): Promise<void> {
    if (!order || this.stopped) return;
    const now = this.opts.clock.now();
    const ctx = contextOf(order);
    const status = statusOfOrder(order);
    if (order.placeRetryAt !== null && now >= order.placeRetryAt) {
      order.placeRetryAt = null;
      if (status === 'PENDING' && now < ctx.ackDeadlineAt) this.placeOnce(order);
    }
    if (order.cancelResendAt !== null && now >= order.cancelResendAt) {
      // Due either way: a resend deferred for a cancel that has since been answered is dropped,
      // or its past due time would re-arm the timer at once, forever.
      order.cancelResendAt = null;
      if (ctx.cancelOutstanding) this.sendCancel(order);
    }
    const deadline =
      status === 'PENDING' && now >= ctx.ackDeadlineAt
        ? 'ack'
        : ctx.cancelOutstanding && ctx.cancelDeadlineAt !== null && now >= ctx.cancelDeadlineAt
          ? 'cancel'
          : null;
    if (deadline && !order.cycle) {
      order.cycle = { purpose: deadline, slots: 0, slow: false, nextAt: now };
    }
    try {
      if (order.cycle && now >= order.cycle.nextAt) await this.stepCycle(order);
    } finally {
      this.reschedule(order);
    }
  }

  /**
   * One step of a query round: ask (unless a query still hangs, which uses its slot), and once
   * `1 + queryRetries` slots are spent, decide: TIMED_OUT for an unacknowledged order, the slow
   * pace with CANCEL_UNCONFIRMED for an unconfirmed cancel.
   */
  private async stepCycle(order: LiveOrder): Promise<void> {
    const cycle = order.cycle!;
    const now = this.opts.clock.now();
    const interval = this.opts.queryIntervalMs;
    if (cycle.slow) {
      cycle.nextAt = now + 10 * interval;
      this.resendCancelIfDue(order);
      if (order.query && now - order.query.sentAt >= 10 * interval) order.query = null; // abandoned
      if (!order.query) this.sendQuery(order);
      await this.recordUnconfirmedOnce(order);
      return;
    }
    if (cycle.slots <= this.opts.queryRetries) {
      cycle.slots++;
      if (!order.query) this.sendQuery(order);
      cycle.nextAt = now + interval;
      return;
    }
    if (cycle.purpose === 'ack') {
      cycle.nextAt = now + interval; // if the write fails, decide again one interval later
      // The cycle ends with the change (afterChange clears it once the order left PENDING).
      await this.applyEvent(
        order,
        { type: 'ACK_TIMEOUT', at: now },
        { cause: 'ack-timeout: the venue did not answer' },
      );
      return;
    }
    cycle.slow = true;
    cycle.nextAt = now + 10 * interval;
    this.resendCancelIfDue(order);
    if (!order.query) this.sendQuery(order);
    await this.recordUnconfirmedOnce(order);
  }

  /** CANCEL_UNCONFIRMED, once per order (tried again at the next slow step if the write failed). */
  private async recordUnconfirmedOnce(order: LiveOrder): Promise<void> {
    if (order.unconfirmedRecorded) return;
    const reason = `the venue neither confirmed nor rejected the cancel after ${this.opts.queryRetries + 1} queries`;
    await this.ledger.commit([this.anomalyWrite('CANCEL_UNCONFIRMED', reason, order.orderId, undefined)]);
    order.unconfirmedRecorded = true;
    this.stats.anomalies++;
  }

  private resendCancelIfDue(order: LiveOrder): void {
    if (contextOf(order).cancelOutstanding) this.requestCancelSend(order);
  }

  /** Asks the venue about the order; the answer is applied on the order's queue. */
  private sendQuery(order: LiveOrder): void {
    const token: QueryInFlight = {
      sentAt: this.opts.clock.now(),
      newsAtSend: order.newsCount,
      cancelsAtSend: order.cancelsDispatched,
    };
    order.query = token;
    const { orderId } = order;
    const ref = refOf(order);
    this.spawn(async () => {
      let answer: VenueOrderState | null | 'failed';
      try {
        answer = await this.connector.queryOrder(ref);
      } catch {
        answer = 'failed';
      }
      this.persist(() =>
        this.onOrder(orderId, async (o) => {
          if (o && o.query === token) o.query = null;
          if (o && answer !== 'failed') await this.applyAnswer(o, answer, token, false);
        }),
      );
    });
  }

  /**
   * Applies what the venue said about an order. `null` is decisive unless news of the order
   * arrived after the query was sent. During recovery a PENDING order the venue does not know is
   * placed again while its ack deadline has not passed.
   */
  private async applyAnswer(
    order: LiveOrder,
    answer: VenueOrderState | null,
    asked: QueryInFlight,
    recovering: boolean,
    tally: ReconcileTally = emptyTally(),
  ): Promise<void> {
    const statusBefore = statusOfOrder(order);
    if (answer !== null) {
      for (const raw of repliesOfVenueState(order.orderId, answer, this.opts.clock.now())) {
        // The venue confirming the final status the order already has is no news.
        if ((raw as { type: string }).type === statusOfOrder(order)) continue;
        const outcome = await this.applyRaw(order, raw, 'query');
        if (outcome.outcome === 'anomaly') tally.anomalies++;
        if (outcome.outcome === 'applied' && (raw as { type: string }).type === 'FILL') tally.fillsLearnt++;
      }
      const ctx = contextOf(order);
      // The venue still shows the order working while our cancel is outstanding: send it again.
      if (ctx.cancelOutstanding && (answer.status === 'OPEN' || answer.status === 'PARTIALLY_FILLED')) {
        this.requestCancelSend(order);
      }
    } else if (order.newsCount === asked.newsAtSend) {
      await this.applyNotFound(order, asked, recovering, tally);
    }
    if (statusOfOrder(order) !== statusBefore) tally.ordersResolved++;
  }

  private async applyNotFound(
    order: LiveOrder,
    asked: QueryInFlight,
    recovering: boolean,
    tally: ReconcileTally,
  ): Promise<void> {
    const ctx = contextOf(order);
    const status = statusOfOrder(order);
    const now = this.opts.clock.now();
    if (isFinal(status)) return; // a venue may forget orders it finished: nothing to apply
    if (status === 'PENDING' && now < ctx.ackDeadlineAt) {
      // Not known yet, before its ack deadline: the placement may still be on its way. On recovery
      // it may never have left (a crash between record and send): place it again, same client id.
      if (recovering) {
        tally.ordersPlacedAgain++;
        this.placeOnce(order);
      }
      return;
    }
    if (status === 'TIMED_OUT' && (!ctx.cancelOutstanding || order.cancelsDispatched > asked.cancelsAtSend)) return;
    const anomalies =
      status === 'OPEN' || status === 'PARTIALLY_FILLED' || status === 'CANCEL_PENDING'
        ? [
            {
              kind: 'VENUE_LOST_ORDER' as const,
              reason: `the venue does not know ${status} order ${order.orderId}: ${NOT_FOUND_AT_VENUE}`,
            },
          ]
        : [];
    const outcome = await this.applyEvent(
      order,
      { type: 'NOT_FOUND', at: now },
      { cause: 'query NOT_FOUND', anomalies },
    );
    if (outcome.outcome === 'anomaly') tally.anomalies++;
    tally.anomalies += anomalies.length;
  }

  // ─── Recovery ────────────────────────────────────────────────────────────────────────────

  /** Rebuilds every open order from the ledger, then reconciles with the venue. */
  async recover(): Promise<RecoveryReport> {
    this.assertRunning();
    let restored = 0;
    for (const stored of await this.ledger.getOpenOrders()) {
      if (this.live.has(stored.orderId)) continue;
      await this.serial(stored.orderId, async () => {
        if (this.live.has(stored.orderId)) return;
        const order = this.register(viewOf(stored), stored.placedAt, stored.snapshot as Snapshot<unknown> | undefined);
        for (const t of await this.ledger.getTransitions(stored.orderId)) {
          const key = replyKeyOfCause(t.cause);
          if (key) order.replyKeys.add(key);
        }
        this.directives.adopt(stored);
        restored++;
        // The cancel may never have left before the crash; sending it again is harmless.
        if (contextOf(order).cancelOutstanding) this.sendCancel(order);
        this.reschedule(order);
      });
    }
    // Orders that ended shortly before the restart: a fill of theirs may have died with the process.
    for (const recent of await this.ledger.getOrdersChangedSince(this.opts.clock.now() - this.opts.recoverLookbackMs)) {
      if (isFinal(recent.status)) {
        this.recentlyEnded.add(recent.orderId);
        this.cache.put(viewOf(recent));
      }
    }
    const report = await this.reconcileAll(true);
    return { ordersRestored: restored, ...report };
  }

  /** Asks the venue about every open order and applies the answers. */
  async reconcile(): Promise<RecoveryReport> {
    this.assertRunning();
    return { ordersRestored: 0, ...(await this.reconcileAll(false)) };
  }

  private async reconcileAll(recovering: boolean): Promise<ReconcileTally> {
    const ended = this.recentlyEnded;
    this.recentlyEnded = new BoundedSet<string>(BOUNDS.recentlyEnded);
    return this.reconcileIds([...new Set([...this.live.keys(), ...ended.values()])], recovering);
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
    const live = this.live.get(orderId);
    const venueOrderId = live ? contextOf(live).venueOrderId : (this.cache.get(orderId)?.venueOrderId ?? null);
    const ref: OrderRef = venueOrderId === null ? { clientOrderId: orderId } : { clientOrderId: orderId, venueOrderId };
    const asked: QueryInFlight = {
      sentAt: this.opts.clock.now(),
      newsAtSend: live?.newsCount ?? 0,
      cancelsAtSend: live?.cancelsDispatched ?? 0,
    };
    tally.ordersQueried++;
    let answer: VenueOrderState | null;
    try {
      answer = await this.answerWithin(orderId, ref, asked);
    } catch {
      tally.queriesFailed++;
      this.retryReconcile(orderId);
      return;
    }
    this.unanswered.delete(orderId);
    await this.onOrder(orderId, async (o) => {
      if (o) await this.applyAnswer(o, answer, asked, recovering, tally);
    });
  }

  /**
   * A reconcile query that failed is asked again: every `queryIntervalMs` for `queryRetries`
   * rounds, then every 10 x `queryIntervalMs`, until the venue answers (at most
   * `BOUNDS.recentlyEnded` orders wait at once; the oldest is dropped beyond that).
   */
  private retryReconcile(orderId: string): void {
    const attempts = (this.unanswered.get(orderId) ?? 0) + 1;
    this.unanswered.set(orderId, attempts);
    if (this.reconcileTimer !== undefined || this.stopped) return;
    const slow = [...this.unanswered.values()].every((n) => n > this.opts.queryRetries);
    const wait = slow ? 10 * this.opts.queryIntervalMs : this.opts.queryIntervalMs;
    this.reconcileTimer = this.opts.clock.setTimeout(() => {
      this.reconcileTimer = undefined;
      const ids = [...this.unanswered.keys()];
      this.spawn(() => this.reconcileIds(ids, false));
    }, wait);
  }

  /**
   * Asks the venue about an order for reconcile(): an answer later than `queryIntervalMs` counts
   * as a failure (so a hanging venue cannot stall reconcile), yet is still applied when it comes.
   */
  private answerWithin(orderId: string, ref: OrderRef, asked: QueryInFlight): Promise<VenueOrderState | null> {
    const query = this.track(this.connector.queryOrder(ref));
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
          this.persist(() => this.onOrder(orderId, async (o) => o && this.applyAnswer(o, answer, asked, false)));
        },
        (err: unknown) => {
          this.opts.clock.clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  // ─── Reads and lifecycle ─────────────────────────────────────────────────────────────────

  private assertRunning(): void {
    if (this.stopped) throw new Error('the execution handler is stopped');
  }

  /** Stops timers and actors and unhooks the connector; the ledger stays open (it is the caller's). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.reconcileTimer);
    for (const off of this.unsubscribers.splice(0)) off();
    this.held.clear();
    for (const order of this.live.values()) {
      this.opts.clock.clearTimeout(order.timer);
      order.actor.stop();
    }
    this.live.clear();
  }
}

function refOf(order: LiveOrder): OrderRef {
  const venueOrderId = contextOf(order).venueOrderId;
  return venueOrderId === null ? { clientOrderId: order.orderId } : { clientOrderId: order.orderId, venueOrderId };
}

/** The OrderView part of a ledger order. */
function viewOf(stored: LedgerOrder): OrderView {
  const { snapshot: _snapshot, placedAt: _placedAt, batch: _batch, ...view } = stored;
  return view;
}

function commissionAssetOf(reply: { commissionAsset?: string }): { commissionAsset?: string } {
  return reply.commissionAsset === undefined ? {} : { commissionAsset: reply.commissionAsset };
}
