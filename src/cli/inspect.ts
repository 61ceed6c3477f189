/**
 * `execution-handler inspect`: the local state inspector over a SQLite ledger file, as it was when
 * opened (a finished demo, or the file of a handler that stopped), until Ctrl-C.
 */
import { existsSync } from 'node:fs';
import { type InspectorOptions, startInspector } from '../inspector/server.js';
import { openSqliteLedger } from '../ledger/sqlite.js';

/** What the CLI's inspector options become. */
export type InspectServeOptions = Pick<InspectorOptions, 'port' | 'host' | 'exposeOnNetwork' | 'allowedHosts'>;

/** Serves the inspector over `path` until SIGINT or SIGTERM; resolves with the exit code. */
export async function runInspect(
  path: string,
  serve: InspectServeOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  if (!existsSync(path)) {
    err.write(`no ledger file at ${path} (run \`execution-handler demo\` first, or name one with --ledger)\n`);
    return 1;
  }
  const ledger = openSqliteLedger(path); // every strategy in the file
  const inspector = await startInspector({ ledger, ...serve, title: path });
  out.write(`inspector: ${inspector.url} (orders of ${path}; Ctrl-C to stop)\n`);
  await untilStopped();
  await inspector.close();
  await ledger.close();
  return 0;
}

/** Resolves at the first SIGINT or SIGTERM. */
export function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
