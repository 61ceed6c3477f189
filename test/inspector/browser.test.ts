/**
 * The state inspector in a real headless Chromium (playwright-core driving the browser that
 * @sparticuz/chromium ships in npm): orders run through the handler and the simulated venue, and
 * the page's state counts, list and timeline must show what the ledger holds, follow new replies
 * within a second, filter by state and text, and stay usable with 10,000 orders under 1,000
 * changes a second; a modified order's modifications (asked, in force, refused and why) and its
 * values as placed next to those in force must show in its detail, and MODIFY_PENDING in the
 * chart. The server must refuse requests not addressed to this machine.
 */
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { request } from 'node:http';
import chromium from '@sparticuz/chromium';
import { type Browser, type Page, chromium as playwright } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createManualClock } from '../../src/clock.js';
import { createSimulatedExchange } from '../../src/connector/simulated.js';
import { createExecutionHandler } from '../../src/handler/create.js';
import { type Inspector, InspectorOptionsError, startInspector } from '../../src/inspector/server.js';
import { createMemoryLedger } from '../../src/ledger/memory.js';
import type { LedgerWrite, StrategyLedger } from '../../src/ledger/types.js';
import { seededRandom } from '../../src/random.js';
import { ORDER_STATUSES } from '../../src/types.js';
import { chain, limit } from '../support/harness.js';

let browser: Browser;
beforeAll(async () => {
  // Its Lambda-minded flags run one process, which dies with its last page: these tests open several.
  const args = chromium.args.filter((a) => a !== '--single-process');
  browser = await playwright.launch({ executablePath: await chromium.executablePath(), args, headless: true });
});
afterAll(async () => {
  await browser?.close();
});

/** The page's count per state, read from the chart. */
const chartCounts = (page: Page): Promise<Record<string, number>> =>
  page.$$eval('[data-count]', (ts) =>
    Object.fromEntries(ts.map((t) => [(t as SVGTextElement).dataset.count!, Number(t.textContent)])),
  );

async function ledgerCounts(ledger: StrategyLedger): Promise<Record<string, number>> {
  const counts: Record<string, number> = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0]));
  for (const o of await ledger.getOrdersChangedSince(Number.MIN_SAFE_INTEGER)) counts[o.status]!++;
  return counts;
}

async function tradingSession() {
  const clock = createManualClock(Date.UTC(2026, 0, 5, 9));
  const ledger = createMemoryLedger({ strategyId: 'INSPECT' });
  const venue = createSimulatedExchange({ clock, seed: 3, fillProbability: 0.1, rejectRate: 0.1 });
  const handler = await createExecutionHandler({
    strategyId: 'INSPECT',
    connector: venue,
    ledger,
    clock,
    random: seededRandom(5),
  });
  const ids: string[] = [];
  for (let i = 0; i < 40; i++) {
    const { orderIds } = await handler.execute({
      directiveId: `DIR_${i}`,
      causality: chain({ origin: { id: `TCK_${i}`, type: 'TICK' } }),
      orders: [
        i % 4 === 0 ? { symbol: 'ETH_USDT', side: 'SELL', type: 'MARKET', quantity: '0.5' } : limit('1', '60000'),
      ],
    });
    ids.push(...orderIds);
    await clock.advance(50);
  }
  await clock.advance(1_000);
  return { clock, ledger, venue, handler, ids };
}

