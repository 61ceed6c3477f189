/**
 * The PostgreSQL ledger's browsing queries (counts per status, a page of the list, an order's
 * anomalies) give what a full read of the ledger gives, for every combination of status filter,
 * text, offset and limit tried, each strategy seeing only its own orders, on a real server; and
 * the list is read through the indexes made for it.
 */
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { connectPostgresLedger } from '../../src/ledger/postgres.js';
import { checkAgainstFullRead, writes } from './browse-check.js';

const url = inject('postgresUrl');

describe('the PostgreSQL ledger’s browsing queries', () => {
  it('agree with a full read, each strategy seeing its own orders', async () => {
    const schema = `eh_browse_${process.pid}`;
    const a = await connectPostgresLedger(url, { strategyId: 'A', schema });
    const b = await connectPostgresLedger(url, { strategyId: 'B', schema });
    try {
      await a.commit(writes('A', 90, 1));
      await b.commit(writes('B', 40, 5));
      expect(await checkAgainstFullRead(a)).toBe(180);
      await checkAgainstFullRead(b);
      expect((await b.listOrders!({ offset: 0, limit: 1_000 })).orders.every((o) => o.strategyId === 'B')).toBe(true);

      // The list's walks can be answered by the indexes made for them, in their order (planned with
      // scans and sorts discouraged, as on a large table: on a few rows PostgreSQL rightly sorts).
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`ANALYZE ${schema}.orders`);
        await client.query('SET enable_seqscan = off');
        await client.query('SET enable_sort = off');
        const plan = async (sql: string): Promise<string> =>
          (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
        const newest = 'ORDER BY placed_at DESC, order_id COLLATE "C" DESC LIMIT 100';
        expect(
          await plan(`SELECT order_id, placed_at FROM ${schema}.orders WHERE strategy_id = 'A' ${newest}`),
        ).toMatch(/orders_placed/);
        const filtered = await plan(
          `SELECT order_id, placed_at FROM ${schema}.orders WHERE strategy_id = 'A' AND status = 'OPEN' ${newest}`,
        );
        expect(filtered).toMatch(/orders_status_placed/);
        expect(filtered).not.toMatch(/Sort/);
      } finally {
        await client.end();
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
