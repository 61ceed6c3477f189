/// <reference lib="dom" />
/**
 * `npm run docs:screenshot`: a simulated session, the inspector over its ledger, and a picture of
 * the page in headless Chromium, written to docs/inspector.png for the README.
 */
import chromium from '@sparticuz/chromium';
import { chromium as playwright } from 'playwright-core';
import { startInspector } from '../src/inspector/server.js';
import { runSession } from '../src/sim/session.js';

const session = await runSession({
  orders: 400,
  seed: 11,
  faults: { dropRate: 0.02, duplicateRate: 0.05, lostAckRate: 0.05 },
});
const inspector = await startInspector({ ledger: session.ledger, port: 0, title: 'demo session, seed 11' });
const browser = await playwright.launch({
  executablePath: await chromium.executablePath(),
  args: chromium.args,
  headless: true,
});
const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
await page.goto(inspector.url);
await page.waitForSelector('#orders tbody tr');
// The order shown: one with an accepted modify and fills when the session modified any (its detail
// then shows its modifications and original values), else a FILLED one with several fills.
const withFills =
  session.orderIds.find(
    (id) =>
      (session.handler.order(id)?.fills.length ?? 0) >= 1 &&
      (session.handler.order(id)?.modifications ?? []).some((m) => m.status === 'ACCEPTED'),
  ) ??
  session.orderIds.find(
    (id) => (session.handler.order(id)?.fills.length ?? 0) >= 2 && session.handler.order(id)?.status === 'FILLED',
  );
if (withFills) {
  await page.fill('#q', withFills);
  await page.click(`#orders tbody tr[data-order="${withFills}"]`);
  await page.waitForSelector('#timeline');
  await page.fill('#q', '');
  await page.waitForTimeout(400);
}
await page.evaluate(() => window.scrollTo(0, 0));
await page.waitForTimeout(300);
await page.screenshot({ path: new URL('../docs/inspector.png', import.meta.url).pathname });
await browser.close();
await inspector.close();
await session.handler.stop();
process.stdout.write('wrote docs/inspector.png\n');
