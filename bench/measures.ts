/**
 * The figures of `npm run bench`, each measured against a baseline in the same run: raw XState
 * actors of the same machine, the memory ledger, or a fresh placement.
 */
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createActor } from 'xstate';
import { orderMachine } from '../machines/order.js';
import { type ManualClock, createManualClock } from '../src/clock.js';
import type { ExchangeConnector } from '../src/connector/types.js';
import { type ExecutionHandler, createExecutionHandler } from '../src/handler/create.js';
import type { HandlerOptions } from '../src/handler/options.js';
import { createMemoryLedger } from '../src/ledger/memory.js';
import { type PostgresLedger, connectPostgresLedger } from '../src/ledger/postgres.js';
import { openSqliteLedger } from '../src/ledger/sqlite.js';
import type { StrategyLedger } from '../src/ledger/types.js';
import { hash53 } from '../src/hash.js';
import { seededRandom } from '../src/random.js';
import { RAW_EVENTS, answeringVenue, directiveOf, instantVenue, lifecycleReplies } from './fixtures.js';

const T0 = Date.UTC(2026, 0, 5, 9);
const BATCH = 250;

/** A fresh SQLite ledger file in a temporary folder. */
export function tempSqlite(): StrategyLedger & { path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'eh-bench-'));
  return openSqliteLedger(join(dir, 'bench.db'), { strategyId: 'BENCH' });
}

/** A handler on a manual clock that the benchmark moves on by 1 ms per order, as time would. */
async function newHandler(
  ledger: StrategyLedger,
  strategyId = 'BENCH',
  seed = 0,
  clock = createManualClock(T0),
  connector: ExchangeConnector = instantVenue,
  extra: Pick<HandlerOptions, 'metrics' | 'logger'> = {},
): Promise<ExecutionHandler & { clock: ManualClock }> {
  const handler = await createExecutionHandler({
    ...extra,
    strategyId,
    connector,
    ledger,
    clock,
    // Per strategy and run, so handlers sharing one PostgreSQL schema never mint the same OrderIDs.
    random: seededRandom(Number.parseInt(hash53(`${strategyId}:${seed}`).slice(-8), 16)),
    onError: (e) => {
      throw e;
    },
  });
  return Object.assign(handler, { clock });
}

/** The default timing options of the handler, for raw actors. */
const TIMING = {
  ackTimeoutMs: 10_000,
  cancelTimeoutMs: 10_000,
  queryIntervalMs: 2_000,
  queryRetries: 5,
  placeRetries: 2,
  modifyTimeoutMs: 10_000,
};

/** Raw actors: create, ack, two fills, stop. Lifecycles per second. */
export function rawLifecyclesPerSecond(n: number): number {
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const a = createActor(orderMachine, {
      input: { orderId: `O${i}`, quantity: '1', placedAt: 0, timing: TIMING },
    }).start();
    for (const e of RAW_EVENTS) a.send(e);
    a.stop();
  }
  return n / ((performance.now() - t) / 1000);
}

/** Full lifecycles through the handler, `BATCH` orders side by side. Lifecycles per second. */
export async function handlerLifecyclesPerSecond(
  n: number,
  ledger: StrategyLedger,
  offset = 0,
  strategyId = 'BENCH',
): Promise<number> {
  const handler = await newHandler(ledger, strategyId, offset);
  const t = performance.now();
  await runLifecycles(handler, n, offset);
  const s = (performance.now() - t) / 1000;
  await handler.stop();
  return n / s;
}

/**
 * The hot path's cost of metrics: lifecycles per second on the memory ledger with `metrics: true`
 * and without, in alternating rounds (each side first in turn), so the load of a shared machine
 * and the JIT's warming fall on both alike. The scrape is not timed: its gauges are read then.
 */
