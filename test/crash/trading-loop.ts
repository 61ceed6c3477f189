/**
 * What a handler child process does until it is killed: seeded directives of one or two orders,
 * now and then a cancel. Shared by the crash and failover tests.
 */
import type { ExecutionHandler } from '../../src/handler/create.js';
import { seededRandom } from '../../src/random.js';
import type { OrderRequest } from '../../src/types.js';

/** Trades forever with run-specific directive ids (`D_{run}_{i}`), so no two runs collide. */
export async function tradeForever(handler: ExecutionHandler, run: string | number): Promise<never> {
  const rnd = seededRandom(
    typeof run === 'number' ? run * 7919 + 1 : [...run].reduce((h, c) => h * 31 + c.charCodeAt(0), 7) >>> 0,
  );
  const order = (): OrderRequest =>
    rnd() < 0.3
      ? {
          symbol: 'BTC_USDT',
          side: 'BUY',
          type: 'MARKET',
          quantity: (0.001 + Math.floor(rnd() * 100) / 1000).toFixed(3),
        }
      : {
          symbol: 'ETH_USDT',
          side: rnd() < 0.5 ? 'BUY' : 'SELL',
          type: 'LIMIT',
          quantity: (0.01 + Math.floor(rnd() * 100) / 100).toFixed(2),
          price: '3000',
        };
  for (let i = 0; ; i++) {
    const directive = {
      directiveId: `D_${run}_${i}`,
      causality: {
        origin: { id: `T_${run}_${i}`, type: 'TICK' as const },
        signalIds: [],
        riskIds: [],
        orderIds: [],
        fillIds: [],
      },
      orders: Array.from({ length: 1 + Math.floor(rnd() * 2) }, order),
    };
    // A failed ledger write (a database connection lost) is retried as an engine would: the same
    // directive again, which records and places only what is missing.
    for (;;) {
      try {
        await handler.execute(directive);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    for (const v of handler.orders({ status: ['OPEN', 'PARTIALLY_FILLED'] })) {
      if (rnd() < 0.05) await handler.cancel(v.orderId).catch(() => false); // a failed write cancels nothing
    }
    await new Promise((r) => setImmediate(r));
  }
}
