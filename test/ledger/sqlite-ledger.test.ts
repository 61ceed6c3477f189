/**
 * The SQLite ledger passes the ledger contract suite on a real file, runs WAL with
 * synchronous=FULL (read back), keeps strategies apart in one shared file, survives reopening,
 * and group-commits the writes of one turn while failing a bad batch alone.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordOrder } from '../../src/ledger/helpers.js';
import { openSqliteLedger } from '../../src/ledger/sqlite.js';
import { createManualClock } from '../../src/clock.js';
import { createExecutionHandler } from '../../src/handler/create.js';
import { seededRandom } from '../../src/random.js';
import { ScriptedVenue, T0, chain, directive, limit } from '../support/harness.js';
import { describeLedgerContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'eh-sqlite-'));
let n = 0;
const fresh = () => join(dir, `ledger-${++n}.db`);

describeLedgerContract('sqlite', async () => openSqliteLedger(fresh(), { strategyId: 'S1' }));

const order = (orderId: string, strategyId = 'S1') => ({
  orderId,
  directiveId: 'D',
  strategyId,
  orderDetails: limit(),
  causality: chain({ orderIds: [orderId] }),
  at: 1,
});

describe('sqlite ledger specifics', () => {
  it('runs WAL with synchronous=FULL, read back from SQLite, and a sound file', async () => {
    const l = openSqliteLedger(fresh());
    expect(l.pragmas()).toEqual({ journalMode: 'wal', synchronous: 2 });
    expect(l.integrityCheck()).toBe('ok');
    await l.close();
  });

  it('keeps what it committed across close and reopen', async () => {
    const path = fresh();
    const a = openSqliteLedger(path, { strategyId: 'S1' });
    await recordOrder(a, order('O1'));
    await a.commit([
      { kind: 'fill', orderId: 'O1', fill: { fillId: 'FIL_1', venueFillId: 'F1', quantity: '0.1', price: '2', at: 3 } },
    ]);
    await a.close();
    const b = openSqliteLedger(path, { strategyId: 'S1' });
    expect(await b.getOrder('O1')).toMatchObject({
      status: 'PENDING',
      filledQuantity: '0.1',
      fills: [{ venueFillId: 'F1' }],
    });
    await b.close();
  });

  it('lets strategies share one file, each reading only its own', async () => {
    const path = fresh();
    const s1 = openSqliteLedger(path, { strategyId: 'S1' });
    const s2 = openSqliteLedger(path, { strategyId: 'S2' });
    await recordOrder(s1, order('A', 'S1'));
    await recordOrder(s2, order('B', 'S2'));
    await s2.commit([{ kind: 'anomaly', anomaly: { kind: 'UNKNOWN_ORDER', reason: 'x', strategyId: 'S2', at: 1 } }]);
    expect(await s1.getOrder('B')).toBeUndefined();
    expect((await s1.getOpenOrders()).map((o) => o.orderId)).toEqual(['A']);
    expect(await s1.getAnomalies()).toEqual([]);
    expect((await s2.getOpenOrders()).map((o) => o.orderId)).toEqual(['B']);
    await expect(
      s1.commit([
        { kind: 'change', orderId: 'B', eventType: 'ORDER_ACCEPTED', from: 'PENDING', to: 'OPEN', at: 2, cause: 'x' },
      ]),
    ).rejects.toThrow(/unknown order/);
    await s1.close();
    await s2.close();
  });

  it('strategies sharing a file never mint the same OrderID, even from the same random draws', async () => {
    const path = fresh();
    const handlers = await Promise.all(
      ['S1', 'S2'].map(async (strategyId) => {
        const ledger = openSqliteLedger(path, { strategyId });
        return createExecutionHandler({
          strategyId,
          connector: new ScriptedVenue(ledger),
          ledger,
          clock: createManualClock(T0),
          random: seededRandom(7), // the same draws: the second handler's first candidates are taken
        });
      }),
    );
    const ids: string[] = [];
    for (const h of handlers) ids.push(...(await h.execute(directive([limit(), limit()]))).orderIds);
    expect(new Set(ids).size).toBe(4);
    const all = openSqliteLedger(path);
    expect((await all.getOpenOrders()).map((o) => o.orderId).sort()).toEqual([...ids].sort());
    expect(await all.isOrderIdTaken!(ids[3]!)).toBe(true);
    expect(await openSqliteLedger(path, { strategyId: 'S1' }).isOrderIdTaken!(ids[3]!)).toBe(true); // another strategy's
    for (const h of handlers) await h.stop();
  });

  it('group-commits the commits of one turn; a bad one fails alone', async () => {
    const l = openSqliteLedger(fresh(), { strategyId: 'S1' });
    const results = await Promise.allSettled([
      recordOrder(l, order('A')),
      recordOrder(l, order('A')), // duplicate: fails alone
      recordOrder(l, order('B')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await l.getOpenOrders()).map((o) => o.orderId)).toEqual(['A', 'B']);
    await l.close();
  });
});
