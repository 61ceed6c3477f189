/**
 * The in-memory StrategyLedger: the full ledger contract with nothing durable behind it. It keeps
 * every order's history for the life of the process by design (it is the ledger of tests, demos
 * and backtests); use the SQLite ledger where history must outlive the process or stay bounded.
 */
import { decEq } from '../decimal.js';
import { LedgerIntegrityError } from '../errors.js';
import { isFinal, newOrderView, withCommission, withFill, withModification, withStatus } from '../order-view.js';
import { LedgerPublisher, anomalyEvent, changeEvent, placedEvent } from './publisher.js';
import type {
  AnomalyRecord,
  LedgerListener,
  LedgerOrder,
  LedgerUpdatedEvent,
  LedgerWrite,
  StrategyLedger,
  TransitionRecord,
} from './types.js';

interface StoredOrder {
  view: LedgerOrder;
  transitions: TransitionRecord[];
  changedAt: number;
}

/** Options of the memory ledger. */
export interface MemoryLedgerOptions {
  /** When set, the ledger accepts and returns only this strategy's records. */
  strategyId?: string;
}

/** A ledger that holds everything in memory. Records are stored as given: do not mutate them. */
export function createMemoryLedger(options: MemoryLedgerOptions = {}): StrategyLedger {
  const orders = new Map<string, StoredOrder>();
  /** directiveId → its OrderIDs, so idempotency checks do not scan every order. */
  const byDirective = new Map<string, string[]>();
  const anomalies: AnomalyRecord[] = [];
  const publisher = new LedgerPublisher();
  let closed = false;

  const checkScope = (strategyId: string): void => {
    if (options.strategyId !== undefined && strategyId !== options.strategyId) {
      throw new LedgerIntegrityError(`record of strategy ${strategyId} in a ledger scoped to ${options.strategyId}`);
    }
  };

  /** Every check of the batch before any of it is applied, so a failed commit changes nothing. */
  const validate = (writes: readonly LedgerWrite[]): void => {
    const born = new Set<string>();
    for (const w of writes) {
      if (w.kind === 'order') {
        checkScope(w.order.strategyId);
        if (orders.has(w.order.orderId) || born.has(w.order.orderId)) {
          throw new LedgerIntegrityError(`order ${w.order.orderId} is already recorded`);
        }
        born.add(w.order.orderId);
      } else if (w.kind === 'anomaly') {
        checkScope(w.anomaly.strategyId);
      } else if (!orders.has(w.orderId) && !born.has(w.orderId)) {
        throw new LedgerIntegrityError(`${w.kind} for unknown order ${w.orderId}`);
      } else if (w.kind === 'fill') {
        const known = orders.get(w.orderId)?.view.fills.find((f) => f.venueFillId === w.fill.venueFillId);
        if (known && !(decEq(known.quantity, w.fill.quantity) && decEq(known.price, w.fill.price))) {
          throw new LedgerIntegrityError(`conflicting fill ${w.fill.venueFillId} for order ${w.orderId}`);
        }
      }
    }
  };

  const apply = (writes: readonly LedgerWrite[]): LedgerUpdatedEvent[] => {
    const events: LedgerUpdatedEvent[] = [];
    for (const w of writes) {
      switch (w.kind) {
        case 'order': {
          const o = w.order;
          const view: LedgerOrder = { ...newOrderView(o), placedAt: o.at, ...(o.batch ? { batch: o.batch } : {}) };
          orders.set(o.orderId, { view, transitions: [], changedAt: o.at });
          const siblings = byDirective.get(o.directiveId);
          if (siblings) siblings.push(o.orderId);
          else byDirective.set(o.directiveId, [o.orderId]);
          events.push(placedEvent(o));
          break;
        }
        case 'change': {
          const stored = orders.get(w.orderId)!;
          const { kind: _kind, snapshot, ...change } = w;
          const record: TransitionRecord = { ...change, seq: stored.transitions.length + 1 };
          stored.transitions.push(record);
          stored.changedAt = Math.max(stored.changedAt, w.at);
          const view = withStatus(withModification(stored.view, w), w.to, w) as LedgerOrder;
          const original =
            w.eventType === 'ORDER_MODIFIED' && w.modification !== undefined && view.originalDetails === undefined
              ? { originalDetails: stored.view.orderDetails }
              : {};
          stored.view = { ...view, ...original, ...(snapshot === undefined ? {} : { snapshot }) };
          events.push(changeEvent(stored.view.strategyId, w, record.seq));
          break;
        }
        case 'fill': {
          const stored = orders.get(w.orderId)!;
          const known = stored.view.fills.find((f) => f.venueFillId === w.fill.venueFillId);
          if (!known) stored.view = withFill(stored.view, w.fill) as LedgerOrder;
          else if (known.commission === undefined && w.fill.commission !== undefined) {
            stored.view = withCommission(
              stored.view,
              known.venueFillId,
              w.fill.commission,
              w.fill.commissionAsset,
            ) as LedgerOrder;
          }
          break;
        }
        case 'snapshot': {
          const stored = orders.get(w.orderId)!;
          stored.view = { ...stored.view, snapshot: w.snapshot };
          break;
        }
        case 'anomaly': {
          anomalies.push(w.anomaly);
          const a = w.anomaly;
          const status = a.orderId === undefined ? undefined : orders.get(a.orderId)?.view.status;
          events.push(anomalyEvent(a, status));
          break;
        }
      }
    }
    return events;
  };

  return {
    async commit(writes) {
      if (closed) throw new Error('ledger is closed');
      validate(writes);
      publisher.publish(apply(writes));
    },
    async getOrder(orderId) {
      return orders.get(orderId)?.view;
    },
    async isOrderIdTaken(orderId) {
      return orders.has(orderId);
    },
    async getTransitions(orderId) {
      return [...(orders.get(orderId)?.transitions ?? [])];
    },
    async getAnomalies() {
      return [...anomalies];
    },
    async getOrdersByDirective(directiveId) {
      return (byDirective.get(directiveId) ?? []).map((id) => orders.get(id)!.view);
    },
    async getOrdersChangedSince(at) {
      return [...orders.values()].filter((o) => o.changedAt >= at).map((o) => o.view);
    },
    async getOpenOrders() {
      return [...orders.values()].filter((o) => !isFinal(o.view.status)).map((o) => o.view);
    },
    subscribe(listener: LedgerListener) {
      return publisher.subscribe(listener);
    },
    async close() {
      closed = true;
      publisher.clear();
    },
  };
}
