/**
 * The inspector's `/metrics`: given a handler's registry it serves the Prometheus text scrape,
 * under the same rules as every route (beyond loopback: 401 without the token, the security
 * headers on every answer), and without a registry `/metrics` does not exist.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createSimulatedExchange } from '../../src/connector/simulated.js';
import { createExecutionHandler } from '../../src/handler/create.js';
import { type Inspector, startInspector } from '../../src/inspector/server.js';
import { createMemoryLedger } from '../../src/ledger/memory.js';
import { seededRandom } from '../../src/random.js';
import { chain, limit } from '../support/harness.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function served(withMetrics: boolean): Promise<Inspector> {
  const clock = createManualClock(Date.UTC(2026, 0, 5, 9));
  const ledger = createMemoryLedger({ strategyId: 'M' });
  const venue = createSimulatedExchange({ clock, seed: 3, fillProbability: 0.5 });
  const handler = await createExecutionHandler({
    strategyId: 'M',
    connector: venue,
    ledger,
    clock,
    random: seededRandom(9),
    metrics: true,
  });
  for (let i = 0; i < 5; i++) {
    await handler.execute({ directiveId: `DIR_${i}`, causality: chain(), orders: [limit('1', '60000')] });
    await clock.advance(50);
  }
  await clock.advance(1_000);
  const inspector = await startInspector({
    ledger,
    port: 0,
    exposeOnNetwork: true,
    ...(withMetrics ? { metrics: handler.metrics! } : {}),
  });
  stops.push(async () => {
    await inspector.close();
    await handler.stop();
  });
  return inspector;
}

describe('inspector /metrics', () => {
  it('serves the scrape with the token, refuses it without, with the security headers either way', async () => {
    const inspector = await served(true);
    const url = `${inspector.url}metrics`;
    const refused = await fetch(url);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
    const ok = await fetch(url, { headers: { authorization: `Bearer ${inspector.token}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    const text = await ok.text();
    expect(text).toMatch(/^execution_handler_transitions_total\{from="PENDING",to="OPEN"\} 5$/m);
    expect(text).toMatch(/^execution_handler_live_actors \d+$/m);
  });

  it('has no /metrics without a registry', async () => {
    const inspector = await served(false);
    const res = await fetch(`${inspector.url}metrics`, { headers: { authorization: `Bearer ${inspector.token}` } });
    expect(res.status).toBe(404);
  });
});
