/**
 * `execution-handler demo`: a realistic session against the embedded simulated venue, written to a
 * SQLite ledger (or kept in memory), with a progress bar while it runs and a summary at the end,
 * audited against the venue's own truth. `--resume` continues a session that was interrupted.
 * The engine modifies a share of its working orders (price chases, size cuts and raises), against a
 * venue that amends them in place (an even seed) or replaces them with a new venue order id (an odd
 * seed); the summary counts the modifies and the audit checks every order's values against the venue's.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { SingleBar } from 'cli-progress';
import Table from 'cli-table3';
import type { SimulatedFaults } from '../connector/simulated.js';
import { createMemoryLedger } from '../ledger/memory.js';
import { openSqliteLedger } from '../ledger/sqlite.js';
import type { StrategyLedger } from '../ledger/types.js';
import { auditAgainstVenue } from '../sim/audit.js';
import { type FindingCounts, KNOWN_FINDINGS } from '../sim/known-findings.js';
import { type ModifyCounts, modifyCounts } from '../sim/modify-counts.js';
import { type SessionResult, type SessionState, runSession } from '../sim/session.js';
import { systemClock } from '../clock.js';
import { startInspector } from '../inspector/server.js';
import { ORDER_STATUSES } from '../types.js';
import { type InspectServeOptions, untilStopped } from './inspect.js';

/** Tables without colour codes, so the summary reads the same in a file or a CI log. */
export const PLAIN = { head: [], border: [] };

/** Options of the demo, as the CLI parses them. */
export interface DemoOptions {
  orders: number;
  seed: number;
  faults: SimulatedFaults;
  progress: boolean;
  /** SQLite ledger file; undefined: the memory ledger. */
  ledgerPath: string | undefined;
  resume: boolean;
  out: NodeJS.WritableStream;
  /** Serve the state inspector while the demo runs and after it, until Ctrl-C. */
  inspect?: InspectServeOptions;
  /** Wall milliseconds per 50 ms step of virtual time, so a watcher sees orders move. Default 0. */
  paceMs?: number;
}

/** The demo's default fault rates: a venue that misbehaves now and then. */
export const DEMO_FAULTS: Required<Omit<SimulatedFaults, 'delayMsMax'>> & { delayMsMax: number } = {
  dropRate: 0.02,
  duplicateRate: 0.05,
  reorderRate: 0.05,
  delayRate: 0.01,
  delayMsMax: 5_000,
  lostAckRate: 0.05,
  placeErrorRate: 0.02,
  queryErrorRate: 0.05,
  queryHangRate: 0.01,
  cancelErrorRate: 0.02,
  venueIdOnlyRate: 0.2,
};

/** Chance per second that the demo's engine modifies a given working order: about one in six gets a modify. */
export const DEMO_MODIFY_RATE_PER_SECOND = 0.3;

/** Where the session state (plan, progress, the simulated venue) is kept beside a ledger file. */
export const sessionFileOf = (ledgerPath: string): string => `${ledgerPath}.session.json`;

/** A user mistake the CLI reports in one line (no stack). */
export class DemoUsageError extends Error {}

function openLedger(options: DemoOptions): { ledger: StrategyLedger; resume?: SessionState } {
  if (options.ledgerPath === undefined) {
    if (options.resume) throw new DemoUsageError('--resume needs a ledger file (--ledger), not --memory');
    return { ledger: createMemoryLedger() };
  }
  const path = options.ledgerPath;
  const sessionFile = sessionFileOf(path);
  if (options.resume) {
    if (!existsSync(path) || !existsSync(sessionFile)) {
      throw new DemoUsageError(
        `nothing to resume: ${path} or ${sessionFile} does not exist (run the demo without --resume first)`,
      );
    }
    const resume = JSON.parse(readFileSync(sessionFile, 'utf8')) as SessionState;
    if (resume.version !== 1) throw new DemoUsageError(`${sessionFile} was written by another version of the demo`);
    return { ledger: openSqliteLedger(path, { strategyId: 'DEMO' }), resume };
  }
  for (const f of [path, `${path}-wal`, `${path}-shm`, sessionFile]) rmSync(f, { force: true });
  return { ledger: openSqliteLedger(path, { strategyId: 'DEMO' }) };
}

/**
 * Orders the audit excused as a known finding of the handler (`KNOWN_FINDINGS`): one line naming
 * each finding and its count, or nothing when none was excused.
 */
function findingsLine(findings: FindingCounts): string {
  const named = (Object.keys(KNOWN_FINDINGS) as (keyof FindingCounts)[]).filter((k) => (findings[k] ?? 0) > 0);
  if (named.length === 0) return '';
  return `audit: excused as known findings of the handler (not yet fixed): ${named.map((k) => `${k} ${findings[k]}`).join(', ')}\n`;
}

/** The audit's verdict as the demos print it: one line when clean, else the first 20 problems. */
export function auditLine(problems: readonly string[], findings: FindingCounts = {}): string {
  if (problems.length === 0)
    return `audit: every order agrees with the venue, its values in force included; no fill lost or counted twice; every change a legal edge.\n${findingsLine(findings)}`;
  return `audit: ${problems.length} problem(s):\n${problems
    .slice(0, 20)
    .map((p) => `  - ${p}`)
    .join('\n')}\n`;
}

/** Writes the session state atomically (a crash never leaves half a file). */
function saveState(path: string, state: SessionState): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(state));
  renameSync(`${path}.tmp`, path);
}

