/**
 * A fault-free session against the simulated venue converges without a single anomaly and keeps
 * every promise, promise 7's bound and the modify protocol's included (the engine modifies some of
 * its orders; the faulty seeds are in seeds-1/seeds-2.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { auditAgainstVenue } from '../../src/sim/audit.js';
import { convergenceWatch } from '../../src/sim/convergence.js';
import { auditModifies, emptyModifyTally } from '../../src/sim/modify-audit.js';
import { runSession, sessionTiming } from '../../src/sim/session.js';

describe('simulated sessions', () => {
  it('a fault-free session converges and keeps every promise', async () => {
    const watch = convergenceWatch(sessionTiming());
    const r = await runSession({ orders: 200, seed: 1, convergence: watch });
    const views = (id: string) => r.handler.order(id);
    const problems = await auditAgainstVenue(r.ledger, r.exchange, { converged: true, views });
    expect(problems, 'seed 1').toEqual([]);
    expect(watch.findings.problems, 'seed 1, promise 7 bound').toEqual([]);
    expect(watch.findings.checked, 'orders checked against the bound').toBeGreaterThan(0);
    expect(r.byStatus.FILLED).toBeGreaterThan(20);
    expect(r.anomalies).toEqual({});
    const tally = emptyModifyTally();
    const modifyProblems = await auditModifies({ ledger: r.ledger, venue: r.exchange, engine: r.engine, tally });
    expect(modifyProblems, 'seed 1, modify protocol').toEqual([]);
    expect(tally.venueApplied, 'modifies the venue applied').toBeGreaterThan(0);
    expect(r.handler.stats().liveActors).toBe(0);
  });
});
