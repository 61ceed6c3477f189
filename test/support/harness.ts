/**
 * Test harness: the real handler on a manual clock, a seeded random source, a ledger whose commits
 * complete asynchronously (memory, or SQLite in the `sqlite` project) and a scripted venue whose
 * every call is recorded, whose answers the test decides, and which fails the test when it hears
 * of an order before the ledger holds it durably (promise 1, see `write-ahead.ts`).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import type { ExchangeConnector, OrderRef, VenueOrderState } from '../../src/connector/types.js';
import { PlacementRejectedError } from '../../src/errors.js';
import { type ExecutionHandler, createExecutionHandler } from '../../src/handler/create.js';
import type { HandlerOptions } from '../../src/handler/options.js';
import { createMemoryLedger } from '../../src/ledger/memory.js';
import { openSqliteLedger } from '../../src/ledger/sqlite.js';
import type { LedgerUpdatedEvent, StrategyLedger } from '../../src/ledger/types.js';
import { seededRandom } from '../../src/random.js';
import type {
  CausalityChain,
  ExchangeReply,
  ExecutionDirective,
  ModifyChanges,
  OrderRequest,
} from '../../src/types.js';
import {
  commitsPending,
  commitsSettled,
  isDurable,
  reportWriteAheadViolation,
  slowCommitLedger,
} from './write-ahead.js';

/** 2026-01-02T03:04:05Z */
export const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

/** What the scripted venue answers to a query: a state, null, a failure, or no answer at all. */
export type QueryScript = VenueOrderState | null | 'fail' | 'hang' | 'defer';

/** A query the test answers when it likes. */
export interface DeferredQuery {
  ref: OrderRef;
  answer(state: VenueOrderState | null): void;
  fail(): void;
}

/** What the scripted venue does with a placement. */
export type PlaceScript = { venueOrderId?: string } | 'reject' | 'fail' | 'hang';

/**
 * A venue that records every call and answers as scripted (by default: places silently, knows
 * nothing). Every placement is checked against `ledger` (promise 1): one whose order is not yet
 * durable there, or made while the venue knows no ledger, fails the test after it ends.
 */
export class ScriptedVenue implements ExchangeConnector {
  readonly placed: (OrderRequest & { clientOrderId: string })[] = [];
  readonly cancels: OrderRef[] = [];
  readonly queries: OrderRef[] = [];
  /** Answers by client order id; the default answers every query with `defaultQuery`. */
  readonly queryScript = new Map<string, QueryScript[]>();
  defaultQuery: QueryScript = null;
  placeScript: PlaceScript[] = [];
  readonly deferred: DeferredQuery[] = [];
  private listeners = new Set<(r: ExchangeReply) => void>();
  private reconnectListeners = new Set<() => void>();
  /** Venue calls made before the ledger had the order durably, if any (promise 1). */
  readonly callsBeforeRecord: string[] = [];

  /** `ledger`: the ledger the handler writes to, to check write-ahead against. */
  constructor(public ledger?: StrategyLedger) {}

  async placeOrder(order: OrderRequest & { clientOrderId: string }): Promise<{ venueOrderId?: string }> {
    await this.checkWriteAhead('placeOrder', order.clientOrderId);
    this.placed.push(order);
    const script = this.placeScript.shift() ?? {};
    if (script === 'reject') throw new PlacementRejectedError('insufficient balance');
    if (script === 'fail') throw new Error('ECONNRESET');
    if (script === 'hang') return new Promise(() => {});
    return script;
  }

  /** Records a violation when `clientOrderId` is not durably in the ledger at the moment of the call. */
  private async checkWriteAhead(call: string, clientOrderId: string): Promise<void> {
    if (!this.ledger) {
      reportWriteAheadViolation(`${call}(${clientOrderId}): the scripted venue has no ledger to check it against`);
      return;
    }
    const durable = await isDurable(this.ledger, clientOrderId).catch((e: unknown) => `ledger unreadable: ${e}`);
    if (durable === true) return;
    this.callsBeforeRecord.push(clientOrderId);
    reportWriteAheadViolation(`${call}(${clientOrderId}) before the order was durable: ${durable}`);
  }

