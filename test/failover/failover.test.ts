/**
 * Failover on PostgreSQL (contract section 8 across processes): three handler processes share one
 * database and a venue that outlives them; only the lease holder trades. The owner is killed with
 * SIGKILL at seeded random points (20 times by default), and every fifth time paused with SIGSTOP
 * instead, so a standby takes over while the old owner still lives: when resumed it must find
 * itself fenced and exit without writing. The fencing tokens written with every record must never
 * go back (no two live owners ever wrote), and at the end the ledger must agree with the venue:
 * nothing lost, nothing duplicated, every change a legal edge. FAILOVER_SEED / FAILOVER_KILLS.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { connectPostgresLedger } from '../../src/ledger/postgres.js';
import { seededRandom } from '../../src/random.js';
import { bundleChild } from '../crash/bundle.js';
import { lastWord, outlivingVenue } from '../crash/settings.js';
import { serveVenue } from '../crash/venue-host.js';
import { FENCED_EXIT, LEASE_MS, STRATEGY } from './settings.js';

const SEED = Number(process.env.FAILOVER_SEED ?? 1);
const KILLS = Number(process.env.FAILOVER_KILLS ?? 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let bundle = '';
beforeAll(async () => {
  bundle = await bundleChild(join(import.meta.dirname, 'owner-process.ts'), 'failover-owner-process');
});

interface Worker {
  name: string;
  child: ChildProcess;
  token?: number;
}

describe('failover between handler processes on PostgreSQL', () => {
  it(`takes over after ${KILLS} owner deaths and pauses, with one live owner at a time (seed ${SEED})`, async () => {
    console.log(`failover test: seed ${SEED}, ${KILLS} kills or pauses`);
    const url = inject('postgresUrl');
    const schema = `eh_failover_${process.pid}_${SEED}`;
    const venue = outlivingVenue(SEED);
    const host = serveVenue(venue);
    const rnd = seededRandom(SEED);
    const workers: Worker[] = [];
    const owners: Worker[] = [];
    const fencedExits: string[] = [];
    /**
     * Owners frozen with SIGSTOP while another took over: once resumed they may run only until
     * they find themselves fenced and exit (checked below: FENCED_EXIT, and no write of theirs).
     */
    const paused = new Set<Worker>();
    /** Every time a worker became owner while an earlier owner still ran. */
    const overlaps: string[] = [];
    const hasExited = (w: Worker): boolean => w.child.exitCode !== null || w.child.signalCode !== null;
    let spawned = 0;
    let ready = 0;
    let ownerArrived: (() => void) | undefined;

    const spawnWorker = (): void => {
      const name = `W${++spawned}`;
      const child = fork(bundle, [url, schema, name], {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        cwd: process.cwd(),
      });
      const w: Worker = { name, child };
      workers.push(w);
      host.attach(child);
      child.on('message', (m: { kind?: string; token?: number }) => {
        if (m.kind === 'owner') {
          // One live owner at a time: every earlier owner must have exited, or have been frozen by
          // SIGSTOP for this takeover. Noted here and asserted in the test body, since a throw in
          // this callback would not fail the test. Not `child.killed`: it says only that a signal
          // was sent, and stays true after SIGSTOP and SIGCONT while the process runs on.
          const running = owners.filter((o) => !hasExited(o) && !paused.has(o));
          if (running.length > 0) {
            overlaps.push(`${name} became owner while ${running.map((o) => o.name).join(', ')} ran`);
          }
          w.token = m.token!;
          owners.push(w);
          ownerArrived?.();
        } else if (m.kind === 'ready') ready++;
      });
      child.on('exit', (code) => {
        if (code === FENCED_EXIT) fencedExits.push(name);
      });
    };
    const nextOwner = async (after: number): Promise<Worker> => {
      const deadline = performance.now() + 20_000;
      for (;;) {
        const o = owners.at(-1);
        if (o && o.token! > after) return o;
        if (performance.now() > deadline) throw new Error(`no owner took over after token ${after}`);
        await new Promise<void>((r) => {
          ownerArrived = r;
          setTimeout(r, 100);
        });
      }
    };

    let pauses = 0;
    try {
      for (let i = 0; i < 3; i++) spawnWorker();
      let owner = await nextOwner(0);
      for (let k = 1; k <= KILLS; k++) {
        // Anywhere: while it recovers (right after taking over) or while it trades.
        await sleep(50 + Math.floor(rnd() * 900));
        if (k % 5 === 0) {
          owner.child.kill('SIGSTOP');
          paused.add(owner);
          const successor = await nextOwner(owner.token!);
          await sleep(300); // the successor writes while the old owner is frozen
          owner.child.kill('SIGCONT');
          const [code] = (await once(owner.child, 'exit')) as [number | null];
          expect(code, `${owner.name} resumed after a takeover must exit fenced`).toBe(FENCED_EXIT);
          pauses++;
          owner = successor;
        } else {
          owner.child.kill('SIGKILL');
          await once(owner.child, 'exit');
          owner = await nextOwner(owner.token!);
        }
        spawnWorker(); // a new standby, so two or three processes share the database
      }
    } finally {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await Promise.all(
        workers
          .filter((w) => w.child.exitCode === null && w.child.signalCode === null)
          .map((w) => once(w.child, 'exit')),
      );
    }
    expect(overlaps, 'Invariant: one live owner at a time (each earlier owner exited or frozen)').toEqual([]);
    expect(owners.length, 'an owner for the start and one after every kill or pause').toBeGreaterThanOrEqual(KILLS + 1);
    const tokens = owners.map((o) => o.token!);

    // The last word: an in-process owner recovers, the venue heals, every order converges.
    const ledger = await connectPostgresLedger(url, {
      strategyId: STRATEGY,
      schema,
      leaseMs: LEASE_MS,
      waitForLease: true,
    });
    const { problems, report, stop } = await lastWord(STRATEGY, ledger, venue);

    // Fencing, read from the database: the token of every write never goes back, neither in the
    // order of commits (the outbox) nor along any order's changes.
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const outbox = (
      await db.query<{ t: string }>(`SELECT fencing_token AS t FROM ${schema}.ledger_events ORDER BY id`)
    ).rows.map((r) => Number(r.t));
    const backwards = (
      await db.query(
        `SELECT order_id, seq FROM (SELECT order_id, seq, fencing_token, lag(fencing_token) OVER (PARTITION BY order_id ORDER BY seq) AS before
         FROM ${schema}.transitions) x WHERE fencing_token < before`,
      )
    ).rows;
    await db.end();
    const venueOrders = venue.venueOrders();
    console.log(
      `failover test: ${owners.length} owners (tokens ${tokens.join(',')}), ${pauses} paused owners fenced, ${ready} recovered and traded, ` +
        `${venueOrders.length} venue orders, ${venueOrders.reduce((n, o) => n + o.fills.length, 0)} fills; last recovery ${JSON.stringify(report)}`,
    );
    expect(problems, `failover seed ${SEED}`).toEqual([]);
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(outbox).toEqual([...outbox].sort((a, b) => a - b));
    expect(backwards).toEqual([]);
    expect(fencedExits).toHaveLength(pauses);
    expect(pauses).toBe(Math.floor(KILLS / 5));
    expect(ready).toBeGreaterThan(KILLS / 4);
    expect(venueOrders.length).toBeGreaterThan(KILLS);
    await stop();
    await ledger.close();
  }, 600_000);
});
