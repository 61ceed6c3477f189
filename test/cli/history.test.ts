/**
 * `execution-handler history <file> <orderId>` as a user runs it, in a child process, on a SQLite
 * ledger written by the real handler on the simulated venue: an order modified once (accepted) and
 * once more (refused, the venue having filled it meanwhile) shows each modify on its change lines
 * (the values asked, those put in force, or why refused) and its values as placed next to those in
 * force; an order never modified prints no trace of modification.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createSimulatedExchange } from '../../src/connector/simulated.js';
import { createExecutionHandler } from '../../src/handler/create.js';
import { openSqliteLedger } from '../../src/ledger/sqlite.js';
import { chain, limit } from '../support/harness.js';

const cli = ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts')];
const run = (args: string[]) => spawnSync('node', [...cli, ...args], { encoding: 'utf8' });

/** A ledger file with one order modified twice (accepted, then refused) and one never modified. */
async function modifiedSession(file: string) {
  const clock = createManualClock(Date.UTC(2026, 0, 5, 9));
  const ledger = openSqliteLedger(file, { strategyId: 'HIST' });
  const venue = createSimulatedExchange({
    clock,
    seed: 7,
    fillProbability: 0,
    rejectRate: 0,
    ackInResultRate: 1,
    prices: { BTC_USDT: '60000' },
  });
  const handler = await createExecutionHandler({ strategyId: 'HIST', connector: venue, ledger, clock });
  const place = async (): Promise<string> => {
    const { orderIds } = await handler.execute({
      directiveId: `DIR_${clock.now()}`,
      causality: chain(),
      orders: [limit('1', '59000')],
    });
    await clock.advance(100);
    return orderIds[0]!;
  };
  const modified = await place();
  await handler.modify(modified, { quantity: '2', price: '59500' });
  await clock.advance(100);
  await handler.modify(modified, { price: '59800' });
  venue.trade(modified); // filled at the venue before the modify reaches it (FIX D9)
  await clock.advance(100);
  const plain = await place();
  await handler.settle();
  const transitions = await ledger.getTransitions(modified);
  await handler.stop();
  await ledger.close();
  return { modified, plain, transitions };
}

describe('execution-handler history', () => {
  it('prints each modify on its change line and the original values next to those in force', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'eh-history-')), 'ledger.db');
    const { modified, plain, transitions } = await modifiedSession(file);
    expect(transitions.map((t) => t.eventType)).toEqual([
      'ORDER_ACCEPTED',
      'ORDER_MODIFY_REQUESTED',
      'ORDER_MODIFIED',
      'ORDER_MODIFY_REQUESTED',
      'ORDER_FILLED',
      'ORDER_MODIFY_REJECTED',
    ]);

    const out = run(['history', file, modified]);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const lines = out.stdout.split('\n');
    const line = (eventType: string, n = 0) => lines.filter((l) => l.includes(` ${eventType} `))[n] ?? '';
    expect(lines.find((l) => l.includes(' seq ') || l.trimStart().startsWith('seq'))).toContain('modification');
    expect(line('ORDER_MODIFY_REQUESTED', 0)).toContain('│ .1 requested quantity 2, price 59500');
    expect(line('ORDER_MODIFIED')).toContain('│ .1 in force quantity 2, price 59500');
    expect(line('ORDER_MODIFY_REQUESTED', 1)).toContain('│ .2 requested price 59800');
    expect(line('ORDER_MODIFY_REJECTED')).toContain('│ .2 rejected: order is FILLED');
    expect(line('ORDER_FILLED')).not.toMatch(/│ \.\d/);
    // The values as placed next to those in force, and what came of each modify.
    const values = out.stdout.slice(out.stdout.indexOf('values (original, in force)'), out.stdout.indexOf('\nfills'));
    const rows = values.split('\n').map((l) =>
      l
        .split('│')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
    expect(rows).toContainEqual(['quantity', '1', '2  (modified)']);
    expect(rows).toContainEqual(['price', '59000', '59500  (modified)']);
    expect(values).toContain(`${modified}.1 ACCEPTED: requested quantity 2, price 59500 at 2026-01-05 09:00:00.100`);
    expect(values).toContain(
      `${modified}.2 REJECTED (order is FILLED): requested price 59800 at 2026-01-05 09:00:00.200`,
    );
    // The order as it works now heads the report: the values in force.
    expect(out.stdout).toContain('BUY 2 BTC_USDT LIMIT @ 59500 GTC');

    const untouched = run(['history', file, plain]);
    expect(untouched.status).toBe(0);
    expect(untouched.stdout).not.toContain('modification');
    expect(untouched.stdout).not.toContain('values (original, in force)');
  });
});
