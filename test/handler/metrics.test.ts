/**
 * The `metrics` option: after a scripted scenario on the manual clock (two orders, a fill, a
 * cancel, an overfill, a failed query, a failed placement), the Prometheus scrape of
 * `handler.metrics` holds the expected counts per metric and label, every label set is bounded
 * (statuses, calls, anomaly kinds: never an order id), a registry the user passes is the one
 * used, logger and metrics together both hear everything, and without the option there is no
 * registry.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ORDER_STATUSES } from '../../src/types.js';
import { capturingLogger } from '../support/capturing-logger.js';
import { harness, limit } from '../support/harness.js';

/** The value of `name{labels}` in a scrape (exact label text), or undefined. */
function sample(scrape: string, series: string): number | undefined {
  const line = scrape.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics: a Prometheus registry of the handler', () => {
  it('counts a scripted scenario exactly, with bounded labels', async () => {
    const h = await harness({ metrics: true });
    const registry = h.handler.metrics!;
    expect(registry).toBeDefined();
    h.venue.placeScript = ['fail', { venueOrderId: 'V1' }];
    const id = await h.place(limit('2', '100'));
    await h.advance(500);
    await h.reply({ type: 'FILL', clientOrderId: id, venueFillId: 'F1', quantity: '1', price: '100', at: 1 });
    await h.handler.cancel(id);
    await h.advance(0);
    await h.reply({ type: 'CANCELLED', clientOrderId: id, at: 2 });
    await h.reply({ type: 'FILL', clientOrderId: id, venueFillId: 'F9', quantity: '5', price: '100', at: 3 });
    h.venue.placeScript = [{}];
    const lost = await h.place();
    h.venue.queryScript.set(lost, [
      'fail',
      { clientOrderId: lost, venueOrderId: 'V2', status: 'OPEN', filledQuantity: '0' } as never,
    ]);
    await h.advance(1_000);
    await h.advance(100);
    expect(h.status(lost)).toBe('OPEN');

    const scrape = await registry.metrics();
    const p = 'execution_handler_';
    expect(sample(scrape, `${p}transitions_total{from="PENDING",to="OPEN"}`)).toBe(2);
    expect(sample(scrape, `${p}transitions_total{from="OPEN",to="PARTIALLY_FILLED"}`)).toBe(1);
    expect(sample(scrape, `${p}transitions_total{from="PARTIALLY_FILLED",to="CANCEL_PENDING"}`)).toBe(1);
    expect(sample(scrape, `${p}transitions_total{from="CANCEL_PENDING",to="CANCELLED"}`)).toBe(1);
    expect(sample(scrape, `${p}transitions_total{from="CANCELLED",to="FILLED"}`)).toBe(1);
    expect(sample(scrape, `${p}anomalies_total{kind="OVERFILL"}`)).toBe(1);
    expect(sample(scrape, `${p}orders{status="OPEN"}`)).toBe(1);
    expect(sample(scrape, `${p}orders{status="FILLED"}`)).toBe(1);
    expect(sample(scrape, `${p}orders{status="PENDING"}`)).toBe(0);
    expect(sample(scrape, `${p}live_actors`)).toBe(1);
    expect(sample(scrape, `${p}held_replies`)).toBe(0);
    // Replies the test delivered: FILL, CANCELLED (applied), the overfilling FILL (applied, with its anomaly).
    expect(sample(scrape, `${p}reply_seconds_count{outcome="applied"}`)).toBe(3);
    expect(sample(scrape, `${p}reply_seconds_sum{outcome="applied"}`)).toBe(0);
    expect(sample(scrape, `${p}venue_call_failures_total{call="place"}`)).toBe(1);
    expect(sample(scrape, `${p}venue_call_failures_total{call="query"}`)).toBe(1);
    expect(sample(scrape, `${p}venue_call_failures_total{call="cancel"}`)).toBe(0);
    expect(sample(scrape, `${p}venue_call_seconds_count{call="place"}`)).toBe(3);
    expect(sample(scrape, `${p}venue_call_seconds_count{call="query"}`)).toBe(2);
    expect(sample(scrape, `${p}venue_call_seconds_count{call="cancel"}`)).toBe(1);
    // Every commit is timed and sized; on the manual clock a commit takes no virtual time.
    const commits = sample(scrape, `${p}commit_seconds_count`)!;
    expect(commits).toBeGreaterThanOrEqual(8);
    expect(sample(scrape, `${p}commit_seconds_sum`)).toBe(0);
    expect(sample(scrape, `${p}commit_batch_size_count`)).toBe(commits);
    expect(sample(scrape, `${p}commit_batch_size_sum`)!).toBeGreaterThanOrEqual(commits);

    // Bounded labels: statuses, calls and anomaly kinds only.
    const json = await registry.getMetricsAsJSON();
    const allowed: Record<string, readonly string[]> = {
      status: ORDER_STATUSES,
      from: ORDER_STATUSES,
      to: ORDER_STATUSES,
      call: ['place', 'cancel', 'modify', 'query'],
      outcome: ['applied', 'duplicate', 'held', 'anomaly'],
      kind: [
        'MALFORMED_REPLY',
        'UNKNOWN_ORDER',
        'LATE_REPLY',
        'OVERFILL',
        'CONFLICTING_FILL',
        'CANCEL_UNCONFIRMED',
        'MODIFY_UNCONFIRMED',
        'VENUE_LOST_ORDER',
      ],
    };
    for (const metric of json) {
      expect(metric.name.startsWith(p)).toBe(true);
      for (const v of metric.values) {
        for (const [label, value] of Object.entries(v.labels)) {
          if (label === 'le') continue; // histogram buckets
          expect(allowed[label], `${metric.name}{${label}}`).toContain(value);
        }
      }
    }
    expect(scrape).not.toContain(id);
    await h.handler.stop();
  });

  it('registers on the registry the user passes, and none without the option', async () => {
    const registry = new Registry();
    const h = await harness({ metrics: { registry } });
    expect(h.handler.metrics).toBe(registry);
    expect(await registry.getSingleMetric('execution_handler_live_actors')?.get()).toMatchObject({
      values: [{ value: 0 }],
    });
    await h.handler.stop();
    const plain = await harness();
    expect(plain.handler.metrics).toBeUndefined();
  });

  it('feeds the logger and the metrics alike when both are asked for', async () => {
    const log = capturingLogger();
    const h = await harness({ metrics: true, logger: log });
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    const scrape = await h.handler.metrics!.metrics();
    expect(sample(scrape, 'execution_handler_transitions_total{from="PENDING",to="OPEN"}')).toBe(1);
    expect(log.entries.filter((e) => e.message === 'transition' && e.fields.to === 'OPEN')).toHaveLength(1);
    await h.handler.stop();
  });
});
