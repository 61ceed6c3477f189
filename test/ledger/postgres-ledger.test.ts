/**
 * The PostgreSQL ledger, on a real server: it passes the ledger contract suite; delivers events
 * committed by one process to the listeners of another exactly once and in order, also across a
 * dropped LISTEN connection; refuses writes when read-only; lets one live owner hold a strategy
 * (a second writer fails or waits); and fences a paused old owner whose lease was taken over.
 */
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { LedgerFencedError } from '../../src/errors.js';
import { recordOrder } from '../../src/ledger/helpers.js';
import { LeaseHeldError, type PostgresLedger, connectPostgresLedger } from '../../src/ledger/postgres.js';
import type { LedgerUpdatedEvent } from '../../src/ledger/types.js';
import { chain, limit } from '../support/harness.js';
import { describeLedgerContract } from './contract.js';

const url = inject('postgresUrl');
let n = 0;
/** A fresh schema per ledger, so the tests of one server never see each other's rows. */
const freshSchema = (): string => `eh_test_${process.pid}_${++n}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeLedgerContract('postgres', () => connectPostgresLedger(url, { strategyId: 'S1', schema: freshSchema() }));

const order = (orderId: string, strategyId = 'S1') => ({
  orderId,
  directiveId: 'D',
  strategyId,
  orderDetails: limit(),
  causality: chain({ orderIds: [orderId] }),
  at: 1,
});

/** Waits until `cond` holds (events from another connection arrive asynchronously). */
async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not reached in time');
    await sleep(10);
  }
}

describe('postgres ledger across processes', () => {
  it('delivers the owner’s events to a read-only listener exactly once, in order, and only its strategy’s', async () => {
    const schema = freshSchema();
    const owner = await connectPostgresLedger(url, { strategyId: 'S1', schema });
    const other = await connectPostgresLedger(url, { strategyId: 'S2', schema });
    const reader = await connectPostgresLedger(url, { strategyId: 'S1', schema, readOnly: true });
    const own: LedgerUpdatedEvent[] = [];
    const seen: LedgerUpdatedEvent[] = [];
    owner.subscribe((e) => own.push(e));
    reader.subscribe((e) => seen.push(e));
    await Promise.all(Array.from({ length: 20 }, (_, i) => recordOrder(owner, order(`O${i}`))));
    await recordOrder(other, order('X', 'S2'));
    await owner.commit([
      { kind: 'change', orderId: 'O3', eventType: 'ORDER_ACCEPTED', from: 'PENDING', to: 'OPEN', at: 2, cause: 'test' },
    ]);
    await until(() => seen.length >= 21);
    await sleep(200); // nothing more, nothing twice
    expect(seen).toEqual(own);
    expect(seen).toHaveLength(21);
    expect(await reader.getOrder('O3')).toMatchObject({ status: 'OPEN' });
    expect(await reader.getOrder('X')).toBeUndefined();
    expect(await reader.isOrderIdTaken!('X')).toBe(true); // OrderIDs stay unique across the strategies of a schema
    expect(await reader.isOrderIdTaken!('NOPE')).toBe(false);
    await expect(reader.commit([{ kind: 'order', order: order('R') }])).rejects.toThrow(/read-only/);
    await Promise.all([owner.close(), other.close(), reader.close()]);
  });

  it('a listener whose connection drops catches up with what was committed meanwhile, once each', async () => {
    const schema = freshSchema();
    const owner = await connectPostgresLedger(url, { strategyId: 'S1', schema });
    const reader = await connectPostgresLedger(url, { strategyId: 'S1', schema, readOnly: true });
    const seen: string[] = [];
    reader.subscribe((e) => seen.push(e.orderId!));
    await recordOrder(owner, order('A'));
    await until(() => seen.length === 1);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
    );
    await recordOrder(owner, order('B')); // committed while the reader's LISTEN connection is down
    await recordOrder(owner, order('C'));
    await until(() => seen.length >= 3);
    await sleep(200);
    expect(seen).toEqual(['A', 'B', 'C']);
    await admin.end();
    await Promise.all([owner.close(), reader.close()]);
  });

  it('one live owner per strategy: a second writer fails, a standby waits and takes over with a higher token', async () => {
    const schema = freshSchema();
    const first = await connectPostgresLedger(url, { strategyId: 'S1', schema, leaseMs: 500 });
    await expect(connectPostgresLedger(url, { strategyId: 'S1', schema, leaseMs: 500 })).rejects.toBeInstanceOf(
      LeaseHeldError,
    );
    const standby = connectPostgresLedger(url, { strategyId: 'S1', schema, leaseMs: 500, waitForLease: true });
    await sleep(800); // renewed meanwhile: the standby still waits
    await recordOrder(first, order('A'));
    await first.close(); // a clean stop hands over at once
    const second = await standby;
    expect(second.fencingToken).toBe(first.fencingToken! + 1);
    await recordOrder(second, order('B'));
    expect((await second.getOpenOrders()).map((o) => o.orderId)).toEqual(['A', 'B']);
    await second.close();
  });

  it('fences a paused owner: once another process took the lease, its writes are refused and nothing lands', async () => {
    const schema = freshSchema();
    // A clock that never moves: this owner never renews, as if its process were paused.
    const paused = await connectPostgresLedger(url, {
      strategyId: 'S1',
      schema,
      leaseMs: 300,
      clock: createManualClock(0),
    });
    const fencedSeen: LedgerFencedError[] = [];
    paused.onFenced((e) => fencedSeen.push(e));
    await recordOrder(paused, order('A'));
    await sleep(400); // the lease runs out
    const successor: PostgresLedger = await connectPostgresLedger(url, { strategyId: 'S1', schema, leaseMs: 5_000 });
    expect(successor.fencingToken).toBe(paused.fencingToken! + 1);
    const write = paused.commit([
      { kind: 'change', orderId: 'A', eventType: 'ORDER_ACCEPTED', from: 'PENDING', to: 'OPEN', at: 2, cause: 'late' },
    ]);
    await expect(write).rejects.toBeInstanceOf(LedgerFencedError);
    await expect(recordOrder(paused, order('B'))).rejects.toBeInstanceOf(LedgerFencedError);
    expect(paused.isFenced()).toBe(true);
    expect(fencedSeen).toHaveLength(1);
    expect(await successor.getTransitions('A')).toEqual([]);
    expect(await successor.getOrder('B')).toBeUndefined();
    await recordOrder(successor, order('C'));
    await Promise.all([paused.close(), successor.close()]);
  });

  it('group-commits concurrent commits; a bad one fails alone; the schema version is kept', async () => {
    const schema = freshSchema();
    const l = await connectPostgresLedger(url, { strategyId: 'S1', schema });
    const results = await Promise.allSettled([
      recordOrder(l, order('A')),
      recordOrder(l, order('A')),
      recordOrder(l, order('B')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await l.close();
    const again = await connectPostgresLedger(url, { strategyId: 'S1', schema }); // migration is idempotent
    expect((await again.getOpenOrders()).map((o) => o.orderId)).toEqual(['A', 'B']);
    await again.close();
  });
});