export async function metricsLifecyclesPerSecond(n: number, rounds = 8): Promise<{ on: number; off: number }> {
  const per = Math.ceil(n / rounds);
  const seconds = { on: 0, off: 0 };
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      const ledger = createMemoryLedger({ strategyId: 'BENCH' });
      const extra = side === 'on' ? { metrics: true as const } : {};
      const handler = await newHandler(ledger, 'BENCH', r, createManualClock(T0), instantVenue, extra);
      const t = performance.now();
      await runLifecycles(handler, per, 0);
      seconds[side] += (performance.now() - t) / 1000;
      await handler.stop();
    }
  }
  return { on: (per * rounds) / seconds.on, off: (per * rounds) / seconds.off };
}

async function runLifecycles(
  handler: ExecutionHandler & { clock: ManualClock },
  n: number,
  offset: number,
): Promise<void> {
  for (let start = 0; start < n; start += BATCH) {
    const count = Math.min(BATCH, n - start);
    const ids = await Promise.all(
      Array.from(
        { length: count },
        async (_, k) => (await handler.execute(directiveOf(offset + start + k))).orderIds[0]!,
      ),
    );
    for (let step = 0; step < 3; step++) {
      await Promise.all(ids.map((id) => handler.onExchangeReply(lifecycleReplies(id, T0)[step])));
    }
    await handler.clock.advance(count);
  }
  await handler.settle();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** p50/p99 of reply → ledger event through the handler, and of a raw `actor.send` of the same event. */
export async function replyLatency(n: number): Promise<{ handler: [number, number]; raw: [number, number] }> {
  const ledger = createMemoryLedger({ strategyId: 'BENCH' });
  const handler = await newHandler(ledger);
  const heard = new Map<string, number>();
  ledger.subscribe((e) => {
    if (e.eventType === 'ORDER_ACCEPTED' && e.orderId) heard.set(e.orderId, performance.now());
  });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await handler.execute(directiveOf(i))).orderIds[0]!);
  const handlerTimes: number[] = [];
  for (const id of ids) {
    const t = performance.now();
    await handler.onExchangeReply(lifecycleReplies(id, T0)[0]);
    handlerTimes.push(heard.get(id)! - t);
  }
  const rawTimes: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = createActor(orderMachine, {
      input: { orderId: `O${i}`, quantity: '1', placedAt: 0, timing: TIMING },
    }).start();
    const t = performance.now();
    a.send(RAW_EVENTS[0]);
    a.getSnapshot();
    rawTimes.push(performance.now() - t);
    a.stop();
  }
  handlerTimes.sort((a, b) => a - b);
  rawTimes.sort((a, b) => a - b);
  await handler.stop();
  return {
    handler: [percentile(handlerTimes, 0.5), percentile(handlerTimes, 0.99)],
    raw: [percentile(rawTimes, 0.5), percentile(rawTimes, 0.99)],
  };
}

/** A round trip that produced no event in this long is a failure of the benchmark, not a slow one. */
const ROUND_TRIP_LIMIT_MS = 10_000;

/**
 * p50/p99 of modify() → durable ORDER_MODIFIED and of cancel() → durable ORDER_CANCELLED, on one
 * handler, memory ledger and venue that answers both on its stream at once. `n` pairs of open
 * orders, one round trip at a time, the two kinds alternating (which goes first too) so drift on
 * the machine falls on both; `n / 10` pairs first to warm up, not counted.
 */
