/**
 * Directives and their batch modes (contract section 3). A run remembers the OrderIDs minted for
 * a directive (its idempotency), which of its orders are recorded, and for SEQUENTIAL whose turn
 * it is. Runs whose orders all ended move to a bounded memory; older ones are found in the ledger.
 */
import type { LedgerOrder, StrategyLedger } from '../ledger/types.js';
import type { BatchMode, CausalityChain, ExecutionDirective, OrderRequest } from '../types.js';
import { BoundedMap } from './bounded.js';
import { hasEnded } from './live-order.js';

/** One directive being (or having been) executed. */
export class DirectiveRun {
  readonly recorded: boolean[];
  /** SEQUENTIAL: no further order of the directive will be placed. */
  stopped = false;
  /** SEQUENTIAL: index of the order whose turn it is. */
  turn = 0;
  /** SEQUENTIAL: orders from this index on are never placed (`cancel()` of an unplaced order). */
  limit: number;

  constructor(
    readonly directiveId: string,
    readonly mode: BatchMode,
    readonly orderIds: readonly string[],
    /** Requests of orders not recorded yet (a recorded order's request lives in the ledger). */
    readonly requests: (OrderRequest | undefined)[],
    readonly causality: CausalityChain,
  ) {
    this.recorded = orderIds.map(() => false);
    this.limit = orderIds.length;
  }

  /** Indexes of the orders to record and place now. */
  placeableNow(): number[] {
    if (this.mode !== 'SEQUENTIAL') return this.orderIds.flatMap((_, i) => (this.recorded[i] ? [] : [i]));
    if (this.stopped || this.turn >= this.limit || this.recorded[this.turn] || !this.requests[this.turn]) return [];
    return [this.turn];
  }

  /** The order at `index` is in the ledger; its request is no longer needed here. */
  markRecorded(index: number): void {
    this.recorded[index] = true;
    this.requests[index] = undefined;
  }

  /** Fills in the requests of orders not recorded yet, from the directive executed again. */
  learnRequests(orders: readonly OrderRequest[]): void {
    orders.forEach((o, i) => {
      if (!this.recorded[i]) this.requests[i] ??= o;
    });
  }

  /**
   * SEQUENTIAL: the order at `index` first ended. Returns the index to place next, if any; a
   * non-FILLED end stops the directive for good.
   */
  advance(index: number, filled: boolean): number | undefined {
    if (this.mode !== 'SEQUENTIAL' || this.stopped || index !== this.turn) return undefined;
    if (!filled || this.turn + 1 >= this.limit) {
      this.stopped = true;
      return undefined;
    }
    this.turn++;
    return this.placeableNow()[0];
  }

  /** Nothing more will be recorded for this run. */
  complete(): boolean {
    if (this.mode !== 'SEQUENTIAL') return this.recorded.every(Boolean);
    return this.stopped || this.recorded.slice(0, this.limit).every(Boolean);
  }
}

/** Every directive the handler remembers. */
export class DirectiveBook {
  private readonly active = new Map<string, DirectiveRun>();
  private readonly finished: BoundedMap<string, DirectiveRun>;

  constructor(finishedCapacity: number) {
    this.finished = new BoundedMap(finishedCapacity);
  }

  get(directiveId: string): DirectiveRun | undefined {
    return this.active.get(directiveId) ?? this.finished.get(directiveId);
  }

  /** A run for a directive never seen: its OrderIDs appended to a copy of the chain. */
  create(directive: ExecutionDirective, orderIds: string[]): DirectiveRun {
    // Object.assign, not spread: V8 gives a spread copy of a parsed chain a hidden class of its own
    // (after the first few), about 380 bytes more per live order (its view holds the same chain).
    const causality: CausalityChain = Object.assign({}, directive.causality, {
      orderIds: [...directive.causality.orderIds, ...orderIds],
    });
    const run = new DirectiveRun(
      directive.directiveId,
      directive.mode ?? 'INDEPENDENT',
      orderIds,
      [...directive.orders],
      causality,
    );
    this.active.set(run.directiveId, run);
    return run;
  }

  /** The run of a directive the ledger knows from before this process (idempotency across restarts). */
  async restore(directive: ExecutionDirective, ledger: StrategyLedger): Promise<DirectiveRun | undefined> {
    const stored = await ledger.getOrdersByDirective(directive.directiveId);
    if (stored.length === 0) return undefined;
    for (const order of stored) this.adopt(order);
    const run = this.get(directive.directiveId)!;
    run.learnRequests(directive.orders);
    return run;
  }

  /** Rebuilds (or completes) the run of a recorded order. */
  adopt(order: LedgerOrder): void {
    let run = this.get(order.directiveId);
    if (!run) {
      // The chain returned by execute() is the order's chain without the order's own fills.
      const own = new Set(order.fills.map((f) => f.fillId));
      const causality = { ...order.causality, fillIds: order.causality.fillIds.filter((id) => !own.has(id)) };
      // execute() appends the directive's OrderIDs at the end of the chain it returns.
      const size = order.batch?.size ?? 1;
      const orderIds = causality.orderIds.slice(causality.orderIds.length - size);
      const mode = order.batch?.mode ?? 'INDEPENDENT';
      run = new DirectiveRun(
        order.directiveId,
        mode,
        orderIds,
        orderIds.map(() => undefined),
        causality,
      );
      this.active.set(run.directiveId, run);
    }
    const index = run.orderIds.indexOf(order.orderId);
    if (index < 0) return;
    run.markRecorded(index);
    if (run.mode === 'SEQUENTIAL' && index >= run.turn) {
      run.turn = index;
      if (hasEnded(order.status)) {
        run.advance(index, order.status === 'FILLED');
      }
    }
  }

  /** `cancel()` of a SEQUENTIAL order not placed yet: the directive stops before it. */
  stopBeforeUnplaced(orderId: string): boolean {
    for (const run of [...this.active.values(), ...this.finished.values()]) {
      const index = run.orderIds.indexOf(orderId);
      if (index >= 0 && run.mode === 'SEQUENTIAL' && !run.recorded[index]) {
        // The orders before it still take their turns; neither it nor any later one is placed.
        run.limit = Math.min(run.limit, index);
        if (run.turn >= run.limit) run.stopped = true;
        return true;
      }
    }
    return false;
  }

  /** `cancelAll()`: no SEQUENTIAL directive places another order. */
  stopAllSequential(): void {
    for (const run of this.active.values()) if (run.mode === 'SEQUENTIAL') run.stopped = true;
  }

  /** Moves a run whose orders all ended and that will record nothing more to bounded memory. */
  settleIfDone(run: DirectiveRun, isLive: (orderId: string) => boolean): void {
    if (!this.active.has(run.directiveId) || !run.complete()) return;
    if (run.orderIds.some((id, i) => run.recorded[i] && isLive(id))) return;
    this.active.delete(run.directiveId);
    this.finished.set(run.directiveId, run);
  }
}