  /** Modify requests the venue received, and how it answers the next ones (default: accepted, no confirmation). */
  readonly modifies: { ref: OrderRef & { modificationId: string }; changes: ModifyChanges }[] = [];
  modifyScript: ({ modified?: boolean; venueOrderId?: string } | 'reject' | 'fail')[] = [];

  async modifyOrder(
    ref: OrderRef & { modificationId: string },
    changes: ModifyChanges,
  ): Promise<{ modified?: boolean; venueOrderId?: string }> {
    // Write-ahead (section 4b): the modify is recorded before the venue hears of it.
    const recorded = this.ledger ? await this.ledger.getTransitions(ref.clientOrderId) : [];
    if (
      !recorded.some(
        (t) => t.eventType === 'ORDER_MODIFY_REQUESTED' && t.modification?.modificationId === ref.modificationId,
      )
    ) {
      this.callsBeforeRecord.push(ref.modificationId);
      reportWriteAheadViolation(`modifyOrder(${ref.modificationId}) before ORDER_MODIFY_REQUESTED was durable`);
    }
    this.modifies.push({ ref, changes });
    const script = this.modifyScript.shift() ?? {};
    if (script === 'reject') throw new PlacementRejectedError('order would immediately match');
    if (script === 'fail') throw new Error('ECONNRESET');
    return script;
  }

  async cancelOrder(ref: OrderRef): Promise<void> {
    this.cancels.push(ref);
  }

  queryOrder(ref: OrderRef): Promise<VenueOrderState | null> {
    this.queries.push(ref);
    const scripted = this.queryScript.get(ref.clientOrderId);
    const script = scripted && scripted.length > 0 ? scripted.shift()! : this.defaultQuery;
    if (script === 'hang') return new Promise(() => {});
    if (script === 'fail') return Promise.reject(new Error('ETIMEDOUT'));
    if (script === 'defer') {
      return new Promise((resolve, reject) => {
        this.deferred.push({ ref, answer: resolve, fail: () => reject(new Error('ETIMEDOUT')) });
      });
    }
    return Promise.resolve(script === null ? null : structuredClone(script));
  }

