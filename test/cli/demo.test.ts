/**
 * The CLI as a user runs it: the demo writes a SQLite ledger and prints a summary with a clean
 * audit; Ctrl-C and --resume continue a session; history reads the file back; bad options and
 * missing files give one clear line and a non-zero exit.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts')];
const run = (args: string[], cwd = process.cwd()) => spawnSync('node', [...cli, ...args], { encoding: 'utf8', cwd });

describe('execution-handler CLI', () => {
  it('demo runs a faulty session into a SQLite file and reports a clean audit; history reads it back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eh-cli-'));
    const ledger = join(dir, 'demo.db');
    const out = execFileSync(
      'node',
      [...cli, 'demo', '--orders', '150', '--seed', '4', '--no-progress', '--ledger', ledger],
      { encoding: 'utf8' },
    );
    expect(out).toContain('execution-handler demo: 150 orders, seed 4');
    expect(out).toMatch(/FILLED\s+│\s+\d+/);
    expect(out).toContain('duplicate replies dropped');
    expect(out).toContain('audit: every order agrees with the venue');
    expect(existsSync(ledger)).toBe(true);

    const list = run(['history', ledger]);
    expect(list.status).toBe(0);
    const id = /ORD_\d{8}_\d{6}_[0-9a-f]{8}/.exec(list.stdout)![0];
    const one = run(['history', ledger, id]);
    expect(one.status).toBe(0);
    expect(one.stdout).toContain(id);
    for (const part of ['transitions', 'fills', 'causality', 'origin']) expect(one.stdout).toContain(part);

    const again = run(['demo', '--resume', '--no-progress', '--ledger', ledger]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('150 of 150 orders were placed');
    expect(again.stdout).toContain('audit: every order agrees with the venue');
  });

  it('Ctrl-C saves the session and --resume finishes it with a clean audit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eh-cli-'));
    const ledger = join(dir, 'demo.db');
    const child = spawn('node', [...cli, 'demo', '--orders', '1500', '--no-progress', '--ledger', ledger], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    while (!stdout.includes('ledger:')) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1_500));
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(130);
    expect(stdout).toContain('--resume');
    const resumed = run(['demo', '--resume', '--no-progress', '--ledger', ledger]);
    expect(resumed.stdout).toMatch(/resuming the session in .*: \d+ of 1500 orders were placed/);
    expect(resumed.stdout).toContain('orders recovered from the ledger');
    expect(resumed.stdout).toContain('audit: every order agrees with the venue');
    expect(resumed.status).toBe(0);
  }, 300_000);

  it('explains a bad option, a missing session or file, and exits non-zero', () => {
    const bad = run(['demo', '--orders', '-5']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('--orders must be a whole number');
    const nothing = run(['demo', '--resume', '--ledger', join(tmpdir(), 'no-such.db')]);
    expect(nothing.status).toBe(2);
    expect(nothing.stderr).toContain('nothing to resume');
    const missing = run(['history', join(tmpdir(), 'no-such.db')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no ledger file');
  });

  it('demo --inspect serves the view while it runs and after, says so, and stops on Ctrl-C; inspect opens a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eh-cli-'));
    const ledger = join(dir, 'demo.db');
    const child = spawn(
      'node',
      [
        ...cli,
        'demo',
        '--inspect',
        '--port',
        '0',
        '--orders',
        '60',
        '--pace',
        '5',
        '--no-progress',
        '--ledger',
        ledger,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    while (!/inspector: http:\/\/127\.0\.0\.1:\d+\//.test(stdout)) await new Promise((r) => setTimeout(r, 50));
    const url = /inspector: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)![1]!;
    expect((await fetch(url)).status).toBe(200);
    while (!stdout.includes('keeps serving')) await new Promise((r) => setTimeout(r, 50));
    expect(stdout).toContain('until you press Ctrl-C');
    const summary = (await (await fetch(`${url}api/summary`)).json()) as { total: number };
    expect(summary.total).toBeGreaterThan(0);
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);

    const viewer = spawn('node', [...cli, 'inspect', '--port', '0', '--ledger', ledger], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    viewer.stdout.on('data', (d) => {
      out += String(d);
    });
    while (!out.includes('Ctrl-C')) await new Promise((r) => setTimeout(r, 50));
    const fileUrl = /inspector: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)![1]!;
    expect(((await (await fetch(`${fileUrl}api/summary`)).json()) as { total: number }).total).toBe(summary.total);
    viewer.kill('SIGINT');
    expect((await once(viewer, 'exit'))[0]).toBe(0);

    const missing = run(['inspect', '--ledger', join(tmpdir(), 'no-such.db')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no ledger file');
    const exposed = run(['inspect', '--ledger', ledger, '--host', '0.0.0.0']);
    expect(exposed.status).toBe(2);
    expect(exposed.stderr).toContain('--expose');
  }, 120_000);

  it('demo --venue binance-local trades through ccxt against the local Binance-format server and audits clean', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eh-cli-'));
    const out = run([
      'demo',
      '--venue',
      'binance-local',
      '--orders',
      '80',
      '--no-progress',
      '--ledger',
      join(dir, 'b.db'),
    ]);
    expect(out.stdout).toContain('local Binance spot');
    expect(out.stdout).toContain('execution-handler demo on binance-local: 80 orders');
    expect(out.stdout).toMatch(/stream subscriptions \(1 \+ reconnects\)\s+│\s+2/);
    expect(out.stdout).toContain('audit: every order agrees with the venue');
    expect(out.status).toBe(0);
  }, 120_000);

  it('--help describes the demo', () => {
    const out = execFileSync('node', [...cli, 'demo', '--help'], { encoding: 'utf8' });
    for (const flag of ['--seed', '--ledger', '--resume', '--memory']) expect(out).toContain(flag);
    expect(out).toContain('simulated venue');
  });
});
