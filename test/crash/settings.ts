/**
 * What the process tests (crash and failover) share: handler timings short enough for hundreds of
 * short-lived processes, the venue that outlives them, and the last in-process word that recovers,
 * heals and audits (by the contract's table of legal changes and the venue's own record of fills).
 */
import { systemClock } from '../../src/clock.js';
import { type SimulatedExchange, createSimulatedExchange } from '../../src/connector/simulated.js';
import { createExecutionHandler } from '../../src/handler/create.js';
import type { StrategyLedger } from '../../src/ledger/types.js';
import { auditAgainstVenue } from '../../src/sim/audit.js';
import type { RecoveryReport } from '../../src/types.js';

/** Handler timings of every process test, on the system clock. */
export const PROCESS_TIMING = {
  clock: systemClock,
  ackTimeoutMs: 300,
  cancelTimeoutMs: 300,
  queryIntervalMs: 50,
  queryRetries: 3,
  onError: () => {},
};

/** The venue in the test process: fast, a little faulty, reconnecting after gaps. */
export function outlivingVenue(seed: number): SimulatedExchange {
  return createSimulatedExchange({
    clock: systemClock,
    seed,
    latencyMsMin: 1,
    latencyMsMax: 5,
    matchIntervalMs: 20,
    fillProbability: 0.3,
    gapReconnectMs: 100,
    faults: { duplicateRate: 0.1, reorderRate: 0.1, dropRate: 0.02 },
  });
}

/** The venue heals, a last handler recovers and cancels what rests; the audit's problems. */
export async function lastWord(
  strategyId: string,
  ledger: StrategyLedger,
  venue: SimulatedExchange,
): Promise<{ problems: string[]; report: RecoveryReport; stop: () => Promise<void> }> {
  venue.setFaults({});
  const handler = await createExecutionHandler({
    strategyId,
    connector: venue,
    ledger,
    ...PROCESS_TIMING,
    recoverLookbackMs: 60_000,
  });
  const report = await handler.recover();
  await handler.cancelAll();
  await new Promise((r) => setTimeout(r, 2_500));
  await handler.settle();
  // The last handler's views are audited too: a fill it counted twice shows there even when the
  // ledger's rows (deduplicated by venueFillId) do not.
  const problems = await auditAgainstVenue(ledger, venue, { converged: true, views: (id) => handler.order(id) });
  return { problems, report, stop: () => handler.stop() };
}
