/**
 * The venue host of the crash tests: a simulated venue in the test process, serving one handler
 * process at a time over IPC. The venue outlives every handler process; replies sent while no
 * handler is connected are lost, as on a real stream.
 */
import type { ChildProcess } from 'node:child_process';
import type { SimulatedExchange } from '../../src/connector/simulated.js';
import type { Request, Response } from './ipc-protocol.js';

export function serveVenue(venue: SimulatedExchange): { attach(child: ChildProcess): void } {
  let current: ChildProcess | undefined;
  const push = (m: Response): void => {
    if (current?.connected) current.send(m, () => {}); // a dead child's pipe errors are ignored
  };
  venue.onReply!((reply) => push({ kind: 'reply', reply }));
  venue.onReconnect!(() => push({ kind: 'reconnect' }));
  return {
    attach(child) {
      current = child;
      child.on('message', (m: Request) => {
        if (m.kind !== 'call' || child !== current) return;
        const op = venue[m.op] as (arg: unknown) => Promise<Response extends { value: infer V } ? V : never>;
        op.call(venue, m.arg).then(
          (value) => child.connected && child.send({ kind: 'result', id: m.id, value } satisfies Response, () => {}),
          (err: Error & { reason?: string }) =>
            child.connected &&
            child.send({ kind: 'error', id: m.id, name: err.name, message: err.message, ...(err.reason ? { reason: err.reason } : {}) } satisfies Response, () => {}),
        );
      });
    },
  };
}