  onReply(listener: (r: ExchangeReply) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /** Queries about one order. */
  queriesFor(orderId: string): OrderRef[] {
    return this.queries.filter((q) => q.clientOrderId === orderId);
  }

  cancelsFor(orderId: string): OrderRef[] {
    return this.cancels.filter((q) => q.clientOrderId === orderId);
  }

  reconnect(): void {
    for (const l of this.reconnectListeners) l();
  }

  /** Delivers a reply as the venue's stream does (the handler wired `onReply`). */
  push(reply: ExchangeReply): void {
    for (const l of this.listeners) l(reply);
  }
}

/** A causality chain as an engine would pass it. */
export function chain(overrides: Partial<CausalityChain> = {}): CausalityChain {
  return {
    origin: { id: 'TCK_1', type: 'TICK' },
    signalIds: ['SIG_1'],
    riskIds: [],
    strategyDirectiveId: 'STR_1',
    orderIds: [],
    fillIds: [],
    ...overrides,
  };
}

export const limit = (quantity = '1', price = '100'): OrderRequest => ({
  symbol: 'BTC_USDT',
  side: 'BUY',
  type: 'LIMIT',
  quantity,
  price,
});

let directiveSeq = 0;

/** A directive with fresh id. */
export function directive(orders: OrderRequest[] = [limit()], mode?: ExecutionDirective['mode']): ExecutionDirective {
  directiveSeq++;
  return { directiveId: `DIR_${directiveSeq}`, causality: chain(), orders, ...(mode ? { mode } : {}) };
}

/** Everything a test needs, wired together. */
export interface Harness {
  clock: ManualClock;
  venue: ScriptedVenue;
  ledger: StrategyLedger;
  handler: ExecutionHandler;
  events: LedgerUpdatedEvent[];
  errors: unknown[];
  /** Executes one order (LIMIT 1 @ 100 unless given) and settles; returns its OrderID. */
  place(order?: OrderRequest): Promise<string>;
  /** Sends a reply and lets the work it started finish. */
  reply(
    r: Record<string, unknown>,
  ): Promise<ReturnType<ExecutionHandler['onExchangeReply']> extends Promise<infer T> ? T : never>;
  /** Advances the clock by `ms` (no settle: a hanging venue call would never settle). */
  advance(ms: number): Promise<void>;
  status(orderId: string): string | undefined;
}

/** The default timings of the harness: short, distinct numbers so timelines read easily. */
export const TIMING = {
  ackTimeoutMs: 1_000,
  cancelTimeoutMs: 1_000,
  queryIntervalMs: 100,
  queryRetries: 2,
  placeRetries: 2,
  modifyTimeoutMs: 1_000,
};

let ledgerFiles = 0;
/**
 * The ledger tests run on: the memory ledger, or with EH_TEST_LEDGER=sqlite a fresh SQLite file
 * (the `sqlite` vitest project runs the handler tests that way), its commits made asynchronous.
 */
export function testLedger(): StrategyLedger {
  if (process.env.EH_TEST_LEDGER !== 'sqlite') return slowCommitLedger(createMemoryLedger({ strategyId: 'S1' }));
  const dir = mkdtempSync(join(tmpdir(), 'eh-test-'));
  return slowCommitLedger(openSqliteLedger(join(dir, `ledger-${++ledgerFiles}.db`), { strategyId: 'S1' }));
}

/**
 * A manual clock for a handler whose ledger commits take macrotasks: `advance` fires one timer at
 * a time and, after each, lets every commit it started (and the work those lead to) finish, as the
 * plain manual clock does for work that needs only promise callbacks. Time order, ties in creation
 * order and `now()` inside a callback are those of `inner`.
 */
function drainingClock(inner: ManualClock, ledger: StrategyLedger): ManualClock {
  interface Entry {
    fn: () => void;
    dueAt: number;
    cleared: boolean;
  }
  const live = new Map<unknown, Entry>();
  const ready: Entry[] = [];
  const drain = async (): Promise<void> => {
    do {
      await commitsSettled(ledger);
      await inner.advance(0); // fires nothing due later; lets promise callbacks run
    } while (commitsPending(ledger));
  };
  return {
    now: () => inner.now(),
    pendingTimers: () => inner.pendingTimers(),
    setTimeout(fn, ms) {
      const entry: Entry = { fn, dueAt: inner.now() + Math.max(0, ms), cleared: false };
      const handle = inner.setTimeout(() => {
        live.delete(handle);
        ready.push(entry);
      }, ms);
      live.set(handle, entry);
      return handle;
    },
    clearTimeout(handle) {
      const entry = live.get(handle);
      if (entry) entry.cleared = true;
      live.delete(handle);
      inner.clearTimeout(handle);
    },
    async advance(ms) {
      const target = inner.now() + Math.max(0, ms);
      await drain();
      for (;;) {
        let next = target + 1;
        for (const e of live.values()) next = Math.min(next, e.dueAt);
        if (next > target) break;
        await inner.advance(next - inner.now()); // only queues the timers due at `next`
        for (let e = ready.shift(); e; e = ready.shift()) {
          if (e.cleared) continue;
          e.fn();
          await drain();
        }
      }
      await inner.advance(target - inner.now());
      await drain();
    },
  };
}

export async function harness(options: Partial<HandlerOptions> & { ledger?: StrategyLedger } = {}): Promise<Harness> {
  const { ledger: given, ...handlerOptions } = options;
  const ledger = slowCommitLedger(given ?? testLedger());
  const clock = drainingClock(createManualClock(T0), ledger);
  const venue = new ScriptedVenue(ledger);
  const events: LedgerUpdatedEvent[] = [];
  ledger.subscribe((e) => events.push(e));
  const errors: unknown[] = [];
  const handler = await createExecutionHandler({
    strategyId: 'S1',
    connector: venue,
    clock,
    random: seededRandom(42),
    onError: (e) => errors.push(e),
    ...TIMING,
    ...handlerOptions,
    ledger, // the test's own ledger too gets asynchronous commits
  });
  const h: Harness = {
    clock,
    venue,
    ledger,
    handler,
    events,
    errors,
    async place(order = limit()) {
      const { orderIds } = await handler.execute(directive([order]));
      await clock.advance(0);
      return orderIds[0]!;
    },
    async reply(r) {
      const out = await handler.onExchangeReply(r);
      await clock.advance(0);
      return out;
    },
    async advance(ms) {
      await clock.advance(ms);
    },
    status: (id) => handler.order(id)?.status,
  };
  return h;
}
