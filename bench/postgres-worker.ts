/**
 * One handler process of the multi-process benchmark: full lifecycles on its own strategy's
 * PostgreSQL ledger; sends its lifecycles per second to the parent. argv: url strategyId n
 */
import { connectPostgresLedger } from '../src/ledger/postgres.js';
import { handlerLifecyclesPerSecond } from './measures.js';

const [url = '', strategyId = '', n = '0'] = process.argv.slice(2);
const ledger = await connectPostgresLedger(url, { strategyId, schema: 'eh_bench_processes' });
// Warm the JIT first, as the parent does for every other figure.
await handlerLifecyclesPerSecond(500, ledger, 10_000_000, strategyId);
const lifecyclesPerSecond = await handlerLifecyclesPerSecond(Number(n), ledger, 0, strategyId);
await ledger.close();
process.send?.({ lifecyclesPerSecond }, () => process.exit(0));
