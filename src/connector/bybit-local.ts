/**
 * A local venue that speaks Bybit v5 spot's wire format on 127.0.0.1: the signed REST endpoints
 * ccxt calls (`/v5/market/time`, `/v5/market/instruments-info`, `/v5/order/create`, `cancel`,
 * `amend`, `realtime`, `/v5/execution/list`, and the account endpoints ccxt reads to learn the
 * account is unified) and the private WebSocket (`auth` op, then the `order` and `execution`
 * topics), with Bybit's `retCode`/`retMsg` errors. As on Bybit, an `orderLinkId` is refused as a
 * duplicate (170141) whatever became of its first order, an amend changes the order in place, and a
 * signed request outside its recv_window is refused (10002).
 * Tests drive its book by hand (`fill`, `dropStream`, `failNext`). A faithful counterpart, not a
 * matching engine.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocket } from 'ws';
import { type Clock, systemClock } from '../clock.js';
import { type BybitLocalMarket, type BybitRefusal, createBybitBook } from './bybit-local-book.js';
import {
  BYBIT_ERRORS,
  type BybitLocalOrder,
  envelope,
  executionRecord,
  orderRecord,
  outsideRecvWindow,
  restSigned,
  wsAuthValid,
} from './bybit-local-wire.js';

/** Options of the local Bybit venue. */
export interface BybitLocalOptions {
  apiKey: string;
  secret: string;
  /** Default: BTC/USDT at 60000 and ETH/USDT at 3000, with Bybit's published filters. */
  markets?: BybitLocalMarket[];
  /** Quote (or base, for sells) balance: an order above it is refused (170131). Default 1,000,000. */
  balance?: string;
  clock?: Clock;
}

/** A failure injected into the next call of an endpoint (`hang`: never answered; `lost-reply`: done, never answered). */
export type BybitInjectedFailure = 'rate-limit' | 'hang' | 'lost-reply';

/** The running local venue. */
export interface BybitLocal {
  /** `http://127.0.0.1:PORT` (see `pointCcxtAtBybitLocal`). */
  readonly url: string;
  /** Trades `qty` (default: what is left) of an order at `price` (default: its limit). */
  fill(orderLinkId: string, qty?: string, price?: string): void;
  /** The venue cancels a working order itself (an IOC remainder, self-trade prevention, delisting). */
  cancelByVenue(orderLinkId: string): void;
  /** Closes every stream connection; pushes while none is subscribed are lost, as on Bybit. */
  dropStream(): void;
  /** The next call of `path` (e.g. `/v5/order/create`) fails this way. */
  failNext(path: string, failure: BybitInjectedFailure): void;
  /** The signed REST requests received (route, parameters as sent, the venue's time), oldest first. */
  received(): { route: string; params: Record<string, string>; at: number }[];
  /** Every order the venue holds, oldest first, in Bybit's fields. */
  orders(): BybitLocalOrder[];
  /** Stream `auth` ops accepted so far (one per connection). */
  authentications(): number;
  close(): Promise<void>;
}

const market = (base: string, price: string, f: Partial<BybitLocalMarket> = {}): BybitLocalMarket => ({
  base,
  quote: 'USDT',
  price,
  basePrecision: '0.000001',
  tickSize: '0.01',
  minOrderQty: '0.000048',
  maxOrderQty: '71.73956243',
  minOrderAmt: '1',
  maxOrderAmt: '2000000',
  ...f,
});
const DEFAULT_MARKETS = [market('BTC', '60000'), market('ETH', '3000', { basePrecision: '0.00001' })];

/** ccxt `urls.api` overrides that send a ccxt `bybit` instance (REST and private stream) here. */
export function bybitLocalUrls(url: string, api: Record<string, unknown>): Record<string, unknown> {
  const ws = (api.ws ?? {}) as Record<string, Record<string, unknown>>;
  const stream = `${url.replace(/^http/, 'ws')}/v5/private`;
  return {
    ...api,
    public: url,
    private: url,
    spot: url,
    ws: { ...ws, private: { ...ws.private, contract: stream, spot: { unified: stream } } },
  };
}

