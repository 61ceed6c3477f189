/**
 * The SQLite ledger's queries for viewers of a large ledger (the inspector): counts per status, a
 * page of the order list and one order's anomalies, each answered from an index, so a viewer of a
 * million orders never loads them all. Only a text filter reads every row (a LIKE over the ids).
 */
import type Database from 'better-sqlite3';
import { ORDER_STATUSES, type OrderStatus } from '../types.js';
import { type AnomalyRow, type OrderRow, anomalyOf } from './rows.js';
import type { AnomalyRecord, LedgerOrder, OrderListPage, OrderListQuery } from './types.js';

/**
 * Indexes the queries below walk, created when a file is opened (`IF NOT EXISTS`: an older file
 * gets them at its first open by this version, once). Placement time is never updated, so only a
 * status change touches one of them (`orders_status_placed`) on the handler's hot path.
 */
export const BROWSE_INDEXES = `
CREATE INDEX IF NOT EXISTS orders_placed ON orders (strategy_id, placed_at, order_id);
CREATE INDEX IF NOT EXISTS orders_status_placed ON orders (strategy_id, status, placed_at, order_id);
CREATE INDEX IF NOT EXISTS anomalies_order ON anomalies (order_id);
`;

/** The browsing methods of a SQLite ledger. */
export interface SqliteBrowser {
  countOrdersByStatus(): Record<OrderStatus, number>;
  listOrders(query: OrderListQuery): OrderListPage;
  countAnomalies(): number;
  getOrderAnomalies(orderId: string): AnomalyRecord[];
}

/**
 * The browsing queries of `db`, for the strategy `scope` or, unscoped, every strategy of the file.
 * An unscoped file holding one strategy (the usual case) is queried as that strategy, so the
 * indexes, which lead with `strategy_id`, keep serving the list in placement order.
 */
export function sqliteBrowser(
  db: Database.Database,
  scope: string | undefined,
  toView: (row: OrderRow) => LedgerOrder,
): SqliteBrowser {
  /** The strategy to query as: the scope, or the file's only strategy, or none (several: a sort). */
  const strategy = (): string | undefined => {
    if (scope !== undefined) return scope;
    // MIN and MAX asked apart each read one end of an index, O(log n); together they scan it.
    const lo = db.prepare('SELECT MIN(strategy_id) AS s FROM orders').get() as { s: string | null };
    const hi = db.prepare('SELECT MAX(strategy_id) AS s FROM orders').get() as { s: string | null };
    return lo.s !== null && lo.s === hi.s ? lo.s : undefined;
  };
  const where = (s: string | undefined, extra: string[]): string => {
    const parts = [...(s === undefined ? [] : ['strategy_id = @strategy']), ...extra];
    return parts.length === 0 ? '' : `WHERE ${parts.join(' AND ')}`;
  };
  const textClause =
    "(order_id LIKE @text ESCAPE '\\' OR venue_order_id LIKE @text ESCAPE '\\' OR directive_id LIKE @text ESCAPE '\\'" +
    " OR strategy_id LIKE @text ESCAPE '\\' OR json_extract(order_details, '$.symbol') LIKE @text ESCAPE '\\')";
  const NEWEST = 'ORDER BY placed_at DESC, order_id DESC';

  return {
    countOrdersByStatus() {
      const s = strategy();
      const rows = db
        .prepare(`SELECT status, COUNT(*) AS n FROM orders ${where(s, [])} GROUP BY status`)
        .all(s === undefined ? {} : { strategy: s }) as { status: OrderStatus; n: number }[];
      const counts = Object.fromEntries(ORDER_STATUSES.map((st) => [st, 0])) as Record<OrderStatus, number>;
      for (const r of rows) counts[r.status] = r.n;
      return counts;
    },
    listOrders(query) {
      const s = strategy();
      const statuses = [...new Set(query.statuses ?? [])].filter((st) => ORDER_STATUSES.includes(st));
      const text = query.text?.trim().toLowerCase() ?? '';
      const params: Record<string, unknown> = {
        ...(s === undefined ? {} : { strategy: s }),
        ...(text === '' ? {} : { text: `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%` }),
        limit: query.limit,
        offset: query.offset,
        reach: query.offset + query.limit,
      };
      statuses.forEach((st, i) => {
        params[`s${i}`] = st;
      });
      const textPart = text === '' ? [] : [textClause];
      // Only the ids are paged, from the index alone, and the page's rows read after: skipping
      // `offset` rows with `SELECT *` would read every skipped row from the table.
      // Several statuses: one indexed walk per status, each cut at offset + limit, merged. A single
      // `status IN (…)` would make SQLite sort every matching row before it could cut the page.
      const KEYS = 'SELECT order_id, placed_at FROM orders';
      const select =
        statuses.length <= 1
          ? `${KEYS} ${where(s, [...statuses.map(() => 'status = @s0'), ...textPart])} ${NEWEST} LIMIT @limit OFFSET @offset`
          : `SELECT * FROM (${statuses
              .map(
                (_, i) =>
                  `SELECT * FROM (${KEYS} ${where(s, [`status = @s${i}`, ...textPart])} ${NEWEST} LIMIT @reach)`,
              )
              .join(' UNION ALL ')}) ${NEWEST} LIMIT @limit OFFSET @offset`;
      const ids = db.prepare(select).all(params) as { order_id: string }[];
      const byId = db.prepare('SELECT * FROM orders WHERE order_id = ?');
      const orders = ids.map((r) => toView(byId.get(r.order_id) as OrderRow));
      if (query.countTotal === false) return { orders };
      // A page not filled to its limit is the end of the list: its end is the total, with no count
      // (for a text filter, the count would read every row a second time).
      if (orders.length < query.limit && (orders.length > 0 || query.offset === 0)) {
        return { total: query.offset + orders.length, orders: orders };
      }
      const statusPart = statuses.length === 0 ? [] : [`status IN (${statuses.map((_, i) => `@s${i}`).join(', ')})`];
      const countParams = Object.fromEntries(
        Object.entries(params).filter(([k]) => k !== 'limit' && k !== 'offset' && k !== 'reach'),
      );
      const total = (
        db.prepare(`SELECT COUNT(*) AS n FROM orders ${where(s, [...statusPart, ...textPart])}`).get(countParams) as {
          n: number;
        }
      ).n;
      return { total, orders };
    },
    countAnomalies() {
      const sql =
        scope === undefined
          ? 'SELECT COUNT(*) AS n FROM anomalies'
          : 'SELECT COUNT(*) AS n FROM anomalies WHERE strategy_id = ?';
      return (db.prepare(sql).get(...(scope === undefined ? [] : [scope])) as { n: number }).n;
    },
    getOrderAnomalies(orderId) {
      const sql =
        scope === undefined
          ? 'SELECT * FROM anomalies WHERE order_id = ? ORDER BY id'
          : 'SELECT * FROM anomalies WHERE order_id = ? AND strategy_id = ? ORDER BY id';
      const rows = db.prepare(sql).all(orderId, ...(scope === undefined ? [] : [scope])) as AnomalyRow[];
      return rows.map(anomalyOf);
    },
  };
}
