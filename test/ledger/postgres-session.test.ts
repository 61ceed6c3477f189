/**
 * The handler end to end on the PostgreSQL ledger: a simulated session with faults and handler
 * crash-restarts (each new handler recovering from the database) keeps every promise and
 * converges with the venue, exactly as on the memory and SQLite ledgers.
 */
import { describe, expect, inject, it } from 'vitest';
import { connectPostgresLedger } from '../../src/ledger/postgres.js';
import { auditAgainstVenue } from '../../src/sim/audit.js';
import { runSession } from '../../src/sim/session.js';

describe('a session on the PostgreSQL ledger', () => {
  it('keeps every promise through faults and restarts and converges with the venue', async () => {
    const ledger = await connectPostgresLedger(inject('postgresUrl'), { strategyId: 'PG_SESSION', schema: `eh_session_${process.pid}` });
    const r = await runSession({
      orders: 150,
      seed: 7,
      ledger,
      strategyId: 'PG_SESSION',
      restartRate: 0.05,
      faults: { dropRate: 0.1, duplicateRate: 0.2, reorderRate: 0.1, delayRate: 0.1, lostAckRate: 0.1 },
    });
    // Virtual time runs ahead of the database's real I/O: give the last writes a moment to land.
    let problems = await auditAgainstVenue(ledger, r.exchange, { converged: true });
    for (let i = 0; i < 50 && problems.length > 0; i++) {
      await new Promise((ok) => setTimeout(ok, 100));
      problems = await auditAgainstVenue(ledger, r.exchange, { converged: true });
    }
    console.log(`postgres session: ${r.orderIds.length} orders, ${r.fills} fills, ${r.restarts} restarts, ${JSON.stringify(r.byStatus)}`);
    expect(problems, 'seed 7').toEqual([]);
    expect(r.restarts).toBeGreaterThan(0);
    expect(r.byStatus.FILLED).toBeGreaterThan(10);
    await r.handler.stop();
    await ledger.close();
  });
});
