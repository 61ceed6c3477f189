/**
 * `execution-handler demo --venue binance-local`: the demo through the ccxt connector, against a
 * local server that speaks Binance spot's own REST and WebSocket formats (no internet, no account).
 * Real time: orders are placed over signed REST calls, the venue trades resting orders now and
 * then, its `executionReport`s arrive over the user data stream, the stream is dropped once on
 * purpose, and at the end the ledger is audited against the venue's own book.
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { SingleBar } from 'cli-progress';
import Table from 'cli-table3';
import ccxt from 'ccxt';
import { systemClock } from '../clock.js';
import { pointCcxtAtLocal, startBinanceLocal } from '../connector/binance-local.js';
import { createCcxtConnector } from '../connector/ccxt.js';
import { createExecutionHandler } from '../handler/create.js';
import { startInspector } from '../inspector/server.js';
import { openSqliteLedger } from '../ledger/sqlite.js';
import { seededRandom } from '../random.js';
import { auditAgainstVenue } from '../sim/audit.js';
import { FINAL_STATUSES, ORDER_STATUSES, type OrderRequest } from '../types.js';
import { type DemoOptions, PLAIN, auditLine } from './demo.js';
import { untilStopped } from './inspect.js';

/** The demo's symbols, with the places of their lot step on Binance (0.00001 BTC, 0.0001 ETH, 0.001 SOL). */
const SYMBOLS = [
  { symbol: 'BTC_USDT', price: 60_000, stepPlaces: 5 },
  { symbol: 'ETH_USDT', price: 3_000, stepPlaces: 4 },
  { symbol: 'SOL_USDT', price: 150, stepPlaces: 3 },
];

const sleep = (ms: number): Promise<void> => new Promise((r) => systemClock.setTimeout(r, ms));

/** Runs the demo on the local Binance venue; resolves with the number of audit problems. */
export async function runBinanceLocalDemo(options: DemoOptions): Promise<number> {
  const out = options.out;
  const rnd = seededRandom(options.seed);
  const venue = await startBinanceLocal({
    apiKey: 'local-demo-key',
    secret: 'local-demo-secret',
    autoFill: { probability: 0.25, intervalMs: 100, random: seededRandom(options.seed + 1) },
  });
  const exchange = new ccxt.pro.binance({
    apiKey: 'local-demo-key',
    secret: 'local-demo-secret',
    timeout: 3_000,
    enableRateLimit: false,
    options: { fetchMarkets: { types: ['spot'] }, fetchMargins: false, fetchCurrencies: false },
  });
  await pointCcxtAtLocal(exchange, venue.url);
  const path = options.ledgerPath ?? 'execution-handler-demo.db';
  for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true }); // a fresh session, as the demo
  const ledger = openSqliteLedger(path, { strategyId: 'DEMO_BINANCE' });
  const connector = createCcxtConnector(exchange, { ledger, reconnectDelayMs: 200, onError: () => {} });
  await connector.start();
  const handler = await createExecutionHandler({
    strategyId: 'DEMO_BINANCE',
    connector,
    ledger,
    clock: systemClock,
    ackTimeoutMs: 3_000,
    cancelTimeoutMs: 3_000,
    queryIntervalMs: 300,
    onError: () => {},
  });
  out.write(
    `venue: local Binance spot at ${venue.url} (ccxt ${ccxt.version}, signed REST + WebSocket API user data stream)\nledger: ${path}\n`,
  );
  const inspector = options.inspect
    ? await startInspector({ ledger, ...options.inspect, title: `${path} (binance-local)` })
    : undefined;
  if (inspector) out.write(`inspector: ${inspector.url}\n`);

  const bar = options.progress
    ? new SingleBar({ format: ' orders |{bar}| {value}/{total} placed', hideCursor: true })
    : undefined;
  bar?.start(options.orders, 0);
  const started = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < options.orders; i++) {
    const s = SYMBOLS[Math.floor(rnd() * SYMBOLS.length)]!;
    // 20 to 2,020 USDT's worth, on the symbol's lot step: orders the venue's filters accept (the
    // connector refuses, never rounds, one that does not fit). Prices below are on the 0.01 tick.
    const quantity = ((20 + Math.floor(rnd() * 2_000)) / s.price).toFixed(s.stepPlaces);
    const order: OrderRequest =
      rnd() < 0.2
        ? { symbol: s.symbol, side: rnd() < 0.5 ? 'BUY' : 'SELL', type: 'MARKET', quantity }
        : {
            symbol: s.symbol,
            side: rnd() < 0.5 ? 'BUY' : 'SELL',
            type: 'LIMIT',
            quantity,
            price: (s.price * (0.99 + rnd() * 0.02)).toFixed(2),
          };
    const { orderIds } = await handler.execute({
      directiveId: `BDEMO_${options.seed}_${i}`,
      causality: {
        origin: { id: `TCK_${i}`, type: 'TICK' },
        signalIds: [`SIG_${i}`],
        riskIds: [],
        orderIds: [],
        fillIds: [],
      },
      orders: [order],
    });
    ids.push(...orderIds);
    if (rnd() < 0.1 && ids.length > 3) await handler.cancel(ids[ids.length - 3]!);
    if (i === Math.floor(options.orders / 2)) venue.dropStream(); // a disconnect mid-session: fills meanwhile are found on reconnection
    bar?.update(i + 1);
    if (options.paceMs) await sleep(options.paceMs);
  }
  bar?.stop();
  await sleep(1_500); // let the venue trade a little more
  await handler.cancelAll();
  for (
    let waited = 0;
    waited < 15_000 && handler.orders().some((o) => !FINAL_STATUSES.includes(o.status));
    waited += 100
  )
    await sleep(100);
  await handler.settle();
  const wallMs = performance.now() - started;
  const problems = await auditAgainstVenue(ledger, venue, { converged: true });

  const byStatus = new Table({ head: ['final status', 'orders'], style: PLAIN });
  for (const s of ORDER_STATUSES) {
    const n = handler.orders({ status: [s] }).length;
    if (n) byStatus.push([s, String(n)]);
  }
  const facts = new Table({ head: ['what', 'count'], style: PLAIN });
  facts.push(
    ['orders placed', String(ids.length)],
    ['fills applied', String(handler.orders().reduce((n, o) => n + o.fills.length, 0))],
    ['stream subscriptions (1 + reconnects)', String(venue.subscriptions())],
    ['wall time', `${(wallMs / 1000).toFixed(2)} s`],
  );
  out.write(
    `\nexecution-handler demo on binance-local: ${ids.length} orders, seed ${options.seed}\n${byStatus.toString()}\n${facts.toString()}\n`,
  );
  out.write(auditLine(problems));
  if (inspector) {
    out.write(`the orders are done; the inspector keeps serving ${inspector.url} until you press Ctrl-C\n`);
    await untilStopped();
    await inspector.close();
  }
  await handler.stop();
  await connector.close();
  await venue.close();
  await ledger.close();
  return problems.length;
}