/** Runs the demo; resolves with the number of audit problems (0 when every promise held). */
export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out;
  const { ledger, resume } = openLedger(options);
  if (resume)
    out.write(
      `resuming the session in ${options.ledgerPath}: ${resume.placed} of ${resume.total} orders were placed\n`,
    );
  else if (options.ledgerPath) out.write(`ledger: ${options.ledgerPath} (SQLite, WAL, synchronous=FULL)\n`);
  const inspector = options.inspect
    ? await startInspector({ ledger, ...options.inspect, title: options.ledgerPath ?? 'demo (memory ledger)' })
    : undefined;
  if (inspector) out.write(`inspector: ${inspector.url} (open it to watch the orders move)\n`);
  const paceMs = options.paceMs ?? 0;
  const total = resume?.total ?? options.orders;
  const bar = options.progress
    ? new SingleBar({
        format: ' orders |{bar}| {value}/{total} placed | {duration_formatted}',
        hideCursor: true,
        clearOnComplete: false,
      })
    : undefined;
  bar?.start(total, resume?.placed ?? 0);
  let readState: (() => SessionState) | undefined;
  const save = (state: SessionState): void => {
    if (options.ledgerPath) saveState(sessionFileOf(options.ledgerPath), state);
  };
  // Ctrl-C: save the simulated venue as it is now (the ledger is durable already) and say how to
  // continue. A kill -9 cannot do this: the venue file is then up to ten steps behind the ledger.
  const onSignal = (): void => {
    bar?.stop();
    if (readState && options.ledgerPath) saveState(sessionFileOf(options.ledgerPath), readState());
    out.write(
      `\ninterrupted: continue with \`execution-handler demo --resume --ledger ${options.ledgerPath ?? '<file>'}\`\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = performance.now();
  const result = await runSession({
    orders: options.orders,
    seed: options.seed,
    faults: options.faults,
    ledger,
    ...(resume ? { resume } : {}),
    onCheckpoint: save,
    onStateReader: (read) => {
      readState = read;
    },
    onProgress: (placed) => bar?.update(placed),
    modifyRatePerSecond: DEMO_MODIFY_RATE_PER_SECOND,
    modifyMode: options.seed % 2 === 0 ? 'amend' : 'replace',
    ...(paceMs > 0 ? { onStep: () => new Promise<void>((r) => systemClock.setTimeout(r, paceMs)) } : {}),
  });
  const wallMs = performance.now() - started;
  bar?.stop();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  const findings: FindingCounts = {};
  const views = (id: string) => result.handler.order(id);
  const problems = await auditAgainstVenue(result.ledger, result.exchange, { converged: true, views, findings });
  out.write(summary(result, await modifyCounts(result.ledger), wallMs));
  out.write(auditLine(problems, findings));
  if (options.ledgerPath) out.write(`inspect an order: execution-handler history ${options.ledgerPath} <orderId>\n`);
  if (inspector) {
    out.write(`the orders are done; the inspector keeps serving ${inspector.url} until you press Ctrl-C\n`);
    await untilStopped();
    await inspector.close();
  }
  await result.handler.stop();
  await ledger.close();
  return problems.length;
}

function summary(result: SessionResult, modifies: ModifyCounts, wallMs: number): string {
  const recorded = Object.values(result.byStatus).reduce((a, b) => a + (b ?? 0), 0);
  const statuses = new Table({ head: ['final status', 'orders'], style: PLAIN });
  for (const s of ORDER_STATUSES) if (result.byStatus[s]) statuses.push([s, String(result.byStatus[s])]);
  statuses.push(['(SEQUENTIAL, never placed)', String(result.total - recorded)]);

  const facts = new Table({ head: ['what', 'count'], style: PLAIN });
  if (result.recovery) {
    const r = result.recovery;
    facts.push(
      ['orders recovered from the ledger', String(r.ordersRestored)],
      ['orders asked about on recovery', String(r.ordersQueried)],
      ['fills learnt on recovery', String(r.fillsLearnt)],
    );
  }
  facts.push(
    ['directives', String(result.directives)],
    ['orders placed', String(recorded)],
    ['fills applied', String(result.fills)],
    ['duplicate replies dropped', String(result.duplicatesDropped)],
    ['venue replies sent', String(result.venue.repliesSent)],
    ['venue replies lost on the wire', String(result.venue.repliesDropped)],
    ['venue replies sent twice', String(result.venue.repliesDuplicated)],
    ['stream reconnects (reconciled)', String(result.venue.reconnects)],
    [`modifies requested (venue ${result.modifyMode === 'amend' ? 'amends' : 'replaces'})`, String(modifies.requested)],
    ['modifies applied', String(modifies.applied)],
    ['modifies rejected', String(modifies.rejected)],
    ['modifies never answered (order ended first)', String(modifies.unanswered)],
    ['modifies unconfirmed (MODIFY_UNCONFIRMED)', String(modifies.unconfirmed)],
  );
  const anomalies = new Table({ head: ['anomaly', 'recorded'], style: PLAIN });
  const kinds = Object.entries(result.anomalies);
  for (const [kind, n] of kinds) anomalies.push([kind, String(n)]);
  if (kinds.length === 0) anomalies.push(['(none)', '0']);

  const placedNow = result.orderIds.length;
  const speed = new Table({ head: ['throughput', ''], style: PLAIN });
  speed.push(
    ['wall time', `${(wallMs / 1000).toFixed(2)} s`],
    ['orders per second (wall)', (placedNow / (wallMs / 1000)).toFixed(0)],
    ['venue replies per second (wall)', (result.venue.repliesSent / (wallMs / 1000)).toFixed(0)],
    ['virtual session time', `${(result.virtualMs / 1000).toFixed(1)} s`],
  );
  const title = `\nexecution-handler demo: ${result.total} orders, seed ${result.seed}${result.recovery ? ' (resumed)' : ''}\n`;
  return `${title}${statuses.toString()}\n${facts.toString()}\n${anomalies.toString()}\n${speed.toString()}\n`;
}
