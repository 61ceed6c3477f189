/**
 * The demo's session log: saving only the venue orders changed since the last checkpoint loses
 * nothing (folding the log gives, checkpoint by checkpoint, exactly the state the session had, its
 * whole venue included); a torn last line leaves the previous checkpoint; the earlier release's
 * whole-venue file is still read, and `demo --resume` finishes such a session with a clean audit,
 * moving it into the log; a file that is not a session is refused in one line.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  SessionFileError,
  legacySessionFileOf,
  openSessionWriter,
  readSession,
  sessionLogOf,
} from '../../src/cli/session-store.js';
import type { SimulatedExchange } from '../../src/connector/simulated.js';
import { type SessionState, runSession } from '../../src/sim/session.js';

const cli = ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts')];
const run = (args: string[]) => spawnSync('node', [...cli, ...args], { encoding: 'utf8' });

describe('the demo session log', () => {
  it('folds back, at every checkpoint, to the whole state the session had', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eh-log-'));
    const ledger = join(dir, 'demo.db');
    const writer = openSessionWriter(ledger, { seed: 3, total: 250, modifyMode: 'replace' });
    let exchange: SimulatedExchange | undefined;
    let checkpoints = 0;
    let middle: { state: SessionState; file: string } | undefined;
    await runSession({
      orders: 250,
      seed: 3,
      modifyMode: 'replace',
      modifyRatePerSecond: 0.3,
      faults: { dropRate: 0.02, duplicateRate: 0.05, placeErrorRate: 0.02 },
      onStep: async (_s, _l, venue) => {
        exchange ??= venue;
      },
      onCheckpoint: (state) => {
        writer.checkpoint(state, exchange!.takeChangedOrders());
        checkpoints++;
        if (checkpoints === 5) {
          // A copy of the log as it stood then, to fold later against this checkpoint's state.
          const file = join(dir, 'middle.db');
          copyFileSync(sessionLogOf(ledger), sessionLogOf(file));
          middle = { state, file };
        }
        // Each checkpoint: the fold equals the session's own state, its whole venue included.
        if (checkpoints % 4 === 0) expect(readSession(ledger)).toEqual(state);
      },
    });
    writer.close();
    expect(checkpoints).toBeGreaterThan(5);
    const last = readSession(ledger)!;
    expect(last.done).toBe(true);
    expect(last.venue).toEqual(exchange!.venueOrders());
    expect(readSession(middle!.file)).toEqual(middle!.state);

    // A crash mid-append tears the last line: the reader falls back to the checkpoint before it.
    appendFileSync(sessionLogOf(middle!.file), '{"kind":"checkpoint","placed":99');
    expect(readSession(middle!.file)).toEqual(middle!.state);
    // Resuming appends after the last whole line, so the torn one does not spoil the next.
    const resumed = openSessionWriter(middle!.file, { seed: 3, total: 250, modifyMode: 'replace' }, middle!.state);
    resumed.checkpoint({ ...middle!.state, placed: 123 }, []);
    resumed.close();
    expect(readSession(middle!.file)).toEqual({ ...middle!.state, placed: 123 });
  }, 120_000);

  it("reads the earlier release's whole-venue file, resumes it to a clean audit, and refuses what is not a session", () => {
    const dir = mkdtempSync(join(tmpdir(), 'eh-log-'));
    const ledger = join(dir, 'demo.db');
    const first = run(['demo', '--orders', '120', '--seed', '5', '--no-progress', '--ledger', ledger]);
    expect(first.status, first.stderr).toBe(0);
    // The earlier release wrote the whole SessionState (version 1) as one JSON document.
    const state = readSession(ledger)!;
    writeFileSync(legacySessionFileOf(ledger), JSON.stringify(state));
    rmSync(sessionLogOf(ledger));
    expect(readSession(ledger)).toEqual(state);

    const resumed = run(['demo', '--resume', '--no-progress', '--ledger', ledger]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('120 of 120 orders were placed');
    expect(resumed.stdout).toContain('audit: every order agrees with the venue');
    // The session now lives in the log alone, and resumes from it again.
    expect(existsSync(legacySessionFileOf(ledger))).toBe(false);
    expect(readSession(ledger)?.venue.length).toBe(state.venue.length);
    const again = run(['demo', '--resume', '--no-progress', '--ledger', ledger]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('audit: every order agrees with the venue');

    writeFileSync(sessionLogOf(ledger), '{"kind":"session","version":9}\n');
    expect(() => readSession(ledger)).toThrow(SessionFileError);
    const refused = run(['demo', '--resume', '--no-progress', '--ledger', ledger]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('was written by another version of the demo');
  }, 240_000);
});
