/**
 * Options of `createExecutionHandler` and their defaults (contract section 5).
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { OrderTiming } from '../../machines/order-protocol.js';
import type { StrategyCache } from '../cache.js';
import type { Clock } from '../clock.js';
import type { ExchangeConnector } from '../connector/types.js';
import type { StrategyLedger } from '../ledger/types.js';
import type { RandomSource } from '../random.js';
import type { HandlerLogger } from './logging.js';
import type { MetricsOption } from './metrics.js';
import type { Telemetry } from './telemetry.js';

/** XState v5 inspection observer, passed to every order actor. */
export type InspectionObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** Everything a handler is made of. */
export interface HandlerOptions {
  /** One handler, ledger scope and cache per strategy. */
  strategyId: string;
  connector: ExchangeConnector;
  ledger: StrategyLedger;
  /** Default: a new one for this handler. */
  cache?: StrategyCache;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: crypto-strong. */
  random?: RandomSource;
  /** Default 10,000. */
  ackTimeoutMs?: number;
  /** Default 10,000. */
  cancelTimeoutMs?: number;
  /** Default 10,000: a modify unanswered this long is asked about (section 4b). */
  modifyTimeoutMs?: number;
  /** Default 2,000. */
  queryIntervalMs?: number;
  /** Default 5. */
  queryRetries?: number;
  /** Default 2: placement retried with the same client order id, backing off. */
  placeRetries?: number;
  inspect?: InspectionObserver;
  /**
   * `recover()` also asks the venue about orders that ended this long before it (their last fills
   * may have died with the process). Default 60,000; the venue's rate limits bound how far back
   * this is worth going (NautilusTrader calls it the reconciliation lookback).
   */
  recoverLookbackMs?: number;
  /**
   * Background works (a pushed reply, a placement result, a query answer, a wake-up) that may wait
   * to be tried again after a failed ledger write, every `queryIntervalMs`. Beyond it a failed work
   * is dropped, reported to `onError`, and its order asked about by the next `reconcile()` (the
   * venue tells again what the work carried). Default `BOUNDS.retriesWaiting` (10,000).
   */
  maxRetriesWaiting?: number;
  /**
   * Errors of background work that no caller awaits (a reply pushed by the connector whose ledger
   * write failed, the next order of a SEQUENTIAL directive that could not be recorded). Default:
   * a process warning.
   */
  onError?: (error: unknown) => void;
  /**
   * A pino-compatible logger (`child`, `debug`, `info`, `warn`, `error`); the handler logs to a
   * child bound to `{ strategyId }`. Default: silent.
   */
  logger?: HandlerLogger;
  /**
   * Prometheus metrics (prom-client, loaded only then): `true` for a registry the handler creates,
   * or `{ registry }` to register on yours. Either way it is `handler.metrics`. Default: none.
   */
  metrics?: MetricsOption;
}

/** The options with every default filled in. */
export type ResolvedOptions = Required<Omit<HandlerOptions, 'cache' | 'inspect' | 'logger' | 'metrics'>> &
  Pick<HandlerOptions, 'cache' | 'inspect'> & {
    /** The timing options every order machine decides with (one shared object). */
    timing: OrderTiming;
    /** Where logs and metrics are told what happens; absent when neither was asked for. */
    telemetry?: Telemetry;
  };

/** Capacities of the handler's memories of the past (each a stated bound). */
export const BOUNDS = {
  /** Reply keys remembered per live order, for exact-repeat detection. */
  replyKeysPerOrder: 64,
  /** Venue ids with replies held while their ACCEPTED has not arrived. */
  heldVenueIds: 10_000,
  /** Replies held per unknown venue id. */
  heldPerVenueId: 64,
  /** Venue ids whose held replies expired, remembered so a late pairing triggers a query. */
  expiredVenueIds: 10_000,
  /**
   * Venue id → OrderID pairings of orders no longer live, as many as the cache keeps final orders:
   * a reply naming only the venue id of an order older than that is held, then UNKNOWN_ORDER.
   */
  retiredVenueIds: 10_000,
  /** Directives remembered for idempotency after all their orders ended (the ledger knows older ones). */
  finishedDirectives: 10_000,
  /**
   * Reply keys of released orders, kept for as many orders as the cache keeps final ones: an exact
   * repeat of a reply that only raised an anomaly (not in the ledger's changes) is still a duplicate.
   */
  retiredReplyKeys: 10_000,
  /** Orders that ended since the last reconcile, queried by the next one (a fill may have been missed). */
  recentlyEnded: 10_000,
  /** Concurrent venue queries of one reconcile. */
  reconcileConcurrency: 16,
  /**
   * Background works (a pushed reply, a placement result, a query answer, a wake-up) waiting to be
   * tried again after a failed ledger write. Beyond it a failed work is dropped and its order is
   * asked about by the next reconcile (the venue tells again what the work carried).
   */
  retriesWaiting: 10_000,
} as const;
