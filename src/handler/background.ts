/**
 * The runtime's work bookkeeping: serial queues (one per order, one per directive), tracking of
 * everything in flight for `settle()`, and background work that must happen, retried after a
 * failed ledger write within a stated bound.
 */
import type { Clock } from '../clock.js';
import { LedgerFencedError } from '../errors.js';

/** Where a refused retry goes: the order it was about, to be asked about by the next reconcile. */
export type RetryRefused = (orderId: string | undefined, error: unknown) => void;

/** Serial queues, in-flight tracking and bounded retries of background work. */
export class Background {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Background works waiting to be tried again (at most ``maxWaiting``). */
  private retriesWaiting = 0;
  stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly retryMs: number,
    private readonly maxWaiting: number,
    private readonly onError: (error: unknown) => void,
    private readonly onRefused: RetryRefused,
  ) {}

  /** Tracks a promise so `settle()` waits for it. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    const done = (): void => {
      this.inFlight.delete(promise);
    };
    promise.then(done, done);
    return promise;
  }

  /** Starts work that nobody awaits: tracked, and its failure reported. */
  spawn(work: () => Promise<unknown>): void {
    this.track(work()).catch((err: unknown) => {
      if (!this.stopped) this.onError(err);
    });
  }

  /**
   * Background work that must happen (venue news already in hand, a decision already due): when it
   * fails (a ledger write, say) the error is reported and the same work runs again every
   * `retryMs` until it succeeds or the handler stops. Replies and decisions are idempotent, so
   * running one again is safe. At most ``maxWaiting`` works wait at once: beyond that a
   * failed work is dropped, reported, and its order handed to `onRefused` (the next reconcile asks
   * the venue about it, so what the work carried is learnt again rather than lost).
   */
  persist(work: () => Promise<unknown>, orderId?: string): void {
    this.spawn(async () => {
      try {
        await work();
      } catch (err) {
        if (this.stopped) return;
        this.onError(err);
        // Another process owns the strategy now: it recovers this work, and retrying here is futile.
        if (err instanceof LedgerFencedError) return;
        if (this.retriesWaiting >= this.maxWaiting) {
          this.onRefused(orderId, err);
          return;
        }
        this.retriesWaiting++;
        this.clock.setTimeout(() => {
          this.retriesWaiting--;
          this.persist(work, orderId);
        }, this.retryMs);
      }
    });
  }

  /** Background works waiting to be tried again. */
  waitingRetries(): number {
    return this.retriesWaiting;
  }

  /** Runs `task` after every task queued before it under the same key. */
  serial<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    // A stopped handler does nothing more: like a dead process, it writes nothing after its stop.
    const guarded = (): Promise<T> =>
      this.stopped ? Promise.reject(new Error('the execution handler is stopped')) : task();
    const run = prev.then(guarded, guarded);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return this.track(run);
  }

  /** Resolves once nothing tracked is in flight. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
    }
  }
}
