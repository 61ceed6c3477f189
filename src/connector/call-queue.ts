/**
 * The throttle's queue (`throttle.ts`): connector calls waiting for a venue's rate budgets, sent
 * by priority (cancel, query, modify, place; first come first within each) on the injected clock.
 */
import type { Clock } from '../clock.js';
import { PlacementRejectedError } from '../errors.js';
import { type CallKind, type RateBudgets, SlidingWindow } from './rate-budgets.js';
import type { RetryAfterMsOf } from './retry-after.js';

/** A call the throttle paces, as `onWait` names it. */
export interface ThrottledCall {
  kind: CallKind;
  clientOrderId: string;
}

/** What the queue needs; `throttleConnector`'s options resolved. */
export interface CallQueueOptions {
  clock: Clock;
  budgets: RateBudgets;
  maxQueue: number;
  maxWaitMs: number | undefined;
  onWait: ((call: ThrottledCall, waitedMs: number) => void) | undefined;
  retryAfterMsOf: RetryAfterMsOf;
}

interface Entry {
  call: ThrottledCall;
  queuedAt: number;
  send: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  promise: Promise<unknown>;
}

const priority: CallKind[] = ['cancel', 'query', 'modify', 'place'];

/**
 * Client order ids whose placement went out, remembered so a placement sent again is never
 * refused as definitive (the first may have reached the venue). Bounded: past this many, the
 * oldest is forgotten.
 */
const maxPlacedRemembered = 100_000;

/** Calls waiting for budget, and the budgets they spend. */
export class CallQueue {
  private readonly lanes: Entry[][] = priority.map(() => []);
  private readonly windows: SlidingWindow[];
  private readonly queuedCancels = new Map<string, Entry>();
  private readonly placed = new Set<string>();
  private pausedUntil = Number.NEGATIVE_INFINITY;
  private timer: { handle: unknown; dueAt: number } | null = null;

  constructor(private readonly o: CallQueueOptions) {
    this.windows = o.budgets.windows.map((w) => new SlidingWindow(w));
    for (const kind of priority) {
      for (const w of o.budgets.windows) {
        const cost = o.budgets.costs[kind][w.unit];
        if (cost > w.limit) throw new Error(`Invariant: a ${kind} (${cost} ${w.unit}) fits in ${w.name} (${w.limit})`);
      }
    }
  }

  /** Queues `send` and sends it as soon as budget and priority allow; settles as the venue answers. */
  submit<T>(call: ThrottledCall, send: () => Promise<T>): Promise<T> {
    if (call.kind === 'cancel') {
      // One queued cancel per order: a second shares its outcome, so cancels stay bounded by orders.
      const queued = this.queuedCancels.get(call.clientOrderId);
      if (queued) return queued.promise as Promise<T>;
      this.drop(call.clientOrderId, 'the order was cancelled while its call waited');
    } else if (this.waiting() >= this.o.maxQueue) {
      return Promise.reject(this.refusal(call, 'queue full'));
    }
    const entry = this.entry(call, send);
    this.place(entry);
    this.pump();
    return entry.promise as Promise<T>;
  }

  /** Refuses the queued placement and modify of `clientOrderId` (it ended, or is being cancelled). */
  drop(clientOrderId: string, why: string): void {
    for (const kind of ['modify', 'place'] as const) {
      const lane = this.lanes[priority.indexOf(kind)]!;
      for (let i = lane.length - 1; i >= 0; i--) {
        const e = lane[i]!;
        if (e.call.clientOrderId !== clientOrderId || e.call.kind !== kind) continue;
        lane.splice(i, 1);
        e.reject(this.refusal(e.call, why));
      }
    }
  }

  /** The order ended at the venue: its placement needs no more remembering. */
  forget(clientOrderId: string): void {
    this.placed.delete(clientOrderId);
  }

  private entry(call: ThrottledCall, send: () => Promise<unknown>): Entry {
    let resolve!: (value: unknown) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { call, queuedAt: this.o.clock.now(), send, resolve, reject, promise };
  }

  /**
   * Into its lane. A query of an order whose placement still waits goes right behind that
   * placement: asked before it was sent, the venue would say it knows nothing of the order.
   */
  private place(entry: Entry): void {
    const { kind, clientOrderId } = entry.call;
    if (kind === 'query') {
      const places = this.lanes[priority.indexOf('place')]!;
      const at = places.findIndex((e) => e.call.clientOrderId === clientOrderId && e.call.kind === 'place');
      if (at >= 0) {
        places.splice(at + 1, 0, entry);
        return;
      }
    }
    if (kind === 'cancel') this.queuedCancels.set(clientOrderId, entry);
    this.lanes[priority.indexOf(kind)]!.push(entry);
  }

