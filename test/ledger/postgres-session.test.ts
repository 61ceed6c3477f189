/**
 * The handler end to end on the PostgreSQL ledger: a simulated session with venue faults keeps
 * every promise and converges with the venue, as on the memory and SQLite ledgers. (Crash-restarts
 * on PostgreSQL are real processes in test/failover: the simulation's in-process restart cannot
 * model a death that cuts off a commit still in flight on the server.)
 */
import { describe, expect, inject, it } from 'vitest';
import { connectPostgresLedger } from '../../src/ledger/postgres.js';
import { auditAgainstVenue } from '../../src/sim/audit.js';
import { runSession } from '../../src/sim/session.js';

describe('a session on the PostgreSQL ledger', () => {
  it('keeps every promise through venue faults and converges with the venue', async () => {
    const ledger = await connectPostgresLedger(inject('postgresUrl'), {
      strategyId: 'PG_SESSION',
      schema: `eh_session_${process.pid}`,
    });
    const r = await runSession({
      orders: 150,
      seed: 7,
      ledger,
      strategyId: 'PG_SESSION',
      faults: { dropRate: 0.1, duplicateRate: 0.2, reorderRate: 0.1, delayRate: 0.1, lostAckRate: 0.1 },
      // Each 50 ms of virtual time waits 2 ms of real time for the server's commits.
      realIo: () => new Promise((ok) => setTimeout(ok, 2)),
    });
    // Virtual time runs ahead of the database's real I/O: give the last writes a moment to land.
    let problems = await auditAgainstVenue(ledger, r.exchange, { converged: true });
    for (let i = 0; i < 50 && problems.length > 0; i++) {
      await new Promise((ok) => setTimeout(ok, 100));
      problems = await auditAgainstVenue(ledger, r.exchange, { converged: true });
    }
    console.log(`postgres session: ${r.orderIds.length} orders, ${r.fills} fills, ${JSON.stringify(r.byStatus)}`);
    expect(problems, 'seed 7').toEqual([]);
    expect(r.byStatus.FILLED).toBeGreaterThan(10);
    await r.handler.stop();
    await ledger.close();
  });
});
