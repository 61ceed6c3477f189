/**
 * The connector of a handler child process: every call goes up to the venue host (the parent) over
 * IPC, and the venue's replies and reconnects come down. Shared by the crash and failover tests.
 */
import type { ExchangeConnector } from '../../src/connector/types.js';
import { PlacementRejectedError } from '../../src/errors.js';
import type { ExchangeReply } from '../../src/types.js';
import type { Request, Response } from './ipc-protocol.js';

/** The connector over this process's IPC channel. */
export function ipcConnector(): ExchangeConnector {
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
      else
        w.reject(
          m.name === 'PlacementRejectedError'
            ? new PlacementRejectedError(m.reason ?? m.message)
            : new Error(m.message),
        );
    }
  });
  const call = <T>(op: Request['op'], arg: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      process.send?.({ kind: 'call', id, op, arg } satisfies Request);
    });
  return {
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
}
