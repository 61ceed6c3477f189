/**
 * Runs a range of simulation seeds (after the saved regression seeds), saves any failing seed to
 * test/regressions/seeds.json so it is replayed first from then on, and reports what was checked:
 * seeds, orders, venue fills counted against the handler's records (and the FILL messages the venue
 * delivered for them, duplicates included) and orders checked against promise 7's bound.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { runSeed } from '../../src/sim/seeded.js';
import { type Regression, regressions } from './regressions.js';

const FILE = new URL('../regressions/seeds.json', import.meta.url);

function save(seed: number, what: string): void {
  const all = JSON.parse(readFileSync(FILE, 'utf8')) as Regression[];
  if (all.some((r) => r.family === 'simulation' && r.seed === seed)) return;
  all.push({ family: 'simulation', seed, found: new Date().toISOString().slice(0, 10), what });
  writeFileSync(FILE, `${JSON.stringify(all, null, 2)}\n`);
}

export async function runSeedRange(from: number, to: number): Promise<void> {
  const failures: string[] = [];
  let orders = 0;
  let restarts = 0;
  let fillsChecked = 0;
  let fillMessages = 0;
  let fillRepeats = 0;
  let boundChecked = 0;
  const seeds = [
    ...regressions('simulation').map((r) => r.seed),
    ...Array.from({ length: to - from + 1 }, (_, i) => from + i),
  ];
  for (const seed of seeds) {
    const r = await runSeed(seed);
    orders += r.orders;
    restarts += r.restarts;
    fillsChecked += r.audited.fillsChecked;
    fillMessages += r.audited.fillMessages;
    fillRepeats += r.audited.fillRepeats;
    boundChecked += r.boundChecked;
    if (r.problems.length > 0) {
      failures.push(`seed ${seed}: ${r.problems.slice(0, 3).join(' | ')}`);
      save(seed, r.problems[0]!);
    }
  }
  console.log(
    `simulation seeds ${from}..${to} (+${seeds.length - (to - from + 1)} regression seeds): ${seeds.length} seeds, ` +
      `${orders} orders, ${restarts} crash-restarts, ${fillsChecked} venue fills checked against the handler's ` +
      `records (${fillMessages} FILL messages delivered, ${fillRepeats} of them repeats), ${boundChecked} orders checked against promise 7's bound, ` +
      `${failures.length} failing`,
  );
  expect(
    failures,
    'failing seeds were saved to test/regressions/seeds.json; replay one with npm run sim -- --from SEED --seeds 1',
  ).toEqual([]);
  // A check that cannot fire proves nothing: the runs must have put repeated fills on the wire and
  // given the bound orders to judge.
  expect(fillRepeats, 'FILL messages the venue delivered again').toBeGreaterThan(0);
  expect(boundChecked, 'orders checked against the bound').toBeGreaterThan(0);
}
