/**
 * The local state inspector: an HTTP and WebSocket server on 127.0.0.1 that shows, live, the order
 * state chart drawn from the machine definition with the number of orders in each state, a
 * filterable, paged list of orders, and for a chosen order its timeline (with each modification:
 * the values asked, then those in force or why the venue refused), its values as placed next to
 * those in force, and its causality chain, all read from the ledger. Updates are batched (at most one push per `pushIntervalMs`), so a reply
 * rate of thousands per second costs the page a few refreshes per second.
 *
 * It is read-only (GET and HEAD, nothing else), answers only requests addressed to this machine or
 * an allowed host, sends security headers on every response, and beyond loopback asks for a token
 * on every request and on the WebSocket.
 */
import { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { transitionTable } from '../../machines/transition-table.js';
import { type Clock, systemClock } from '../clock.js';
import type { LedgerUpdatedEvent, StrategyLedger } from '../ledger/types.js';
import { ORDER_STATUSES, type OrderStatus } from '../types.js';
import { isAllowedRequest, isLoopbackAddress } from './hosts.js';
import { type OrderChange, type OrderSource, openOrderSource } from './order-source.js';
import { INSPECTOR_SCRIPT } from './page-script.js';
import { INSPECTOR_STYLE } from './page-style.js';
import { inspectorPage } from './page.js';
import { securityHeaders } from './security-headers.js';
import { TokenGate, generateToken, tokenCookie, tokenCookieName, tokenProblem } from './token.js';

/** Options of the inspector. */
export interface InspectorOptions {
  /** Where the orders come from: its orders are loaded at start, then followed through its events. */
  ledger: StrategyLedger;
  /** Default 4600; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Any other address is refused unless `exposeOnNetwork`. */
  host?: string;
  /**
   * Serve beyond this machine: a non-loopback `host` is allowed, and every request and WebSocket
   * must carry the token (`token`, or one generated at start: see `Inspector.openUrl`). Default false.
   */
  exposeOnNetwork?: boolean;
  /**
   * The secret every request must carry (16 to 256 characters from A-Z a-z 0-9 . _ ~ -). Given,
   * it is required even on loopback; not given, loopback needs none and `exposeOnNetwork`
   * generates one.
   */
  token?: string;
  /** Told of every request refused for its token (401) or for its Host or Origin (403). */
  onRefused?: (refusal: InspectorRefusal) => void;
  /** Host names, besides loopback ones, that requests may address (e.g. a machine's name). */
  allowedHosts?: readonly string[];
  /** Longest wait between a ledger event and the page hearing of it. Default 100. */
  pushIntervalMs?: number;
  /** Timers of the update batching. Default: the system clock. */
  clock?: Clock;
  /** Shown in the page's title bar, e.g. the ledger file. */
  title?: string;
  /**
   * A Prometheus registry (a handler's `metrics`) served at `/metrics` in the text format, under
   * the same token and Host rules as every other route. Not given: `/metrics` is 404.
   */
  metrics?: Registry;
}

/** A request the inspector refused, as told to `onRefused`. */
export interface InspectorRefusal {
  /** 401: no token or a wrong one; 403: addressed to a host this inspector does not answer for. */
  status: 401 | 403;
  reason: 'missing token' | 'wrong token' | 'host or origin not allowed';
  method: string;
  /** The path asked for, without its query (which may hold a guessed token). */
  path: string;
  /** True for a WebSocket upgrade. */
  websocket: boolean;
  remoteAddress: string | undefined;
  /** The request's `Host` and `Origin` headers, as sent. */
  host: string | undefined;
  origin: string | undefined;
}

/** A running inspector. */
export interface Inspector {
  /** The inspector's address, e.g. `http://127.0.0.1:4600/` (a wildcard address shows as 127.0.0.1). */
  readonly url: string;
  /** The address to open in a browser: `url`, with `?token=…` when a token is required. */
  readonly openUrl: string;
  /** The token every request must carry, or undefined when none is required (loopback, no token given). */
  readonly token: string | undefined;
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
      `refusing to listen on ${host}: pass exposeOnNetwork (--expose) to serve beyond this machine, behind a token`,
    );
  }
  const problem = options.token === undefined ? undefined : tokenProblem(options.token);
  if (problem) throw new InspectorOptionsError(problem);
  // Loopback stays tokenless unless a token is given: only this machine's users can reach it, and
  // the Host/Origin checks keep other web sites out (DNS rebinding, cross-site requests).
  const token = options.token ?? (options.exposeOnNetwork ? generateToken() : undefined);
  // `ws` is imported here, not at the top: importing the package must not load it for a user who
  // never starts the inspector. First, so the setup below keeps its steps with no new await between.
  const { WebSocketServer } = await import('ws');
  const allowed = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
  if (!isLoopbackAddress(host) && host !== '0.0.0.0' && host !== '::') allowed.add(host.toLowerCase());
  const clock = options.clock ?? systemClock;
  const pushIntervalMs = options.pushIntervalMs ?? 100;
  const { ledger } = options;

  // ─── Following the ledger, batched ──────────────────────────────────────────────────────
  /** What the events said of each order since the last refresh began. */
  const dirty = new Map<string, OrderChange>();
  /** Set once the ledger's orders are counted or loaded; events before that wait in `dirty`. */
  let source: OrderSource | undefined;
  let anomalies = 0;
  /** An event arrived since the last refresh began: a push is owed (anomalies need one too). */
  let owed = false;
  let timer: unknown;
  let refreshing: Promise<void> | undefined;
  const refresh = async (): Promise<void> => {
    timer = undefined;
    owed = false;
    const changes = new Map(dirty);
    dirty.clear();
    await source!.refresh(changes);
    broadcast({ type: 'changed', ids: [...changes.keys()], ...summary() });
  };
  const summary = () => ({ counts: source!.statusCounts(), total: source!.size, anomalies });
  const schedule = (): void => {
    if (source && timer === undefined && !refreshing) timer = clock.setTimeout(() => run(), pushIntervalMs);
  };
  const run = (): void => {
    refreshing = refresh()
      .catch(() => undefined) // a ledger closing under us: the next event tries again
      .finally(() => {
        refreshing = undefined;
        if (owed) schedule(); // events that came during the refresh
      });
  };
  // Subscribed before the orders are counted: what the counts miss, the events bring.
  const unsubscribe = ledger.subscribe((e: LedgerUpdatedEvent) => {
    if (e.eventType === 'ORDER_ANOMALY') anomalies++;
    if (e.orderId) {
      const change = dirty.get(e.orderId) ?? { placed: false };
      if (e.eventType === 'ORDER_PLACED') change.placed = true;
      if (e.seq !== undefined) change.firstSeq = Math.min(change.firstSeq ?? e.seq, e.seq);
      dirty.set(e.orderId, change);
    }
    owed = true;
    schedule();
  });
  try {
    const opened = await openOrderSource(ledger);
    anomalies += opened.anomalies;
    source = opened.source;
  } catch (err) {
    unsubscribe();
    throw err;
  }
  if (owed) schedule();

  // ─── Who may ask ────────────────────────────────────────────────────────────────────────
  /** Set once listening: the cookie is named after the port, known only then when it was 0. */
  let gate: TokenGate | undefined;
  let port = 0;
  const refuse = (req: IncomingMessage, status: 401 | 403, reason: InspectorRefusal['reason']): void => {
    if (!options.onRefused) return;
    try {
      options.onRefused({
        status,
        reason,
        method: req.method ?? '',
        path: new URL(req.url ?? '/', 'http://localhost').pathname,
        websocket: req.headers.upgrade !== undefined,
        remoteAddress: req.socket.remoteAddress,
        host: req.headers.host,
        origin: req.headers.origin,
      });
    } catch {
      // A failing report hook must neither crash the server nor turn a refusal into an answer.
    }
  };
  /** Whether `req` may be answered; if not, reports it and returns the refusal's status and text. */
  const admit = (req: IncomingMessage, url: URL): { status: 401 | 403; text: string } | { cookie?: string } => {
    if (!isAllowedRequest(req.headers.host, req.headers.origin, allowed)) {
      refuse(req, 403, 'host or origin not allowed');
      return { status: 403, text: FORBIDDEN_TEXT };
    }
    if (token === undefined) return {};
    // Fails closed: no gate yet (the port not known) counts as a missing token.
    const check = gate ? gate.check(req.headers, url.searchParams) : ({ ok: false, reason: 'missing token' } as const);
    if (!check.ok) {
      refuse(req, 401, check.reason);
      return { status: 401, text: `401: ${check.reason}. ${UNAUTHORIZED_TEXT}` };
    }
    // A token that came in the address goes into the cookie, for the page's later requests.
    return check.source === 'query' ? { cookie: tokenCookie(port, token) } : {};
  };

  // ─── HTTP ───────────────────────────────────────────────────────────────────────────────
  const page = inspectorPage(options.title ?? 'execution-handler');
  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    contentType: string,
    body: string,
    extra: OutgoingHttpHeaders = {},
  ): void => {
    // A refused Host is not repeated into the policy: the answer is a refusal, with nothing to connect.
    const policyHost = status === 403 ? undefined : req.headers.host;
    res.writeHead(status, { ...securityHeaders(policyHost), 'content-type': contentType, ...extra });
    res.end(body);
  };
  const json = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void =>
    send(req, res, status, 'application/json; charset=utf-8', JSON.stringify(body));
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const admitted = admit(req, url);
    if ('status' in admitted) {
      const challenge: OutgoingHttpHeaders =
        admitted.status === 401 ? { 'www-authenticate': 'Bearer realm="execution-handler inspector"' } : {};
      return send(req, res, admitted.status, 'text/plain; charset=utf-8', `${admitted.text}\n`, challenge);
    }
    const cookie: OutgoingHttpHeaders = admitted.cookie ? { 'set-cookie': admitted.cookie } : {};
    // Read-only: no route changes anything, so any method but GET and HEAD is refused before routing.
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(req, res, 405, 'application/json; charset=utf-8', JSON.stringify({ error: 'only GET' }), {
        allow: 'GET, HEAD',
      });
    }
    if (url.pathname === '/') return send(req, res, 200, 'text/html; charset=utf-8', page, cookie);
    if (url.pathname === '/app.js') return send(req, res, 200, 'text/javascript; charset=utf-8', INSPECTOR_SCRIPT);
    if (url.pathname === '/app.css') return send(req, res, 200, 'text/css; charset=utf-8', INSPECTOR_STYLE);
    if (url.pathname === '/api/machine') return json(req, res, 200, machineGraph());
    if (url.pathname === '/api/summary') return json(req, res, 200, summary());
    if (url.pathname === '/metrics' && options.metrics) {
      return send(req, res, 200, options.metrics.contentType, await options.metrics.metrics());
    }
    if (url.pathname === '/api/orders') {
      const statuses = (url.searchParams.get('status') ?? '')
        .split(',')
        .filter((s): s is OrderStatus => (ORDER_STATUSES as readonly string[]).includes(s));
      const offset = clampInt(url.searchParams.get('offset'), 0, 0, Number.MAX_SAFE_INTEGER);
      const limit = clampInt(url.searchParams.get('limit'), 100, 1, 1_000);
      return json(
        req,
        res,
        200,
        await source!.page({ statuses, text: url.searchParams.get('q') ?? '', offset, limit }),
      );
    }
    const m = /^\/api\/orders\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const orderId = decodeURIComponent(m[1]!);
      const order = await ledger.getOrder(orderId);
      if (!order) return json(req, res, 404, { error: `no order ${orderId} in this ledger` });
      const { snapshot: _snapshot, ...view } = order;
      const [transitions, own] = await Promise.all([ledger.getTransitions(orderId), source!.orderAnomalies(orderId)]);
      return json(req, res, 200, { order: view, transitions, anomalies: own });
    }
    json(req, res, 404, { error: 'not found' });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(req, res, 500, { error: String(err) });
      else res.end();
    });
  });

  // ─── WebSocket: pushes of what changed ─────────────────────────────────────────────────
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const admitted = admit(req, url);
    if ('status' in admitted) {
      const line = admitted.status === 401 ? '401 Unauthorized' : '403 Forbidden';
      socket.end(`HTTP/1.1 ${line}\r\nConnection: close\r\n\r\n`);
      return;
    }
    if (url.pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ type: 'changed', ids: [], ...summary() }));
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
  port = address.port;
  if (token !== undefined) gate = new TokenGate(token, tokenCookieName(port));
  const url = `http://${shownHost(address)}:${address.port}/`;
  return {
    url,
    openUrl: token === undefined ? url : `${url}?token=${token}`,
    token,
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

const FORBIDDEN_TEXT =
  '403: this inspector answers only requests addressed to this machine (loopback) or to an allowed host';
const UNAUTHORIZED_TEXT =
  'This inspector needs its token: open the address it printed at start (with ?token=...), or send Authorization: Bearer <token>.';

/** The address to show for where the server listens: a wildcard one is reached through loopback. */
function shownHost(address: AddressInfo): string {
  if (address.address === '0.0.0.0') return '127.0.0.1';
  if (address.address === '::') return '[::1]';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

function clampInt(raw: string | null, fallback: number, min: number, max: number): number {
  const n = raw === null ? fallback : Number(raw);
  return Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : fallback;
}