export async function modifyRoundTrip(n: number): Promise<{ modify: [number, number]; cancel: [number, number] }> {
  const ledger = createMemoryLedger({ strategyId: 'BENCH' });
  const clock = createManualClock(T0);
  const handler = await newHandler(ledger, 'BENCH', 0, clock, answeringVenue(clock));
  const waiting = new Map<string, { eventType: string; heard: (at: number) => void }>();
  ledger.subscribe((e) => {
    const w = e.orderId === undefined ? undefined : waiting.get(e.orderId);
    if (w && w.eventType === e.eventType) {
      waiting.delete(e.orderId!);
      w.heard(performance.now());
    }
  });
  const roundTrip = async (orderId: string, eventType: string, call: () => Promise<boolean>): Promise<number> => {
    let timer: NodeJS.Timeout | undefined;
    const heard = new Promise<number>((resolve, reject) => {
      waiting.set(orderId, { eventType, heard: resolve });
      timer = setTimeout(() => reject(new Error(`no ${eventType} for ${orderId}`)), ROUND_TRIP_LIMIT_MS);
    });
    const t = performance.now();
    if (!(await call())) throw new Error(`${eventType}: the handler refused the request for ${orderId}`);
    const at = await heard;
    clearTimeout(timer);
    return at - t;
  };
  const warm = Math.ceil(n / 10);
  const ids = await openOrders(handler, 2 * (warm + n));
  const modifyTimes: number[] = [];
  const cancelTimes: number[] = [];
  for (let i = 0; i < warm + n; i++) {
    const [modified, cancelled] = [ids[2 * i]!, ids[2 * i + 1]!];
    const modify = () => roundTrip(modified, 'ORDER_MODIFIED', () => handler.modify(modified, { price: '99' }));
    const cancel = () => roundTrip(cancelled, 'ORDER_CANCELLED', () => handler.cancel(cancelled));
    let m: number;
    let c: number;
    if (i % 2 === 0) {
      m = await modify();
      c = await cancel();
    } else {
      c = await cancel();
      m = await modify();
    }
    if (i >= warm) {
      modifyTimes.push(m);
      cancelTimes.push(c);
    }
    await handler.clock.advance(1);
  }
  await handler.stop();
  modifyTimes.sort((a, b) => a - b);
  cancelTimes.sort((a, b) => a - b);
  return {
    modify: [percentile(modifyTimes, 0.5), percentile(modifyTimes, 0.99)],
    cancel: [percentile(cancelTimes, 0.5), percentile(cancelTimes, 0.99)],
  };
}

/** Places `n` orders of one handler and acknowledges them, `BATCH` at a time: `n` OPEN orders. */
async function openOrders(handler: ExecutionHandler & { clock: ManualClock }, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < n; start += BATCH) {
    const count = Math.min(BATCH, n - start);
    const batch = await Promise.all(
      Array.from({ length: count }, async (_, k) => (await handler.execute(directiveOf(start + k))).orderIds[0]!),
    );
    await Promise.all(batch.map((id) => handler.onExchangeReply(lifecycleReplies(id, T0)[0])));
    await handler.clock.advance(count);
    ids.push(...batch);
  }
  await handler.settle();
  return ids;
}

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the benchmarks with node --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** Heap bytes per open (OPEN) order in the handler, and per raw actor in the same state. */
export async function memoryPerLiveOrder(n: number): Promise<{ handler: number; raw: number }> {
  const ledger = tempSqlite();
  let before = heapUsed();
  const handler = await newHandler(ledger);
  for (let start = 0; start < n; start += BATCH) {
    const count = Math.min(BATCH, n - start);
    const ids = await Promise.all(
      Array.from({ length: count }, async (_, k) => (await handler.execute(directiveOf(start + k))).orderIds[0]!),
    );
    await Promise.all(ids.map((id) => handler.onExchangeReply(lifecycleReplies(id, T0)[0])));
    await handler.clock.advance(count);
  }
  await handler.settle();
  if (handler.stats().liveActors !== n) throw new Error(`expected ${n} live orders, got ${handler.stats().liveActors}`);
  const perHandler = (heapUsed() - before) / n;
  await handler.stop();
  await ledger.close();

  before = heapUsed();
  const actors = [];
  for (let i = 0; i < n; i++) {
    const a = createActor(orderMachine, {
      input: {
        orderId: `ORD_20260105_090000_${i}`,
        quantity: '1',
        placedAt: 0,
        timing: TIMING,
      },
    }).start();
    a.send(RAW_EVENTS[0]);
    actors.push(a);
  }
  const perRaw = (heapUsed() - before) / n;
  for (const a of actors) a.stop();
  return { handler: perHandler, raw: perRaw };
}

