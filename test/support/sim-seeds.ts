/**
 * Runs a range of simulation seeds (after the saved regression seeds), saves any failing seed to
 * test/regressions/seeds.json so it is replayed first from then on, and reports what was checked:
 * seeds, orders, venue fills counted against the handler's records (and the FILL messages the venue
 * delivered for them, duplicates included), orders checked against promise 7's bound, and what the
 * protocol audit judged (cancels, cancelAll() calls, SEQUENTIAL turns and stops, venue-reported
 * ends, outstanding-cancel periods), what the modify audit judged (modifies sent, applied, refused,
 * their order and answers, outstanding-modify periods) and how many orders' values in force were
 * compared with the venue's. Every count must be above zero, so no check switches off unseen.
 * Problems excused as a known finding of the handler (`KNOWN_FINDINGS`) are counted and printed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { type AuditTally, emptyAuditTally } from '../../src/sim/audit.js';
import { KNOWN_FINDINGS, type KnownFinding } from '../../src/sim/known-findings.js';
import { type ModifyTally, emptyModifyTally } from '../../src/sim/modify-audit.js';
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
  const audited: AuditTally = emptyAuditTally();
  const modify = emptyModifyTally();
  const findings = new Map<KnownFinding, number>();
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
    for (const k of Object.keys(modify) as (keyof ModifyTally)[]) modify[k] += r.modify[k];
    for (const [k, n] of Object.entries(r.findings) as [KnownFinding, number][])
      findings.set(k, (findings.get(k) ?? 0) + n);
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
  const m = modify;
  console.log(
    `modify audit: ${m.modifyCalls} modify() calls (${m.modifiesOutstanding} made a modify outstanding, ` +
      `${m.secondWhilePending} while one was pending, ${m.cancelsWhilePending} cancels while pending), ` +
      `${m.modifiesSent} modifies sent to the venue (${m.venueApplied} applied, ${m.venueRefused} refused; each checked ` +
      `written ahead and sent once; ${m.modifySequencesChecked} successive pairs checked one at a time), ` +
      `${m.modifiedRecords} ORDER_MODIFIED and ${m.modifyRejectedRecords} ORDER_MODIFY_REJECTED checked against the venue, ` +
      `${m.modifyPeriods} outstanding-modify periods (${m.modifyUnconfirmed} with a MODIFY_UNCONFIRMED); values in force of ` +
      `${a.valuesChecked} orders compared with the venue's (${a.modifiedChecked} modified, ${a.replacedChecked} replaced, ` +
      `${a.replacementFills} fills under a replacement's venue id)`,
  );
  const known = (Object.keys(KNOWN_FINDINGS) as KnownFinding[]).map((k) => `${k}: ${findings.get(k) ?? 0}`);
  console.log(`problems excused as KNOWN_FINDINGS of the handler (counted, not failing the run): ${known.join(', ')}`);
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
  for (const k of Object.keys(modify) as (keyof ModifyTally)[]) {
    expect(modify[k], `modify audit: ${k}`).toBeGreaterThan(0);
  }
  for (const k of ['valuesChecked', 'modifiedChecked', 'replacedChecked', 'replacementFills'] as const) {
    expect(a[k], `values audit: ${k}`).toBeGreaterThan(0);
  }
}
