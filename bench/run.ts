/**
 * `npm run bench [-- --quick]`: measures what users of an execution handler care about, each as a
 * ratio against a baseline measured in the same run, prints a table, and writes
 * bench/results.json and docs/benchmarks.md. Timings are never asserted in tests; targets not met
 * are reported as such.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import Table from 'cli-table3';
import { createMemoryLedger } from '../src/ledger/memory.js';
import {
  boundedMemory,
  handlerLifecyclesPerSecond,
  metricsLifecyclesPerSecond,
  memoryPerLiveOrder,
  modifyRoundTrip,
  rawLifecyclesPerSecond,
  recoveryTime,
  freshPostgres,
  postgresProcesses,
  replyLatency,
  tempSqlite,
} from './measures.js';
import { startPostgres } from '../test/support/embedded-postgres.js';

const quick = process.argv.includes('--quick');
/** `--out DIR` writes the two files there instead of bench/ and docs/ (CI keeps the committed ones). */
const outArg = process.argv.indexOf('--out');
const outDir = outArg > 0 ? process.argv[outArg + 1] : undefined;
if (outDir) mkdirSync(outDir, { recursive: true });
const resultsFile = outDir ? join(outDir, 'results.json') : new URL('./results.json', import.meta.url);
const docFile = outDir ? join(outDir, 'benchmarks.md') : new URL('../docs/benchmarks.md', import.meta.url);

/** What the figures mean and what was found while measuring them (kept with the generated doc). */
const NOTES = [
  '## What the figures say',
  '',
  '- **Lifecycle throughput and reply latency** miss their targets by a wide margin, and honestly so:',
  '  the baseline is a bare actor receiving three events, while the handler per reply also parses',
  '  and validates it (zod), hashes it for exact-repeat detection, converts quantities exactly',
  '  (big.js), persists the actor snapshot, commits fill, change and anomaly records, and publishes',
  '  a frozen (immer) view to the cache. A CPU profile shows no single hot spot left: garbage',
  '  collection is about a quarter, the rest spread over those steps. The biggest one found (the',
  '  memory ledger scanning every order on each new directive) was fixed, doubling throughput.',
  '  Reaching 0.7 would mean dropping validation or persistence from the hot path; we did not.',
  '- **Durability cost** sits around its 0.5 target (0.40-0.61 across runs on this shared machine,',
  '  so some runs miss it): group commit batches the commits of concurrent replies into one fsync',
  '  (ADR 0005).',
  "- **Bounded memory** found two leaks that are fixed: the manual clock kept cleared timers'",
  '  closures (so every finished order), and directive runs never left the active map. Every memory',
  '  of ended orders is now bounded at 10,000 entries, so the heap is flat after that.',
  "- **Memory per live order** is an actor plus the runtime's record, the cached view and the",
  '  directive it belongs to; reply keys are kept in a plain array and recorded requests are dropped',
  '  from directive runs (1.33 on 2026-11-25, 1.51-1.53 on 2026-12-01). Moving the protocol into the',
  "  machine (ADR 0007) grew every order's context, the raw actors' too (4.0 to 4.1 KiB), and the",
  '  runtime kept an effects listener on every actor: 1.58-1.62 in quick runs. Two fixes took it under',
  '  1.5: the runtime listens for effects only while it sends an event (about 150 bytes per order),',
  "  and a directive's causality chain is copied with `Object.assign`: V8 gives every spread copy of",
  '  a parsed object (after the first few) a hidden class of its own, about 380 bytes per order.',
  '- **PostgreSQL** costs a few round trips per write inside each group-commit transaction (the',
  '  fencing check, a savepoint, a select, an insert and an update per record, the outbox row), so',
  "  it runs at about a tenth of SQLite's rate here. Two processes on two strategies share the two",
  '  cores with the server, so they add little or nothing on this machine. Set-based batch',
  '  statements are the next step if a strategy needs more (ADR 0006).',
  '- **Modify round trip** is measured against a venue scripted to answer at once, not the simulated',
  '  venue: the simulated one draws 1-20 ms of latency per message on the clock and matches orders, so',
  "  its timing would be the venue's, and the handler's cost (a fraction of a millisecond) would vanish",
  '  in it. The scripted venue answers a cancel with CANCELLED and a modify with MODIFIED on its reply',
  '  stream, so both round trips take the same path (write-ahead record, venue call, reply, durable',
  "  event) on the same memory ledger, and the ratio is the handler's own extra work for a modify.",
  '  The figure is the p50 ratio; on this shared machine p99 is set by preemption and garbage',
  '  collection, which fall on both kinds alike (the two alternate), so its ratio is reported beside it.',
  '- **Recovery** restores persisted snapshots (ADR 0004) and asks the venue about every order,',
  '  16 queries at a time. With the protocol in the machine it took longer than placing the orders',
  '  (1.1-1.4 in quick runs) for two reasons. Restoring built each context as',
  '  `{ ...defaults, ...stored }`, which V8 runs off its fast path (300-400 µs per order; under 10 µs',
  '  with `Object.assign`). And the snapshot with the protocol (about 900 characters) pushed an OPEN',
  "  order's SQLite row past the ~1 KB a WITHOUT ROWID row keeps in its 4 KiB page, so every row took",
  '  an overflow page of its own: a file four times larger, and slower reads, three per recovered',
  '  order. A change now persists the snapshot without `timing` and without protocol fields at rest',
  '  (about 380 characters for an OPEN order); restoring puts them back. This figure is the noisiest',
  '  (wall times taken minutes apart on a shared machine); the CPU seconds beside it are steadier.',
  '- **Metrics cost** runs the same lifecycles with `metrics: true` and without, in alternating rounds.',
  '  On the hot path metrics add a counter per recorded change, two histogram observations per commit',
  '  and one per venue call (label children cached); the gauges are read only when scraped.',
];
const size = quick
  ? {
      lifecycles: 5_000,
      latency: 2_000,
      modify: 1_000,
      live: 10_000,
      boundedSmall: 10_000,
      boundedLarge: 50_000,
      recovery: 10_000,
      postgres: 1_000,
    }
  : {
      lifecycles: 50_000,
      latency: 20_000,
      modify: 10_000,
      live: 100_000,
      boundedSmall: 10_000,
      boundedLarge: 1_000_000,
      recovery: 100_000,
      postgres: 10_000,
    };

