/**
 * Runs a range of simulation seeds (after the saved regression seeds), saves any failing seed to
 * test/regressions/seeds.json so it is replayed first from then on, and reports what was checked:
 * seeds, orders, venue fills counted against the handler's records (and the FILL messages the venue
 * delivered for them, duplicates included), orders checked against promise 7's bound, and what the
 * protocol audit judged (cancels, cancelAll() calls, SEQUENTIAL turns and stops, venue-reported
 * ends, outstanding-cancel periods). Every count must be above zero, so no check switches off unseen.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { AuditTally } from '../../src/sim/audit.js';
import { type ProtocolTally, emptyProtocolTally } from '../../src/sim/protocol-audit.js';
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
  const audited: AuditTally = {
    orders: 0,
    fillsChecked: 0,
    fillMessages: 0,
    fillRepeats: 0,
    snapshotsChecked: 0,
    viewsChecked: 0,
  };
  let boundChecked = 0;
  let boundExcused = 0;
  const protocol = emptyProtocolTally();
  const seeds = [
    ...regressions('simulation').map((r) => r.seed),
    ...Array.from({ length: to - from + 1 }, (_, i) => from + i),
  ];
  for (const seed of seeds) {
    const r = await runSeed(seed);
    orders += r.orders;
    restarts += r.restarts;
    for (const k of Object.keys(audited) as (keyof AuditTally)[]) audited[k] += r.audited[k];
    boundChecked += r.boundChecked;
    boundExcused += r.boundExcused;
    for (const k of Object.keys(protocol) as (keyof ProtocolTally)[]) protocol[k] += r.protocol[k];
    if (r.problems.length > 0) {
      failures.push(`seed ${seed}: ${r.problems.slice(0, 3).join(' | ')}`);
      save(seed, r.problems[0]!);
    }
  }
  const a = audited;
  console.log(
    `simulation seeds ${from}..${to} (+${seeds.length - (to - from + 1)} regression seeds): ${seeds.length} seeds, ` +
      `${orders} orders, ${restarts} crash-restarts; ${a.fillsChecked} venue fills counted against the handler's ` +
      `change records (${a.fillMessages} FILL messages delivered, ${a.fillRepeats} of them repeats), ` +
      `${a.snapshotsChecked} snapshots and ${a.viewsChecked} views compared; ${boundChecked} orders checked ` +
      `against promise 7's bound (disagreements excused as KNOWN_DEVIATIONS: ${boundExcused}); ${failures.length} failing`,
  );
  const p = protocol;
  console.log(
    `protocol audit: ${p.cancelsSent} cancels sent (${p.cancelGapsChecked} gaps paced), ${p.cancelAllCalls} cancelAll() ` +
      `calls (${p.timedOutAtCancelAll} TIMED_OUT orders owed a cancel), ${p.sequentialRuns} SEQUENTIAL directives ` +
      `(${p.turnsChecked} turns owed, ${p.sequentialStops} stops before an unplaced order), ${p.venueReportedEnds} ` +
      `venue-reported ends (${p.reportedAfterTimedOut} after a TIMED_OUT), ${p.cancelPeriods} outstanding-cancel periods ` +
      `(${p.unansweredPeriods} unanswered past their queries, ${p.unconfirmedPeriods} with a CANCEL_UNCONFIRMED)`,
  );
  expect(
    failures,
    'failing seeds were saved to test/regressions/seeds.json; replay one with npm run sim -- --from SEED --seeds 1',
  ).toEqual([]);
  // A check that cannot fire proves nothing: the runs must have put repeated fills on the wire, and
  // the snapshots, views and bound must have had something to judge.
  expect(a.fillRepeats, 'FILL messages the venue delivered again').toBeGreaterThan(0);
  expect(a.snapshotsChecked, 'snapshots stating a filled quantity (context.filledQuantity)').toBeGreaterThan(0);
  expect(a.viewsChecked, 'live views compared').toBeGreaterThan(0);
  expect(boundChecked, 'orders checked against the bound').toBeGreaterThan(0);
  for (const k of Object.keys(protocol) as (keyof ProtocolTally)[]) {
    expect(protocol[k], `protocol audit: ${k}`).toBeGreaterThan(0);
  }
}
