/**
 * Where the inspector's counts, list pages and anomalies come from. A ledger with indexed queries
 * (`listOrders`, `countOrdersByStatus`…: the SQLite and PostgreSQL ledgers) answers each of them
 * itself, so a ledger of millions of orders costs the inspector a few counters; any other ledger
 * has its orders loaded once into an in-memory index, then followed through its events.
 */
import type { AnomalyRecord, StrategyLedger } from '../ledger/types.js';
import { ORDER_STATUSES, type OrderStatus } from '../types.js';
import { OrderIndex, type OrderPage, summaryOf } from './order-index.js';

/** What the ledger's events said of one order since the last refresh. */
export interface OrderChange {
  /** An ORDER_PLACED was among them: the order was not counted before. */
  placed: boolean;
  /** The smallest `seq` of its changes among them: its status before is that change's `from`. */
  firstSeq?: number;
}

/** A filter and page of the list. */
export interface PageFilter {
  statuses: readonly OrderStatus[];
  text: string;
  offset: number;
  limit: number;
}

/** The inspector's view of the ledger's orders. */
export interface OrderSource {
  statusCounts(): Record<OrderStatus, number>;
  readonly size: number;
  page(filter: PageFilter): Promise<OrderPage>;
  /** Takes in what changed for these orders (read back from the ledger). */
  refresh(changes: ReadonlyMap<string, OrderChange>): Promise<void>;
  orderAnomalies(orderId: string): Promise<AnomalyRecord[]>;
}

/**
 * The source for `ledger` and its anomaly count, read at the same moment. Call it right after
 * subscribing to the ledger: what the counts miss, the events bring.
 */
export async function openOrderSource(ledger: StrategyLedger): Promise<{ source: OrderSource; anomalies: number }> {
  const { countOrdersByStatus, listOrders, countAnomalies, getOrderAnomalies } = ledger;
  if (countOrdersByStatus && listOrders && countAnomalies && getOrderAnomalies) {
    // Both asked before either is awaited: a commit published in between would be counted twice.
    const [counts, anomalies] = await Promise.all([countOrdersByStatus.call(ledger), countAnomalies.call(ledger)]);
    return { source: new QueriedOrders(ledger, counts), anomalies };
  }
  const [existing, all] = await Promise.all([
    ledger.getOrdersChangedSince(Number.MIN_SAFE_INTEGER),
    ledger.getAnomalies(),
  ]);
  return { source: new IndexedOrders(ledger, existing), anomalies: all.length };
}

/** Every order loaded into memory: for ledgers without indexed queries (the memory ledger). */
class IndexedOrders implements OrderSource {
  private readonly index = new OrderIndex();

  constructor(
    private readonly ledger: StrategyLedger,
    existing: Awaited<ReturnType<StrategyLedger['getOrdersChangedSince']>>,
  ) {
    existing.sort((a, b) => a.placedAt - b.placedAt || (a.orderId < b.orderId ? -1 : 1)); // listings are newest first
    for (const o of existing) this.index.put(summaryOf(o));
  }

  statusCounts(): Record<OrderStatus, number> {
    return this.index.statusCounts();
  }

  get size(): number {
    return this.index.size;
  }

  async page(filter: PageFilter): Promise<OrderPage> {
    return this.index.page(filter);
  }

  async refresh(changes: ReadonlyMap<string, OrderChange>): Promise<void> {
    for (const id of changes.keys()) {
      const o = await this.ledger.getOrder(id);
      if (o) this.index.put(summaryOf(o));
    }
  }

  async orderAnomalies(orderId: string): Promise<AnomalyRecord[]> {
    return (await this.ledger.getAnomalies()).filter((a) => a.orderId === orderId);
  }
}

type QueryingLedger = StrategyLedger & Required<Pick<StrategyLedger, 'listOrders' | 'getOrderAnomalies'>>;

/**
 * Counts kept from the ledger's events, pages and anomalies asked of the ledger: memory does not
 * grow with the ledger. A changed order's status before the change is its first change's `from`.
 */
class QueriedOrders implements OrderSource {
  private readonly counts: Record<OrderStatus, number>;

  constructor(
    private readonly ledger: StrategyLedger,
    counts: Record<OrderStatus, number>,
  ) {
    this.counts = { ...(Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as typeof counts), ...counts };
  }

  statusCounts(): Record<OrderStatus, number> {
    return { ...this.counts };
  }

  get size(): number {
    return ORDER_STATUSES.reduce((n, s) => n + this.counts[s], 0);
  }

  async page(filter: PageFilter): Promise<OrderPage> {
    const text = filter.text.trim();
    // Without text, the counts kept here give the total: no count query over the ledger.
    const { total, orders } = await (this.ledger as QueryingLedger).listOrders({
      statuses: filter.statuses,
      text,
      offset: filter.offset,
      limit: filter.limit,
      countTotal: text !== '',
    });
    const statuses = filter.statuses.length > 0 ? new Set(filter.statuses) : new Set(ORDER_STATUSES);
    const counted = [...statuses].reduce((n, s) => n + (this.counts[s] ?? 0), 0);
    return { total: total ?? counted, offset: filter.offset, orders: orders.map(summaryOf) };
  }

  async refresh(changes: ReadonlyMap<string, OrderChange>): Promise<void> {
    for (const [id, change] of changes) {
      if (!change.placed && change.firstSeq === undefined) continue; // anomalies only: no status change
      const order = await this.ledger.getOrder(id);
      if (!order) continue;
      let before: OrderStatus | undefined;
      if (!change.placed) {
        const transitions = await this.ledger.getTransitions(id);
        before = transitions.find((t) => t.seq === change.firstSeq)?.from;
        if (before === undefined) continue; // a change the ledger does not hold: nothing to move
      }
      if (before !== undefined) this.counts[before]--;
      this.counts[order.status]++;
    }
  }

  async orderAnomalies(orderId: string): Promise<AnomalyRecord[]> {
    return (this.ledger as QueryingLedger).getOrderAnomalies(orderId);
  }
}