interface Figure {
  name: string;
  value: number;
  target: string;
  met: boolean;
  detail: string;
}

const figures: Figure[] = [];
const log = (s: string) => process.stderr.write(`${s}\n`);
const fmt = (n: number, d = 2) => n.toFixed(d);

log(`execution-handler bench (${quick ? 'quick' : 'full'}) on ${os.cpus().length} cores, node ${process.version}`);

// Warm up the JIT for both sides so the first measurement is not the slow one.
rawLifecyclesPerSecond(2_000);
await handlerLifecyclesPerSecond(2_000, createMemoryLedger({ strategyId: 'BENCH' }));

log('lifecycle throughput…');
const raw = rawLifecyclesPerSecond(size.lifecycles);
const mem = await handlerLifecyclesPerSecond(size.lifecycles, createMemoryLedger({ strategyId: 'BENCH' }));
figures.push({
  name: 'Lifecycle throughput (memory ledger / raw actors)',
  value: mem / raw,
  target: '>= 0.7',
  met: mem / raw >= 0.7,
  detail: `${fmt(mem, 0)} vs ${fmt(raw, 0)} lifecycles/s (execute, ack, 2 fills, FILLED)`,
});

log('metrics cost…');
const withMetrics = await metricsLifecyclesPerSecond(size.lifecycles);
figures.push({
  name: 'Metrics cost (lifecycles with metrics on / off)',
  value: withMetrics.on / withMetrics.off,
  target: '>= 0.9',
  met: withMetrics.on / withMetrics.off >= 0.9,
  detail: `${fmt(withMetrics.on, 0)} vs ${fmt(withMetrics.off, 0)} lifecycles/s, memory ledger, alternating rounds`,
});

log('durability cost…');
const sqlite = await handlerLifecyclesPerSecond(size.lifecycles, tempSqlite());
figures.push({
  name: 'Durability cost (SQLite ledger / memory ledger)',
  value: sqlite / mem,
  target: '>= 0.5',
  met: sqlite / mem >= 0.5,
  detail: `${fmt(sqlite, 0)} vs ${fmt(mem, 0)} lifecycles/s, WAL + synchronous=FULL, group commit`,
});

log('postgresql…');
const server = await startPostgres();
const pgLedger = await freshPostgres(server.url);
const pgRate = await handlerLifecyclesPerSecond(size.postgres, pgLedger);
await pgLedger.close();
const sqliteLedger = tempSqlite();
const sqliteSame = await handlerLifecyclesPerSecond(size.postgres, sqliteLedger);
await sqliteLedger.close();
figures.push({
  name: 'PostgreSQL ledger / SQLite ledger',
  value: pgRate / sqliteSame,
  target: 'report',
  met: true,
  detail: `${fmt(pgRate, 0)} vs ${fmt(sqliteSame, 0)} lifecycles/s, ${size.postgres.toLocaleString('en')} each; local server over TCP, fencing check and outbox per transaction`,
});
const procs = await postgresProcesses(server.url, size.postgres, 2);
figures.push({
  name: 'Two processes on two strategies / one process (PostgreSQL)',
  value: procs.many / procs.one,
  target: 'report',
  met: true,
  detail: `${fmt(procs.many, 0)} vs ${fmt(procs.one, 0)} lifecycles/s in total; ${os.cpus().length} cores shared with the server`,
});
await server.stop();

