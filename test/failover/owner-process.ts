/**
 * A handler process of the failover test: a standby until it holds the strategy's lease in
 * PostgreSQL, then the owner: it recovers the strategy and trades until it is killed, or exits
 * when it finds itself fenced (another process took the strategy over while it was paused).
 * argv: connectionString schema name
 */
import { createExecutionHandler } from '../../src/handler/create.js';
import { connectPostgresLedger } from '../../src/ledger/postgres.js';
import { PROCESS_TIMING } from '../crash/settings.js';
import { ipcConnector } from '../crash/ipc-connector.js';
import { tradeForever } from '../crash/trading-loop.js';
import { FENCED_EXIT, LEASE_MS, STRATEGY } from './settings.js';

const [url = '', schema = '', name = ''] = process.argv.slice(2);
const connector = ipcConnector();
const ledger = await connectPostgresLedger(url, {
  strategyId: STRATEGY,
  schema,
  leaseMs: LEASE_MS,
  waitForLease: true,
  holderId: name,
  poolSize: 2,
});
ledger.onFenced(() => process.exit(FENCED_EXIT));
process.send?.({ kind: 'owner', token: ledger.fencingToken });
const handler = await createExecutionHandler({
  strategyId: STRATEGY,
  connector,
  ledger,
  ...PROCESS_TIMING,
  recoverLookbackMs: 10_000,
});
// A database connection lost during recovery (the server ends a session paused in a
// transaction) fails it; recovery is idempotent, so it is run again until it completes.
for (;;) {
  try {
    await handler.recover();
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 50));
  }
}
process.send?.({ kind: 'ready' });
await tradeForever(handler, name);
