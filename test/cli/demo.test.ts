/**
 * The CLI as a user runs it, in child processes: the demo writes a SQLite ledger and prints a
 * summary with a clean audit (every order's values in force, modifies applied included, agree with
 * the venue's; an even seed's venue amends orders, an odd seed's replaces them); Ctrl-C and --resume
 * continue a session; history reads the file back;
 * bad options and missing files give one clear line and a non-zero exit. A background CLI that
 * exits before printing what a test waits for fails the test at once with its exit code and stderr.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts')];
const run = (args: string[], cwd = process.cwd()) => spawnSync('node', [...cli, ...args], { encoding: 'utf8', cwd });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A CLI process run in the background, its output collected. */
interface Running {
  stdout(): string;
  stderr(): string;
  /** Resolves with how the process ended (also when it ended before this was asked). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until stdout shows `what`; fails at once, with the exit code and stderr, if the process ends first. */
  until(test: (stdout: string) => boolean, what: string, ms?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

function start(args: string[]): Running {
  const child = spawn('node', [...cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  // 'close' comes after the output streams end, so nothing printed before the exit is missed.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      ended = { code, signal };
      resolve(ended);
    });
  });
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async until(test, what, ms = 120_000) {
      const deadline = performance.now() + ms;
      while (!test(stdout)) {
        if (ended) {
          throw new Error(
            `the CLI (${args.join(' ')}) exited with code ${ended.code}, signal ${ended.signal} before printing ${what}\nstderr:\n${stderr}\nstdout:\n${stdout}`,
          );
        }
        if (performance.now() > deadline) {
          throw new Error(`the CLI (${args.join(' ')}) printed no ${what} within ${ms} ms\nstderr:\n${stderr}`);
        }
        await sleep(50);
      }
    },
    kill: (signal) => child.kill(signal),
  };
}

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
    // Seed 4 is even: the venue amends in place. Some modifies were applied, and counted.
    expect(out).toMatch(/modifies requested \(venue amends\)\s+│\s+[1-9]/);
    expect(out).toMatch(/modifies applied\s+│\s+[1-9]/);
    for (const row of ['modifies rejected', 'modifies unconfirmed (MODIFY_UNCONFIRMED)']) expect(out).toContain(row);
    expect(out).toContain('audit: every order agrees with the venue, its values in force included');
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
    const demo = start(['demo', '--orders', '1500', '--no-progress', '--ledger', ledger]);
    await demo.until((out) => out.includes('ledger:'), 'the ledger line');
    await sleep(1_500);
    demo.kill('SIGINT');
    const { code } = await demo.exited;
    expect(code, `stopped by Ctrl-C; stderr: ${demo.stderr()}`).toBe(130);
    expect(demo.stdout()).toContain('--resume');
    const resumed = run(['demo', '--resume', '--no-progress', '--ledger', ledger]);
    expect(resumed.stdout).toMatch(/resuming the session in .*: \d+ of 1500 orders were placed/);
    expect(resumed.stdout).toContain('orders recovered from the ledger');
    // Seed 1 (the default) is odd: the venue replaces modified orders; the whole session's modifies are counted.
    expect(resumed.stdout).toMatch(/modifies requested \(venue replaces\)\s+│\s+[1-9]/);
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
    const demo = start([
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
    ]);
    const served = /inspector: (http:\/\/127\.0\.0\.1:\d+\/)/;
    await demo.until((out) => served.test(out), 'the inspector address');
    const url = served.exec(demo.stdout())![1]!;
    expect((await fetch(url)).status).toBe(200);
    await demo.until((out) => out.includes('keeps serving'), 'that the view keeps serving');
    expect(demo.stdout()).toContain('until you press Ctrl-C');
    const summary = (await (await fetch(`${url}api/summary`)).json()) as { total: number };
    expect(summary.total).toBeGreaterThan(0);
    demo.kill('SIGINT');
    const { code } = await demo.exited;
    expect(code, `stopped by Ctrl-C; stderr: ${demo.stderr()}`).toBe(0);

    const viewer = start(['inspect', '--port', '0', '--ledger', ledger]);
    await viewer.until((out) => out.includes('Ctrl-C'), 'the inspector address');
    const fileUrl = served.exec(viewer.stdout())![1]!;
    expect(((await (await fetch(`${fileUrl}api/summary`)).json()) as { total: number }).total).toBe(summary.total);
    viewer.kill('SIGINT');
    expect((await viewer.exited).code, `stopped by Ctrl-C; stderr: ${viewer.stderr()}`).toBe(0);

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
