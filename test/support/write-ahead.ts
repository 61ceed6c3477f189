/**
 * Promise 1 (no loss) checked on every placement of every test that uses the scripted venue: a
 * ledger wrapper whose `commit` completes a macrotask late (before and after delegating), so a
 * placement that does not wait for the durable write reaches the venue before the order is in the
 * ledger; the venue reports every such placement here, and `afterEach` fails the test with it.
 */
import { afterEach } from 'vitest';
import type { LedgerWrite, StrategyLedger } from '../../src/ledger/types.js';

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const SLOW = Symbol('slow-commit ledger');

/** A ledger whose commits complete asynchronously, and which knows which orders are durable. */
export type SlowCommitLedger = StrategyLedger & {
  readonly [SLOW]: {
    /** The ledger every call is delegated to. */
    inner: StrategyLedger;
    /** OrderIDs of `order` records whose commit has not yet resolved. */
    inFlight: Map<string, number>;
    /** Commits not yet resolved or rejected. */
    pending: Set<Promise<void>>;
  };
};

export function isSlowCommitLedger(ledger: StrategyLedger): ledger is SlowCommitLedger {
  return SLOW in ledger;
}

/**
 * Wraps `inner` so every `commit` waits a macrotask (setImmediate) before delegating and another
 * before it settles; reads and everything else go straight to `inner`. A handler that places an
 * order without awaiting its commit is then caught even on the memory ledger, which applies a
 * batch synchronously. Wrapping a wrapped ledger returns it unchanged.
 */
export function slowCommitLedger(inner: StrategyLedger): SlowCommitLedger {
  if (isSlowCommitLedger(inner)) return inner;
  const state = { inner, inFlight: new Map<string, number>(), pending: new Set<Promise<void>>() };
  const commit = (writes: readonly LedgerWrite[]): Promise<void> => {
    const ids = writes.flatMap((w) => (w.kind === 'order' ? [w.order.orderId] : []));
    for (const id of ids) state.inFlight.set(id, (state.inFlight.get(id) ?? 0) + 1);
    const run = (async () => {
      try {
        await macrotask();
        await inner.commit(writes);
      } finally {
        await macrotask();
        for (const id of ids) {
          const n = state.inFlight.get(id)! - 1;
          if (n === 0) state.inFlight.delete(id);
          else state.inFlight.set(id, n);
        }
      }
    })();
    state.pending.add(run);
    const forget = (): void => {
      state.pending.delete(run);
    };
    run.then(forget, forget);
    return run;
  };
  return new Proxy(inner, {
    has: (target, key) => key === SLOW || Reflect.has(target, key),
    get(target, key) {
      if (key === SLOW) return state;
      if (key === 'commit') return commit;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as SlowCommitLedger;
}

/** Resolves once every commit made through `ledger` so far (and any they led to) has settled. */
export async function commitsSettled(ledger: StrategyLedger): Promise<void> {
  if (!isSlowCommitLedger(ledger)) return;
  while (ledger[SLOW].pending.size > 0) await Promise.allSettled([...ledger[SLOW].pending]);
}

/** True while a commit made through `ledger` has not settled. */
export function commitsPending(ledger: StrategyLedger): boolean {
  return isSlowCommitLedger(ledger) && ledger[SLOW].pending.size > 0;
}

/**
 * Whether the order is durably in the ledger now: `true`, or why not (the underlying ledger lacks
 * it, or a commit carrying it has not resolved). The underlying read starts synchronously, so the
 * state judged is the one at the moment of the call.
 */
export function isDurable(ledger: StrategyLedger, orderId: string): Promise<true | string> {
  const inner = isSlowCommitLedger(ledger) ? ledger[SLOW].inner : ledger;
  const committing = isSlowCommitLedger(ledger) && ledger[SLOW].inFlight.has(orderId);
  return inner.getOrder(orderId).then((o) => {
    if (o === undefined) return 'not in the ledger';
    return committing ? 'its commit has not resolved' : true;
  });
}

/** Placements the venue heard of before their order was durable, since the last check. */
const violations: string[] = [];

export function reportWriteAheadViolation(message: string): void {
  violations.push(message);
}

/** Throws (failing the test) when any placement broke write-ahead; clears the record either way. */
export function assertWriteAhead(): void {
  const found = violations.splice(0);
  if (found.length > 0) {
    throw new Error(
      `Invariant (promise 1): every order is durable in the ledger before the venue hears of it; broken by ${found.length} call(s):\n  ${found.join('\n  ')}`,
    );
  }
}

// Every test file that imports the scripted venue gets the check after each of its tests, where
// the handler's own error handling cannot swallow it.
afterEach(assertWriteAhead);
