/**
 * The inspector beyond loopback, in a real headless Chromium and over raw HTTP and WebSocket: with
 * `exposeOnNetwork` every request and the socket need the token (the printed address lets the page
 * in and leaves an HttpOnly SameSite=Strict cookie, without it the page and the socket get 401);
 * every response carries the security headers; the page renders and follows the ledger live under
 * its Content-Security-Policy with no violation reported; no route changes anything; Host and
 * Origin checks still hold with a valid token.
 */
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { type IncomingHttpHeaders, request } from 'node:http';
import chromium from '@sparticuz/chromium';
import { type Browser, type Page, chromium as playwright } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createManualClock } from '../../src/clock.js';
import { createSimulatedExchange } from '../../src/connector/simulated.js';
import { createExecutionHandler } from '../../src/handler/create.js';
import {
  type InspectorRefusal,
  InspectorOptionsError,
  type Inspector,
  startInspector,
} from '../../src/inspector/server.js';
import { createMemoryLedger } from '../../src/ledger/memory.js';
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

/** Twenty orders through the handler and the simulated venue, some filled, some still working. */
async function session() {
  const clock = createManualClock(Date.UTC(2026, 0, 5, 9));
  const ledger = createMemoryLedger({ strategyId: 'SECURE' });
  const venue = createSimulatedExchange({ clock, seed: 3, fillProbability: 0.1, rejectRate: 0.1 });
  const handler = await createExecutionHandler({
    strategyId: 'SECURE',
    connector: venue,
    ledger,
    clock,
    random: seededRandom(9),
  });
  for (let i = 0; i < 20; i++) {
    await handler.execute({ directiveId: `DIR_${i}`, causality: chain(), orders: [limit('1', '60000')] });
    await clock.advance(50);
  }
  await clock.advance(1_000);
  return { clock, ledger, handler };
}

/** What the ledger holds, to show that nothing a request did changed it. */
async function ledgerState(ledger: StrategyLedger): Promise<string> {
  const orders = await ledger.getOrdersChangedSince(Number.MIN_SAFE_INTEGER);
  const transitions = await Promise.all(orders.map((o) => ledger.getTransitions(o.orderId)));
  return JSON.stringify({ orders, transitions, anomalies: await ledger.getAnomalies() });
}

/**
 * Collects, from before the first script runs, every CSP violation, console error and page error;
 * the function returned hands over those seen since its last call.
 */
async function watchPage(page: Page): Promise<() => Promise<string[]>> {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return async () => {
    const violations = await page.evaluate(() =>
      ((window as unknown as { cspViolations?: string[] }).cspViolations ?? []).splice(0),
    );
    return [...problems.splice(0), ...violations.map((v) => `csp: ${v}`)];
  };
}

/** A raw HTTP request: status, headers and body. */
function http(
  url: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += String(d);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket: 'open' once the first push arrives, else the HTTP status it was refused with. */
function socket(url: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('message', () => {
      resolve('open');
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(String(res.statusCode));
      res.resume();
      ws.terminate();
    });
    ws.on('error', () => resolve('error'));
  });
}

function expectSecurityHeaders(headers: Record<string, string | string[] | undefined>, where: string): void {
  const csp = String(headers['content-security-policy'] ?? '');
  const directives = Object.fromEntries(
    csp.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name!, values];
    }),
  );
  expect(directives['default-src'], where).toEqual(["'none'"]);
  expect(directives['script-src'], where).toEqual(["'self'"]);
  expect(directives['style-src'], where).toEqual(["'self'"]);
  expect(directives['connect-src']?.[0], where).toBe("'self'");
  for (const source of directives['connect-src']!.slice(1))
    expect(source, where).toMatch(/^wss?:\/\/127\.0\.0\.1:\d+$/);
  expect(directives['frame-ancestors'], where).toEqual(["'none'"]);
  expect(csp, where).not.toContain('unsafe');
  expect(headers['x-content-type-options'], where).toBe('nosniff');
  expect(headers['referrer-policy'], where).toBe('no-referrer');
  expect(headers['x-frame-options'], where).toBe('DENY');
}

