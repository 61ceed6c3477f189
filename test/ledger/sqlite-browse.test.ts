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
import { openSqliteLedger } from '../../src/ledger/sqlite.js';
import type { LedgerOrder, LedgerWrite, OrderListQuery, StrategyLedger } from '../../src/ledger/types.js';
import { ORDER_STATUSES, type OrderStatus } from '../../src/types.js';
import { chain, limit } from '../support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'eh-browse-'));

/** `n` orders of `strategyId` in assorted states, some placed at the same time, some with anomalies. */
function writes(strategyId: string, n: number, salt: number): LedgerWrite[] {
  const out: LedgerWrite[] = [];
  const path: OrderStatus[][] = [
    ['PENDING'],
    ['PENDING', 'OPEN'],
    ['PENDING', 'OPEN', 'FILLED'],
    ['PENDING', 'REJECTED'],
    ['PENDING', 'OPEN', 'CANCEL_PENDING', 'CANCELLED'],
    ['PENDING', 'OPEN', 'MODIFY_PENDING'],
    ['PENDING', 'TIMED_OUT'],
  ];
  for (let i = 0; i < n; i++) {
    const orderId = `ORD_20260105_0900${String(i % 60).padStart(2, '0')}_${((i * 7919 + salt) >>> 0).toString(16).padStart(8, '0')}`;
    const at = 1_000 + Math.floor(i / 3) * 10; // three orders per instant: ties broken by OrderID
    const symbol = ['BTC_USDT', 'ETH_USDT', 'SOL_USDT'][i % 3]!;
    out.push({
      kind: 'order',
      order: {
        orderId,
        directiveId: `DIR_${strategyId}_${i}`,
        strategyId,
        orderDetails: { ...limit(), symbol },
        causality: chain({ orderIds: [orderId] }),
        at,
      },
    });
    const steps = path[i % path.length]!;
    for (let k = 1; k < steps.length; k++) {
      out.push({
        kind: 'change',
        orderId,
        eventType: 'ORDER_ACCEPTED',
        from: steps[k - 1]!,
        to: steps[k]!,
        at: at + k,
        cause: 'test',
        ...(steps[k] === 'OPEN' ? { venueOrderId: `VEN_${strategyId}_${i}_x%_` } : {}),
      });
    }
    if (i % 5 === 2) {
      out.push({ kind: 'anomaly', anomaly: { strategyId, kind: 'LATE_REPLY', reason: 'test', orderId, at: at + 9 } });
    }
  }
  return out;
}

/** What the page should hold, from a full read: newest placement first, ties by the greater OrderID. */
function expected(all: LedgerOrder[], q: OrderListQuery): { total: number; ids: string[] } {
  const text = q.text?.trim().toLowerCase() ?? '';
  const match = all
    .filter((o) => !q.statuses?.length || q.statuses.includes(o.status))
    .filter(
      (o) =>
        text === '' ||
        [o.orderId, o.venueOrderId ?? '', o.directiveId, o.strategyId, o.orderDetails.symbol].some((f) =>
          f.toLowerCase().includes(text),
        ),
    )
    .sort((a, b) => b.placedAt - a.placedAt || (a.orderId < b.orderId ? 1 : -1));
  return { total: match.length, ids: match.slice(q.offset, q.offset + q.limit).map((o) => o.orderId) };
}

async function checkAgainstFullRead(ledger: StrategyLedger): Promise<number> {
  const all = await ledger.getOrdersChangedSince(Number.MIN_SAFE_INTEGER);
  const counts = Object.fromEntries(ORDER_STATUSES.map((s) => [s, all.filter((o) => o.status === s).length]));
  expect(await ledger.countOrdersByStatus!()).toEqual(counts);
  const anomalies = await ledger.getAnomalies();
  expect(await ledger.countAnomalies!()).toBe(anomalies.length);
  for (const o of all.slice(0, 12)) {
    expect(await ledger.getOrderAnomalies!(o.orderId)).toEqual(anomalies.filter((a) => a.orderId === o.orderId));
  }
  const statusSets: OrderStatus[][] = [
    [],
    ['OPEN'],
    ['FILLED', 'CANCELLED'],
    ['PENDING', 'TIMED_OUT', 'MODIFY_PENDING'],
  ];
  let checked = 0;
  for (const statuses of statusSets) {
    for (const text of ['', 'eth', '0900', 'ven_', 'x%', '%', '_', 'ORD_20260105_090007', 'nothing-matches']) {
      for (const [offset, limit] of [
        [0, 100],
        [0, 7],
        [5, 10],
        [40, 25],
        [1_000, 10],
      ] as const) {
        const q = { statuses, text, offset, limit };
        const page = await ledger.listOrders!(q);
        const want = expected(all, q);
        expect({ total: page.total, ids: page.orders.map((o) => o.orderId) }, JSON.stringify(q)).toEqual(want);
        checked++;
      }
    }
  }
  // A page's orders are the ledger's own views, and a caller keeping its own counts may skip the count.
  const page = await ledger.listOrders!({ offset: 3, limit: 4, countTotal: false });
  expect(page.total).toBeUndefined();
  for (const o of page.orders) expect(o).toEqual(await ledger.getOrder(o.orderId));
  return checked;
}

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
    db.close();
  });
});
