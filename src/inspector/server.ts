/**
 * The local state inspector: an HTTP and WebSocket server on 127.0.0.1 that shows, live, the order
 * state chart drawn from the machine definition with the number of orders in each state, a
 * filterable, paged list of orders, and for a chosen order its timeline (with each modification:
 * the values asked, then those in force or why the venue refused), its values as placed next to
 * those in force, and its causality chain, all read from the ledger. Updates are batched (at most one push per `pushIntervalMs`), so a reply
 * rate of thousands per second costs the page a few refreshes per second.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { transitionTable } from '../../machines/transition-table.js';
import { type Clock, systemClock } from '../clock.js';
import type { LedgerUpdatedEvent, StrategyLedger } from '../ledger/types.js';
import { ORDER_STATUSES, type OrderStatus } from '../types.js';
import { isAllowedRequest, isLoopbackAddress } from './hosts.js';
import { OrderIndex, summaryOf } from './order-index.js';
import { inspectorPage } from './page.js';

/** Options of the inspector. */
export interface InspectorOptions {
  /** Where the orders come from: its orders are loaded at start, then followed through its events. */
  ledger: StrategyLedger;
  /** Default 4600; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Any other address is refused unless `exposeOnNetwork`. */
  host?: string;
  /** Listen on a non-loopback address (the view has no authentication). Default false. */
  exposeOnNetwork?: boolean;
  /** Host names, besides loopback ones, that requests may address (e.g. a machine's name). */
  allowedHosts?: readonly string[];
  /** Longest wait between a ledger event and the page hearing of it. Default 100. */
  pushIntervalMs?: number;
  /** Timers of the update batching. Default: the system clock. */
  clock?: Clock;
  /** Shown in the page's title bar, e.g. the ledger file. */
  title?: string;
}