log('reply latency…');
const lat = await replyLatency(size.latency);
figures.push({
  name: 'Reply latency p99 (reply → ledger event / raw actor.send)',
  value: lat.handler[1] / lat.raw[1],
  target: '<= 3',
  met: lat.handler[1] / lat.raw[1] <= 3,
  detail: `p50 ${fmt(lat.handler[0] * 1000, 1)} µs vs ${fmt(lat.raw[0] * 1000, 1)} µs; p99 ${fmt(lat.handler[1] * 1000, 1)} µs vs ${fmt(lat.raw[1] * 1000, 1)} µs`,
});

log('modify round trip…');
const mod = await modifyRoundTrip(size.modify);
const us = (ms: number) => `${fmt(ms * 1000, 1)} µs`;
figures.push({
  name: 'Modify round trip p50 (modify() → ORDER_MODIFIED / cancel() → ORDER_CANCELLED)',
  value: mod.modify[0] / mod.cancel[0],
  target: '<= 1.2',
  met: mod.modify[0] / mod.cancel[0] <= 1.2,
  detail: `p50 ${us(mod.modify[0])} vs ${us(mod.cancel[0])}; p99 ${us(mod.modify[1])} vs ${us(mod.cancel[1])} (ratio ${fmt(mod.modify[1] / mod.cancel[1])}); ${size.modify.toLocaleString('en')} of each, memory ledger, scripted instant venue answering on its stream`,
});

log('memory per live order…');
const perOrder = await memoryPerLiveOrder(size.live);
figures.push({
  name: `Memory per live order (${size.live.toLocaleString('en')} open orders / raw actors)`,
  value: perOrder.handler / perOrder.raw,
  target: '<= 1.5',
  met: perOrder.handler / perOrder.raw <= 1.5,
  detail: `${fmt(perOrder.handler / 1024, 1)} KiB vs ${fmt(perOrder.raw / 1024, 1)} KiB per order (SQLite ledger, so the heap holds only the handler)`,
});

log('bounded memory…');
const bounded = await boundedMemory(size.boundedSmall, size.boundedLarge);
figures.push({
  name: `Bounded memory (heap after ${size.boundedLarge.toLocaleString('en')} / after ${size.boundedSmall.toLocaleString('en')} completed orders)`,
  value: bounded.large / bounded.small,
  target: '<= 1.2',
  met: bounded.large / bounded.small <= 1.2,
  detail: `${fmt(bounded.large / 2 ** 20, 1)} MiB vs ${fmt(bounded.small / 2 ** 20, 1)} MiB above the empty handler (SQLite ledger)`,
});

log('recovery…');
const rec = await recoveryTime(size.recovery);
figures.push({
  name: `Recovery (recover() ${size.recovery.toLocaleString('en')} open orders / place them fresh)`,
  value: rec.recover / rec.place,
  target: '<= 1.0',
  met: rec.recover / rec.place <= 1,
  detail: `${fmt(rec.recover)} s vs ${fmt(rec.place)} s; CPU ${fmt(rec.recoverCpu)} s vs ${fmt(rec.placeCpu)} s (SQLite ledger; recovery also asks the venue about each order)`,
});

const table = new Table({
  head: ['figure', 'ratio', 'target', 'met', 'measured'],
  style: { head: [], border: [] },
  colWidths: [46, 8, 8, 5, 60],
  wordWrap: true,
});
for (const f of figures) table.push([f.name, fmt(f.value), f.target, f.met ? 'yes' : 'NO', f.detail]);
process.stdout.write(`${table.toString()}\n`);

const when = new Date().toISOString();
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;
writeFileSync(resultsFile, `${JSON.stringify({ when, mode: quick ? 'quick' : 'full', machine, figures }, null, 2)}\n`);
const md = [
  '# Benchmarks',
  '',
  `Generated by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${when.slice(0, 10)} (${quick ? 'quick' : 'full'} mode), ${machine}.`,
  'Every figure is a ratio against a baseline measured in the same run (the machines are shared and',
  'noisy, so absolute times drift); the absolute numbers are there to read, not to compare across runs.',
  '',
  '| figure | ratio | target | met | measured |',
  '|---|---|---|---|---|',
  ...figures.map((f) => `| ${f.name} | ${fmt(f.value)} | ${f.target} | ${f.met ? 'yes' : '**no**'} | ${f.detail} |`),
  '',
  ...NOTES,
  '',
];
writeFileSync(docFile, `${md.join('\n')}\n`);
log(`wrote ${String(resultsFile)} and ${String(docFile)}`);
