/**
 * `createExecutionHandler`: the public face of the supervisor (contract section 5).
 */
import type { StrategyCache } from '../cache.js';
import { systemClock } from '../clock.js';
import { cryptoRandom } from '../random.js';
import type {
  CausalityChain,
  ExecutionDirective,
  ModifyChanges,
  OrderStatus,
  OrderView,
  RecoveryReport,
  ReplyOutcome,
} from '../types.js';
import { ValidationError } from '../errors.js';
import type { Registry } from 'prom-client';
import { loggingTelemetry } from './logging.js';
import { metricsTelemetry } from './metrics.js';
import { BOUNDS, type HandlerOptions, type ResolvedOptions } from './options.js';
import { Supervisor } from './supervisor.js';
import { type Telemetry, fanOut, observedConnector, observedLedger } from './telemetry.js';

/** A running handler for one strategy. */
export interface ExecutionHandler {
  /** Validates, mints OrderIDs, records the orders durably, then places them. Idempotent per directiveId. */
  execute(directive: ExecutionDirective): Promise<{ orderIds: string[]; causality: CausalityChain }>;
  /** Applies a venue reply; never throws on bad input (rejects only when the ledger write failed). */
  onExchangeReply(reply: unknown): Promise<ReplyOutcome>;
  /** True while a cancel is, or is now, outstanding; false when the order is final or unknown. */
  cancel(orderId: string): Promise<boolean>;
  /**
   * Modifies a working order's quantity (the new total), price and/or stopPrice (section 4b): true
   * when a modify is now outstanding, false for an unknown order or one not OPEN or
   * PARTIALLY_FILLED. Throws `ValidationError` for malformed changes and
   * `ModifyUnsupportedError` when the connector cannot modify.
   */
  modify(orderId: string, changes: ModifyChanges, cause?: string): Promise<boolean>;
  /** Emergency stop: the ids it moved to CANCEL_PENDING. */
  cancelAll(): Promise<string[]>;
  /** The order's view, from the StrategyCache. */
  order(orderId: string): OrderView | undefined;
  /** Views in the cache, optionally filtered by status. */
  orders(filter?: { status?: OrderStatus[] }): OrderView[];
  /** Rebuilds open orders from the ledger, then reconciles them with the venue. */
  recover(): Promise<RecoveryReport>;
  /** Asks the venue about every open order and applies the answers. */
  reconcile(): Promise<RecoveryReport>;
  /** Resolves when no ledger write, venue call or reply is in flight. */
  settle(): Promise<void>;
  stop(): Promise<void>;
  /** The Prometheus registry of the handler's metrics, when the `metrics` option asked for them. */
  readonly metrics: Registry | undefined;
  /** The StrategyCache this handler fills. */
  readonly cache: StrategyCache;
  /**
   * Counters for tools: replies applied, duplicates dropped, anomalies recorded, live actors, and
   * background works waiting to be retried after a failed ledger write.
   */
  stats(): {
    repliesApplied: number;
    repliesDuplicate: number;
    anomalies: number;
    liveActors: number;
    retriesWaiting: number;
  };
}

const positive = (name: string, value: number | undefined, fallback: number, min = 1): number => {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min || !Number.isInteger(v)) {
    throw new ValidationError(name, `must be an integer >= ${min}, got ${String(value)}`);
  }
  return v;
};

/** Creates the handler of one strategy. */
export async function createExecutionHandler(options: HandlerOptions): Promise<ExecutionHandler> {
  if (typeof options?.strategyId !== 'string' || options.strategyId.length === 0) {
    throw new ValidationError('strategyId', 'must be a non-empty string');
  }
  if (!options.connector) throw new ValidationError('connector', 'is required');
  if (!options.ledger) throw new ValidationError('ledger', 'is required');
  const timing = Object.freeze({
    ackTimeoutMs: positive('ackTimeoutMs', options.ackTimeoutMs, 10_000),
    cancelTimeoutMs: positive('cancelTimeoutMs', options.cancelTimeoutMs, 10_000),
    queryIntervalMs: positive('queryIntervalMs', options.queryIntervalMs, 2_000),
    queryRetries: positive('queryRetries', options.queryRetries, 5, 0),
    placeRetries: positive('placeRetries', options.placeRetries, 2, 0),
    modifyTimeoutMs: positive('modifyTimeoutMs', options.modifyTimeoutMs, 10_000),
  });
  const resolved: ResolvedOptions = {
    ...timing,
    timing,
    strategyId: options.strategyId,
    connector: options.connector,
    ledger: options.ledger,
    clock: options.clock ?? systemClock,
    random: options.random ?? cryptoRandom,
    maxRetriesWaiting: positive('maxRetriesWaiting', options.maxRetriesWaiting, BOUNDS.retriesWaiting, 0),
    recoverLookbackMs: positive('recoverLookbackMs', options.recoverLookbackMs, 60_000, 0),
    onError:
      options.onError ??
      ((err: unknown) => process.emitWarning(`execution-handler: ${String(err)}`, 'ExecutionHandlerWarning')),
    ...(options.cache === undefined ? {} : { cache: options.cache }),
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
  };
  // Logs and metrics read the supervisor's state when they speak; it exists by then.
  let s: Supervisor | undefined;
  const parts: Telemetry[] = [];
  if (options.logger) {
    parts.push(loggingTelemetry(options.logger, options.strategyId, (id) => s?.cache.get(id)?.directiveId));
  }
  let registry: Registry | undefined;
  if (options.metrics) {
    const m = await metricsTelemetry(options.metrics, {
      orders: () => s?.cache.list() ?? [],
      liveActors: () => s?.liveCount() ?? 0,
      heldReplies: () => s?.heldReplies() ?? 0,
    });
    registry = m.registry;
    parts.push(m.telemetry);
  }
  if (parts.length > 0) {
    const telemetry = fanOut(parts);
    resolved.telemetry = telemetry;
    resolved.ledger = observedLedger(resolved.ledger, resolved.clock, telemetry);
    resolved.connector = observedConnector(resolved.connector, resolved.clock, telemetry);
  }
  s = new Supervisor(resolved);
  return {
    execute: (d) => s.execute(d),
    onExchangeReply: (r) => s.onExchangeReply(r),
    cancel: (id) => s.cancel(id),
    modify: (id, changes, cause) => s.modify(id, changes, cause),
    cancelAll: () => s.cancelAll(),
    order: (id) => s.cache.get(id),
    orders: (filter) => s.cache.list(filter),
    recover: () => s.recover(),
    reconcile: () => s.reconcile(),
    settle: () => s.settle(),
    stop: () => s.stop(),
    cache: s.cache,
    metrics: registry,
    stats: () => ({ ...s.stats, liveActors: s.liveCount(), retriesWaiting: s.retriesWaiting() }),
  };
}
