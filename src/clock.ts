/**
 * The time seam: every deadline, latency and timestamp of the handler and the simulated venue
 * goes through a `Clock`, so a test or a simulation drives time itself.
 */

/** A source of time and timers. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs `fn` after `ms` milliseconds of this clock; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer; unknown or fired handles are ignored. */
  clearTimeout(handle: unknown): void;
}

/** The wall clock of the process. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, Math.max(0, ms)),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** A clock that moves only when told to. */
export interface ManualClock extends Clock {
  /**
   * Moves time forward by `ms`, firing due timers in time order (ties in creation order). After
   * each timer, and once at the end, pending promise callbacks run, so work started by a timer
   * (a reply from a zero-latency venue, a ledger write) completes before the next one fires.
   */
  advance(ms: number): Promise<void>;
  /** How many timers are waiting. */
  pendingTimers(): number;
}

interface Timer {
  id: number;
  dueAt: number;
  fn: () => void;
}

/** Earlier due time first; ties in creation order, so runs are reproducible. */
function before(a: Timer, b: Timer): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.id < b.id);
}

/** A binary min-heap of timers: firing stays O(log n) with thousands of live orders. */
class TimerHeap {
  private readonly items: Timer[] = [];

  peek(): Timer | undefined {
    return this.items[0];
  }

  push(t: Timer): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  /** Keeps only the timers `keep` accepts, restoring the heap order. */
  retain(keep: (t: Timer) => boolean): void {
    const kept = this.items.filter(keep);
    this.items.length = 0;
    for (const t of kept) this.push(t);
  }

  pop(): Timer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Lets every queued promise callback run: one macrotask turn drains the microtask queue. */
function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A manual clock starting at `startMs`, for tests and deterministic simulation. */
export function createManualClock(startMs: number): ManualClock {
  let now = startMs;
  let nextId = 1;
  const heap = new TimerHeap();
  /**
   * Callbacks of timers not yet fired nor cleared. Clearing drops the callback at once (so what it
   * holds can be collected); the heap keeps only an id and a time, skipped when popped, and is
   * rebuilt when cleared entries outnumber live ones.
   */
  const live = new Map<number, () => void>();
  let dead = 0;

  const popDue = (limit: number): Timer | undefined => {
    for (let t = heap.peek(); t && t.dueAt <= limit; t = heap.peek()) {
      heap.pop();
      const fn = live.get(t.id);
      if (fn) {
        live.delete(t.id);
        return { ...t, fn };
      }
      dead--;
    }
    return undefined;
  };

  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      live.set(id, fn);
      heap.push({ id, dueAt: now + Math.max(0, ms), fn: noop });
      return id;
    },
    clearTimeout(handle) {
      if (live.delete(handle as number) && ++dead > live.size + 1024) {
        heap.retain((t) => live.has(t.id));
        dead = 0;
      }
    },
    pendingTimers: () => live.size,
    async advance(ms) {
      const target = now + Math.max(0, ms);
      await flushPromises();
      for (let t = popDue(target); t; t = popDue(target)) {
        now = Math.max(now, t.dueAt);
        t.fn();
        await flushPromises();
      }
      now = target;
      await flushPromises();
    },
  };
}

const noop = (): void => {};
