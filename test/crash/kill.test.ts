/**
 * Crash safety (promise 5): a handler process on a SQLite ledger trades against a venue that
 * outlives it, and is killed with SIGKILL at seeded random points, again and again (200 times by
 * default), each new process recovering from the ledger. At the end a last handler recovers, the
 * venue heals, and the ledger must be sound and agree with the venue: nothing lost, nothing
 * duplicated, every change a legal edge. CRASH_SEED and CRASH_KILLS override the defaults.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createSimulatedExchange } from '../../src/connector/simulated.js';
import { createExecutionHandler } from '../../src/handler/create.js';
import { openSqliteLedger } from '../../src/ledger/sqlite.js';
import { seededRandom } from '../../src/random.js';
import { auditAgainstVenue } from '../../src/sim/audit.js';
import { bundleChild } from './bundle.js';
import { serveVenue } from './venue-host.js';

const SEED = Number(process.env.CRASH_SEED ?? 1);
const KILLS = Number(process.env.CRASH_KILLS ?? 200);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let bundle = '';
beforeAll(async () => {
  bundle = await bundleChild(join(import.meta.dirname, 'handler-process.ts'), 'crash-handler-process');
});

describe('crash safety', () => {
  it(`survives ${KILLS} SIGKILLs at random points (seed ${SEED})`, async () => {
    console.log(`crash test: seed ${SEED}, ${KILLS} kills`);
    const dir = mkdtempSync(join(tmpdir(), 'eh-crash-'));
    const ledgerPath = join(dir, 'ledger.db');
    const venue = createSimulatedExchange({
      clock: systemClock,
      seed: SEED,
      latencyMsMin: 1,
      latencyMsMax: 5,
      matchIntervalMs: 20,
      fillProbability: 0.3,
      gapReconnectMs: 100,
      faults: { duplicateRate: 0.1, reorderRate: 0.1, dropRate: 0.02 },
    });
    const host = serveVenue(venue);
    const rnd = seededRandom(SEED);
    let readyCount = 0;
    for (let k = 1; k <= KILLS; k++) {
      const child: ChildProcess = fork(bundle, [ledgerPath, String(k)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], cwd: process.cwd() });
      child.on('message', (m: { kind?: string }) => {
        if (m.kind === 'ready') readyCount++;
      });
      host.attach(child);
      await once(child, 'spawn');
      // Anywhere: while loading, recovering (about 250 ms in) or trading.
      await sleep(100 + Math.floor(rnd() * 500));
      child.kill('SIGKILL');
      await once(child, 'exit');
    }

    venue.setFaults({});
    const ledger = openSqliteLedger(ledgerPath, { strategyId: 'CRASH' });
    expect(ledger.integrityCheck()).toBe('ok');
    const handler = await createExecutionHandler({
      strategyId: 'CRASH',
      connector: venue,
      ledger,
      clock: systemClock,
      ackTimeoutMs: 300,
      cancelTimeoutMs: 300,
      queryIntervalMs: 50,
      queryRetries: 3,
      onError: () => {},
    });
    const report = await handler.recover();
    await handler.cancelAll();
    await sleep(2_500);
    await handler.settle();
    const problems = await auditAgainstVenue(ledger, venue, { converged: true });
    const venueOrders = venue.venueOrders();
    console.log(
      `crash test: ${readyCount} processes recovered and traded, ${venueOrders.length} venue orders, ` +
        `${venueOrders.reduce((n, o) => n + o.fills.length, 0)} fills; last recovery ${JSON.stringify(report)}`,
    );
    expect(problems, `crash seed ${SEED}`).toEqual([]);
    expect(readyCount).toBeGreaterThan(KILLS / 4);
    expect(venueOrders.length).toBeGreaterThan(KILLS / 2);
    expect(ledger.integrityCheck()).toBe('ok');
    await handler.stop();
    await ledger.close();
  }, 900_000);
});