/** A running inspector. */
export interface Inspector {
  /** The address to open, e.g. `http://127.0.0.1:4600/`. */
  readonly url: string;
  /** Resolves once every change the ledger announced so far is in the index and was pushed. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** A user mistake in the inspector's options, reported in one line. */
export class InspectorOptionsError extends Error {
  override readonly name = 'InspectorOptionsError';
}

/** The state chart of the order machine: its states and, per pair of states, the events between them. */
export function machineGraph(): {
  states: readonly OrderStatus[];
  edges: { from: OrderStatus; to: OrderStatus; events: string[] }[];
} {
  const edges = new Map<string, { from: OrderStatus; to: OrderStatus; events: string[] }>();
  for (const r of transitionTable()) {
    if (r.from === r.to) continue;
    const key = `${r.from}>${r.to}`;
    const e = edges.get(key) ?? { from: r.from, to: r.to, events: [] };
    if (!e.events.includes(r.event)) e.events.push(r.event);
    edges.set(key, e);
  }
  return { states: ORDER_STATUSES, edges: [...edges.values()] };
}

/** Starts the inspector; resolves once it listens. Loads `ws` on the first call. */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackAddress(host) && !options.exposeOnNetwork) {
    throw new InspectorOptionsError(
      `refusing to listen on ${host}: the inspector has no authentication; pass exposeOnNetwork (--expose) to serve beyond this machine`,
    );
  }
  // `ws` is imported here, not at the top: importing the package must not load it for a user who
  // never starts the inspector. First, so the setup below keeps its steps with no new await between.
  const { WebSocketServer } = await import('ws');
  const allowed = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
  if (!isLoopbackAddress(host) && host !== '0.0.0.0' && host !== '::') allowed.add(host.toLowerCase());
  const clock = options.clock ?? systemClock;
  const pushIntervalMs = options.pushIntervalMs ?? 100;
  const { ledger } = options;
  const index = new OrderIndex();
  let anomalies = (await ledger.getAnomalies()).length;
  const existing = await ledger.getOrdersChangedSince(Number.MIN_SAFE_INTEGER);
  existing.sort((a, b) => a.placedAt - b.placedAt || (a.orderId < b.orderId ? -1 : 1)); // listings are newest first
  for (const o of existing) index.put(summaryOf(o));

  // ─── Following the ledger, batched ──────────────────────────────────────────────────────
  const dirty = new Set<string>();
  /** An event arrived since the last refresh began: a push is owed (anomalies need one too). */
  let owed = false;
  let timer: unknown;
  let refreshing: Promise<void> | undefined;
  const refresh = async (): Promise<void> => {
    timer = undefined;
    owed = false;
    const ids = [...dirty];
    dirty.clear();
    for (const id of ids) {
      const o = await ledger.getOrder(id);
      if (o) index.put(summaryOf(o));
    }
    broadcast({ type: 'changed', ids, counts: index.statusCounts(), total: index.size, anomalies });
  };
  const schedule = (): void => {
    if (timer === undefined && !refreshing) timer = clock.setTimeout(() => run(), pushIntervalMs);
  };
  const run = (): void => {
    refreshing = refresh()
      .catch(() => undefined) // a ledger closing under us: the next event tries again
      .finally(() => {
        refreshing = undefined;
        if (owed) schedule(); // events that came during the refresh
      });
  };
  const unsubscribe = ledger.subscribe((e: LedgerUpdatedEvent) => {
    if (e.eventType === 'ORDER_ANOMALY') anomalies++;
    if (e.orderId) dirty.add(e.orderId);
    owed = true;
    schedule();
  });

  // ─── HTTP ───────────────────────────────────────────────────────────────────────────────
  const page = inspectorPage(options.title ?? 'execution-handler');
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!isAllowedRequest(req.headers.host, req.headers.origin, allowed)) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('403: this inspector answers only requests addressed to this machine (loopback) or to an allowed host\n');
      return;
    }
    if (req.method !== 'GET') return json(res, 405, { error: 'only GET' });
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
      });
      res.end(page);
      return;
    }
    if (url.pathname === '/api/machine') return json(res, 200, machineGraph());
    if (url.pathname === '/api/summary')
      return json(res, 200, { counts: index.statusCounts(), total: index.size, anomalies });
    if (url.pathname === '/api/orders') {
      const statuses = (url.searchParams.get('status') ?? '')
        .split(',')
        .filter((s): s is OrderStatus => (ORDER_STATUSES as readonly string[]).includes(s));
      const offset = clampInt(url.searchParams.get('offset'), 0, 0, Number.MAX_SAFE_INTEGER);
      const limit = clampInt(url.searchParams.get('limit'), 100, 1, 1_000);
      return json(res, 200, index.page({ statuses, text: url.searchParams.get('q') ?? '', offset, limit }));
    }
    const m = /^\/api\/orders\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const orderId = decodeURIComponent(m[1]!);
      const order = await ledger.getOrder(orderId);
      if (!order) return json(res, 404, { error: `no order ${orderId} in this ledger` });
      const { snapshot: _snapshot, ...view } = order;
      const [transitions, all] = await Promise.all([ledger.getTransitions(orderId), ledger.getAnomalies()]);
      return json(res, 200, { order: view, transitions, anomalies: all.filter((a) => a.orderId === orderId) });
    }
    json(res, 404, { error: 'not found' });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: String(err) });
      else res.end();
    });
  });

  // ─── WebSocket: pushes of what changed ─────────────────────────────────────────────────
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (
      new URL(req.url ?? '/', 'http://localhost').pathname !== '/ws' ||
      !isAllowedRequest(req.headers.host, req.headers.origin, allowed)
    ) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ type: 'changed', ids: [], counts: index.statusCounts(), total: index.size, anomalies }));
    });
  });
  const broadcast = (message: unknown): void => {
    const data = JSON.stringify(message);
    for (const ws of wss.clients) if (ws.readyState === ws.OPEN) ws.send(data);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4600, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    async flush() {
      while (timer !== undefined || refreshing || owed) {
        if (timer !== undefined) {
          clock.clearTimeout(timer);
          run();
        }
        await (refreshing ?? Promise.resolve());
        if (!refreshing && timer === undefined && owed) run();
      }
    },
    async close() {
      unsubscribe();
      if (timer !== undefined) clock.clearTimeout(timer);
      await refreshing;
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // idle keep-alive connections would hold close() open
      await closed;
    },
  };
}

function clampInt(raw: string | null, fallback: number, min: number, max: number): number {
  const n = raw === null ? fallback : Number(raw);
  return Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : fallback;
}
