/**
 * The SQLite ledger's browsing queries (counts per status, a page of the list, an order's
 * anomalies) give what a full read of the ledger gives, for every combination of status filter,
 * text, offset and limit tried, on a strategy's ledger, on an unscoped file of one strategy and on
 * an unscoped file of two; and the list is read through the indexes made for it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ORDERS_OF_DIRECTIVE_SQL, openSqliteLedger } from '../../src/ledger/sqlite.js';
import { checkAgainstFullRead, writes } from './browse-check.js';

const dir = mkdtempSync(join(tmpdir(), 'eh-browse-'));

describe('the SQLite ledger’s browsing queries', () => {
  it('agree with a full read on a strategy’s ledger and on an unscoped file of one strategy', async () => {
    const path = join(dir, 'one.db');
    const scoped = openSqliteLedger(path, { strategyId: 'S1' });
    await scoped.commit(writes('S1', 90, 1));
    expect(await checkAgainstFullRead(scoped)).toBe(180);
    await scoped.close();
    const unscoped = openSqliteLedger(path);
    await checkAgainstFullRead(unscoped);
    await unscoped.close();
  });

  it('agree with a full read on an unscoped file of two strategies, each scoped ledger seeing its own', async () => {
    const path = join(dir, 'two.db');
    const a = openSqliteLedger(path, { strategyId: 'A' });
    const b = openSqliteLedger(path, { strategyId: 'B' });
    await a.commit(writes('A', 50, 3));
    await b.commit(writes('B', 40, 5));
    await checkAgainstFullRead(a);
    await checkAgainstFullRead(b);
    expect((await b.listOrders!({ offset: 0, limit: 1_000 })).orders.every((o) => o.strategyId === 'B')).toBe(true);
    await a.close();
    await b.close();
    const both = openSqliteLedger(path);
    await checkAgainstFullRead(both);
    expect((await both.listOrders!({ offset: 0, limit: 1_000 })).total).toBe(90);
    await both.close();
  });

  it('pages through the indexes made for it, without sorting the table', () => {
    const path = join(dir, 'one.db');
    openSqliteLedger(path).close();
    const db = new Database(path, { readonly: true });
    const plan = (sql: string) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    const newest = 'ORDER BY placed_at DESC, order_id DESC LIMIT 100';
    expect(plan(`SELECT order_id, placed_at FROM orders WHERE strategy_id = 'S1' ${newest}`)).toMatch(
      /USING COVERING INDEX orders_placed/,
    );
    const filtered = plan(
      `SELECT order_id, placed_at FROM orders WHERE strategy_id = 'S1' AND status = 'OPEN' ${newest}`,
    );
    expect(filtered).toMatch(/USING COVERING INDEX orders_status_placed/);
    expect(filtered).not.toMatch(/TEMP B-TREE/);
    expect(plan("SELECT * FROM anomalies WHERE order_id = 'X' ORDER BY id")).toMatch(/INDEX anomalies_order/);
    // A directive's orders by the directive index, never by a walk of all the strategy's orders.
    expect(plan(ORDERS_OF_DIRECTIVE_SQL.replaceAll('?', "'X'"))).toMatch(/INDEX orders_directive/);
    db.close();
  });
});
