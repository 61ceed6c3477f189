/**
 * A local venue that speaks Binance spot's own wire format on 127.0.0.1: the signed REST endpoints
 * ccxt calls (`exchangeInfo`, `order` POST/GET/DELETE, `myTrades`) and the WebSocket API user data
 * stream (`userDataStream.subscribe.signature`, then `executionReport` events), with Binance's
 * error codes and messages. Requests must be signed (HMAC-SHA256) with the configured secret.
 * Tests drive its book by hand (`fill`, `expire`, `dropStream`, `failNext`); the demo lets
 * `autoFill` trade resting orders now and then. Not a matching engine: a faithful counterpart.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocket } from 'ws';
import { type Clock, systemClock } from '../clock.js';
import { decAdd, decCmp, decMul, decSubFloor } from '../decimal.js';
import type { VenueOrderState } from './types.js';

/** A symbol the local venue lists, e.g. `{ base: 'BTC', quote: 'USDT', price: '60000' }`. */
export interface LocalMarket {
  base: string;
  quote: string;
  /** Where market orders trade. */
  price: string;
}

/** Options of the local Binance venue. */
export interface BinanceLocalOptions {
  apiKey: string;
  secret: string;
  markets?: LocalMarket[];
  /** Quote (or base, for sells) balance: an order above it is refused as Binance refuses it. Default 1,000,000. */
  balance?: string;
  /** Default 0 (any free port). */
  port?: number;
  clock?: Clock;
  /** Trades resting orders at random, for the demo: chance per order per `autoFillIntervalMs`. */
  autoFill?: { probability: number; intervalMs: number; random: () => number };
}

/** A failure to inject into the next call of an endpoint. */
export type InjectedFailure = 'rate-limit' | 'hang' | 'server-error';

interface LocalOrder {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  side: 'BUY' | 'SELL';
  type: string;
  timeInForce: string;
  price: string;
  stopPrice: string;
  origQty: string;
  executedQty: string;
  quoteQty: string;
  status: 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED';
  time: number;
  updateTime: number;
  trades: LocalTrade[];
}

interface LocalTrade {
  id: number;
  price: string;
  qty: string;
  commission: string;
  commissionAsset: string;
  time: number;
}

/** The running local venue. */
export interface BinanceLocal {
  /** `http://127.0.0.1:PORT`: point ccxt's `urls.api` here (see `binanceLocalUrls`). */
  readonly url: string;
  /** Trades `qty` (default: what is left) of an order at `price` (default: its limit or the market). */
  fill(clientOrderId: string, qty?: string, price?: string): void;
  /** The venue expires a resting order (as IOC/FOK remainders or a DAY order at the close). */
  expire(clientOrderId: string): void;
  /** Closes every stream connection; events while none is subscribed are lost, as on Binance. */
  dropStream(): void;
  /** The next call of `endpoint` fails this way. */
  failNext(
    endpoint: 'POST /api/v3/order' | 'DELETE /api/v3/order' | 'GET /api/v3/order',
    failure: InjectedFailure,
  ): void;
  /** Every order the venue holds, by client order id. */
  orders(): {
    clientOrderId: string;
    orderId: string;
    status: string;
    executedQty: string;
    trades: { id: string; qty: string; price: string }[];
  }[];
  /** The venue's truth in the audit's terms (`auditAgainstVenue`). */
  venueOrders(): { clientOrderId: string; status: VenueOrderState['status']; fills: { venueFillId: string }[] }[];
  /** Stream subscriptions accepted so far (one per (re)connection). */
  subscriptions(): number;
  close(): Promise<void>;
}

const DEFAULT_MARKETS: LocalMarket[] = [
  { base: 'BTC', quote: 'USDT', price: '60000' },
  { base: 'ETH', quote: 'USDT', price: '3000' },
  { base: 'SOL', quote: 'USDT', price: '150' },
  { base: 'XRP', quote: 'USDT', price: '0.6' },
];

const AUDIT_STATUS: Record<LocalOrder['status'], VenueOrderState['status']> = {
  NEW: 'OPEN',
  PARTIALLY_FILLED: 'PARTIALLY_FILLED',
  FILLED: 'FILLED',
  CANCELED: 'CANCELLED',
  REJECTED: 'REJECTED',
  EXPIRED: 'EXPIRED',
};

