/**
 * What every ledger's browsing queries must give: the answer of a full read of the ledger, for
 * every status filter, text, offset and limit tried. Used by the SQLite and PostgreSQL tests.
 */
import { expect } from 'vitest';
import type { LedgerOrder, LedgerWrite, OrderListQuery, StrategyLedger } from '../../src/ledger/types.js';
import { ORDER_STATUSES, type OrderStatus } from '../../src/types.js';
import { chain, limit } from '../support/harness.js';

/** `n` orders of `strategyId` in assorted states, some placed at the same time, some with anomalies. */
export function writes(strategyId: string, n: number, salt: number): LedgerWrite[] {
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

export async function checkAgainstFullRead(ledger: StrategyLedger): Promise<number> {
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