  /** Places, modifies and queries waiting (cancels wait outside the bound). */
  private waiting(): number {
    return this.lanes.reduce((n, lane, i) => (priority[i] === 'cancel' ? n : n + lane.length), 0);
  }

  /** Sends what budget allows, in priority order; arms the clock for the rest. */
  private pump(): void {
    const now = this.o.clock.now();
    const expiresAt = this.expire(now);
    for (;;) {
      const lane = this.lanes.find((l) => l.length > 0);
      const entry = lane?.[0];
      if (!lane || !entry) {
        this.arm(expiresAt);
        return;
      }
      const waitMs = this.waitMs(entry.call.kind, now);
      if (waitMs > 0) {
        this.arm(Math.min(now + waitMs, expiresAt));
        return;
      }
      lane.shift();
      this.send(entry, now);
    }
  }

  /** Refuses placements and modifies that waited `maxWaitMs`; returns when the next one would. */
  private expire(now: number): number {
    const maxWaitMs = this.o.maxWaitMs;
    if (maxWaitMs === undefined) return Number.POSITIVE_INFINITY;
    let next = Number.POSITIVE_INFINITY;
    for (const kind of ['modify', 'place'] as const) {
      const lane = this.lanes[priority.indexOf(kind)]!;
      for (let i = lane.length - 1; i >= 0; i--) {
        const e = lane[i]!;
        if (e.call.kind !== kind) continue;
        if (now - e.queuedAt < maxWaitMs) next = Math.min(next, e.queuedAt + maxWaitMs);
        else {
          lane.splice(i, 1);
          e.reject(this.refusal(e.call, `waited ${now - e.queuedAt} ms, more than ${maxWaitMs} ms`));
        }
      }
    }
    return next;
  }

  private waitMs(kind: CallKind, now: number): number {
    const cost = this.o.budgets.costs[kind];
    let waitMs = this.pausedUntil - now;
    for (const w of this.windows) waitMs = Math.max(waitMs, w.waitMs(now, cost[w.window.unit]));
    return waitMs;
  }

  private send(entry: Entry, now: number): void {
    const { call } = entry;
    const cost = this.o.budgets.costs[call.kind];
    for (const w of this.windows) w.spend(now, cost[w.window.unit]);
    if (call.kind === 'cancel') this.queuedCancels.delete(call.clientOrderId);
    if (call.kind === 'place') this.remember(call.clientOrderId);
    // Told before the call goes out, so a deadline can move before the venue's answer comes back.
    if (now > entry.queuedAt) this.o.onWait?.(call, now - entry.queuedAt);
    let sent: Promise<unknown>;
    try {
      sent = entry.send();
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(entry.resolve, (err: unknown) => {
      this.noteRateLimit(err);
      entry.reject(err);
    });
  }

  /** A venue that says "too much" pauses every call to it until the time it gives. */
  private noteRateLimit(err: unknown): void {
    const now = this.o.clock.now();
    const ms = this.o.retryAfterMsOf(err, now);
    if (ms === undefined) return;
    this.pausedUntil = Math.max(this.pausedUntil, now + ms);
    this.pump();
  }

  private remember(clientOrderId: string): void {
    this.placed.delete(clientOrderId);
    this.placed.add(clientOrderId);
    if (this.placed.size > maxPlacedRemembered) this.placed.delete(this.placed.values().next().value!);
  }

  /**
   * Why a call is not sent. A first placement or a modify never sent is refused definitively
   * (`PlacementRejectedError`: REJECTED, MODIFY_REJECTED); a placement sent before stays an
   * unknown outcome, as does a query (a plain error: the handler asks again).
   */
  private refusal(call: ThrottledCall, why: string): Error {
    const reason = `rate limit: ${why}`;
    if (call.kind === 'modify') return new PlacementRejectedError(reason);
    if (call.kind === 'place' && !this.placed.has(call.clientOrderId)) return new PlacementRejectedError(reason);
    return new Error(`${reason}; not sent`);
  }

  private arm(dueAt: number): void {
    if (this.timer?.dueAt === dueAt) return;
    if (this.timer) this.o.clock.clearTimeout(this.timer.handle);
    this.timer = null;
    if (dueAt === Number.POSITIVE_INFINITY) return;
    const handle = this.o.clock.setTimeout(() => {
      this.timer = null;
      this.pump();
    }, dueAt - this.o.clock.now());
    this.timer = { handle, dueAt };
  }
}
