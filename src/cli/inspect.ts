/**
 * `execution-handler inspect`: the local state inspector over a SQLite ledger file, as it was when
 * opened (a finished demo, or the file of a handler that stopped), until Ctrl-C.
 */
import { existsSync } from 'node:fs';
import { type Inspector, type InspectorOptions, startInspector } from '../inspector/server.js';
import { openSqliteLedger } from '../ledger/sqlite.js';

/** What the CLI's inspector options become. */
export type InspectServeOptions = Pick<
  InspectorOptions,
  'port' | 'host' | 'exposeOnNetwork' | 'allowedHosts' | 'token' | 'onRefused'
>;

/** The environment variable that gives the inspector its token (kept out of `ps`, unlike `--token`). */
export const INSPECTOR_TOKEN_ENV = 'EXECUTION_HANDLER_INSPECTOR_TOKEN';

/** The token the CLI was given: `--token` first, else the environment variable, else none. */
export function givenToken(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  return flag ?? (env[INSPECTOR_TOKEN_ENV] || undefined);
}

/** One line on `err` per refused request, for whoever watches the terminal or its log. */
export function reportRefusals(err: NodeJS.WritableStream): NonNullable<InspectorOptions['onRefused']> {
  return (r) =>
    err.write(
      `inspector: refused ${r.websocket ? 'WebSocket ' : ''}${r.method} ${r.path} from ${r.remoteAddress ?? '?'}: ${r.status} ${r.reason}\n`,
    );
}

/** The line announcing where the inspector serves; the token is shown only when it was generated. */
export function servingLine(inspector: Inspector, given: string | undefined): string {
  if (inspector.token === undefined) return inspector.url;
  if (given !== undefined) return `${inspector.url} (token required: the one given)`;
  return `${inspector.openUrl} (token required: it is in this address)`;
}

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
  let inspector: Inspector;
  try {
    inspector = await startInspector({ ledger, onRefused: reportRefusals(err), ...serve, title: path });
  } catch (e) {
    await ledger.close();
    throw e;
  }
  out.write(`inspector: ${servingLine(inspector, serve.token)} (orders of ${path}; Ctrl-C to stop)\n`);
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