describe('the state inspector in a browser', () => {
  it('shows what the ledger holds: counts per state, the list, an order’s timeline and causality', async () => {
    const s = await tradingSession();
    const inspector = await startInspector({ ledger: s.ledger, port: 0 });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(inspector.url);
      await page.waitForSelector('#orders tbody tr');
      expect(await chartCounts(page)).toEqual(await ledgerCounts(s.ledger));
      expect(await page.textContent('#total')).toBe('40');
      expect(await page.textContent('#range')).toBe('1–40 of 40');
      // Newest first, each row as the ledger has it.
      const rows = await page.$$eval('#orders tbody tr', (trs) =>
        trs.map((tr) => [...tr.children].map((td) => td.textContent)),
      );
      expect(rows.map((r) => r[0])).toEqual([...s.ids].reverse());
      for (const r of rows) {
        const o = (await s.ledger.getOrder(r[0]!))!;
        expect(r.slice(1, 8)).toEqual([
          o.status,
          o.orderDetails.symbol,
          o.orderDetails.side,
          o.orderDetails.type,
          o.orderDetails.quantity,
          o.filledQuantity,
          o.leavesQuantity,
        ]);
      }
      // One order with fills: its timeline is its transitions, fills and anomalies, in time order.
      const withFills = (await Promise.all(s.ids.map((id) => s.ledger.getOrder(id)))).find(
        (o) => o!.fills.length >= 1,
      )!;
      await page.click(`#orders tbody tr[data-order="${withFills.orderId}"]`);
      await page.waitForFunction((id) => document.getElementById('detail-id')?.textContent === id, withFills.orderId);
      const transitions = await s.ledger.getTransitions(withFills.orderId);
      const kinds = await page.$$eval('#timeline tbody tr', (trs) => trs.map((tr) => tr.children[1]!.textContent));
      expect(kinds.filter((k) => k === 'CHANGE')).toHaveLength(transitions.length);
      expect(kinds.filter((k) => k === 'FILL')).toHaveLength(withFills.fills.length);
      const whats = await page.$$eval('#timeline tbody tr', (trs) => trs.map((tr) => tr.children[2]!.textContent));
      for (const t of transitions) expect(whats).toContain(`${t.seq}. ${t.from} → ${t.to}  ${t.eventType}`);
      const detail = await page.textContent('#detail');
      expect(detail).toContain(withFills.causality.origin.id);
      for (const f of withFills.causality.fillIds) expect(detail).toContain(f);
      // Filter by a state (a click on the chart) and by text.
      const filled = (await ledgerCounts(s.ledger)).FILLED!;
      await page.click('.node[data-status="FILLED"]');
      await page.waitForFunction((n) => document.getElementById('range')?.textContent?.endsWith(`of ${n}`), filled);
      const statuses = await page.$$eval('#orders tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
      expect(new Set(statuses)).toEqual(new Set(['FILLED']));
      await page.click('.node[data-status="FILLED"]');
      await page.fill('#q', s.ids[7]!.slice(-8));
      await page.waitForFunction(() => document.getElementById('range')?.textContent === '1–1 of 1');
      expect(await page.textContent('#orders tbody tr td')).toBe(s.ids[7]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await inspector.close();
      await s.handler.stop();
    }
  });

  it('draws MODIFY_PENDING and shows an order’s modifications, accepted and refused, and its original values', async () => {
    // No fills by themselves, every venue call answered in its result: the test decides the race.
    const clock = createManualClock(Date.UTC(2026, 0, 5, 9));
    const ledger = createMemoryLedger({ strategyId: 'MODIFY' });
    const venue = createSimulatedExchange({
      clock,
      seed: 7,
      fillProbability: 0,
      rejectRate: 0,
      ackInResultRate: 1,
      prices: { BTC_USDT: '60000' },
    });
    const handler = await createExecutionHandler({ strategyId: 'MODIFY', connector: venue, ledger, clock });
    const place = async (): Promise<string> => {
      const { orderIds } = await handler.execute({
        directiveId: `DIR_${clock.now()}`,
        causality: chain(),
        orders: [limit('1', '59000')],
      });
      await clock.advance(100);
      return orderIds[0]!;
    };
    const id = await place();
    expect(handler.order(id)!.status).toBe('OPEN');
    // Accepted: a bigger size at a better price.
    expect(await handler.modify(id, { quantity: '2', price: '59500' })).toBe(true);
    await clock.advance(100);
    expect(handler.order(id)).toMatchObject({ status: 'OPEN', orderDetails: { quantity: '2', price: '59500' } });
    // Refused: the venue fills the order while the next modify is on its way (FIX D9).
    expect(await handler.modify(id, { price: '59800' })).toBe(true);
    venue.trade(id);
    await clock.advance(100);
    await handler.settle();
    expect(handler.order(id)).toMatchObject({ status: 'FILLED', orderDetails: { quantity: '2', price: '59500' } });
    // Another order whose modify the venue has not answered yet: MODIFY_PENDING has a count.
    const pending = await place();
    expect(await handler.modify(pending, { price: '59100' })).toBe(true); // the clock stands: no answer yet
    expect(handler.order(pending)!.status).toBe('MODIFY_PENDING');

    const order = (await ledger.getOrder(id))!;
    const transitions = await ledger.getTransitions(id);
    const rejected = transitions.find((t) => t.eventType === 'ORDER_MODIFY_REJECTED')!;
    expect(rejected.modification).toMatchObject({ modificationId: `${id}.2`, reason: 'order is FILLED' });
    expect(order.originalDetails).toMatchObject({ quantity: '1', price: '59000' });
    expect(order.modifications).toMatchObject([
      { modificationId: `${id}.1`, status: 'ACCEPTED' },
      { modificationId: `${id}.2`, status: 'REJECTED', reason: 'order is FILLED' },
    ]);

    const inspector = await startInspector({ ledger, port: 0 });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(inspector.url);
      await page.waitForSelector('#orders tbody tr');
      // The chart: MODIFY_PENDING drawn inside it with its count, and its edges from the machine.
      expect(await chartCounts(page)).toEqual(await ledgerCounts(ledger));
      expect((await chartCounts(page)).MODIFY_PENDING).toBe(1);
      const node = await page.$eval('.node[data-status="MODIFY_PENDING"] rect', (r) => {
        const box = (r as SVGRectElement).getBBox();
        const view = (r as SVGRectElement).ownerSVGElement!.viewBox.baseVal;
        return {
          inside: box.y >= view.y && box.y + box.height <= view.y + view.height && box.x + box.width <= view.width,
          fill: getComputedStyle(r).fill,
        };
      });
      expect(node.inside).toBe(true);
      expect(node.fill).not.toBe('rgb(0, 0, 0)'); // coloured, so its name and count can be read
      const edges = await page.$$eval('#chart .edge title', (ts) => ts.map((t) => t.textContent!.split(':')[0]));
      for (const e of [
        'OPEN → MODIFY_PENDING',
        'PARTIALLY_FILLED → MODIFY_PENDING',
        'MODIFY_PENDING → OPEN',
        'MODIFY_PENDING → FILLED',
        'MODIFY_PENDING → CANCEL_PENDING',
        'CANCEL_PENDING → MODIFY_PENDING',
      ])
        expect(edges).toContain(e);
      await page.click('.node[data-status="MODIFY_PENDING"]');
      await page.waitForFunction(() => document.getElementById('range')?.textContent === '1–1 of 1');
      expect(await page.textContent('#orders tbody tr td')).toBe(pending);
      await page.click('.node[data-status="MODIFY_PENDING"]');

      // The modified order: each modification in its timeline, after the change that recorded it.
      await page.waitForSelector(`#orders tbody tr[data-order="${id}"]`);
      await page.click(`#orders tbody tr[data-order="${id}"]`);
      await page.waitForFunction((oid) => document.getElementById('detail-id')?.textContent === oid, id);
      const timeline = await page.$$eval('#timeline tbody tr', (trs) =>
        trs.map((tr) => [...tr.children].map((td) => td.textContent)),
      );
      const fmt = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
      const modifyRows = timeline.filter((r) => r[1] === 'MODIFY');
      const at = (eventType: string, n: number) => fmt(transitions.filter((t) => t.eventType === eventType)[n]!.at);
      expect(modifyRows).toEqual([
        [at('ORDER_MODIFY_REQUESTED', 0), 'MODIFY', 'requested quantity 2, price 59500', `${id}.1`],
        [at('ORDER_MODIFIED', 0), 'MODIFY', 'in force quantity 2, price 59500', `${id}.1`],
        [at('ORDER_MODIFY_REQUESTED', 1), 'MODIFY', 'requested price 59800', `${id}.2`],
        [at('ORDER_MODIFY_REJECTED', 0), 'MODIFY', 'rejected: order is FILLED', `${id}.2`],
      ]);
      for (const t of transitions.filter((x) => x.modification)) {
        const i = timeline.findIndex((r) => r[2] === `${t.seq}. ${t.from} → ${t.to}  ${t.eventType}`);
        expect(timeline[i + 1]![1]).toBe('MODIFY');
      }
      expect(timeline.filter((r) => r[1] === 'CHANGE')).toHaveLength(transitions.length);
      // Original next to the values in force, and each modification's outcome with its times.
      const values = await page.$$eval('#values tbody tr', (trs) =>
        trs.map((tr) => [...tr.children].map((td) => td.textContent)),
      );
      expect(values).toEqual([
        ['quantity', '1', '2'],
        ['price', '59000', '59500'],
      ]);
      const mods = await page.$$eval('#modifications tbody tr', (trs) =>
        trs.map((tr) => [tr.getAttribute('data-modification'), ...[...tr.children].map((td) => td.textContent)]),
      );
      expect(mods).toEqual([
        [
          `${id}.1`,
          '.1',
          'quantity 2, price 59500',
          at('ORDER_MODIFY_REQUESTED', 0),
          'ACCEPTED, in force quantity 2, price 59500',
          at('ORDER_MODIFIED', 0),
        ],
        [
          `${id}.2`,
          '.2',
          'price 59800',
          at('ORDER_MODIFY_REQUESTED', 1),
          'REJECTED: order is FILLED',
          at('ORDER_MODIFY_REJECTED', 0),
        ],
      ]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await inspector.close();
      await handler.stop();
    }
  });

  it('follows new replies live: a change shows in the page within a second', async () => {
    const s = await tradingSession();
    const inspector = await startInspector({ ledger: s.ledger, port: 0 });
    const page = await browser.newPage();
    try {
      await page.goto(inspector.url);
      await page.waitForSelector('#live.on');
      const open = s.handler.orders({ status: ['OPEN', 'PARTIALLY_FILLED'] })[0]!;
      await page.click(`#orders tbody tr[data-order="${open.orderId}"]`);
      await page.waitForFunction((id) => document.getElementById('detail-id')?.textContent === id, open.orderId);
      const t = performance.now();
      expect(await s.handler.cancel(open.orderId)).toBe(true);
      await page.waitForFunction(
        (id) =>
          document.querySelector(`#orders tbody tr[data-order="${id}"] td:nth-child(2)`)?.textContent ===
          'CANCEL_PENDING',
        open.orderId,
        { timeout: 1_000 },
      );
      await page.waitForFunction(
        () => [...document.querySelectorAll('#timeline td')].some((td) => td.textContent?.includes('CANCEL_PENDING')),
        undefined,
        { timeout: 1_000 },
      );
      console.log(`inspector: a cancel showed in the list and timeline after ${(performance.now() - t).toFixed(0)} ms`);
      await s.clock.advance(5_000); // the venue confirms
      await page.waitForFunction(
        (id) =>
          document.querySelector(`#orders tbody tr[data-order="${id}"] td:nth-child(2)`)?.textContent === 'CANCELLED',
        open.orderId,
        { timeout: 1_000 },
      );
      await inspector.flush();
      await page.waitForTimeout(300);
      expect(await chartCounts(page)).toEqual(await ledgerCounts(s.ledger));
    } finally {
      await page.close();
      await inspector.close();
      await s.handler.stop();
    }
  });

  it('stays responsive with 10,000 orders and 1,000 changes a second', async () => {
    const ledger = createMemoryLedger({ strategyId: 'BIG' });
    const ids = Array.from({ length: 10_000 }, (_, i) => `ORD_20260105_090000_${i.toString(16).padStart(8, '0')}`);
    await ledger.commit(
      ids.map(
        (orderId, i): LedgerWrite => ({
          kind: 'order',
          order: {
            orderId,
            directiveId: `D${i}`,
            strategyId: 'BIG',
            orderDetails: limit(),
            causality: chain({ orderIds: [orderId] }),
            at: i,
          },
        }),
      ),
    );
    const inspector: Inspector = await startInspector({ ledger, port: 0 });
    const page = await browser.newPage();
    try {
      await page.goto(inspector.url);
      await page.waitForSelector('#live.on');
      expect(await page.textContent('#range')).toBe('1–100 of 10,000');
      expect(await page.$$eval('#orders tbody tr', (trs) => trs.length)).toBe(100); // paged, not 10,000 rows
      // Two seconds of 1,000 acknowledgements a second, in bursts of 50 every 50 ms.
      const started = performance.now();
      for (let k = 0; k < 2_000; k += 50) {
        await ledger.commit(
          ids.slice(k, k + 50).map(
            (orderId): LedgerWrite => ({
              kind: 'change',
              orderId,
              eventType: 'ORDER_ACCEPTED',
              from: 'PENDING',
              to: 'OPEN',
              at: 20_000,
              cause: 'test',
            }),
          ),
        );
        await new Promise((r) => setTimeout(r, Math.max(0, started + k - performance.now())));
      }
      const t = performance.now();
      await page.waitForFunction(
        () => document.querySelector('[data-count="OPEN"]')?.textContent === '2000',
        undefined,
        { timeout: 1_000 },
      );
      console.log(
        `inspector: 10,000 orders, 2,000 changes at 1,000/s; the last showed ${(performance.now() - t).toFixed(0)} ms after its write`,
      );
      // The page still answers at once: a filter over 10,000 orders.
      await page.click('.node[data-status="OPEN"]');
      await page.waitForFunction(() => document.getElementById('range')?.textContent === '1–100 of 2,000', undefined, {
        timeout: 1_000,
      });
      const pushes = await page.evaluate(
        () => performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/orders?')).length,
      );
      expect(pushes).toBeLessThan(40); // batched: a few list refreshes a second, not one per change
    } finally {
      await page.close();
      await inspector.close();
    }
  });
});

describe('the state inspector server', () => {
  const get = (url: string, headers: Record<string, string>): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(url, { headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });

  it('answers loopback requests and refuses any other Host or Origin, on HTTP and WebSocket', async () => {
    const inspector = await startInspector({ ledger: createMemoryLedger(), port: 0 });
    const { port } = new URL(inspector.url);
    try {
      expect(await get(`${inspector.url}api/summary`, {})).toBe(200);
      expect(await get(`${inspector.url}api/summary`, { host: `localhost:${port}` })).toBe(200);
      expect(await get(`${inspector.url}api/summary`, { host: 'evil.example' })).toBe(403);
      expect(await get(`${inspector.url}`, { host: `evil.example:${port}` })).toBe(403);
      expect(await get(`${inspector.url}api/summary`, { origin: 'http://evil.example' })).toBe(403);
      expect(await get(`${inspector.url}api/orders/NOPE`, {})).toBe(404);
      const ws = (headers: Record<string, string>) =>
        new Promise<string>((resolve) => {
          const s = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
          s.on('message', () => {
            resolve('open');
            s.close();
          });
          s.on('error', () => resolve('refused'));
        });
      expect(await ws({})).toBe('open');
      expect(await ws({ host: 'evil.example' })).toBe('refused');
      expect(await ws({ origin: 'http://evil.example' })).toBe('refused');
    } finally {
      await inspector.close();
    }
  });

  it('will not listen beyond this machine unless asked explicitly', async () => {
    await expect(startInspector({ ledger: createMemoryLedger(), port: 0, host: '0.0.0.0' })).rejects.toBeInstanceOf(
      InspectorOptionsError,
    );
    const exposed = await startInspector({
      ledger: createMemoryLedger(),
      port: 0,
      host: '0.0.0.0',
      exposeOnNetwork: true,
      allowedHosts: ['trading-box'],
    });
    const { port } = new URL(exposed.url);
    const authorization = `Bearer ${exposed.token}`; // exposed: a token is required (test/inspector/security.test.ts)
    expect(await get(`http://127.0.0.1:${port}/api/summary`, { host: `trading-box:${port}`, authorization })).toBe(200);
    expect(await get(`http://127.0.0.1:${port}/api/summary`, { host: 'evil.example', authorization })).toBe(403);
    await exposed.close();
  });
});
