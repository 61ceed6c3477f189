/**
 * A handler process for the crash tests: opens the SQLite ledger, recovers, then trades until it
 * is killed. Its connector forwards every call to the venue host (the parent) over IPC.
 * argv: ledgerPath run ordersPerBurst
 */
import { systemClock } from '../../src/clock.js';
import type { ExchangeConnector } from '../../src/connector/types.js';
import { PlacementRejectedError } from '../../src/errors.js';
import { createExecutionHandler } from '../../src/handler/create.js';
import { openSqliteLedger } from '../../src/ledger/sqlite.js';
import { seededRandom } from '../../src/random.js';
import type { ExchangeReply, OrderRequest } from '../../src/types.js';
import type { Request, Response } from './ipc-protocol.js';

const [ledgerPath = '', runArg = '0'] = process.argv.slice(2);
const run = Number(runArg);
const send = (m: Request): void => {
  process.send?.(m);
};

let nextId = 1;
const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
const replyListeners = new Set<(r: ExchangeReply) => void>();
const reconnectListeners = new Set<() => void>();
process.on('message', (m: Response) => {
  if (m.kind === 'reply') for (const l of replyListeners) l(m.reply);
  else if (m.kind === 'reconnect') for (const l of reconnectListeners) l();
  else {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (!w) return;
    if (m.kind === 'result') w.resolve(m.value);
    else w.reject(m.name === 'PlacementRejectedError' ? new PlacementRejectedError(m.reason ?? m.message) : new Error(m.message));
  }
});
const call = <T>(op: Request['op'], arg: unknown): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
    send({ kind: 'call', id, op, arg });
  });

const connector: ExchangeConnector = {
  placeOrder: (o) => call('placeOrder', o),
  cancelOrder: (r) => call('cancelOrder', r),
  queryOrder: (r) => call('queryOrder', r),
  onReply(l) {
    replyListeners.add(l);
    return () => replyListeners.delete(l);
  },
  onReconnect(l) {
    reconnectListeners.add(l);
    return () => reconnectListeners.delete(l);
  },
};

const ledger = openSqliteLedger(ledgerPath, { strategyId: 'CRASH' });
const handler = await createExecutionHandler({
  strategyId: 'CRASH',
  connector,
  ledger,
  clock: systemClock,
  ackTimeoutMs: 300,
  cancelTimeoutMs: 300,
  queryIntervalMs: 50,
  queryRetries: 3,
  // Longer than any process here lives, so every order that ended before a kill is asked about.
  recoverLookbackMs: 3_000,
  onError: () => {},
});
await handler.recover();
process.send?.({ kind: 'ready' });

const rnd = seededRandom(run * 7919 + 1);
const order = (): OrderRequest =>
  rnd() < 0.3
    ? { symbol: 'BTC_USDT', side: 'BUY', type: 'MARKET', quantity: (0.001 + Math.floor(rnd() * 100) / 1000).toFixed(3) }
    : { symbol: 'ETH_USDT', side: rnd() < 0.5 ? 'BUY' : 'SELL', type: 'LIMIT', quantity: (0.01 + Math.floor(rnd() * 100) / 100).toFixed(2), price: '3000' };
for (let i = 0; ; i++) {
  const orders = Array.from({ length: 1 + Math.floor(rnd() * 2) }, order);
  await handler.execute({
    directiveId: `D_${run}_${i}`,
    causality: { origin: { id: `T_${run}_${i}`, type: 'TICK' }, signalIds: [], riskIds: [], orderIds: [], fillIds: [] },
    orders,
  });
  for (const v of handler.orders({ status: ['OPEN', 'PARTIALLY_FILLED'] })) if (rnd() < 0.05) await handler.cancel(v.orderId);
  await new Promise((r) => setImmediate(r));
}