/** ccxt `urls.api` overrides that send a ccxt `binance` instance to the local venue. */
export function binanceLocalUrls(url: string): Record<string, unknown> {
  const ws = url.replace(/^http/, 'ws');
  return {
    public: `${url}/api/v3`,
    private: `${url}/api/v3`,
    v1: `${url}/api/v1`,
    ws: { spot: `${ws}/ws`, 'ws-api': { spot: `${ws}/ws-api/v3` } },
  };
}

/**
 * Points a ccxt `binance` instance at the local venue: its REST and WebSocket URLs, and the plain
 * HTTP agent ccxt wants before it opens a non-TLS `ws://` connection.
 */
export async function pointCcxtAtLocal(
  exchange: { urls: Record<string, unknown>; loadHttpProxyAgent(): Promise<unknown> },
  url: string,
): Promise<void> {
  exchange.urls.api = { ...(exchange.urls.api as object), ...binanceLocalUrls(url) };
  await exchange.loadHttpProxyAgent();
}

/** Starts the local venue; resolves once it listens. Loads `ws` on the first call. */
export async function startBinanceLocal(options: BinanceLocalOptions): Promise<BinanceLocal> {
  // Imported here, not at the top: importing the package must not load `ws` for a user who never
  // starts the local venue.
  const { WebSocketServer } = await import('ws');
  const clock = options.clock ?? systemClock;
  const markets = new Map((options.markets ?? DEFAULT_MARKETS).map((m) => [`${m.base}${m.quote}`, m]));
  const balance = options.balance ?? '1000000';
  const byClientId = new Map<string, LocalOrder>();
  const byOrderId = new Map<number, LocalOrder>();
  const failures = new Map<string, InjectedFailure>();
  let nextOrderId = 1_000;
  let nextTradeId = 50_000;
  let subscriptions = 0;
  const streams = new Set<WebSocket>();

  // ─── Signed requests ───────────────────────────────────────────────────────────────────
  const verify = (raw: string, apiKey: string | undefined): string | undefined => {
    if (apiKey !== options.apiKey) return 'API-key format invalid.';
    const m = /(^|&)signature=([0-9a-f]+)/.exec(raw);
    if (!m) return "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.";
    const payload = raw.replace(/&?signature=[0-9a-f]+/, '');
    const expected = createHmac('sha256', options.secret).update(payload).digest();
    const got = Buffer.from(m[2]!, 'hex');
    return got.length === expected.length && timingSafeEqual(got, expected)
      ? undefined
      : 'Signature for this request is not valid.';
  };
  const error = (res: ServerResponse, status: number, code: number, msg: string): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code, msg }));
  };
  const ok = (res: ServerResponse, body: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  // ─── The book ──────────────────────────────────────────────────────────────────────────
  const pub = (o: LocalOrder) => ({
    symbol: o.symbol,
    orderId: o.orderId,
    orderListId: -1,
    clientOrderId: o.clientOrderId,
    price: o.price,
    origQty: o.origQty,
    executedQty: o.executedQty,
    cummulativeQuoteQty: o.quoteQty,
    status: o.status,
    timeInForce: o.timeInForce,
    type: o.type,
    side: o.side,
    stopPrice: o.stopPrice,
    icebergQty: '0.00000000',
    time: o.time,
    updateTime: o.updateTime,
    isWorking: true,
    workingTime: o.time,
    origQuoteOrderQty: '0.00000000',
    selfTradePreventionMode: 'NONE',
  });
  const report = (
    o: LocalOrder,
    x: string,
    extra: { trade?: LocalTrade; cancelClientId?: string; reason?: string } = {},
  ): void => {
    const t = extra.trade;
    const event = {
      e: 'executionReport',
      E: clock.now(),
      s: o.symbol,
      c: extra.cancelClientId ?? o.clientOrderId,
      S: o.side,
      o: o.type,
      f: o.timeInForce,
      q: o.origQty,
      p: o.price,
      P: o.stopPrice,
      F: '0.00000000',
      g: -1,
      C: extra.cancelClientId ? o.clientOrderId : '',
      x,
      X: o.status,
      r: extra.reason ?? 'NONE',
      i: o.orderId,
      l: t?.qty ?? '0.00000000',
      z: o.executedQty,
      L: t?.price ?? '0.00000000',
      n: t?.commission ?? '0',
      N: t?.commissionAsset ?? null,
      T: clock.now(),
      t: t?.id ?? -1,
      v: 0,
      I: nextTradeId * 10 + o.orderId,
      w: o.status === 'NEW' || o.status === 'PARTIALLY_FILLED',
      m: false,
      M: t !== undefined,
      O: o.time,
      Z: o.quoteQty,
      Y: t ? decMul(t.qty, t.price) : '0.00000000',
      Q: '0.00000000',
      W: o.time,
      V: 'NONE',
    };
    const data = JSON.stringify({ subscriptionId: 0, event });
    for (const ws of streams) if (ws.readyState === ws.OPEN) ws.send(data);
  };
  const trade = (o: LocalOrder, qty: string, price: string): LocalTrade => {
    const m = markets.get(o.symbol)!;
    const t: LocalTrade = {
      id: ++nextTradeId,
      price,
      qty,
      commission: decMul(decMul(qty, price), '0.001'),
      commissionAsset: o.side === 'BUY' ? m.base : m.quote,
      time: clock.now(),
    };
    o.trades.push(t);
    o.executedQty = decAdd(o.executedQty, qty);
    o.quoteQty = decAdd(o.quoteQty, decMul(qty, price));
    o.status = decCmp(o.executedQty, o.origQty) >= 0 ? 'FILLED' : 'PARTIALLY_FILLED';
    o.updateTime = clock.now();
    report(o, 'TRADE', { trade: t });
    return t;
  };
  const working = (o: LocalOrder): boolean => o.status === 'NEW' || o.status === 'PARTIALLY_FILLED';

  const placeOrder = (p: URLSearchParams, res: ServerResponse) => {
    const symbol = p.get('symbol') ?? '';
    const market = markets.get(symbol);
    if (!market) return error(res, 400, -1121, 'Invalid symbol.');
    const clientOrderId = p.get('newClientOrderId') ?? `x-local-${nextOrderId + 1}`;
    if (byClientId.has(clientOrderId)) return error(res, 400, -2010, 'Duplicate order sent.');
    const type = p.get('type') ?? '';
    const side = p.get('side') === 'SELL' ? 'SELL' : 'BUY';
    const quantity = p.get('quantity') ?? '';
    if (!/^\d+(\.\d+)?$/.test(quantity) || decCmp(quantity, '0') <= 0)
      return error(res, 400, -1013, 'Invalid quantity.');
    const price = type === 'MARKET' ? '0.00000000' : (p.get('price') ?? '');
    if (type !== 'MARKET' && !/^\d+(\.\d+)?$/.test(price))
      return error(res, 400, -1013, 'Filter failure: PRICE_FILTER');
    const cost = decMul(quantity, type === 'MARKET' ? market.price : price);
    if (decCmp(side === 'BUY' ? cost : decMul(quantity, market.price), balance) > 0) {
      return error(res, 400, -2010, 'Account has insufficient balance for requested action.');
    }
    const now = clock.now();
    const o: LocalOrder = {
      symbol,
      orderId: ++nextOrderId,
      clientOrderId,
      side,
      type,
      timeInForce: type === 'MARKET' ? 'GTC' : (p.get('timeInForce') ?? 'GTC'),
      price,
      stopPrice: p.get('stopPrice') ?? '0.00000000',
      origQty: quantity,
      executedQty: '0',
      quoteQty: '0',
      status: 'NEW',
      time: now,
      updateTime: now,
      trades: [],
    };
    byClientId.set(clientOrderId, o);
    byOrderId.set(o.orderId, o);
    report(o, 'NEW');
    const fills = type === 'MARKET' ? [trade(o, quantity, market.price)] : [];
    ok(res, {
      ...pub(o),
      transactTime: now,
      fills: fills.map((t) => ({
        price: t.price,
        qty: t.qty,
        commission: t.commission,
        commissionAsset: t.commissionAsset,
        tradeId: t.id,
      })),
    });
  };
  const find = (p: URLSearchParams): LocalOrder | undefined => {
    const o = p.has('origClientOrderId')
      ? byClientId.get(p.get('origClientOrderId')!)
      : byOrderId.get(Number(p.get('orderId')));
    return o && o.symbol === p.get('symbol') ? o : undefined;
  };
  const cancelOrder = (p: URLSearchParams, res: ServerResponse) => {
    const o = find(p);
    if (!o || !working(o)) return error(res, 400, -2011, 'Unknown order sent.');
    o.status = 'CANCELED';
    o.updateTime = clock.now();
    const cancelClientId = p.get('newClientOrderId') ?? `cancel-${o.orderId}`;
    report(o, 'CANCELED', { cancelClientId });
    ok(res, {
      ...pub(o),
      origClientOrderId: o.clientOrderId,
      clientOrderId: cancelClientId,
      transactTime: clock.now(),
    });
  };
  const queryOrder = (p: URLSearchParams, res: ServerResponse) => {
    const o = find(p);
    if (!o) return error(res, 400, -2013, 'Order does not exist.');
    ok(res, pub(o));
  };
  const myTrades = (p: URLSearchParams, res: ServerResponse) => {
    const o = byOrderId.get(Number(p.get('orderId')));
    const all = o && o.symbol === p.get('symbol') ? o.trades : [];
    ok(
      res,
      all.map((t) => ({
        symbol: o!.symbol,
        id: t.id,
        orderId: o!.orderId,
        orderListId: -1,
        price: t.price,
        qty: t.qty,
        quoteQty: decMul(t.qty, t.price),
        commission: t.commission,
        commissionAsset: t.commissionAsset,
        time: t.time,
        isBuyer: o!.side === 'BUY',
        isMaker: o!.type !== 'MARKET',
        isBestMatch: true,
      })),
    );
  };
  const exchangeInfo = () => ({
    timezone: 'UTC',
    serverTime: clock.now(),
    rateLimits: [],
    exchangeFilters: [],
    symbols: [...markets].map(([symbol, m]) => ({
      symbol,
      status: 'TRADING',
      baseAsset: m.base,
      baseAssetPrecision: 8,
      quoteAsset: m.quote,
      quotePrecision: 8,
      quoteAssetPrecision: 8,
      baseCommissionPrecision: 8,
      quoteCommissionPrecision: 8,
      orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
      icebergAllowed: true,
      ocoAllowed: true,
      quoteOrderQtyMarketAllowed: true,
      allowTrailingStop: true,
      cancelReplaceAllowed: true,
      isSpotTradingAllowed: true,
      isMarginTradingAllowed: false,
      filters: [
        { filterType: 'PRICE_FILTER', minPrice: '0.00001000', maxPrice: '1000000.00000000', tickSize: '0.00001000' },
        { filterType: 'LOT_SIZE', minQty: '0.00001000', maxQty: '9000.00000000', stepSize: '0.00001000' },
        { filterType: 'MARKET_LOT_SIZE', minQty: '0.00000000', maxQty: '100.00000000', stepSize: '0.00000000' },
      ],
      permissions: [],
      permissionSets: [['SPOT']],
      defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
      allowedSelfTradePreventionModes: ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
    })),
  });

  // ─── HTTP ──────────────────────────────────────────────────────────────────────────────
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /api/v3/exchangeInfo') return ok(res, exchangeInfo());
    if (route === 'GET /api/v3/time') return ok(res, { serverTime: clock.now() });
    if (route === 'GET /api/v3/ping') return ok(res, {});
    const handlers: Record<string, (p: URLSearchParams, r: ServerResponse) => void> = {
      'POST /api/v3/order': placeOrder,
      'DELETE /api/v3/order': cancelOrder,
      'GET /api/v3/order': queryOrder,
      'GET /api/v3/myTrades': myTrades,
    };
    const h = handlers[route];
    if (!h) return error(res, 404, -1, `unknown endpoint ${route}`);
    const raw = [url.search.slice(1), body].filter((s) => s.length > 0).join('');
    const refused = verify(raw, req.headers['x-mbx-apikey'] as string | undefined);
    if (refused) return error(res, 401, -1022, refused);
    const failure = failures.get(route);
    failures.delete(route);
    if (failure === 'hang') return; // never answered: the caller's timeout decides
    if (failure === 'rate-limit')
      return error(res, 429, -1015, 'Too many new orders; current limit is 50 orders per 10 SECOND.');
    if (failure === 'server-error')
      return error(res, 503, -1001, 'Internal error; unable to process your request. Please try again.');
    h(new URLSearchParams(raw), res);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => error(res, 500, -1000, String(err)));
  });

  // ─── WebSocket API: the user data stream ───────────────────────────────────────────────
  const wss = new WebSocketServer({ server, path: '/ws-api/v3' });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      let m: { id?: unknown; method?: string; params?: Record<string, string> };
      try {
        m = JSON.parse(String(data)) as typeof m;
      } catch {
        return;
      }
      if (m.method === 'userDataStream.subscribe.signature') {
        // Binance signs the key-sorted parameters (apiKey and timestamp among them) but the signature.
        const signed = Object.entries(m.params ?? {})
          .filter(([k]) => k !== 'signature')
          .sort(([a], [b]) => (a < b ? -1 : 1));
        const expected = createHmac('sha256', options.secret)
          .update(signed.map(([k, v]) => `${k}=${v}`).join('&'))
          .digest('hex');
        if (m.params?.apiKey !== options.apiKey || m.params?.signature !== expected) {
          ws.send(
            JSON.stringify({
              id: m.id,
              status: 401,
              error: { code: -1022, msg: 'Signature for this request is not valid.' },
            }),
          );
          return;
        }
        streams.add(ws);
        subscriptions++;
        ws.send(JSON.stringify({ id: m.id, status: 200, result: { subscriptionId: 0 }, rateLimits: [] }));
      } else {
        ws.send(
          JSON.stringify({
            id: m.id,
            status: 400,
            error: { code: -1100, msg: `unsupported method ${String(m.method)}` },
          }),
        );
      }
    });
    ws.on('close', () => streams.delete(ws));
  });

  let autoTimer: unknown;
  const autoFill = (): void => {
    const a = options.autoFill!;
    for (const o of byClientId.values()) {
      if (!working(o) || a.random() >= a.probability) continue;
      const left = decSubFloor(o.origQty, o.executedQty);
      const part = a.random() < 0.5 ? left : decSubFloor(left, decMul(left, '0.5'));
      if (decCmp(part, '0') > 0) trade(o, part, o.price);
    }
    autoTimer = clock.setTimeout(autoFill, a.intervalMs);
  };
  if (options.autoFill) autoTimer = clock.setTimeout(autoFill, options.autoFill.intervalMs);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const must = (clientOrderId: string): LocalOrder => {
    const o = byClientId.get(clientOrderId);
    if (!o) throw new Error(`the local venue has no order ${clientOrderId}`);
    return o;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    fill(clientOrderId, qty, price) {
      const o = must(clientOrderId);
      if (!working(o)) throw new Error(`order ${clientOrderId} is ${o.status}`);
      trade(
        o,
        qty ?? decSubFloor(o.origQty, o.executedQty),
        price ?? (o.type === 'MARKET' ? markets.get(o.symbol)!.price : o.price),
      );
    },
    expire(clientOrderId) {
      const o = must(clientOrderId);
      o.status = 'EXPIRED';
      o.updateTime = clock.now();
      report(o, 'EXPIRED');
    },
    dropStream() {
      for (const ws of streams) ws.terminate();
      streams.clear();
    },
    failNext(endpoint, failure) {
      failures.set(endpoint, failure);
    },
    orders: () =>
      [...byClientId.values()].map((o) => ({
        clientOrderId: o.clientOrderId,
        orderId: String(o.orderId),
        status: o.status,
        executedQty: o.executedQty,
        trades: o.trades.map((t) => ({ id: String(t.id), qty: t.qty, price: t.price })),
      })),
    venueOrders: () =>
      [...byClientId.values()].map((o) => ({
        clientOrderId: o.clientOrderId,
        status: AUDIT_STATUS[o.status],
        fills: o.trades.map((t) => ({ venueFillId: String(t.id) })),
      })),
    subscriptions: () => subscriptions,
    async close() {
      clock.clearTimeout(autoTimer);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