describe('the inspector exposed on the network, in a browser', () => {
  it('lets the page in with the printed address, and refuses the page and the socket without it', async () => {
    const s = await session();
    const refusals: InspectorRefusal[] = [];
    const inspector = await startInspector({
      ledger: s.ledger,
      port: 0,
      exposeOnNetwork: true,
      onRefused: (r) => refusals.push(r),
    });
    const { port } = new URL(inspector.url);
    expect(inspector.token).toMatch(/^[0-9a-f]{48}$/);
    expect(inspector.openUrl).toBe(`${inspector.url}?token=${inspector.token}`);
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = await watchPage(page);
    try {
      // Without the token: the page, its script and the socket are all refused.
      const refused = await page.goto(inspector.url);
      expect(refused!.status()).toBe(401);
      expect(await page.textContent('body')).toContain('401: missing token');
      const fromPage = await page.evaluate(async () => {
        const script = (await fetch('/app.js')).status;
        const ws = await new Promise<string>((resolve) => {
          const w = new window.WebSocket(`ws://${location.host}/ws`); // the browser's, not the test's `ws`
          w.onopen = () => resolve('open');
          w.onerror = () => resolve('refused');
        });
        return { script, ws };
      });
      expect(fromPage).toEqual({ script: 401, ws: 'refused' });
      // What the browser said about those refusals (the failed socket, its text viewer's own style
      // blocked by the policy) is expected here; from now on nothing may be reported.
      await problems();
      expect(refusals.map((r) => [r.status, r.reason, r.path, r.websocket])).toEqual([
        [401, 'missing token', '/', false],
        [401, 'missing token', '/app.js', false],
        [401, 'missing token', '/ws', true],
      ]);

      // With it: the page renders, goes live, and the token leaves the address bar for a cookie.
      const opened = await page.goto(inspector.openUrl);
      expect(opened!.status()).toBe(200);
      await page.waitForSelector('#orders tbody tr');
      await page.waitForSelector('#live.on');
      expect(await page.textContent('#total')).toBe('20');
      expect(page.url()).toBe(inspector.url);
      const cookies = await context.cookies(inspector.url);
      expect(cookies).toEqual([
        expect.objectContaining({
          name: `execution_handler_inspector_${port}`,
          value: inspector.token,
          httpOnly: true,
          sameSite: 'Strict',
        }),
      ]);
      expect(await page.evaluate(() => document.cookie)).toBe(''); // no script can read it

      // Live under the policy: a cancel shows in the list within a second.
      const open = s.handler.orders({ status: ['OPEN', 'PARTIALLY_FILLED'] })[0]!;
      expect(await s.handler.cancel(open.orderId)).toBe(true);
      await page.waitForFunction(
        (id) =>
          document.querySelector(`#orders tbody tr[data-order="${id}"] td:nth-child(2)`)?.textContent ===
          'CANCEL_PENDING',
        open.orderId,
        { timeout: 1_000 },
      );
      await page.click(`#orders tbody tr[data-order="${open.orderId}"]`);
      await page.waitForFunction((id) => document.getElementById('detail-id')?.textContent === id, open.orderId);

      // A reload carries the cookie: no token in the address needed any more.
      const reloaded = await page.reload();
      expect(reloaded!.status()).toBe(200);
      await page.waitForSelector('#live.on');
      expect(await problems()).toEqual([]);
      expect(refusals).toHaveLength(3); // the page's own requests were never refused

      // Another browser profile, without the cookie, is refused again.
      const stranger = await browser.newContext();
      const other = await stranger.newPage();
      expect((await other.goto(inspector.url))!.status()).toBe(401);
      await stranger.close();
    } finally {
      await context.close();
      await inspector.close();
      await s.handler.stop();
    }
  });

  it('renders on loopback without a token under the same policy, and no other site may frame it', async () => {
    const s = await session();
    const title = '<img id="injected" src="x"> demo.db';
    const inspector = await startInspector({ ledger: s.ledger, port: 0, title });
    expect(inspector.token).toBeUndefined();
    expect(inspector.openUrl).toBe(inspector.url);
    const page = await browser.newPage();
    const problems = await watchPage(page);
    try {
      const response = await page.goto(inspector.url);
      expectSecurityHeaders(await response!.allHeaders(), 'the page on loopback');
      await page.waitForSelector('#orders tbody tr');
      await page.waitForSelector('#live.on');
      expect(await page.textContent('#title')).toBe(title); // the title shown as text, never as HTML
      expect(await page.$('#injected')).toBeNull();
      await page.click('.node[data-status="FILLED"]');
      await page.waitForSelector('.chip');
      expect(await problems()).toEqual([]);
      // A page elsewhere framing the inspector gets an empty frame: frame-ancestors 'none'.
      const framer = await browser.newPage();
      await framer.setContent(`<iframe src="${inspector.url}" width="800" height="600"></iframe>`);
      await framer.waitForTimeout(500);
      const frame = framer.frames().find((f) => f !== framer.mainFrame());
      expect(await frame?.$('#orders').catch(() => null)).toBeFalsy();
      await framer.close();
    } finally {
      await page.close();
      await inspector.close();
      await s.handler.stop();
    }
  });
});

