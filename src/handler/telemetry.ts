/**
 * Telemetry: what the handler tells its logger and metrics, observed at two choke points rather
 * than sprinkled through the runtime. Every durable fact passes through the ledger's `commit`
 * (new orders, each recorded change with its from/to and cause, each anomaly), and every venue
 * call through the connector; both are wrapped here when a logger or metrics are asked for, so a
 * handler without them runs exactly the code it ran before.
 */
import type { ExchangeConnector, OrderRef } from '../connector/types.js';
import { LedgerFencedError, PlacementRejectedError } from '../errors.js';
import type { ChangeInput, StrategyLedger } from '../ledger/types.js';
import type { Clock } from '../clock.js';
import type { AnomalyKind, RecoveryReport, ReplyOutcome } from '../types.js';

/** The connector calls that are timed and counted. */
export type VenueCall = 'place' | 'cancel' | 'modify' | 'query';

/** How a venue call ended: answered, refused definitively (an answer too), or failed (outcome unknown). */
export type VenueCallOutcome = 'ok' | 'rejected' | 'failed';

/** What the handler reports; each part (logging, metrics) implements it. */
export interface Telemetry {
  /** An order was recorded (PENDING), durably. */
  orderRecorded(orderId: string, directiveId: string): void;
  /** A change of an order is durable. */
  changed(change: ChangeInput): void;
  /** An anomaly is durable. */
  anomaly(kind: AnomalyKind, reason: string, orderId: string | undefined): void;
  /** A ledger commit of `writes` writes ended after `seconds` (on the injected clock). */
  committed(writes: number, seconds: number): void;
  /** A ledger commit failed (fenced, or a write error); `orderIds` are the orders it carried. */
  commitFailed(orderIds: readonly string[], error: unknown): void;
  /** A connector call ended after `seconds` (on the injected clock). */
  venueCall(call: VenueCall, orderId: string, seconds: number, outcome: VenueCallOutcome, error?: unknown): void;
  /** A venue reply was handled after `seconds` (on the injected clock): applied means durable. */
  replyHandled(outcome: ReplyOutcome['outcome'], seconds: number): void;
  /** The connector reconnected: a reconcile follows. */
  reconnected(): void;
  /** A recover() or reconcile() finished. */
  reconciled(kind: 'recover' | 'reconcile', report: RecoveryReport): void;
  /** Background work was dropped beyond its bound; the order is asked about by the next reconcile. */
  dropped(orderId: string | undefined, error: unknown): void;
}

/** One telemetry that tells each of `parts`. */
export function fanOut(parts: readonly Telemetry[]): Telemetry {
  if (parts.length === 1) return parts[0]!;
  return {
    orderRecorded: (...a) => {
      for (const p of parts) p.orderRecorded(...a);
    },
    changed: (...a) => {
      for (const p of parts) p.changed(...a);
    },
    anomaly: (...a) => {
      for (const p of parts) p.anomaly(...a);
    },
    committed: (...a) => {
      for (const p of parts) p.committed(...a);
    },
    commitFailed: (...a) => {
      for (const p of parts) p.commitFailed(...a);
    },
    venueCall: (...a) => {
      for (const p of parts) p.venueCall(...a);
    },
    replyHandled: (...a) => {
      for (const p of parts) p.replyHandled(...a);
    },
    reconnected: () => {
      for (const p of parts) p.reconnected();
    },
    reconciled: (...a) => {
      for (const p of parts) p.reconciled(...a);
    },
    dropped: (...a) => {
      for (const p of parts) p.dropped(...a);
    },
  };
}

/**
 * The ledger, its `commit` observed: timed on `clock`, its batch size counted, and once durable
 * each new order, change and anomaly it carried told to `t` (a failed commit told with its orders).
 * A Proxy, so every other method and property is the ledger's own (bound to it: ledgers may keep
 * private fields).
 */
export function observedLedger(ledger: StrategyLedger, clock: Clock, t: Telemetry): StrategyLedger {
  const bound = new Map<PropertyKey, unknown>();
  const commit: StrategyLedger['commit'] = async (writes) => {
    const started = clock.now();
    try {
      await ledger.commit(writes);
    } catch (err) {
      t.commitFailed(orderIdsOf(writes), err);
      throw err;
    }
    t.committed(writes.length, (clock.now() - started) / 1000);
    for (const w of writes) {
      if (w.kind === 'change') t.changed(w);
      else if (w.kind === 'anomaly') t.anomaly(w.anomaly.kind, w.anomaly.reason, w.anomaly.orderId);
      else if (w.kind === 'order') t.orderRecorded(w.order.orderId, w.order.directiveId);
    }
  };
  return new Proxy(ledger, {
    get(target, prop) {
      if (prop === 'commit') return commit;
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let fn = bound.get(prop);
      if (fn === undefined) {
        fn = (value as (...args: unknown[]) => unknown).bind(target);
        bound.set(prop, fn);
      }
      return fn;
    },
  });
}

function orderIdsOf(writes: Parameters<StrategyLedger['commit']>[0]): string[] {
  const ids = new Set<string>();
  for (const w of writes) {
    if (w.kind === 'order') ids.add(w.order.orderId);
    else if (w.kind === 'anomaly') {
      if (w.anomaly.orderId !== undefined) ids.add(w.anomaly.orderId);
    } else ids.add(w.orderId);
  }
  return [...ids];
}

/**
 * The connector, its four order calls timed on `clock` and their outcomes told to `t`. Optional
 * members stay absent when the connector lacks them (the handler tests `modifyOrder`'s presence).
 */
export function observedConnector(connector: ExchangeConnector, clock: Clock, t: Telemetry): ExchangeConnector {
  const timed = async <T>(call: VenueCall, ref: OrderRef, run: () => Promise<T>): Promise<T> => {
    const started = clock.now();
    try {
      const result = await run();
      t.venueCall(call, ref.clientOrderId, (clock.now() - started) / 1000, 'ok');
      return result;
    } catch (err) {
      t.venueCall(call, ref.clientOrderId, (clock.now() - started) / 1000, outcomeOf(err), err);
      throw err;
    }
  };
  const modifyOrder = connector.modifyOrder?.bind(connector);
  return {
    placeOrder: (order) => timed('place', order, () => connector.placeOrder(order)),
    cancelOrder: (ref) => timed('cancel', ref, () => connector.cancelOrder(ref)),
    queryOrder: (ref) => timed('query', ref, () => connector.queryOrder(ref)),
    ...(modifyOrder === undefined
      ? {}
      : { modifyOrder: (ref, changes) => timed('modify', ref, () => modifyOrder(ref, changes)) }),
    ...(connector.onReply === undefined ? {} : { onReply: connector.onReply.bind(connector) }),
    ...(connector.onReconnect === undefined ? {} : { onReconnect: connector.onReconnect.bind(connector) }),
  };
}

function outcomeOf(err: unknown): VenueCallOutcome {
  const definitive =
    err instanceof PlacementRejectedError || (err as Error | undefined)?.name === 'PlacementRejectedError';
  return definitive ? 'rejected' : 'failed';
}

/** True for the error a ledger throws once another process owns the strategy. */
export function isFenced(err: unknown): boolean {
  return err instanceof LedgerFencedError || (err as Error | undefined)?.name === 'LedgerFencedError';
}
