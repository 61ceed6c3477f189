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
import { openSqliteLedger } from '../../src/ledger/sqlite.js';
import { seededRandom } from '../../src/random.js';
import { bundleChild } from './bundle.js';
import { lastWord, outlivingVenue } from './settings.js';
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
    const venue = outlivingVenue(SEED);
    const host = serveVenue(venue);
    const rnd = seededRandom(SEED);
    let readyCount = 0;
    for (let k = 1; k <= KILLS; k++) {
      const child: ChildProcess = fork(bundle, [ledgerPath, String(k)], {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        cwd: process.cwd(),
      });
      child.on('message', (m: { kind?: string }) => {
        if (m.kind === 'ready') readyCount++;
      });
      host.attach(child);
      await once(child, 'spawn');
      // Anywhere: while loading, recovering (about 250-350 ms in, more on a loaded machine) or
      // trading. The window reaches far enough past recovery that a quarter of the processes trade.
      await sleep(100 + Math.floor(rnd() * 800));
      child.kill('SIGKILL');
      await once(child, 'exit');
    }

    const ledger = openSqliteLedger(ledgerPath, { strategyId: 'CRASH' });
    expect(ledger.integrityCheck()).toBe('ok');
    const { problems, report, stop } = await lastWord('CRASH', ledger, venue);
    const venueOrders = venue.venueOrders();
    console.log(
      `crash test: ${readyCount} processes recovered and traded, ${venueOrders.length} venue orders, ` +
        `${venueOrders.reduce((n, o) => n + o.fills.length, 0)} fills; last recovery ${JSON.stringify(report)}`,
    );
    expect(problems, `crash seed ${SEED}`).toEqual([]);
    expect(readyCount).toBeGreaterThan(KILLS / 4);
    expect(venueOrders.length).toBeGreaterThan(KILLS / 2);
    expect(ledger.integrityCheck()).toBe('ok');
    await stop();
    await ledger.close();
  }, 900_000);
});
