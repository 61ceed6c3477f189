/**
 * A local venue that speaks Binance spot's own wire format on 127.0.0.1: the signed REST endpoints
 * ccxt calls (`exchangeInfo`, `avgPrice`, `order` POST/GET/DELETE, `order/cancelReplace`,
 * `allOrders`, `myTrades`) and the WebSocket API user data stream
 * (`userDataStream.subscribe.signature`, then `executionReport` events), with Binance's error codes
 * and messages. Requests must be signed (HMAC-SHA256) with the configured secret. As on Binance:
 * each symbol publishes its filters and a new order that breaks one is refused (-1013 "Filter
 * failure: LOT_SIZE", never rounded); a client order id is refused as a duplicate (-2010) only
 * while its order is open, so a filled or cancelled order's id can be used again; `myTrades`
 * returns at most `limit` trades (default 500, at most 1000), paged with `fromId`.
 * Tests drive its book by hand (`fill`, `expire`, `dropStream`, `failNext`); the demo lets
 * `autoFill` trade resting orders now and then. Not a matching engine: a faithful counterpart.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocket } from 'ws';
import { type Clock, systemClock } from '../clock.js';
import { decAdd, decCmp, decMul, decSubFloor } from '../decimal.js';
import { BINANCE_RULES, type LocalMarketRules, exchangeInfoSymbol } from './binance-local-rules.js';
import {
  type Refusal,
  newOrderRefusal,
  outsideRecvWindow,
  restSignatureRefusal,
  streamSignatureValid,
} from './binance-local-requests.js';
import type { VenueOrderState } from './types.js';

/** A symbol the local venue lists, e.g. `{ base: 'BTC', quote: 'USDT', price: '60000' }`. */
export interface LocalMarket {
  base: string;
  quote: string;
  /** Where market orders trade, and the symbol's average price (`avgPrice`, the price bands). */
  price: string;
  /** Its filters; default Binance's for the base asset (`BINANCE_RULES`, BTC's for others). */
  rules?: Partial<LocalMarketRules>;
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
  /** How long a `late-execution` request is held before it is executed. Default 1,000 ms. */
  lateExecutionMs?: number;
}

/**
 * A failure to inject into the next call of an endpoint. `hang`: never answered, nothing done;
 * `lost-reply`: done (its stream reports sent), but the answer never comes; `late-execution`: held
 * `lateExecutionMs` (queued on the way to the matching engine), then done if still within its
 * recvWindow, as Binance's matching engine does, and never answered.
 */
export type InjectedFailure = 'rate-limit' | 'hang' | 'server-error' | 'lost-reply' | 'late-execution';

/** A signed REST request as the venue received it: the route and every parameter, as sent. */
export interface ReceivedRequest {
  route: string;
  params: Record<string, string>;
}

