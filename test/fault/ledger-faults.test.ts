/**
 * Ledger write faults: in a 50-order scenario (three batch modes, fills, rejections, cancels, an
 * emergency stop) the k-th ledger commit fails with an I/O error, a full disk or a busy database,
 * for every k. The handler must never place an order or show a state whose write failed, must
 * surface the error, and once the fault clears must reach the same end state as a fault-free run.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createSimulatedExchange } from '../../src/connector/simulated.js';
import { type ExecutionHandler, createExecutionHandler } from '../../src/handler/create.js';
import { createMemoryLedger } from '../../src/ledger/memory.js';
import type { LedgerWrite, StrategyLedger } from '../../src/ledger/types.js';
import { seededRandom } from '../../src/random.js';
import type { BatchMode, ExecutionDirective } from '../../src/types.js';
import { T0, chain } from '../support/harness.js';

const ERRORS = [
  'SQLITE_IOERR: disk I/O error',
  'SQLITE_FULL: database or disk is full',
  'SQLITE_BUSY: database is locked',
];

/** A ledger whose k-th commit fails once (k = 0: never). */
function faultyLedger(k: number): StrategyLedger & { commits: number; failed?: Error } {
  const inner = createMemoryLedger({ strategyId: 'S1' });
  const ledger = Object.create(inner) as StrategyLedger & { commits: number; failed?: Error };
  ledger.commits = 0;
  ledger.commit = async (writes: readonly LedgerWrite[]) => {
    ledger.commits++;
    if (ledger.commits === k) {
      ledger.failed = new Error(ERRORS[k % ERRORS.length]);
      throw ledger.failed;
    }
    return inner.commit(writes);
  };
  return ledger;
}

interface Outcome {
  end: Record<string, { status: string; filled: string; fills: string[] }>;
  commits: number;
  surfaced: unknown[];
  problems: string[];
}

async function scenario(k: number): Promise<Outcome> {
  const clock = createManualClock(T0);
  const ledger = faultyLedger(k);
  // Resting limit orders never trade (fillProbability 0) and market orders fill as the venue takes
  // them, so what happens to each order does not hinge on when a retried write lets a cancel out.
  const venue = createSimulatedExchange({
    clock,
    seed: 5,
    latencyMsMax: 10,
    rejectRate: 0.1,
    fillProbability: 0,
    gapReconnectMs: 0,
  });
  const problems: string[] = [];
  const placeOrder = venue.placeOrder.bind(venue);
  venue.placeOrder = async (o) => {
    if (!(await ledger.getOrder(o.clientOrderId)))
      problems.push(`placed ${o.clientOrderId} before its write was durable`);
    return placeOrder(o);
  };
  const surfaced: unknown[] = [];
  const handler: ExecutionHandler = await createExecutionHandler({
    strategyId: 'S1',
    connector: venue,
    ledger,
    clock,
    random: seededRandom(7),
    ackTimeoutMs: 1_000,
    cancelTimeoutMs: 1_000,
    queryIntervalMs: 100,
    queryRetries: 2,
    onError: (e) => surfaced.push(e),
  });
  /** The engine's side: an operation that fails is done again, as the contract tells callers. */
  const retry = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        surfaced.push(e);
      }
    }
  };
  /** Cache never ahead of the ledger: every view the engine can read is what the ledger holds. */
  const checkNotAhead = async () => {
    for (const v of handler.orders()) {
      const stored = await ledger.getOrder(v.orderId);
      if (stored?.status !== v.status || stored.filledQuantity !== v.filledQuantity) {
        problems.push(
          `cache shows ${v.orderId} ${v.status}/${v.filledQuantity}, ledger ${stored?.status}/${stored?.filledQuantity}`,
        );
      }
    }
  };
  const ids: string[] = [];
  const modes: BatchMode[] = ['INDEPENDENT', 'COORDINATED', 'SEQUENTIAL'];
  for (let d = 0; d < 10; d++) {
    const directive: ExecutionDirective = {
      directiveId: `DIR_${d}`,
      causality: chain(),
      mode: modes[d % 3]!,
      // Market orders first, so SEQUENTIAL directives advance twice before a resting limit stops them.
      orders: Array.from({ length: 5 }, (_, i) =>
        i < 2 || i === 4
          ? { symbol: 'ETH_USDT', side: 'SELL' as const, type: 'MARKET' as const, quantity: `0.${i + 5}` }
          : { symbol: 'BTC_USDT', side: 'BUY' as const, type: 'LIMIT' as const, quantity: `0.${i + 1}`, price: '100' },
      ),
    };
    const { orderIds } = await retry(() => handler.execute(directive));
    ids.push(...orderIds);
    await clock.advance(30);
    await checkNotAhead();
  }
  // Let retried writes land before the engine cancels: cancelling a SEQUENTIAL directive's later
  // order stops it wherever it got to, so the cancels must not race the retries.
  await clock.advance(2_000);
  for (const i of [2, 12, 22, 33, 43]) await retry(() => handler.cancel(ids[i]!));
  await clock.advance(5_000);
  await checkNotAhead();
  await retry(() => handler.cancelAll());
  await clock.advance(30_000);
  await checkNotAhead();
  const end: Outcome['end'] = {};
  // Keyed by position in the session (directive, order), not by OrderID: ids take their hash
  // from the random source, and a retried fill mints one FillID more.
  for (const [i, id] of ids.entries()) {
    const o = await ledger.getOrder(id);
    // Fills as a set: the wire may deliver them in another order when the timing differs.
    if (o)
      end[`order ${i}`] = {
        status: o.status,
        filled: o.filledQuantity,
        fills: o.fills.map((f) => f.venueFillId).sort(),
      };
  }
  if (ledger.failed && !surfaced.includes(ledger.failed))
    problems.push(`the failed write (${ledger.failed.message}) was not surfaced`);
  await handler.stop();
  return { end, commits: ledger.commits, surfaced, problems };
}

describe('ledger write faults', () => {
  it('for every k, failing the k-th commit never lets the handler run ahead of the ledger, and the end state is the fault-free one', async () => {
    const clean = await scenario(0);
    expect(clean.problems).toEqual([]);
    expect(Object.keys(clean.end).length).toBeGreaterThanOrEqual(40);
    const statuses = new Set(Object.values(clean.end).map((o) => o.status));
    expect(statuses.size).toBeGreaterThanOrEqual(3);
    const failures: string[] = [];
    for (let k = 1; k <= clean.commits; k++) {
      const run = await scenario(k);
      if (run.problems.length) failures.push(`k=${k}: ${run.problems.slice(0, 2).join('; ')}`);
      const diff = Object.keys({ ...clean.end, ...run.end }).filter(
        (id) => JSON.stringify(clean.end[id]) !== JSON.stringify(run.end[id]),
      );
      if (diff.length)
        failures.push(
          `k=${k}: ${diff.length} orders end differently, e.g. ${diff[0]}: ${JSON.stringify(clean.end[diff[0]!])} vs ${JSON.stringify(run.end[diff[0]!])}`,
        );
    }
    console.log(`ledger faults: ${clean.commits} commits in the fault-free run, each failed in turn`);
    expect(failures).toEqual([]);
  }, 600_000);
});
