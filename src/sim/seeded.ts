/**
 * Deterministic simulation: one seed draws a whole run (1 to 200 orders, fault rates up to a 30%
 * drop and a 50% duplicate rate, reordering, delays, lost acks, failing and hanging venue calls,
 * cancels, handler crash-restarts from the ledger), runs it, and checks the promises of contract
 * section 8 every few steps, each order against promise 7's bound once the faults stop, and at the
 * end convergence with the venue.
 */
import { seededRandom } from '../random.js';
import { type AuditTally, auditAgainstVenue } from './audit.js';
import { convergenceWatch } from './convergence.js';
import { type SessionOptions, runSession, sessionTiming } from './session.js';

/** The session a seed stands for. */
export function sessionForSeed(seed: number): SessionOptions {
  const r = seededRandom(seed ^ 0x5eed);
  const upTo = (max: number) => Math.round(r() * max * 1000) / 1000;
  return {
    seed,
    orders: 1 + Math.floor(r() * 200),
    faults: {
      dropRate: upTo(0.3),
      duplicateRate: upTo(0.5),
      reorderRate: upTo(0.3),
      delayRate: upTo(0.1),
      delayMsMax: 1_000 + Math.floor(r() * 9_000),
      lostAckRate: upTo(0.3),
      placeErrorRate: upTo(0.2),
      queryErrorRate: upTo(0.3),
      queryHangRate: upTo(0.05),
      cancelErrorRate: upTo(0.2),
      venueIdOnlyRate: upTo(0.5),
    },
    cancelRatePerSecond: upTo(0.3),
    rejectRate: upTo(0.1),
    restartRate: upTo(0.05),
  };
}

/** What one seed's run came to. */
export interface SeedResult {
  seed: number;
  orders: number;
  restarts: number;
  fills: number;
  /** What the final audit counted: venue orders, venue fills and the FILL messages delivered for them. */
  audited: AuditTally;
  /** Orders checked against promise 7's bound. */
  boundChecked: number;
  problems: string[];
}

/** Steps between the promise checks made while faults are on. */
const CHECK_EVERY_STEPS = 10;

/** Runs a seed and checks the promises along the way and at the end. */
export async function runSeed(seed: number): Promise<SeedResult> {
  const options = sessionForSeed(seed);
  const problems: string[] = [];
  const watch = convergenceWatch(sessionTiming(options.timing));
  const result = await runSession({
    ...options,
    convergence: watch,
    onStep: async (step, ledger, exchange, handler) => {
      if (step % CHECK_EVERY_STEPS !== 0) return;
      const views = (id: string) => handler.order(id);
      for (const p of await auditAgainstVenue(ledger, exchange, { converged: false, views }))
        problems.push(`step ${step}: ${p}`);
    },
  });
  problems.push(...watch.findings.problems);
  const audited: AuditTally = {
    orders: 0,
    fillsChecked: 0,
    fillMessages: 0,
    fillRepeats: 0,
    snapshotsChecked: 0,
    viewsChecked: 0,
  };
  const views = (id: string) => result.handler.order(id);
  problems.push(
    ...(await auditAgainstVenue(result.ledger, result.exchange, { converged: true, views, tally: audited })),
  );
  await result.handler.stop();
  return {
    seed,
    orders: result.orderIds.length,
    restarts: result.restarts,
    fills: result.fills,
    audited,
    boundChecked: watch.findings.checked,
    problems,
  };
}
