/**
 * The order runtime: one mailbox per order. It loads the order's actor (from memory, or from the
 * ledger when it was released), sends it an event, builds the ledger writes from the snapshots
 * before and after, commits them, and only then updates the cache and hands the effects the
 * machine emitted to the performer. A failed commit drops the order from memory, to be reloaded
 * from the ledger, so memory never runs ahead of the ledger.
 */
import type { Snapshot } from 'xstate';
import { type OrderContext, type OrderEffect, type OrderEvent, statusOf } from '../../machines/order.js';
import type { StrategyCache } from '../cache.js';
import type { LedgerOrder, LedgerWrite, StrategyLedger } from '../ledger/types.js';
import { isFinal, withFill, withModification, withStatus } from '../order-view.js';
import type { AnomalyKind, ExchangeReply, Fill, OrderStatus, OrderView, ReplyOutcome } from '../types.js';
import { jsonSafe } from '../validation.js';
import type { Background } from './background.js';
import { BoundedMap, BoundedSet, RecentList } from './bounded.js';
import {
  type LiveOrder,
  contextOf,
  createOrderActor,
  eventTypeOf,
  isRecordedChange,
  needsActor,
  persistedSnapshotOf,
  statusOfOrder,
} from './live-order.js';
import { BOUNDS, type ResolvedOptions } from './options.js';
import { modificationOf } from './modifications.js';
import { replyKeyOfCause } from './reply-key.js';

/** What the runtime hands the effects of a committed change to. */
export interface EffectPerformer {
  perform(order: LiveOrder, effects: readonly OrderEffect[]): void;
  /** The order learnt a venue id: route what waited for it. */
  paired(order: LiveOrder, venueOrderId: string): void;
  /** The order's wake-up time may have moved. */
  reschedule(order: LiveOrder): void;
  /** The order's actor left memory. */
  released(order: LiveOrder): void;
}

/** What an event brings besides itself. */
export interface ApplyMeta {
  cause: string;
  key?: string;
  reply?: ExchangeReply;
  fill?: Fill;
  anomalies?: { kind: AnomalyKind; reason: string }[];
  /** The reply answers `duplicate` though it taught the order something (a venue id). */
  asDuplicate?: boolean;
}

