/**
 * The inspector over a SQLite ledger, in a real headless Chromium, never loads the ledger's orders
 * or anomalies whole (the ledger given refuses those reads): its counts, list pages, filters and an
 * order's detail come from the ledger's indexed queries, and its counts, kept from the ledger's
 * events as orders are placed, change state, and get anomalies, stay equal to the ledger's own.
 */
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import chromium from '@sparticuz/chromium';
import { type Browser, type Page, chromium as playwright } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createSimulatedExchange } from '../../src/connector/simulated.js';
import { createExecutionHandler } from '../../src/handler/create.js';
import { startInspector } from '../../src/inspector/server.js';
import { openSqliteLedger } from '../../src/ledger/sqlite.js';
import type { StrategyLedger } from '../../src/ledger/types.js';
import { seededRandom } from '../../src/random.js';
import { chain, limit } from '../support/harness.js';

let browser: Browser;
beforeAll(async () => {
  const args = chromium.args.filter((a) => a !== '--single-process');
  browser = await playwright.launch({ executablePath: await chromium.executablePath(), args, headless: true });
});
afterAll(async () => {
  await browser?.close();
});

/** `ledger` as the inspector sees it: any read of every order or every anomaly fails the test. */
function withoutFullReads(ledger: StrategyLedger, refused: string[]): StrategyLedger {
  return new Proxy(ledger, {
    get(target, key, receiver) {
      if (key === 'getOrdersChangedSince' || key === 'getAnomalies' || key === 'getOpenOrders') {
        return async () => {
          refused.push(String(key));
          throw new Error(`the inspector read the whole ledger (${String(key)})`);
        };
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

const chartCounts = (page: Page): Promise<Record<string, number>> =>
  page.$$eval('[data-count]', (ts) =>
    Object.fromEntries(ts.map((t) => [(t as SVGTextElement).dataset.count!, Number(t.textContent)])),
  );

describe('the inspector over a SQLite ledger', () => {
  it('pages, filters and shows orders from the ledger’s queries, and keeps its counts from the events', async () => {
    const clock = createManualClock(Date.UTC(2026, 0, 5, 9));
    const ledger = openSqliteLedger(join(mkdtempSync(join(tmpdir(), 'eh-insp-sql-')), 'l.db'), { strategyId: 'SQL' });
    const venue = createSimulatedExchange({ clock, seed: 4, fillProbability: 0.1, rejectRate: 0.1 });
    const handler = await createExecutionHandler({
      strategyId: 'SQL',
      connector: venue,
      ledger,
      clock,
      random: seededRandom(11),
    });
    const place = async (from: number, to: number): Promise<string[]> => {
      const ids: string[] = [];
      for (let i = from; i < to; i++) {
        const { orderIds } = await handler.execute({
          directiveId: `DIR_${i}`,
          causality: chain(),
          orders: [
            i % 4 === 0 ? { symbol: 'ETH_USDT', side: 'SELL', type: 'MARKET', quantity: '0.5' } : limit('1', '60000'),
          ],
        });
        ids.push(...orderIds);
        await clock.advance(50);
      }
      await clock.advance(1_000);
      return ids;
    };
    const ids = await place(0, 150);
    const first = ids[3]!;
    await ledger.commit([
      {
        kind: 'anomaly',
        anomaly: {
          strategyId: 'SQL',
          kind: 'LATE_REPLY',
          reason: 'seen in the detail',
          orderId: first,
          at: clock.now(),
        },
      },
    ]);
    const refused: string[] = [];
    const inspector = await startInspector({ ledger: withoutFullReads(ledger, refused), port: 0, pushIntervalMs: 50 });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(inspector.url);
      await page.waitForSelector('#live.on');
      expect(await chartCounts(page)).toEqual(await ledger.countOrdersByStatus!());
      expect(await page.textContent('#range')).toBe('1–100 of 150');
      const listed = await page.$$eval('#orders tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-order')));
      expect(listed).toEqual([...ids].reverse().slice(0, 100)); // newest first, as placed
      await page.click('#next');
      await page.waitForFunction(() => document.getElementById('range')?.textContent === '101–150 of 150');
      await page.click('#prev');
      await page.waitForFunction(() => document.getElementById('range')?.textContent === '1–100 of 150');

      // Filters: a state from the chart, then text; totals from the kept counts and from the ledger.
      const counts = await ledger.countOrdersByStatus!();
      await page.click('.node[data-status="OPEN"]');
      await page.waitForFunction(
        (n) => document.getElementById('range')?.textContent?.endsWith(`of ${n}`),
        counts.OPEN,
      );
      const statuses = await page.$$eval('#orders tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
      expect(new Set(statuses)).toEqual(new Set(['OPEN']));
      await page.click('.node[data-status="REJECTED"]');
      await page.waitForFunction(
        (n) => document.getElementById('range')?.textContent?.endsWith(`of ${n}`),
        counts.OPEN + counts.REJECTED,
      );
      await page.click('.node[data-status="OPEN"]');
      await page.click('.node[data-status="REJECTED"]');
      await page.fill('#q', first.slice(-8));
      await page.waitForFunction(() => document.getElementById('range')?.textContent === '1–1 of 1');

      // An order's detail, with its own anomaly.
      await page.click(`#orders tbody tr[data-order="${first}"]`);
      await page.waitForFunction((id) => document.getElementById('detail-id')?.textContent === id, first);
      expect(await page.textContent('#timeline')).toContain('seen in the detail');
      await page.fill('#q', '');

      // Live: more orders placed, cancels, the venue's answers and an anomaly; counts kept from events.
      const open = handler.orders({ status: ['OPEN', 'PARTIALLY_FILLED'] }).slice(0, 10);
      for (const o of open) expect(await handler.cancel(o.orderId)).toBe(true);
      const more = await place(150, 180);
      await clock.advance(5_000);
      await handler.settle();
      await ledger.commit([
        {
          kind: 'anomaly',
          anomaly: { strategyId: 'SQL', kind: 'LATE_REPLY', reason: 'live', orderId: more[0]!, at: clock.now() },
        },
      ]);
      await inspector.flush();
      const now = await ledger.countOrdersByStatus!();
      await page.waitForFunction(
        (want) =>
          [...document.querySelectorAll('[data-count]')].every(
            (t) => Number(t.textContent) === want[(t as SVGTextElement).dataset.count!],
          ),
        now as Record<string, number>,
        { timeout: 2_000 },
      );
      expect(await chartCounts(page)).toEqual(now);
      expect(await page.textContent('#total')).toBe('180');
      expect(await page.textContent('#anomalies')).toBe(String(await ledger.countAnomalies!()));
      await page.waitForFunction(() => document.getElementById('range')?.textContent === '1–100 of 180');
      expect(errors).toEqual([]);
      expect(refused).toEqual([]);
    } finally {
      await page.close();
      await inspector.close();
      await handler.stop();
      await ledger.close();
    }
  });
});
