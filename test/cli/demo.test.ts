/** The CLI as a user runs it: the demo prints a summary with a clean audit; bad options give a clear error. */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const cli = ['--import', 'tsx', 'src/cli/main.ts'];

describe('execution-handler CLI', () => {
  it('demo runs a faulty session and reports a clean audit', () => {
    const out = execFileSync('node', [...cli, 'demo', '--orders', '150', '--seed', '4', '--no-progress'], { encoding: 'utf8' });
    expect(out).toContain('execution-handler demo: 150 orders, seed 4');
    expect(out).toMatch(/FILLED\s+│\s+\d+/);
    expect(out).toContain('duplicate replies dropped');
    expect(out).toContain('audit: every order agrees with the venue');
  });

  it('explains a bad option and exits non-zero', () => {
    const r = spawnSync('node', [...cli, 'demo', '--orders', '-5'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--orders must be a whole number');
  });

  it('--help describes the demo', () => {
    const out = execFileSync('node', [...cli, 'demo', '--help'], { encoding: 'utf8' });
    expect(out).toContain('--seed');
    expect(out).toContain('simulated venue');
  });
});
