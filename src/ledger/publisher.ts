/**
 * Delivery of `STRATEGY_LEDGER_UPDATED` to subscribers, shared by every adapter. A listener that
 * throws is reported as a process warning and never stops delivery to the others nor undoes the
 * write it was told about: the write is durable by the time anyone hears of it.
 */
import type { LedgerListener, LedgerUpdatedEvent } from './types.js';

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
