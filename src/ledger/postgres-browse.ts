/**
 * The PostgreSQL ledger's queries for viewers of a large ledger (the inspector), as the SQLite
 * ledger's (`sqlite-browse.ts`): counts per status, a page of the list and one order's anomalies,
 * each from an index. Only a text filter reads every row of the strategy.
 */
import type { Pool } from 'pg';
import { ORDER_STATUSES, type OrderStatus } from '../types.js';
import { type AnomalyRow, anomalyOf } from './rows.js';
import type { AnomalyRecord, LedgerOrder, OrderListPage, OrderListQuery } from './types.js';

/**
 * Indexes the queries below walk, created on connect (`IF NOT EXISTS`). OrderIDs are ordered
 * bytewise (`COLLATE "C"`), as SQLite and JavaScript order them, whatever the database's locale.
 */
export const browseIndexesSql = (s: string): string => `
CREATE INDEX IF NOT EXISTS orders_placed ON ${s}.orders (strategy_id, placed_at, order_id COLLATE "C");
CREATE INDEX IF NOT EXISTS orders_status_placed ON ${s}.orders (strategy_id, status, placed_at, order_id COLLATE "C");
CREATE INDEX IF NOT EXISTS anomalies_order ON ${s}.anomalies (order_id);
`;

/** The browsing methods of a PostgreSQL ledger. */
export interface PostgresBrowser {
  countOrdersByStatus(): Promise<Record<OrderStatus, number>>;
  listOrders(query: OrderListQuery): Promise<OrderListPage>;
  countAnomalies(): Promise<number>;
  getOrderAnomalies(orderId: string): Promise<AnomalyRecord[]>;
}

/**
 * The browsing queries of `strategyId` in `schema`; `viewsOf` reads the full views of orders by id
 * (in any order).
 */
export function postgresBrowser(
  pool: Pool,
  schema: string,
  strategyId: string,
  viewsOf: (orderIds: string[]) => Promise<LedgerOrder[]>,
): PostgresBrowser {
  const orders = `${schema}.orders`;
  const NEWEST = 'ORDER BY placed_at DESC, order_id COLLATE "C" DESC';
  return {
    async countOrdersByStatus() {
      const r = await pool.query<{ status: OrderStatus; n: number }>(
        `SELECT status, COUNT(*)::int AS n FROM ${orders} WHERE strategy_id = $1 GROUP BY status`,
        [strategyId],
      );
      const counts = Object.fromEntries(ORDER_STATUSES.map((st) => [st, 0])) as Record<OrderStatus, number>;
      for (const row of r.rows) counts[row.status] = row.n;
      return counts;
    },
    async listOrders(query) {
      const statuses = [...new Set(query.statuses ?? [])].filter((st) => ORDER_STATUSES.includes(st));
      const text = query.text?.trim().toLowerCase() ?? '';
      const params: unknown[] = [];
      /** The placeholder of one more parameter. */
      const p = (value: unknown): string => {
        params.push(value);
        return `$${params.length}`;
      };
      const strategy = p(strategyId);
      const like = text === '' ? '' : p(`%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      const textPart =
        text === ''
          ? ''
          : ` AND (lower(order_id) LIKE ${like} OR lower(COALESCE(venue_order_id, '')) LIKE ${like}` +
            ` OR lower(directive_id) LIKE ${like} OR lower(strategy_id) LIKE ${like}` +
            ` OR lower(order_details::json->>'symbol') LIKE ${like})`;
      const statusRefs = statuses.map((st) => p(st));
      const where = (statusClause: string): string => `WHERE strategy_id = ${strategy}${statusClause}${textPart}`;
      const filterParams = params.length;
      const limit = p(query.limit);
      const offset = p(query.offset);
      // As in SQLite: the ids paged from the index, several statuses merged from one walk each.
      let select: string;
      if (statuses.length <= 1) {
        const one = statuses.length === 1 ? ` AND status = ${statusRefs[0]}` : '';
        select = `SELECT order_id, placed_at FROM ${orders} ${where(one)} ${NEWEST} LIMIT ${limit} OFFSET ${offset}`;
      } else {
        const reach = p(query.offset + query.limit);
        const walks = statusRefs.map(
          (ref) =>
            `(SELECT order_id, placed_at FROM ${orders} ${where(` AND status = ${ref}`)} ${NEWEST} LIMIT ${reach})`,
        );
        select = `SELECT * FROM (${walks.join(' UNION ALL ')}) walks ${NEWEST} LIMIT ${limit} OFFSET ${offset}`;
      }
      const ids = (await pool.query<{ order_id: string }>(select, params)).rows.map((r) => r.order_id);
      const byId = new Map((await viewsOf(ids)).map((o) => [o.orderId, o]));
      const page = ids.map((id) => byId.get(id)).filter((o): o is LedgerOrder => o !== undefined);
      if (query.countTotal === false) return { orders: page };
      // A page not filled to its limit is the end of the list: its end is the total, with no count
      // (for a text filter, the count would read every row a second time).
      if (page.length < query.limit && (page.length > 0 || query.offset === 0)) {
        return { total: query.offset + page.length, orders: page };
      }
      const statusPart = statuses.length === 0 ? '' : ` AND status IN (${statusRefs.join(', ')})`;
      const total = (
        await pool.query<{ n: number }>(
          `SELECT COUNT(*)::int AS n FROM ${orders} ${where(statusPart)}`,
          params.slice(0, filterParams),
        )
      ).rows[0]!.n;
      return { total, orders: page };
    },
    async countAnomalies() {
      const r = await pool.query<{ n: number }>(
        `SELECT COUNT(*)::int AS n FROM ${schema}.anomalies WHERE strategy_id = $1`,
        [strategyId],
      );
      return r.rows[0]!.n;
    },
    async getOrderAnomalies(orderId) {
      const r = await pool.query<AnomalyRow>(
        `SELECT * FROM ${schema}.anomalies WHERE order_id = $1 AND strategy_id = $2 ORDER BY id`,
        [orderId, strategyId],
      );
      return r.rows.map(anomalyOf);
    },
  };
}