/** Signed requests kept for `received()` (a stated bound: the oldest are dropped). */
const RECEIVED_KEPT = 10_000;

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
    endpoint: 'POST /api/v3/order' | 'DELETE /api/v3/order' | 'GET /api/v3/order' | 'POST /api/v3/order/cancelReplace',
    failure: InjectedFailure,
  ): void;
  /** The signed REST requests received so far (the last 10,000), oldest first: what ccxt really sent. */
  received(): ReceivedRequest[];
  /** Every order the venue holds, oldest first (a cancel-replace's new order is another one; a client order id used again, too). */
  orders(): {
    clientOrderId: string;
    orderId: string;
    status: string;
    origQty: string;
    price: string;
    stopPrice: string;
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
  const rulesOf = (symbol: string): LocalMarketRules => {
    const m = markets.get(symbol)!;
    return { ...(BINANCE_RULES[m.base] ?? BINANCE_RULES.BTC!), ...m.rules };
  };
  const received: ReceivedRequest[] = [];
  const balance = options.balance ?? '1000000';
  /** The latest order of each client order id (an id can be used again once its order ended). */
  const byClientId = new Map<string, LocalOrder>();
  const byOrderId = new Map<number, LocalOrder>();
  const failures = new Map<string, InjectedFailure>();
  let nextOrderId = 1_000;
  let nextTradeId = 50_000;
  let subscriptions = 0;
  const streams = new Set<WebSocket>();

  // ─── Answers ──────────────────────────────────────────────────────────────────────────
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, code: number, msg: string): void =>
    send(res, status, { code, msg });
  const ok = (res: ServerResponse, body: unknown): void => send(res, 200, body);

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
      // 0.1%, in what the trade brings in (Binance's default without BNB): a buy pays in the base asset.
      commission: decMul(o.side === 'BUY' ? qty : decMul(qty, price), '0.001'),
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

  /** A new order's symbol, parameters and filters, judged before anything happens (cancelReplace: before its cancel). */
  const filters = (p: URLSearchParams): Refusal | undefined => {
    const symbol = p.get('symbol') ?? '';
    if (!markets.has(symbol)) return { status: 400, code: -1121, msg: 'Invalid symbol.' };
    return newOrderRefusal(p, rulesOf(symbol), markets.get(symbol)!.price);
  };
  /** Places a new order that passed its filters; refused for a duplicate client order id or the balance. */
  const place = (p: URLSearchParams): LocalOrder | Refusal => {
    const symbol = p.get('symbol')!;
    const market = markets.get(symbol)!;
    const clientOrderId = p.get('newClientOrderId') ?? `x-local-${nextOrderId + 1}`;
    // Unique among open orders only (Binance's rule): an ended order's id can be used again.
    const previous = byClientId.get(clientOrderId);
    if (previous && working(previous)) return { status: 400, code: -2010, msg: 'Duplicate order sent.' };
    const type = p.get('type') ?? '';
    const side = p.get('side') === 'SELL' ? 'SELL' : 'BUY';
    const quantity = p.get('quantity')!;
    const price = type === 'MARKET' ? '0.00000000' : p.get('price')!;
    const cost = decMul(quantity, type === 'MARKET' ? market.price : price);
    if (decCmp(side === 'BUY' ? cost : decMul(quantity, market.price), balance) > 0)
      return { status: 400, code: -2010, msg: 'Account has insufficient balance for requested action.' };
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
    if (type === 'MARKET') trade(o, quantity, market.price);
    return o;
  };
  /** A new order's answer as `newOrderRespType` asks: ACK, RESULT or FULL (the default here). */
  const placed = (o: LocalOrder, respType: string | null) => {
    const ack = {
      symbol: o.symbol,
      orderId: o.orderId,
      orderListId: -1,
      clientOrderId: o.clientOrderId,
      transactTime: o.time,
    };
    if (respType === 'ACK') return ack;
    const result = { ...pub(o), transactTime: o.time };
    if (respType === 'RESULT') return result;
    const fills = o.trades.map((t) => ({
      price: t.price,
      qty: t.qty,
      commission: t.commission,
      commissionAsset: t.commissionAsset,
      tradeId: t.id,
    }));
    return { ...result, fills };
  };
  const placeOrder = (p: URLSearchParams, res: ServerResponse) => {
    const refused = filters(p);
    if (refused) return error(res, refused.status, refused.code, refused.msg);
    const o = place(p);
    if (!('orderId' in o)) return error(res, o.status, o.code, o.msg);
    ok(res, placed(o, p.get('newOrderRespType')));
  };
  const find = (p: URLSearchParams): LocalOrder | undefined => {
    const o = p.has('origClientOrderId')
      ? byClientId.get(p.get('origClientOrderId')!)
      : byOrderId.get(Number(p.get('orderId')));
    return o && o.symbol === p.get('symbol') ? o : undefined;
  };
  /** Cancels a working order: its report on the stream, and the cancel's answer. */
  const cancel = (o: LocalOrder, cancelClientId: string | null) => {
    o.status = 'CANCELED';
    o.updateTime = clock.now();
    const clientOrderId = cancelClientId ?? `cancel-${o.orderId}`;
    report(o, 'CANCELED', { cancelClientId: clientOrderId });
    return { ...pub(o), origClientOrderId: o.clientOrderId, clientOrderId, transactTime: clock.now() };
  };
  const cancelOrder = (p: URLSearchParams, res: ServerResponse) => {
    const o = find(p);
    if (!o || !working(o)) return error(res, 400, -2011, 'Unknown order sent.');
    ok(res, cancel(o, p.get('newClientOrderId')));
  };
  /**
   * `POST /api/v3/order/cancelReplace`, STOP_ON_FAILURE: the new order's filters first (a plain
   * error); then the cancel (failed: -2022, HTTP 400, nothing done); then the new order (failed:
   * -2021, HTTP 409, the old order stays cancelled). The stream carries the old order's CANCELED
   * (the cancel's client id in `c`, the order's in `C`), then the new order's NEW.
   */
  const cancelReplace = (p: URLSearchParams, res: ServerResponse) => {
    if (p.get('cancelReplaceMode') !== 'STOP_ON_FAILURE')
      return error(
        res,
        400,
        -1102,
        "Mandatory parameter 'cancelReplaceMode' was not sent, was empty/null, or malformed.",
      );
    const refused = filters(p);
    if (refused) return error(res, refused.status, refused.code, refused.msg);
    const byId = p.has('cancelOrderId') ? byOrderId.get(Number(p.get('cancelOrderId'))) : undefined;
    const origClientId = p.get('cancelOrigClientOrderId');
    const o = p.has('cancelOrderId')
      ? byId && (origClientId === null || byId.clientOrderId === origClientId)
        ? byId
        : undefined
      : byClientId.get(origClientId ?? '');
    const restriction = p.get('cancelRestrictions');
    const restricted =
      (restriction === 'ONLY_NEW' && o?.status !== 'NEW') ||
      (restriction === 'ONLY_PARTIALLY_FILLED' && o?.status !== 'PARTIALLY_FILLED');
    const cancelFailure =
      !o || o.symbol !== p.get('symbol') || !working(o)
        ? { code: -2011, msg: 'Unknown order sent.' }
        : restricted
          ? { code: -2011, msg: 'Order was not canceled due to cancel restrictions.' }
          : undefined;
    if (!o || cancelFailure) {
      const data = { cancelResult: 'FAILURE', newOrderResult: 'NOT_ATTEMPTED', cancelResponse: cancelFailure };
      return send(res, 400, {
        code: -2022,
        msg: 'Order cancel-replace failed.',
        data: { ...data, newOrderResponse: null },
      });
    }
    const cancelResponse = cancel(o, p.get('cancelNewClientOrderId'));
    const n = place(p);
    if (!('orderId' in n)) {
      const data = { cancelResult: 'SUCCESS', newOrderResult: 'FAILURE', cancelResponse };
      const newOrderResponse = { code: n.code, msg: n.msg };
      return send(res, 409, {
        code: -2021,
        msg: 'Order cancel-replace partially failed.',
        data: { ...data, newOrderResponse },
      });
    }
    ok(res, {
      cancelResult: 'SUCCESS',
      newOrderResult: 'SUCCESS',
      cancelResponse,
      newOrderResponse: placed(n, p.get('newOrderRespType')),
    });
  };
  /** `GET /api/v3/allOrders`: the symbol's orders from `orderId` on, oldest first, at most `limit` (1000). */
  const allOrders = (p: URLSearchParams, res: ServerResponse) => {
    const from = Number(p.get('orderId') ?? 0);
    const limit = Math.min(Number(p.get('limit') ?? 500), 1000);
    const found = [...byOrderId.values()].filter((o) => o.symbol === p.get('symbol') && o.orderId >= from);
    ok(
      res,
      found
        .sort((a, b) => a.orderId - b.orderId)
        .slice(0, limit)
        .map(pub),
    );
  };
  const queryOrder = (p: URLSearchParams, res: ServerResponse) => {
    const o = find(p);
    if (!o) return error(res, 400, -2013, 'Order does not exist.');
    ok(res, pub(o));
  };
  /**
   * `GET /api/v3/myTrades`: the symbol's trades (of one order with `orderId`), oldest first, at most
   * `limit` (default 500, at most 1000): from `fromId` on, or else the most recent ones, as Binance.
   */
  const myTrades = (p: URLSearchParams, res: ServerResponse) => {
    const limit = Number(p.get('limit') ?? 500);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      return error(res, 400, -1130, "Data sent for parameter 'limit' is not valid.");
    const symbol = p.get('symbol');
    const owners = p.has('orderId')
      ? [byOrderId.get(Number(p.get('orderId')))].filter((o): o is LocalOrder => o?.symbol === symbol)
      : [...byOrderId.values()].filter((o) => o.symbol === symbol);
    const all = owners.flatMap((o) => o.trades.map((t) => ({ o, t }))).sort((a, b) => a.t.id - b.t.id);
    const from = p.get('fromId');
    const page = from === null ? all.slice(-limit) : all.filter(({ t }) => t.id >= Number(from)).slice(0, limit);
    ok(
      res,
      page.map(({ o, t }) => ({
        symbol: o.symbol,
        id: t.id,
        orderId: o.orderId,
        orderListId: -1,
        price: t.price,
        qty: t.qty,
        quoteQty: decMul(t.qty, t.price),
        commission: t.commission,
        commissionAsset: t.commissionAsset,
        time: t.time,
        isBuyer: o.side === 'BUY',
        isMaker: o.type !== 'MARKET',
        isBestMatch: true,
      })),
    );
  };
  const exchangeInfo = () => ({
    timezone: 'UTC',
    serverTime: clock.now(),
    rateLimits: [],
    exchangeFilters: [],
    symbols: [...markets].map(([symbol, m]) => exchangeInfoSymbol(symbol, m.base, m.quote, rulesOf(symbol))),
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
    if (route === 'GET /api/v3/avgPrice') {
      const m = markets.get(url.searchParams.get('symbol') ?? '');
      if (!m) return error(res, 400, -1121, 'Invalid symbol.');
      return ok(res, { mins: 5, price: m.price, closeTime: clock.now() });
    }
    const handlers: Record<string, (p: URLSearchParams, r: ServerResponse) => void> = {
      'POST /api/v3/order': placeOrder,
      'POST /api/v3/order/cancelReplace': cancelReplace,
      'DELETE /api/v3/order': cancelOrder,
      'GET /api/v3/order': queryOrder,
      'GET /api/v3/allOrders': allOrders,
      'GET /api/v3/myTrades': myTrades,
    };
    const h = handlers[route];
    if (!h) return error(res, 404, -1, `unknown endpoint ${route}`);
    const raw = [url.search.slice(1), body].filter((s) => s.length > 0).join('');
    const refused = restSignatureRefusal(raw, req.headers['x-mbx-apikey'] as string | undefined, options);
    if (refused) return error(res, 401, -1022, refused);
    received.push({ route, params: Object.fromEntries(new URLSearchParams(raw)) });
    const stale = outsideRecvWindow(new URLSearchParams(raw), clock.now());
    if (stale) return error(res, 400, -1021, stale);
    if (received.length > RECEIVED_KEPT) received.shift();
    const failure = failures.get(route);
    failures.delete(route);
    if (failure === 'hang') return; // never answered: the caller's timeout decides
    if (failure === 'lost-reply') return h(new URLSearchParams(raw), lostReply); // done, never answered
    if (failure === 'late-execution') {
      clock.setTimeout(() => {
        if (!outsideRecvWindow(new URLSearchParams(raw), clock.now())) h(new URLSearchParams(raw), lostReply);
      }, options.lateExecutionMs ?? 1_000);
      return;
    }
    if (failure === 'rate-limit')
      return error(res, 429, -1015, 'Too many new orders; current limit is 50 orders per 10 SECOND.');
    if (failure === 'server-error')
      return error(res, 503, -1001, 'Internal error; unable to process your request. Please try again.');
    h(new URLSearchParams(raw), res);
  };
  /** Where the answer of a call whose reply is lost goes. */
  const lostReply = { writeHead: () => lostReply, end: () => lostReply } as unknown as ServerResponse;
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
        if (!streamSignatureValid(m.params, options)) {
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
    for (const o of byOrderId.values()) {
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
    received: () => received.map((r) => ({ route: r.route, params: { ...r.params } })),
    orders: () =>
      [...byOrderId.values()].map((o) => ({
        clientOrderId: o.clientOrderId,
        orderId: String(o.orderId),
        status: o.status,
        origQty: o.origQty,
        price: o.price,
        stopPrice: o.stopPrice,
        executedQty: o.executedQty,
        trades: o.trades.map((t) => ({ id: String(t.id), qty: t.qty, price: t.price })),
      })),
    venueOrders: () =>
      [...byOrderId.values()].map((o) => ({
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
