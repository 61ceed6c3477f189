/**
 * The venue host of the crash and failover tests: a simulated venue in the test process, serving
 * handler processes over IPC. The venue outlives every handler process; its replies go to every
 * process attached and alive (each has its own stream, as on a real venue), and replies sent while
 * none is connected are lost, as on a real stream.
 */
import type { ChildProcess } from 'node:child_process';
import type { SimulatedExchange } from '../../src/connector/simulated.js';
import type { Request, Response } from './ipc-protocol.js';

export function serveVenue(venue: SimulatedExchange): { attach(child: ChildProcess): void } {
  const attached = new Set<ChildProcess>();
  const push = (m: Response): void => {
    for (const child of attached) if (child.connected) child.send(m, () => {}); // a dead child's pipe errors are ignored
  };
  venue.onReply!((reply) => push({ kind: 'reply', reply }));
  venue.onReconnect!(() => push({ kind: 'reconnect' }));
  return {
    attach(child) {
      attached.add(child);
      child.on('exit', () => attached.delete(child));
      child.on('message', (m: Request) => {
        if (m.kind !== 'call') return;
        const op = venue[m.op] as (arg: unknown) => Promise<Response extends { value: infer V } ? V : never>;
        op.call(venue, m.arg).then(
          (value) => child.connected && child.send({ kind: 'result', id: m.id, value } satisfies Response, () => {}),
          (err: Error & { reason?: string }) =>
            child.connected &&
            child.send(
              {
                kind: 'error',
                id: m.id,
                name: err.name,
                message: err.message,
                ...(err.reason ? { reason: err.reason } : {}),
              } satisfies Response,
              () => {},
            ),
        );
      });
    },
  };
}