/** Points a ccxt `bybit` instance at the local venue, with the plain HTTP agent a `ws://` URL needs. */
export async function pointCcxtAtBybitLocal(
  exchange: { urls: Record<string, unknown>; loadHttpProxyAgent(): Promise<unknown> },
  url: string,
): Promise<void> {
  exchange.urls.api = bybitLocalUrls(url, exchange.urls.api as Record<string, unknown>);
  await exchange.loadHttpProxyAgent();
}

const instrument = (m: BybitLocalMarket) => ({
  symbol: m.base + m.quote,
  baseCoin: m.base,
  quoteCoin: m.quote,
  innovation: '0',
  status: 'Trading',
  marginTrading: 'none',
  lotSizeFilter: {
    basePrecision: m.basePrecision,
    quotePrecision: '0.00000001',
    minOrderQty: m.minOrderQty,
    maxOrderQty: m.maxOrderQty,
    minOrderAmt: m.minOrderAmt,
    maxOrderAmt: m.maxOrderAmt,
  },
  priceFilter: { tickSize: m.tickSize },
});

/** Starts the local venue; resolves once it listens. Loads `ws` on the first call. */
export async function startBybitLocal(options: BybitLocalOptions): Promise<BybitLocal> {
  const { WebSocketServer } = await import('ws'); // not loaded by users who never start it
  const clock = options.clock ?? systemClock;
  const markets = new Map((options.markets ?? DEFAULT_MARKETS).map((m) => [m.base + m.quote, m]));
  const streams = new Map<WebSocket, Set<string>>(); // authenticated connections → their topics
  const received: { route: string; params: Record<string, string>; at: number }[] = [];
  const failures = new Map<string, BybitInjectedFailure>();
  let authentications = 0;
  let pushId = 0;

  const push = (topic: string, data: unknown[]): void => {
    const text = JSON.stringify({ id: `local-${++pushId}`, topic, creationTime: clock.now(), data });
    for (const [ws, topics] of streams) if (topics.has(topic)) ws.send(text);
  };
  const book = createBybitBook(markets, options.balance ?? '1000000', (o, e) => {
    push('order', [orderRecord(o)]);
    if (e) push('execution', [executionRecord(o, e)]);
  });
  const send = (res: ServerResponse, body: unknown, status = 200): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const answer = (res: ServerResponse, r: BybitLocalOrder | BybitRefusal): void =>
    Array.isArray(r)
      ? send(res, envelope({}, clock.now(), r[0], r[1]))
      : send(
          res,
          envelope(
            { orderId: (r as BybitLocalOrder).orderId, orderLinkId: (r as BybitLocalOrder).orderLinkId },
            clock.now(),
          ),
        );

  const privateRoutes: Record<string, (p: Record<string, string>, res: ServerResponse) => void> = {
    'POST /v5/order/create': (p, res) => answer(res, book.create(p, clock.now())),
    'POST /v5/order/cancel': (p, res) => answer(res, book.cancel(p, clock.now())),
    'POST /v5/order/amend': (p, res) => answer(res, book.amend(p, clock.now())),
    'GET /v5/order/realtime': (p, res) => {
      const o = book.find(p);
      const list = o && (!p.symbol || p.symbol === o.symbol) ? [orderRecord(o)] : [];
      send(res, envelope({ category: 'spot', list, nextPageCursor: '' }, clock.now()));
    },
    'GET /v5/execution/list': (p, res) => {
      const o = book.find(p);
      const all = o ? o.executions.map((e) => executionRecord(o, e)) : [];
      const limit = Math.min(Number(p.limit ?? 50), 100);
      const from = Number(p.cursor || 0);
      const list = all.slice(from, from + limit);
      const next = from + limit < all.length ? String(from + limit) : '';
      send(res, envelope({ category: 'spot', list, nextPageCursor: next }, clock.now()));
    },
    'GET /v5/user/query-api': (_p, res) => send(res, envelope({ unified: 0, uta: 1, readOnly: 0 }, clock.now())),
    'GET /v5/account/info': (_p, res) => send(res, envelope({ unifiedMarginStatus: 6 }, clock.now())),
    'GET /v5/asset/coin/query-info': (_p, res) => send(res, envelope({ rows: [] }, clock.now())),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const route = `${req.method} ${url.pathname}`;
    const now = clock.now();
    if (route === 'GET /v5/market/time')
      return send(res, envelope({ timeSecond: String(Math.floor(now / 1000)), timeNano: `${now}000000` }, now));
    if (route === 'GET /v5/market/instruments-info')
      return send(res, envelope({ category: 'spot', list: [...markets.values()].map(instrument) }, now));
    const h = privateRoutes[route];
    if (!h) return send(res, envelope({}, now, 10001, `unknown endpoint ${route}`), 404);
    const raw = req.method === 'POST' ? body : url.search.slice(1);
    if (!restSigned(req.headers, options.apiKey, options.secret, raw))
      return send(res, envelope({}, now, ...BYBIT_ERRORS.sign));
    if (outsideRecvWindow(req.headers, now)) return send(res, envelope({}, now, ...BYBIT_ERRORS.recvWindow));
    const params =
      req.method === 'POST'
        ? (Object.fromEntries(
            Object.entries(JSON.parse(body || '{}') as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
          ) as Record<string, string>)
        : Object.fromEntries(url.searchParams);
    received.push({ route, params, at: now });
    if (received.length > 10_000) received.shift(); // a stated bound
    const failure = failures.get(url.pathname);
    failures.delete(url.pathname);
    if (failure === 'hang') return; // never answered: the caller's timeout decides
    if (failure === 'rate-limit') return send(res, envelope({}, now, ...BYBIT_ERRORS.rateLimit));
    if (failure === 'lost-reply') return h(params, lostReply); // done, never answered
    h(params, res);
  };
  /** Where the answer of a call whose reply is lost goes. */
  const lostReply = { writeHead: () => lostReply, end: () => lostReply } as unknown as ServerResponse;
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, envelope({}, clock.now(), 10016, String(err)), 500));
  });

  const wss = new WebSocketServer({ server, path: '/v5/private' });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      let m: { op?: string; args?: unknown; req_id?: string };
      try {
        m = JSON.parse(String(data)) as typeof m;
      } catch {
        return;
      }
      const reply = (success: boolean, ret_msg: string) =>
        ws.send(
          JSON.stringify({ success, ret_msg, op: m.op, conn_id: 'local', ...(m.req_id ? { req_id: m.req_id } : {}) }),
        );
      if (m.op === 'ping') return reply(true, 'pong');
      if (m.op === 'auth') {
        if (!wsAuthValid(m.args, options.apiKey, options.secret)) return reply(false, 'Params Error');
        streams.set(ws, new Set());
        authentications++;
        return reply(true, '');
      }
      const topics = streams.get(ws);
      if (m.op === 'subscribe' && topics && Array.isArray(m.args)) {
        for (const t of m.args) topics.add(String(t));
        return reply(true, '');
      }
      reply(false, topics ? `unsupported op ${String(m.op)}` : 'Request not authorized');
    });
    ws.on('close', () => streams.delete(ws));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    fill(orderLinkId, qty, price) {
      const o = book.find({ orderLinkId });
      if (!o) throw new Error(`the local venue has no order ${orderLinkId}`);
      book.fill(o, clock.now(), qty, price);
    },
    cancelByVenue(orderLinkId) {
      const r = book.cancel({ orderLinkId }, clock.now());
      if (Array.isArray(r)) throw new Error(`the local venue cannot cancel ${orderLinkId}: ${r[1]}`);
    },
    dropStream() {
      for (const ws of streams.keys()) ws.terminate();
      streams.clear();
    },
    failNext(path, failure) {
      failures.set(path, failure);
    },
    received: () => received.map((r) => ({ ...r, params: { ...r.params } })),
    orders: () => book.orders().map((o) => ({ ...o, executions: [...o.executions] })),
    authentications: () => authentications,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
