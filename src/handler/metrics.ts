/**
 * Prometheus metrics of a handler, with prom-client, loaded only when metrics are asked for (the
 * package root does not load prom-client, as it does not load a database driver). Label sets are
 * bounded: statuses, from/to pairs of statuses, call names and anomaly kinds, never an order id.
 * Durations are measured on the handler's clock, so under a manual clock they are virtual time.
 */
import type { Registry } from 'prom-client';
import type { ChangeInput } from '../ledger/types.js';
import { ORDER_STATUSES, type AnomalyKind, type OrderStatus } from '../types.js';
import type { Telemetry, VenueCall, VenueCallOutcome } from './telemetry.js';

/** The `metrics` option: `true` for a registry the handler creates, or the registry to register on. */
export type MetricsOption = true | { registry?: Registry };

/** What the gauges read when scraped (nothing is counted on the hot path for them). */
export interface MetricsSources {
  /** The orders the handler's cache holds (every open order, and recent final ones). */
  orders(): readonly { status: OrderStatus }[];
  liveActors(): number;
  heldReplies(): number;
}

/** Prefix of every metric name. */
const PREFIX = 'execution_handler_';

/**
 * Registers the handler's metrics on the option's registry (or a new one) and returns the
 * telemetry that feeds them. Two handlers cannot share a registry (their names would collide):
 * give each its own and merge them with `Registry.merge`, after `setDefaultLabels({ strategy })`.
 */
export async function metricsTelemetry(
  option: MetricsOption,
  sources: MetricsSources,
): Promise<{ registry: Registry; telemetry: Telemetry }> {
  const prom = await import('prom-client');
  const registry = option === true || option.registry === undefined ? new prom.Registry() : option.registry;
  const registers = [registry];
  new prom.Gauge({
    name: `${PREFIX}orders`,
    help: 'Orders in the handler cache by status (every open order, and the most recent final ones).',
    labelNames: ['status'],
    registers,
    collect() {
      const counts = new Map<OrderStatus, number>(ORDER_STATUSES.map((s) => [s, 0]));
      for (const o of sources.orders()) counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
      for (const [status, n] of counts) this.set({ status }, n);
    },
  });
  new prom.Gauge({
    name: `${PREFIX}live_actors`,
    help: 'Order actors in memory.',
    registers,
    collect() {
      this.set(sources.liveActors());
    },
  });
  new prom.Gauge({
    name: `${PREFIX}held_replies`,
    help: 'Replies held while the ACCEPTED naming their venue order id has not arrived.',
    registers,
    collect() {
      this.set(sources.heldReplies());
    },
  });
  const transitions = new prom.Counter({
    name: `${PREFIX}transitions_total`,
    help: 'Recorded changes of orders, by status before and after (a fill that keeps the status counts too).',
    labelNames: ['from', 'to'],
    registers,
  });
  const commitSeconds = new prom.Histogram({
    name: `${PREFIX}commit_seconds`,
    help: 'Ledger commit latency, on the handler clock.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const commitBatch = new prom.Histogram({
    name: `${PREFIX}commit_batch_size`,
    help: 'Writes per ledger commit the handler makes.',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024],
    registers,
  });
  const venueSeconds = new prom.Histogram({
    name: `${PREFIX}venue_call_seconds`,
    help: 'Venue call latency by call (place, cancel, modify, query), on the handler clock.',
    labelNames: ['call'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const venueFailures = new prom.Counter({
    name: `${PREFIX}venue_call_failures_total`,
    help: 'Venue calls that failed with their outcome unknown, by call (a definitive rejection is an answer, not counted).',
    labelNames: ['call'],
    registers,
  });
  const replySeconds = new prom.Histogram({
    name: `${PREFIX}reply_seconds`,
    help: 'Venue reply handling latency by outcome, on the handler clock: for applied, from receipt to the durable event.',
    labelNames: ['outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const anomalies = new prom.Counter({
    name: `${PREFIX}anomalies_total`,
    help: 'Anomalies recorded, by kind.',
    labelNames: ['kind'],
    registers,
  });
  // Children cached by label values: prom-client hashes a label object on every call otherwise.
  const transitionOf = new Map<string, { inc(): void }>();
  const anomalyOf = new Map<string, { inc(): void }>();
  const seconds = new Map<VenueCall, { observe(v: number): void }>();
  const failures = new Map<VenueCall, { inc(): void }>();
  const replies = new Map<string, { observe(v: number): void }>();
  for (const outcome of ['applied', 'duplicate', 'held', 'anomaly'] as const) {
    replies.set(outcome, replySeconds.labels(outcome));
  }
  for (const call of ['place', 'cancel', 'modify', 'query'] as const) {
    seconds.set(call, venueSeconds.labels(call));
    failures.set(call, venueFailures.labels(call));
    venueFailures.labels(call).inc(0); // shown at 0 before the first failure
  }
  const telemetry: Telemetry = {
    orderRecorded() {},
    changed(c: ChangeInput) {
      const key = `${c.from}>${c.to}`;
      let child = transitionOf.get(key);
      if (child === undefined) {
        child = transitions.labels(c.from, c.to);
        transitionOf.set(key, child);
      }
      child.inc();
    },
    anomaly(kind: AnomalyKind) {
      let child = anomalyOf.get(kind);
      if (child === undefined) {
        child = anomalies.labels(kind);
        anomalyOf.set(kind, child);
      }
      child.inc();
    },
    committed(writes, s) {
      commitSeconds.observe(s);
      commitBatch.observe(writes);
    },
    commitFailed() {},
    venueCall(call: VenueCall, _orderId: string, s: number, outcome: VenueCallOutcome) {
      seconds.get(call)!.observe(s);
      if (outcome === 'failed') failures.get(call)!.inc();
    },
    replyHandled(outcome, s) {
      replies.get(outcome)?.observe(s);
    },
    reconnected() {},
    reconciled() {},
    dropped() {},
  };
  return { registry, telemetry };
}
