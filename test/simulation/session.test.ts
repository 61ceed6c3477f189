/**
 * Deterministic simulation: whole sessions against the simulated venue with its faults switched on,
 * then healed; after each, the promises of contract section 8 are checked against the venue's own
 * truth. Each run prints its seed; a failing seed is a regression to replay.
 */
import { describe, expect, it } from 'vitest';
import { runSession } from '../../src/sim/session.js';
import { auditAgainstVenue } from '../../src/sim/audit.js';

const FAULTS = {
  dropRate: 0.1,
  duplicateRate: 0.2,
  reorderRate: 0.2,
  delayRate: 0.05,
  delayMsMax: 15_000,
  lostAckRate: 0.2,
  placeErrorRate: 0.1,
  queryErrorRate: 0.2,
  queryHangRate: 0.05,
  cancelErrorRate: 0.1,
  venueIdOnlyRate: 0.3,
};

describe('simulated sessions', () => {
  it('a fault-free session converges and keeps every promise', async () => {
    const r = await runSession({ orders: 200, seed: 1 });
    const problems = await auditAgainstVenue(r.ledger, r.exchange, { converged: true });
    expect(problems, 'seed 1').toEqual([]);
    expect(r.byStatus.FILLED).toBeGreaterThan(20);
    expect(r.anomalies).toEqual({});
  });

  for (const seed of [2, 3, 4, 5, 6]) {
    it(`seed ${seed}: a faulty venue, healed, converges and keeps every promise`, async () => {
      console.log(`simulation seed ${seed}`);
      const r = await runSession({ orders: 150, seed, faults: FAULTS });
      const problems = await auditAgainstVenue(r.ledger, r.exchange, { converged: true });
      expect(problems, `seed ${seed}`).toEqual([]);
      expect(r.venue.repliesDropped).toBeGreaterThan(0);
      expect(r.duplicatesDropped).toBeGreaterThan(0);
      expect(r.handler.stats().liveActors).toBe(0);
    });
  }
});
