/**
 * `execution-handler demo`: a realistic session against the embedded simulated venue, with a
 * progress bar while it runs and a summary at the end, audited against the venue's own truth.
 */
import { performance } from 'node:perf_hooks';
import { SingleBar } from 'cli-progress';
import Table from 'cli-table3';
import type { SimulatedFaults } from '../connector/simulated.js';
import { auditAgainstVenue } from '../sim/audit.js';
import { runSession } from '../sim/session.js';
import { ORDER_STATUSES } from '../types.js';

/** Tables without colour codes, so the summary reads the same in a file or a CI log. */
const PLAIN = { head: [], border: [] };

/** Options of the demo, as the CLI parses them. */
export interface DemoOptions {
  orders: number;
  seed: number;
  faults: SimulatedFaults;
  progress: boolean;
  out: NodeJS.WritableStream;
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

/** Runs the demo; resolves with the number of audit problems (0 when every promise held). */
export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out;
  const bar = options.progress ? new SingleBar({ format: ' orders |{bar}| {value}/{total} placed | {duration_formatted}', hideCursor: true, clearOnComplete: false }) : undefined;
  bar?.start(options.orders, 0);
  const started = performance.now();
  const result = await runSession({
    orders: options.orders,
    seed: options.seed,
    faults: options.faults,
    onProgress: (placed) => bar?.update(placed),
  });
  const wallMs = performance.now() - started;
  bar?.stop();
  const problems = await auditAgainstVenue(result.ledger, result.exchange, { converged: true });
  const placed = Object.values(result.byStatus).reduce((a, b) => a + (b ?? 0), 0);

  const statuses = new Table({ head: ['final status', 'orders'], style: PLAIN });
  for (const s of ORDER_STATUSES) if (result.byStatus[s]) statuses.push([s, String(result.byStatus[s])]);
  statuses.push(['(SEQUENTIAL, never placed)', String(result.orderIds.length - placed)]);

  const facts = new Table({ head: ['what', 'count'], style: PLAIN });
  facts.push(
    ['directives', String(result.directives)],
    ['orders placed', String(placed)],
    ['fills applied', String(result.fills)],
    ['duplicate replies dropped', String(result.duplicatesDropped)],
    ['venue replies sent', String(result.venue.repliesSent)],
    ['venue replies lost on the wire', String(result.venue.repliesDropped)],
    ['venue replies sent twice', String(result.venue.repliesDuplicated)],
    ['stream reconnects (reconciled)', String(result.venue.reconnects)],
  );
  const anomalies = new Table({ head: ['anomaly', 'recorded'], style: PLAIN });
  const kinds = Object.entries(result.anomalies);
  for (const [kind, n] of kinds) anomalies.push([kind, String(n)]);
  if (kinds.length === 0) anomalies.push(['(none)', '0']);

  const speed = new Table({ head: ['throughput', ''], style: PLAIN });
  speed.push(
    ['wall time', `${(wallMs / 1000).toFixed(2)} s`],
    ['orders per second (wall)', (placed / (wallMs / 1000)).toFixed(0)],
    ['venue replies per second (wall)', (result.venue.repliesSent / (wallMs / 1000)).toFixed(0)],
    ['virtual session time', `${(result.virtualMs / 1000).toFixed(1)} s`],
  );

  out.write(`\nexecution-handler demo: ${options.orders} orders, seed ${options.seed}\n`);
  out.write(`${statuses.toString()}\n${facts.toString()}\n${anomalies.toString()}\n${speed.toString()}\n`);
  if (problems.length === 0) {
    out.write(`audit: every order agrees with the venue; no fill lost or counted twice; every change a legal edge.\n`);
  } else {
    out.write(`audit: ${problems.length} problem(s):\n${problems.slice(0, 20).map((p) => `  - ${p}`).join('\n')}\n`);
  }
  await result.handler.stop();
  return problems.length;
}
