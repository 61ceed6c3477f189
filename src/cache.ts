/**
 * The StrategyCache: one per strategy, holding the `OrderView` of every live order and of recent
 * final ones. Entries are immutable (immer deep-freezes them; parts shared with the previous version are
 * already frozen and cost nothing), so a view handed to an engine never
 * changes under it. Final orders are kept up to `retainFinal` (oldest dropped first); the ledger
 * keeps their history.
 */
import { freeze } from 'immer';
import { isFinal } from './order-view.js';
import type { OrderStatus, OrderView } from './types.js';

/** Options of a StrategyCache. */
export interface StrategyCacheOptions {
  /** Final orders kept for `order(id)` after they end; default 10,000. */
  retainFinal?: number;
}

/** The per-strategy store of order views. */
export interface StrategyCache {
  get(orderId: string): OrderView | undefined;
  /** Views in insertion order, optionally only those with one of `status`. */
  list(filter?: { status?: readonly OrderStatus[] }): OrderView[];
  /** Stores a view (frozen); final ones count towards the retention bound. */
  put(view: OrderView): OrderView;
  /** Number of views held. */
  size(): number;
}

/** A new, empty StrategyCache. */
export function createStrategyCache(options: StrategyCacheOptions = {}): StrategyCache {
  const retainFinal = options.retainFinal ?? 10_000;
  const views = new Map<string, OrderView>();
  /** Final orders in the order they became final: the eviction queue. */
  const finals = new Set<string>();

  const store = (view: OrderView): OrderView => {
    const frozen = freeze(view, true);
    views.set(view.orderId, frozen);
    if (isFinal(view.status)) {
      finals.delete(view.orderId);
      finals.add(view.orderId);
      while (finals.size > retainFinal) {
        const oldest = finals.values().next().value as string;
        finals.delete(oldest);
        views.delete(oldest);
      }
    } else {
      finals.delete(view.orderId);
    }
    return frozen;
  };

  return {
    get: (orderId) => views.get(orderId),
    list(filter) {
      const all = [...views.values()];
      const wanted = filter?.status;
      return wanted ? all.filter((v) => wanted.includes(v.status)) : all;
    },
    put: store,
    size: () => views.size,
  };
}
