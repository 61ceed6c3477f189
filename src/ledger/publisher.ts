/**
 * Delivery of `STRATEGY_LEDGER_UPDATED` to subscribers, shared by every adapter. A listener that
 * throws is reported as a process warning and never stops delivery to the others nor undoes the
 * write it was told about: the write is durable by the time anyone hears of it.
 */
import type { OrderStatus } from '../types.js';
import type { AnomalyRecord, ChangeInput, LedgerListener, LedgerUpdatedEvent, OrderRecordInput } from './types.js';

/** The event of an `order` record: the order is born PENDING. */
export function placedEvent(o: OrderRecordInput): LedgerUpdatedEvent {
  return {
    type: 'STRATEGY_LEDGER_UPDATED',
    eventType: 'ORDER_PLACED',
    strategyId: o.strategyId,
    orderId: o.orderId,
    status: 'PENDING',
    at: o.at,
  };
}

/** The event of a `change` record, with the `seq` the ledger gave it. */
export function changeEvent(strategyId: string, c: ChangeInput, seq: number): LedgerUpdatedEvent {
  return {
    type: 'STRATEGY_LEDGER_UPDATED',
    eventType: c.eventType,
    strategyId,
    orderId: c.orderId,
    status: c.to,
    seq,
    at: c.at,
  };
}

/** The event of an `anomaly` record; order fields only when the order is known (`status`). */
export function anomalyEvent(a: AnomalyRecord, status: OrderStatus | undefined): LedgerUpdatedEvent {
  return {
    type: 'STRATEGY_LEDGER_UPDATED',
    eventType: 'ORDER_ANOMALY',
    strategyId: a.strategyId,
    ...(status === undefined || a.orderId === undefined ? {} : { orderId: a.orderId, status }),
    at: a.at,
  };
}

/** A set of listeners and in-order delivery to each of them. */
export class LedgerPublisher {
  private readonly listeners = new Set<LedgerListener>();

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: LedgerListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Delivers the events, in order, to every listener. */
  publish(events: readonly LedgerUpdatedEvent[]): void {
    if (this.listeners.size === 0) return;
    for (const event of events) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (err) {
          process.emitWarning(`STRATEGY_LEDGER_UPDATED listener threw: ${String(err)}`, 'LedgerListenerWarning');
        }
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.listeners.clear();
  }
}
