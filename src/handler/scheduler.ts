/**
 * The scheduler: one timer per live order, armed on the injected clock for the `wakeAt` the
 * machine keeps in its context. When it fires the order is sent WAKE; the machine decides what
 * is due. It holds nothing of its own that a restart would need: `wakeAt` is in the snapshot.
 */
import type { Clock } from '../clock.js';
import { type LiveOrder, contextOf } from './live-order.js';

/** Arms one timer per order at its wake-up time. */
export class Scheduler {
  stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly isLive: (order: LiveOrder) => boolean,
    private readonly wake: (orderId: string, dueAt: number) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Arms (or moves, or clears) the order's timer for the machine's `wakeAt`. */
  reschedule(order: LiveOrder): void {
    if (!this.isLive(order) || this.stopped) return;
    const at = contextOf(order).wakeAt;
    if (at === order.timerAt) return;
    this.clock.clearTimeout(order.timer);
    order.timerAt = at;
    order.timer =
      at === null
        ? undefined
        : this.clock.setTimeout(
            () => {
              order.timerAt = null;
              this.wake(order.orderId, at);
            },
            Math.max(0, at - this.clock.now()),
          );
  }

  /**
   * After a WAKE for `dueAt` was handled. Assertion: a wake-up always moves the next one; an order
   * still due at the same time would be woken at zero delay forever, so its timer is parked there
   * (until `wakeAt` changes) and the broken rule reported.
   */
  woke(order: LiveOrder, dueAt: number): void {
    if (contextOf(order).wakeAt !== dueAt || dueAt > this.clock.now()) return;
    this.clock.clearTimeout(order.timer);
    order.timer = undefined;
    order.timerAt = dueAt;
    this.onError(new Error(`Invariant: WAKE moves wakeAt (order ${order.orderId} stays due at ${dueAt})`));
  }
}