/** Heap after `large` completed orders over heap after `small`, SQLite ledger. */
export async function boundedMemory(small: number, large: number): Promise<{ small: number; large: number }> {
  const ledger = tempSqlite();
  const handler = await newHandler(ledger);
  const base = heapUsed();
  await runLifecycles(handler, small, 0);
  const atSmall = heapUsed() - base;
  await runLifecycles(handler, large - small, small);
  const atLarge = heapUsed() - base;
  await handler.stop();
  await ledger.close();
  return { small: atSmall, large: atLarge };
}

/** CPU seconds of this process so far (user and system). */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Seconds to place `n` orders fresh, and to recover() them from the SQLite ledger; the CPU seconds
 * of each beside, as wall times of CPU-bound work on a loaded shared machine drift with its load.
 */
export async function recoveryTime(
  n: number,
): Promise<{ place: number; recover: number; placeCpu: number; recoverCpu: number }> {
  const ledger = tempSqlite();
  const first = await newHandler(ledger);
  let t = performance.now();
  let cpu = cpuSeconds();
  for (let start = 0; start < n; start += BATCH) {
    const count = Math.min(BATCH, n - start);
    const ids = await Promise.all(
      Array.from({ length: count }, async (_, k) => (await first.execute(directiveOf(start + k))).orderIds[0]!),
    );
    await Promise.all(ids.map((id) => first.onExchangeReply(lifecycleReplies(id, T0)[0])));
    await first.clock.advance(count);
  }
  await first.settle();
  const place = (performance.now() - t) / 1000;
  const placeCpu = cpuSeconds() - cpu;
  await first.stop();
  // A venue that still has every order: recovery asks it about each one.
  const venue = {
    ...instantVenue,
    queryOrder: async (r: { clientOrderId: string }) => ({
      venueOrderId: `V${r.clientOrderId}`,
      status: 'OPEN' as const,
      fills: [],
    }),
  };
  const second = await createExecutionHandler({
    strategyId: 'BENCH',
    connector: venue,
    ledger,
    clock: createManualClock(first.clock.now()),
    random: seededRandom(2),
  });
  t = performance.now();
  cpu = cpuSeconds();
  const report = await second.recover();
  const recover = (performance.now() - t) / 1000;
  const recoverCpu = cpuSeconds() - cpu;
  if (report.ordersRestored !== n) throw new Error(`recovered ${report.ordersRestored} of ${n}`);
  await second.stop();
  await ledger.close();
  return { place, recover, placeCpu, recoverCpu };
}

/** A PostgreSQL ledger of `strategyId` in its own fresh schema. */
export function freshPostgres(url: string, strategyId = 'BENCH'): Promise<PostgresLedger> {
  return connectPostgresLedger(url, { strategyId, schema: `eh_bench_${process.pid}_${++schemas}` });
}
let schemas = 0;

/**
 * Lifecycles per second of one handler process on PostgreSQL, and the total of `processes`
 * processes trading side by side, each its own strategy (wall time of all of them).
 */
export async function postgresProcesses(
  url: string,
  n: number,
  processes: number,
): Promise<{ one: number; many: number }> {
  const run = (k: number): Promise<number> => {
    const child = fork(new URL('./postgres-worker.ts', import.meta.url), [url, `BENCH_P${k}`, String(n)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      child.once('message', (m: { lifecyclesPerSecond: number }) => resolve(m.lifecyclesPerSecond));
      child.once('exit', (code) =>
        code === 0 ? undefined : reject(new Error(`postgres bench worker exited with ${code}`)),
      );
    });
  };
  const one = await run(0);
  const t = performance.now();
  await Promise.all(Array.from({ length: processes }, (_, k) => run(k + 1)));
  const many = (processes * n) / ((performance.now() - t) / 1000);
  return { one, many };
}
