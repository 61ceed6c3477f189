/**
 * A tally of the throttle's waits (`throttleConnector`'s `onWait`), for a session's summary: how
 * often calls waited, for how long in all, and the longest, per kind of call.
 */
import type { ThrottledCall } from './call-queue.js';
import type { CallKind } from './rate-budgets.js';

/** The waits of one kind of call. */
export interface WaitCount {
  waits: number;
  waitedMs: number;
  longestMs: number;
}

/** An `onWait` to give the throttle, and what it counted. */
export interface WaitTally {
  onWait(call: ThrottledCall, waitedMs: number): void;
  /** The counts so far, by kind of call; a kind that never waited counts zeros. */
  counts(): Record<CallKind, WaitCount>;
}

/** A fresh tally. */
export function createWaitTally(): WaitTally {
  const zero = (): WaitCount => ({ waits: 0, waitedMs: 0, longestMs: 0 });
  const counts: Record<CallKind, WaitCount> = { cancel: zero(), query: zero(), modify: zero(), place: zero() };
  return {
    onWait(call, waitedMs) {
      const c = counts[call.kind];
      c.waits++;
      c.waitedMs += waitedMs;
      c.longestMs = Math.max(c.longestMs, waitedMs);
    },
    counts: () => structuredClone(counts),
  };
}
