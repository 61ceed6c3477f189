/**
 * `execution-handler inspect` exposed, as a user runs it in a child process: `--expose` prints an
 * address with a generated token that lets requests in while the bare address answers 401 (each
 * refusal told on stderr, without the guess); a token from `--token` or the environment is
 * required and not printed; a malformed token stops it with one line and exit code 2.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSqliteLedger } from '../../src/ledger/sqlite.js';
import { chain, limit } from '../support/harness.js';

const cli = ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts')];
const TOKEN_ENV = 'EXECUTION_HANDLER_INSPECTOR_TOKEN';

/** A ledger file with one order, for the inspector to serve. */
let ledgerPath: string;
beforeAll(async () => {
  ledgerPath = join(mkdtempSync(join(tmpdir(), 'eh-inspect-')), 'ledger.db');
  const ledger = openSqliteLedger(ledgerPath);
  const orderId = 'ORD_20260105_090000_0000abcd';
  await ledger.commit([
    {
      kind: 'order',
      order: {
        orderId,
        directiveId: 'DIR_1',
        strategyId: 'CLI',
        orderDetails: limit(),
        causality: chain({ orderIds: [orderId] }),
        at: 0,
      },
    },
  ]);
  await ledger.close();
});

/** Runs `inspect` in the background until its address is printed; resolves with it and a way to stop. */
async function serve(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn('node', [...cli, 'inspect', '--port', '0', '--ledger', ledgerPath, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, [TOKEN_ENV]: '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    const poll = setInterval(() => {
      const m = /^inspector: .*$/m.exec(stdout);
      if (m) {
        clearInterval(poll);
        resolve(m[0]);
      }
    }, 50);
    exited.then((code) => {
      clearInterval(poll);
      reject(new Error(`inspect exited with ${code} before printing its address\n${stderr}`));
    });
  });
  return {
    line,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGINT');
      return exited;
    },
  };
}

describe('execution-handler inspect --expose', () => {
  it('prints an address with a generated token; the bare address answers 401 and says so on stderr', async () => {
    const viewer = await serve(['--expose']);
    try {
      const m = /^inspector: (http:\/\/127\.0\.0\.1:\d+\/)\?token=([0-9a-f]{48}) /.exec(viewer.line);
      expect(m, viewer.line).not.toBeNull();
      const [, url, token] = m!;
      const bare = await fetch(`${url}api/summary`);
      expect(bare.status).toBe(401);
      expect(bare.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      const page = await fetch(`${url}?token=${token}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
      const summary = await fetch(`${url}api/summary`, { headers: { authorization: `Bearer ${token}` } });
      expect(((await summary.json()) as { total: number }).total).toBe(1);
      await fetch(`${url}api/summary?token=not-the-token-at-all`);
      const started = performance.now();
      while (!viewer.stderr().includes('wrong token') && performance.now() - started < 5_000)
        await new Promise((r) => setTimeout(r, 50));
      expect(viewer.stderr()).toMatch(/inspector: refused GET \/api\/summary from 127\.0\.0\.1: 401 missing token/);
      expect(viewer.stderr()).toMatch(/refused GET \/api\/summary from 127\.0\.0\.1: 401 wrong token/);
      expect(viewer.stderr()).not.toContain('not-the-token');
    } finally {
      expect(await viewer.stop()).toBe(0);
    }
  }, 60_000);

  it('takes the token from the environment or --token, requires it, and does not print it', async () => {
    const given = 'from-the-environment-1234';
    const fromEnv = await serve(['--expose'], { [TOKEN_ENV]: given });
    try {
      expect(fromEnv.line).not.toContain(given);
      expect(fromEnv.line).toContain('token required: the one given');
      const url = /(http:\/\/\S+\/)/.exec(fromEnv.line)![1]!;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(`${url}?token=${given}`)).status).toBe(200);
    } finally {
      expect(await fromEnv.stop()).toBe(0);
    }
    // --token wins over the environment, and is required on loopback too.
    const flag = await serve(['--token', 'from-the-flag-123456'], { [TOKEN_ENV]: given });
    try {
      const url = /(http:\/\/\S+\/)/.exec(flag.line)![1]!;
      expect((await fetch(`${url}?token=${given}`)).status).toBe(401);
      expect((await fetch(`${url}?token=from-the-flag-123456`)).status).toBe(200);
    } finally {
      expect(await flag.stop()).toBe(0);
    }
  }, 60_000);

  it('stops with one line and exit code 2 on a malformed token', () => {
    const out = spawnSync('node', [...cli, 'inspect', '--ledger', ledgerPath, '--expose', '--token', 'short'], {
      encoding: 'utf8',
    });
    expect(out.status).toBe(2);
    expect(out.stderr.trim().split('\n')).toEqual([expect.stringContaining('16 to 256 characters')]);
  });
});