/** The live orders and the one path by which an event changes one. */
export class OrderRuntime {
  readonly live = new Map<string, LiveOrder>();
  /** venueOrderId → OrderID of live orders (exact) and of retired ones (bounded). */
  readonly liveVenueIds = new Map<string, string>();
  readonly retiredVenueIds = new BoundedMap<string, string>(BOUNDS.retiredVenueIds);
  private readonly retiredReplyKeys = new BoundedMap<string, string[]>(BOUNDS.retiredReplyKeys);
  /** Orders that became final since the last reconcile: a gap in the stream may hide a fill of theirs. */
  recentlyEnded = new BoundedSet<string>(BOUNDS.recentlyEnded);
  readonly stats = { repliesDuplicate: 0, repliesApplied: 0, anomalies: 0 };
  performer!: EffectPerformer;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly ledger: StrategyLedger,
    readonly cache: StrategyCache,
    private readonly work: Background,
  ) {}

  /** Makes an order live: its actor started (fresh, or from its persisted snapshot) and its view cached. */
  register(view: OrderView, placedAt: number, snapshot: Snapshot<unknown> | undefined): LiveOrder {
    const input = {
      orderId: view.orderId,
      quantity: view.orderDetails.quantity,
      placedAt,
      timing: this.opts.timing,
      ...(view.orderDetails.price === undefined ? {} : { price: view.orderDetails.price }),
      ...(view.orderDetails.stopPrice === undefined ? {} : { stopPrice: view.orderDetails.stopPrice }),
    };
    const actor = createOrderActor(input, snapshot, this.opts.inspect);
    const order: LiveOrder = {
      orderId: view.orderId,
      directiveId: view.directiveId,
      request: view.orderDetails,
      actor,
      replyKeys: new RecentList(BOUNDS.replyKeysPerOrder),
      timer: undefined,
      timerAt: null,
    };
    this.live.set(order.orderId, order);
    this.cache.put(view);
    for (const venueOrderId of venueIdsOf(order)) this.liveVenueIds.set(venueOrderId, order.orderId);
    this.performer.reschedule(order);
    return order;
  }

  /** Brings a recorded order back into memory, with the keys of the replies it handled. */
  async load(stored: LedgerOrder): Promise<LiveOrder> {
    const order = this.register(viewOf(stored), stored.placedAt, stored.snapshot as Snapshot<unknown> | undefined);
    for (const t of await this.ledger.getTransitions(stored.orderId)) {
      const key = replyKeyOfCause(t.cause);
      if (key) order.replyKeys.add(key);
    }
    for (const key of this.retiredReplyKeys.get(stored.orderId) ?? []) order.replyKeys.add(key);
    return order;
  }

  private async reload(orderId: string): Promise<LiveOrder | undefined> {
    const stored = await this.ledger.getOrder(orderId);
    return stored ? this.load(stored) : undefined;
  }

  /** Stops and forgets the actor of an order that no longer needs one; its view stays cached. */
  release(order: LiveOrder): void {
    this.opts.clock.clearTimeout(order.timer);
    order.actor.stop();
    this.live.delete(order.orderId);
    this.retiredReplyKeys.set(order.orderId, order.replyKeys.toArray());
    for (const venueOrderId of venueIdsOf(order)) {
      this.liveVenueIds.delete(venueOrderId);
      this.retiredVenueIds.set(venueOrderId, order.orderId);
    }
    this.performer.released(order);
  }

  /**
   * Runs `task` on the order's queue with the order loaded; `task` gets undefined for an order this
   * strategy never recorded. Afterwards an order that no longer needs its actor is released.
   */
  onOrder<T>(orderId: string, task: (order: LiveOrder | undefined) => Promise<T>): Promise<T> {
    return this.work.serial(orderId, async () => {
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

  /** Sends a protocol event (a wake-up, a venue call's outcome) on the order's queue, retried if its write fails. */
  signal(orderId: string, event: (at: number) => OrderEvent, cause: string): void {
    this.work.persist(
      () =>
        this.onOrder(orderId, async (o) => {
          if (o) await this.apply(o, event(this.opts.clock.now()), { cause });
        }),
      orderId,
    );
  }

  /**
   * Sends `event` to the order's actor; when it changes the order, commits the change (with the
   * fill and anomalies it brings) and then lets the world know. An event the machine has no row
   * for in the order's state is a LATE_REPLY and changes nothing.
   */
  async apply(order: LiveOrder, event: OrderEvent, meta: ApplyMeta): Promise<ReplyOutcome> {
    const before = order.actor.getSnapshot();
    if (!before.can(event)) {
      if (meta.key) order.replyKeys.add(meta.key);
      const reason = `${event.type} has no row in the state table for an order ${statusOf(before)}`;
      return this.anomaly('LATE_REPLY', reason, order.orderId, meta.reply ?? event);
    }
    // Listened to for this event only: a listener kept on every actor cost about 150 bytes per live order.
    const effects: OrderEffect[] = [];
    const listener = order.actor.on('*', (effect) => effects.push(effect));
    order.actor.send(event);
    listener.unsubscribe();
    const after = order.actor.getSnapshot();
    const from = statusOf(before);
    const to = statusOf(after);
    const writes = this.writesOf(order, event, meta, effects, before, after);
    if (writes.length > 0) {
      try {
        await this.ledger.commit(writes);
      } catch (err) {
        // Memory must not run ahead of the ledger: drop the order and reload it from the ledger
        // (which also re-arms its wake-up), then let the caller know.
        this.release(order);
        this.work.persist(() => this.onOrder(order.orderId, async () => undefined), order.orderId);
        throw err;
      }
    }
    if (meta.key) order.replyKeys.add(meta.key);
    this.stats.anomalies += writes.filter((w) => w.kind === 'anomaly').length;
    const change = writes.find((w): w is Extract<LedgerWrite, { kind: 'change' }> => w.kind === 'change');
    this.afterCommit(order, meta.fill, before.context, from, to, effects, change);
    if (meta.asDuplicate) return this.duplicate(order);
    return { outcome: 'applied', orderId: order.orderId, status: to };
  }

  /** The ledger writes of one handled event. */
  private writesOf(
    order: LiveOrder,
    event: OrderEvent,
    meta: ApplyMeta,
    effects: readonly OrderEffect[],
    before: ReturnType<LiveOrder['actor']['getSnapshot']>,
    after: ReturnType<LiveOrder['actor']['getSnapshot']>,
  ): LedgerWrite[] {
    const from = statusOf(before);
    const to = statusOf(after);
    const resolved = after.context.lastModify !== before.context.lastModify ? after.context.lastModify : null;
    const writes: LedgerWrite[] = [];
    if (meta.fill) writes.push({ kind: 'fill', orderId: order.orderId, fill: meta.fill });
    if (isRecordedChange(event, before.context, after.context, from !== to)) {
      const venueLearnt =
        after.context.venueOrderId !== before.context.venueOrderId ? after.context.venueOrderId : null;
      writes.push({
        kind: 'change',
        orderId: order.orderId,
        eventType: eventTypeOf(event, from, to, resolved?.outcome),
        from,
        to,
        at: event.at,
        cause: meta.cause,
        ...(venueLearnt === null ? {} : { venueOrderId: venueLearnt }),
        ...modificationOf(event, before.context, after.context),
        ...(to === 'REJECTED' && from !== 'REJECTED' && after.context.rejectReason !== null
          ? { rejectReason: after.context.rejectReason }
          : {}),
        snapshot: persistedSnapshotOf(order.actor), // what recovery restores
      });
    } else if (after.context !== before.context) {
      writes.push({ kind: 'snapshot', orderId: order.orderId, snapshot: persistedSnapshotOf(order.actor) });
    }
    for (const a of meta.anomalies ?? []) writes.push(this.anomalyWrite(a.kind, a.reason, order.orderId, meta.reply));
    for (const e of effects) {
      if (e.type === 'anomaly') writes.push(this.anomalyWrite(e.kind, e.reason, order.orderId, undefined));
    }
    return writes;
  }

  private afterCommit(
    order: LiveOrder,
    fill: Fill | undefined,
    ctxBefore: OrderContext,
    from: OrderStatus,
    to: OrderStatus,
    effects: readonly OrderEffect[],
    change: Extract<LedgerWrite, { kind: 'change' }> | undefined,
  ): void {
    const ctx = contextOf(order);
    const venueLearnt = ctx.venueOrderId !== ctxBefore.venueOrderId ? ctx.venueOrderId : null;
    let view = this.cache.get(order.orderId)!;
    if (fill) view = withFill(view, fill);
    // The cache takes a modify's change exactly as the ledger's view does.
    const modified = change?.modification !== undefined;
    if (modified) view = withModification(view, change);
    if (
      fill ||
      modified ||
      from !== to ||
      venueLearnt !== null ||
      view.rejectReason !== (ctx.rejectReason ?? undefined)
    ) {
      view = withStatus(view, to, {
        venueOrderId: venueLearnt ?? undefined,
        rejectReason: ctx.rejectReason ?? undefined,
      });
      this.cache.put(view);
    }
    if (isFinal(to) && !isFinal(from)) this.recentlyEnded.add(order.orderId);
    if (ctx.venueOrderId !== null && this.liveVenueIds.get(ctx.venueOrderId) !== order.orderId) {
      this.liveVenueIds.set(ctx.venueOrderId, order.orderId);
      this.performer.paired(order, ctx.venueOrderId);
    }
    this.performer.perform(order, effects);
    this.performer.reschedule(order);
  }

  /** The reply changes nothing: it was seen before, or restates what the order knows. */
  duplicate(order: LiveOrder, key?: string): ReplyOutcome {
    if (key) order.replyKeys.add(key);
    return { outcome: 'duplicate', orderId: order.orderId, status: statusOfOrder(order) };
  }

  /** An anomaly record of this strategy. */
  anomalyWrite(kind: AnomalyKind, reason: string, orderId: string | undefined, raw: unknown): LedgerWrite {
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
  async anomaly(kind: AnomalyKind, reason: string, orderId: string | undefined, raw: unknown): Promise<ReplyOutcome> {
    await this.ledger.commit([this.anomalyWrite(kind, reason, orderId, raw)]);
    this.stats.anomalies++;
    return { outcome: 'anomaly', anomaly: kind, ...(orderId === undefined ? {} : { orderId }) };
  }

  /** Stops every actor (the handler stops). */
  stopAll(): void {
    for (const order of this.live.values()) {
      this.opts.clock.clearTimeout(order.timer);
      order.actor.stop();
    }
    this.live.clear();
  }
}

/** Every venue id the order has had: replies naming any of them reach it. */
function venueIdsOf(order: LiveOrder): string[] {
  const ctx = contextOf(order);
  return ctx.venueOrderId === null ? ctx.formerVenueOrderIds : [...ctx.formerVenueOrderIds, ctx.venueOrderId];
}

/** The OrderView part of a ledger order. */
export function viewOf(stored: LedgerOrder): OrderView {
  const { snapshot: _snapshot, placedAt: _placedAt, batch: _batch, originalDetails: _original, ...view } = stored;
  return view;
}
