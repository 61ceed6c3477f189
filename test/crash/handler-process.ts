/**
 * A handler process for the crash tests: opens the SQLite ledger, recovers, then trades until it
 * is killed. Its connector forwards every call to the venue host (the parent) over IPC.
 * argv: ledgerPath run ordersPerBurst
 */
import { createExecutionHandler } from '../../src/handler/create.js';
import { openSqliteLedger } from '../../src/ledger/sqlite.js';
import { PROCESS_TIMING } from './settings.js';
import { ipcConnector } from './ipc-connector.js';
import { tradeForever } from './trading-loop.js';

const [ledgerPath = '', runArg = '0'] = process.argv.slice(2);
const run = Number(runArg);
const connector = ipcConnector();

const ledger = openSqliteLedger(ledgerPath, { strategyId: 'CRASH' });
const handler = await createExecutionHandler({
  strategyId: 'CRASH',
  connector,
  ledger,
  ...PROCESS_TIMING,
  // Longer than any process here lives, so every order that ended before a kill is asked about.
  recoverLookbackMs: 3_000,
});
await handler.recover();
process.send?.({ kind: 'ready' });

await tradeForever(handler, run);
