/**
 * `npm run sim -- --seeds N [--from S]`: runs N simulation seeds from S (default 1), each a whole
 * faulty session with crash-restarts, checks the promises, prints every seed and a summary.
 * Exit code 1 when a seed fails; replay it alone with `--from SEED --seeds 1`.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { runSeed } from '../src/sim/seeded.js';

const { values } = parseArgs({
  options: { seeds: { type: 'string', default: '100' }, from: { type: 'string', default: '1' } },
});
const count = Number(values.seeds);
const from = Number(values.from);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(from)) {
  console.error('usage: npm run sim -- --seeds N [--from S]   (N >= 1)');
  process.exit(2);
}
const started = performance.now();
let orders = 0;
let restarts = 0;
const failed: number[] = [];
for (let seed = from; seed < from + count; seed++) {
  const r = await runSeed(seed);
  orders += r.orders;
  restarts += r.restarts;
  const verdict = r.problems.length === 0 ? 'ok' : `FAILED: ${r.problems.slice(0, 3).join(' | ')}`;
  const excused = Object.entries(r.findings).map(([finding, n]) => `${finding} ${n}`);
  console.log(
    `seed ${seed}: ${r.orders} orders, ${r.modify.modifiesSent} modifies sent, ${r.fills} fills, ${r.restarts} restarts` +
      `${excused.length > 0 ? ` (excused as known findings: ${excused.join(', ')})` : ''}: ${verdict}`,
  );
  if (r.problems.length > 0) failed.push(seed);
}
const secs = (performance.now() - started) / 1000;
console.log(
  `\n${count} seeds, ${orders} orders, ${restarts} crash-restarts in ${secs.toFixed(1)} s: ${failed.length === 0 ? 'every promise held' : `${failed.length} failed: ${failed.join(', ')}`}`,
);
process.exitCode = failed.length === 0 ? 0 : 1;
