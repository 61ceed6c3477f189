/**
 * The inspector at the size of a real ledger: a SQLite ledger of N orders (default 1,000,000:
 * placed, acknowledged, a third filled with a fill, a tenth cancelled, some anomalies) is written
 * once, then a fresh process opens it as `execution-handler inspect` does and measures the time
 * until the page and its first list answer, the heap after a GC, and the time of a page of the
 * list (first, deep, filtered by state and text) and of an order's detail.
 *
 *   node --expose-gc --import tsx bench/inspector-scale.ts [orders] [file]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInspector } from '../src/inspector/server.js';
import { openSqliteLedger } from '../src/ledger/sqlite.js';
import type { LedgerWrite } from '../src/ledger/types.js';

const [mode, ...rest] = process.argv.slice(2);

if (mode === 'measure') await measure(rest[0]!);
else await main(Number(mode ?? 1_000_000), rest[0] ?? join(tmpdir(), `inspector-scale-${mode ?? 1_000_000}.db`));

async function main(orders: number, file: string): Promise<void> {
  if (!existsSync(file)) await generate(orders, file);
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), 'measure', file],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  process.stdout.write(child.stdout);
}

/** Writes `orders` orders with their changes, fills and anomalies, 10,000 per commit. */
async function generate(orders: number, file: string): Promise<void> {
  const ledger = openSqliteLedger(file, { strategyId: 'SCALE' });
  const t0 = performance.now();
  const base = Date.UTC(2026, 0, 5, 0);
  for (let from = 0; from < orders; from += 10_000) {
    const writes: LedgerWrite[] = [];
    for (let i = from; i < Math.min(orders, from + 10_000); i++) {
      const at = base + i * 50;
      const orderId = `ORD_20260105_${String(Math.floor(i / 72_000) % 24).padStart(2, '0')}0000_${i.toString(16).padStart(8, '0')}`;
      const quantity = '1';
      writes.push({
        kind: 'order',
        order: {
          orderId,
          directiveId: `DIR_${i}`,
          strategyId: 'SCALE',
          orderDetails: {
            symbol: ['BTC_USDT', 'ETH_USDT', 'SOL_USDT'][i % 3]!,
            side: 'BUY',
            type: 'LIMIT',
            quantity,
            price: '100',
          },
          causality: {
            origin: { id: `TCK_${i}`, type: 'TICK' },
            signalIds: [],
            riskIds: [],
            orderIds: [orderId],
            fillIds: [],
          },
          at,
        },
      });
      writes.push({
        kind: 'change',
        orderId,
        eventType: 'ORDER_ACCEPTED',
        from: 'PENDING',
        to: 'OPEN',
        at: at + 5,
        cause: 'reply ACCEPTED',
        venueOrderId: `V${i}`,
      });
      if (i % 3 === 0) {
        writes.push({
          kind: 'fill',
          orderId,
          fill: { fillId: `FIL_${i}`, venueFillId: `VF${i}`, quantity, price: '100', at: at + 9 },
        });
        writes.push({
          kind: 'change',
          orderId,
          eventType: 'ORDER_FILLED',
          from: 'OPEN',
          to: 'FILLED',
          at: at + 9,
          cause: 'reply FILL',
        });
      } else if (i % 10 === 1) {
        writes.push({
          kind: 'change',
          orderId,
          eventType: 'ORDER_CANCELLED',
          from: 'OPEN',
          to: 'CANCELLED',
          at: at + 20,
          cause: 'reply CANCELLED',
        });
      }
      if (i % 1_000 === 7) {
        writes.push({
          kind: 'anomaly',
          anomaly: { strategyId: 'SCALE', kind: 'LATE_REPLY', reason: 'bench', orderId, at: at + 30 },
        });
      }
    }
    await ledger.commit(writes);
  }
  await ledger.close();
  process.stderr.write(
    `wrote ${orders.toLocaleString('en')} orders to ${file} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
}

/** Opens `file` as the CLI does and measures; prints one JSON line. */
async function measure(file: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const t0 = performance.now();
  const ledger = openSqliteLedger(file); // unscoped, as `inspect` opens a file
  const inspector = await startInspector({ ledger, port: 0 });
  const get = async (path: string): Promise<{ ms: number; body: unknown }> => {
    const t = performance.now();
    const r = await fetch(`${inspector.url}${path}`);
    const body = (await r.json().catch(() => null)) as unknown;
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
    return { ms: performance.now() - t, body };
  };
  await fetch(inspector.url).then((r) => r.text());
  const first = await get('api/orders?offset=0&limit=100');
  const servedMs = performance.now() - t0;
  gc?.();
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  const median = async (path: string, n = 7): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) times.push((await get(path)).ms);
    return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
  };
  const medianOf = async (work: () => Promise<unknown>, n = 7): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await work();
      times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
  };
  const orders = (first.body as { orders: { orderId: string }[]; total: number }).orders;
  const total = (first.body as { total: number }).total;
  const result = {
    orders: total,
    servedMs: Math.round(servedMs),
    heapMb: Math.round(heapMb),
    rssMb: Math.round(rssMb),
    firstPageMs: await median('api/orders?offset=0&limit=100'),
    deepPageMs: await median(`api/orders?offset=${Math.floor(total / 2)}&limit=100`),
    filledPageMs: await median('api/orders?offset=0&limit=100&status=FILLED'),
    twoStatesPageMs: await median('api/orders?offset=0&limit=100&status=OPEN,CANCELLED'),
    detailMs: await median(`api/orders/${orders[50]!.orderId}`),
    textFilterMs: await median('api/orders?offset=0&limit=100&q=0000abc', 3),
    // The same work without HTTP: what the ledger's queries cost, apart from the machine's load on fetch.
    ledgerFirstPageMs: await medianOf(() => ledger.listOrders!({ offset: 0, limit: 100, countTotal: false })),
    ledgerDetailMs: await medianOf(async () => {
      const id = orders[50]!.orderId;
      await Promise.all([ledger.getOrder(id), ledger.getTransitions(id), ledger.getOrderAnomalies!(id)]);
    }),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await inspector.close();
  await ledger.close();
}
