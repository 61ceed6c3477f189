/**
 * A fault-free session against the simulated venue converges without a single anomaly and keeps
 * every promise (the faulty seeds are in seeds-1/seeds-2.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { auditAgainstVenue } from '../../src/sim/audit.js';
import { runSession } from '../../src/sim/session.js';

describe('simulated sessions', () => {
  it('a fault-free session converges and keeps every promise', async () => {
    const r = await runSession({ orders: 200, seed: 1 });
    const problems = await auditAgainstVenue(r.ledger, r.exchange, { converged: true });
    expect(problems, 'seed 1').toEqual([]);
    expect(r.byStatus.FILLED).toBeGreaterThan(20);
    expect(r.anomalies).toEqual({});
    expect(r.handler.stats().liveActors).toBe(0);
  });
});
