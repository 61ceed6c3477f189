/**
 * Importing the package root loads no database or WebSocket driver (issue 12h): the root is bundled
 * with its packages left external, so they load as in a user's install, imported by a fresh `node`,
 * and every module it loaded (ES modules seen by a resolve hook, CommonJS ones in `require.cache`)
 * is searched for better-sqlite3, pg and ws, and for prom-client (loaded only when metrics are asked for).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const tmp = join(process.cwd(), '.tmp'); // inside the project, so the external packages resolve
const entry = join(tmp, `root-import-${process.pid}.mjs`);
const log = join(tmp, `root-import-${process.pid}.log`);

// Records the URL of every ES module resolved, synchronously, so the file is complete when the
// import it serves resolves.
const hooks = `
import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(log, r.url + '\\n');
  return r;
}`;

// Prints what importing the root loaded, then (to prove the search would see them) what loading
// the three drivers by hand adds.
const child = `
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
const { EH_ENTRY: entry, EH_LOG: log, EH_HOOKS: hooks } = process.env;
writeFileSync(log, '');
register('data:text/javascript,' + encodeURIComponent(hooks), { data: { log } });
const require = createRequire(process.cwd() + '/');
const loaded = () => [...readFileSync(log, 'utf8').split('\\n'), ...Object.keys(require.cache)];
await import(pathToFileURL(entry).href);
const afterRoot = loaded();
await import('pg');
await import('ws');
await import('prom-client');
require('better-sqlite3');
console.log(JSON.stringify({ afterRoot, afterDrivers: loaded() }));
`;

const drivers = ['better-sqlite3', 'pg', 'prom-client', 'ws'];
const driversIn = (modules: readonly string[]): string[] =>
  drivers.filter((d) => modules.some((m) => m.includes(`/node_modules/${d}/`)));

afterAll(() => {
  rmSync(entry, { force: true });
  rmSync(log, { force: true });
});

describe('the package root', () => {
  it('loads none of better-sqlite3, pg, ws and prom-client until their adapter (or metrics) is used', async () => {
    mkdirSync(tmp, { recursive: true });
    await build({
      entryPoints: [join(process.cwd(), 'index.ts')],
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: entry,
      logLevel: 'error',
    });
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', child], {
      encoding: 'utf8',
      env: { ...process.env, EH_ENTRY: entry, EH_LOG: log, EH_HOOKS: hooks },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const seen = JSON.parse(run.stdout) as { afterRoot: string[]; afterDrivers: string[] };
    expect(driversIn(seen.afterRoot)).toEqual([]);
    expect(driversIn(seen.afterDrivers)).toEqual(drivers);
  });
});