describe('the inspector exposed on the network, over HTTP and WebSocket', () => {
  let s: Awaited<ReturnType<typeof session>>;
  let inspector: Inspector;
  const refusals: InspectorRefusal[] = [];
  beforeAll(async () => {
    s = await session();
    inspector = await startInspector({
      ledger: s.ledger,
      port: 0,
      exposeOnNetwork: true,
      token: 'a-given-token-of-24-chars',
      onRefused: (r) => refusals.push(r),
    });
  });
  afterAll(async () => {
    await inspector?.close();
    await s?.handler.stop();
  });
  const bearer = { authorization: 'Bearer a-given-token-of-24-chars' };

  it('uses the token it is given; a missing or wrong one answers 401 and is reported, without the guess', async () => {
    expect(inspector.token).toBe('a-given-token-of-24-chars');
    const { port } = new URL(inspector.url);
    const orderId = (await s.ledger.getOrdersChangedSince(Number.MIN_SAFE_INTEGER))[0]!.orderId;
    for (const path of ['', 'app.js', 'app.css', 'api/machine', 'api/summary', 'api/orders', `api/orders/${orderId}`]) {
      expect((await http(`${inspector.url}${path}`)).status, path).toBe(401);
      expect((await http(`${inspector.url}${path}?token=a-wrong-token-of-24-charsX`)).status, path).toBe(401);
      expect((await http(`${inspector.url}${path}`, { headers: bearer })).status, path).toBe(200);
      expect((await http(`${inspector.url}${path}?token=a-given-token-of-24-chars`)).status, path).toBe(200);
    }
    // The cookie counts only under this inspector's own name (another port's cookie is not ours).
    const cookie = (name: string) => ({ cookie: `other=1; ${name}=a-given-token-of-24-chars` });
    expect(
      (await http(`${inspector.url}api/summary`, { headers: cookie(`execution_handler_inspector_${port}`) })).status,
    ).toBe(200);
    expect(
      (await http(`${inspector.url}api/summary`, { headers: cookie('execution_handler_inspector_1') })).status,
    ).toBe(401);
    expect((await http(`${inspector.url}api/summary`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    // A token that almost matches (one character off, or a prefix) is as wrong as any other.
    expect((await http(`${inspector.url}?token=a-given-token-of-24-charz`)).status).toBe(401);
    expect((await http(`${inspector.url}?token=a-given-token-of-24-char`)).status).toBe(401);

    const wrong = refusals.filter((r) => r.reason === 'wrong token');
    expect(wrong.length).toBeGreaterThanOrEqual(9);
    expect(refusals.filter((r) => r.reason === 'missing token').length).toBeGreaterThanOrEqual(7);
    expect(wrong[0]).toMatchObject({
      status: 401,
      method: 'GET',
      path: '/',
      websocket: false,
      remoteAddress: '127.0.0.1',
    });
    expect(JSON.stringify(refusals)).not.toContain('a-wrong-token'); // a guess is never written to a log
  });

  it('refuses the WebSocket without the token, and opens it with the token in a header, the address or the cookie', async () => {
    const { port } = new URL(inspector.url);
    const ws = `ws://127.0.0.1:${port}/ws`;
    expect(await socket(ws)).toBe('401');
    expect(await socket(`${ws}?token=a-wrong-token-of-24-charsX`)).toBe('401');
    expect(await socket(ws, bearer)).toBe('open');
    expect(await socket(`${ws}?token=a-given-token-of-24-chars`)).toBe('open');
    expect(await socket(ws, { cookie: `execution_handler_inspector_${port}=a-given-token-of-24-chars` })).toBe('open');
    expect(refusals.filter((r) => r.websocket).map((r) => r.reason)).toEqual(['missing token', 'wrong token']);
  });

  it('keeps its Host and Origin checks, even for a request with the token', async () => {
    const { port } = new URL(inspector.url);
    const evil = { ...bearer, host: `evil.example:${port}` };
    expect((await http(`${inspector.url}api/summary`, { headers: evil })).status).toBe(403);
    const cross = { ...bearer, origin: 'http://evil.example' };
    expect((await http(`${inspector.url}api/summary`, { headers: cross })).status).toBe(403);
    expect(await socket(`ws://127.0.0.1:${port}/ws`, { ...bearer, origin: 'http://evil.example' })).toBe('403');
    expect(refusals.filter((r) => r.status === 403)).toHaveLength(3);
  });

  it('puts the security headers on every response, whatever its status', async () => {
    const cases: [string, Record<string, string>, string, number][] = [
      ['page', bearer, '', 200],
      ['script', bearer, 'app.js', 200],
      ['style', bearer, 'app.css', 200],
      ['api', bearer, 'api/summary', 200],
      ['unknown order', bearer, 'api/orders/NOPE', 404],
      ['unknown path', bearer, 'nothing-here', 404],
      ['no token', {}, '', 401],
      ['other host', { ...bearer, host: 'evil.example' }, '', 403],
    ];
    for (const [what, headers, path, status] of cases) {
      const r = await http(`${inspector.url}${path}`, { headers });
      expect(r.status, what).toBe(status);
      expectSecurityHeaders(r.headers, what);
    }
    const post = await http(inspector.url, { method: 'POST', headers: bearer });
    expect(post.status).toBe(405);
    expectSecurityHeaders(post.headers, 'POST');
    const script = await http(`${inspector.url}app.js`, { headers: bearer });
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const page = await http(inspector.url, { headers: bearer });
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file, none inline
    expect(page.body).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('is read-only: every other method on every route answers 405 and the ledger is unchanged', async () => {
    await s.handler.settle();
    const before = await ledgerState(s.ledger);
    const orderId = (await s.ledger.getOrdersChangedSince(Number.MIN_SAFE_INTEGER))[0]!.orderId;
    const paths = ['', 'app.js', 'api/machine', 'api/summary', 'api/orders', `api/orders/${orderId}`, 'ws', 'nothing'];
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const path of paths) {
        const r = await http(`${inspector.url}${path}`, {
          method,
          headers: { ...bearer, 'content-type': 'application/json' },
        });
        expect(r.status, `${method} /${path}`).toBe(405);
        expect(r.headers.allow).toBe('GET, HEAD');
      }
    }
    expect(await ledgerState(s.ledger)).toBe(before);
  });

  it('refuses a token too short or with characters that do not fit a URL and a cookie', async () => {
    for (const token of ['short', 'sixteen chars!!!', 'x'.repeat(257), '']) {
      await expect(startInspector({ ledger: createMemoryLedger(), port: 0, token }), token).rejects.toBeInstanceOf(
        InspectorOptionsError,
      );
    }
  });

  it('asks a token given on loopback too', async () => {
    const loop = await startInspector({ ledger: createMemoryLedger(), port: 0, token: 'loopback-token-1234' });
    try {
      expect((await http(`${loop.url}api/summary`)).status).toBe(401);
      expect((await http(`${loop.openUrl}`)).status).toBe(200);
    } finally {
      await loop.close();
    }
  });
});
