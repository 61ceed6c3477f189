/**
 * A ledger written by the release before order modification (schema version 1) opens with this
 * code and keeps working: the committed fixtures (a SQLite file, and a PostgreSQL schema rebuilt
 * from the DDL and rows that release wrote) are migrated to version 2 on open, every order,
 * change, fill and anomaly reads back equal to the same records replayed into a memory ledger,
 * and a modification written afterwards survives a reopen.
 */
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMemoryLedger } from '../../src/ledger/memory.js';
import { connectPostgresLedger } from '../../src/ledger/postgres.js';
import { openSqliteLedger } from '../../src/ledger/sqlite.js';
import type { LedgerUpdatedEvent, LedgerWrite, StrategyLedger } from '../../src/ledger/types.js';
import { FIXTURE_ORDER_IDS, FIXTURE_T0, S1_BATCHES, S2_BATCHES } from '../fixtures/ledger-v1/records.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'ledger-v1');
const NEW_COLUMNS = {
  orders: ['modifications', 'original_details'],
  transitions: [
    'modification_id',
    'modification_quantity',
    'modification_price',
    'modification_stop_price',
    'modification_reason',
  ],
};

/** The fixture's records replayed into a memory ledger of this code: what must read back. */
async function expected(strategyId: 'S1' | 'S2'): Promise<StrategyLedger> {
  const l = createMemoryLedger({ strategyId });
  for (const batch of strategyId === 'S1' ? S1_BATCHES : S2_BATCHES) await l.commit(batch);
  return l;
}

const byId = <T extends { orderId: string }>(os: T[]): T[] => [...os].sort((a, b) => (a.orderId < b.orderId ? -1 : 1));

/** Everything of one strategy read through the public API, lists in a stable order. */
async function readAll(l: StrategyLedger, strategyId: 'S1' | 'S2') {
  const ids = FIXTURE_ORDER_IDS[strategyId];
  return {
    orders: await Promise.all(ids.map((id) => l.getOrder(id))),
    transitions: await Promise.all(ids.map((id) => l.getTransitions(id))),
    anomalies: await l.getAnomalies(),
    open: byId(await l.getOpenOrders()),
    changedSince: byId(await l.getOrdersChangedSince(0)),
    directives: await Promise.all(['DIR_A', 'DIR_B', 'DIR_C'].map(async (d) => byId(await l.getOrdersByDirective(d)))),
  };
}

/** Reads the migrated ledger back whole and compares it with the replay, with a few values spelt out. */
async function expectFixtureReadBack(l: StrategyLedger, strategyId: 'S1' | 'S2'): Promise<void> {
  const want = await expected(strategyId);
  expect(await readAll(l, strategyId), 'Invariant: a migrated ledger reads back what was written').toEqual(
    await readAll(want, strategyId),
  );
  await want.close();
  if (strategyId === 'S2') return;
  expect(await l.getOrder('O_FILLED')).toMatchObject({
    status: 'FILLED',
    filledQuantity: '1',
    leavesQuantity: '0',
    averagePrice: '100.9',
    venueOrderId: 'V_FILLED',
  });
  expect((await l.getOrder('O_FILLED'))!.fills.map((f) => f.commission)).toEqual(['0.0004', '0.0006']);
  expect(await l.getOrder('O_CANCEL')).toMatchObject({
    status: 'CANCEL_PENDING',
    leavesQuantity: '1.5',
    snapshot: { value: 'CANCEL_PENDING', context: { queriesSent: 1 } },
  });
  expect(await l.getOrder('O_REJECTED')).toMatchObject({ status: 'REJECTED', rejectReason: 'INSUFFICIENT_BALANCE' });
  expect((await l.getOpenOrders()).map((o) => o.orderId).sort()).toEqual(['O_CANCEL', 'O_OPEN']);
  expect((await l.getAnomalies()).map((a) => a.kind)).toEqual(['UNKNOWN_ORDER', 'LATE_REPLY']);
  for (const id of FIXTURE_ORDER_IDS.S1) {
    expect((await l.getOrder(id))!, `${id} was never modified`).not.toHaveProperty('modifications');
  }
}

const t = (ms: number): number => FIXTURE_T0 + 100_000 + ms;

/** A modify of the fixture's OPEN STOP_LIMIT (3 @ 2000, stop 2010): requested, then in force. */
const REQUESTED: LedgerWrite = {
  kind: 'change',
  orderId: 'O_OPEN',
  eventType: 'ORDER_MODIFY_REQUESTED',
  from: 'OPEN',
  to: 'MODIFY_PENDING' as 'OPEN', // not an OrderStatus yet: the ledger takes any status string
  at: t(0),
  cause: 'modify()',
  modification: { modificationId: 'O_OPEN.1', quantity: '4', stopPrice: '2005' },
  snapshot: { value: 'MODIFY_PENDING' },
};
const MODIFIED: LedgerWrite[] = [
  {
    kind: 'fill',
    orderId: 'O_OPEN',
    fill: { fillId: 'FIL_9', venueFillId: 'VF_9', quantity: '1', price: '2000', at: t(10) },
  },
  {
    kind: 'change',
    orderId: 'O_OPEN',
    eventType: 'ORDER_MODIFIED',
    from: 'MODIFY_PENDING' as 'OPEN',
    to: 'PARTIALLY_FILLED',
    at: t(20),
    cause: 'reply MODIFIED #m1',
    venueOrderId: 'V_OPEN_2',
    modification: { modificationId: 'O_OPEN.1', quantity: '4', price: '2000', stopPrice: '2005' },
  },
];
const ORIGINAL = {
  symbol: 'ETH_USDT',
  side: 'SELL',
  type: 'STOP_LIMIT',
  quantity: '3',
  price: '2000',
  stopPrice: '2010',
};

/** Writes the modify in two sessions of `open`, reopening between and after; checks each step. */
async function expectModifyAcrossReopen(open: () => Promise<StrategyLedger>): Promise<void> {
  const first = await open();
  const events: LedgerUpdatedEvent[] = [];
  first.subscribe((e) => events.push(e));
  await first.commit([REQUESTED]);
  expect(events.map((e) => [e.eventType, e.status, e.seq])).toEqual([['ORDER_MODIFY_REQUESTED', 'MODIFY_PENDING', 2]]);
  await first.close();

  const second = await open();
  expect(await second.getOrder('O_OPEN')).toMatchObject({
    status: 'MODIFY_PENDING',
    orderDetails: ORIGINAL,
    modifications: [{ modificationId: 'O_OPEN.1', status: 'PENDING', requested: { quantity: '4', stopPrice: '2005' } }],
    snapshot: { value: 'MODIFY_PENDING' },
  });
  await second.commit(MODIFIED);
  await second.commit([
    {
      kind: 'order',
      order: {
        orderId: 'O_NEW',
        directiveId: 'DIR_D',
        strategyId: 'S1',
        orderDetails: { symbol: 'BTC_USDT', side: 'BUY', type: 'LIMIT', quantity: '1', price: '1' },
        causality: {
          origin: { id: 'TCK_2', type: 'TICK' },
          signalIds: [],
          riskIds: [],
          orderIds: ['O_NEW'],
          fillIds: [],
        },
        at: t(30),
      },
    },
    { kind: 'anomaly', anomaly: { kind: 'LATE_REPLY', reason: 'after the upgrade', strategyId: 'S1', at: t(40) } },
  ]);
  await second.close();

  const third = await open();
  const o = await third.getOrder('O_OPEN');
  expect(o).toMatchObject({
    status: 'PARTIALLY_FILLED',
    venueOrderId: 'V_OPEN_2',
    orderDetails: { ...ORIGINAL, quantity: '4', stopPrice: '2005' },
    originalDetails: ORIGINAL,
    filledQuantity: '1',
    leavesQuantity: '3',
    modifications: [
      {
        modificationId: 'O_OPEN.1',
        status: 'ACCEPTED',
        requested: { quantity: '4', stopPrice: '2005' },
        at: t(0),
      },
    ],
  });
  expect((await third.getTransitions('O_OPEN')).map((r) => [r.seq, r.eventType, r.modification])).toEqual([
    [1, 'ORDER_ACCEPTED', undefined],
    [2, 'ORDER_MODIFY_REQUESTED', { modificationId: 'O_OPEN.1', quantity: '4', stopPrice: '2005' }],
    [3, 'ORDER_MODIFIED', { modificationId: 'O_OPEN.1', quantity: '4', price: '2000', stopPrice: '2005' }],
  ]);
  expect((await third.getAnomalies()).map((a) => a.reason)).toEqual([
    'reply for a client order id never sent',
    'ACCEPTED on a REJECTED order',
    'after the upgrade',
  ]);
  expect((await third.getOrder('O_NEW'))?.status).toBe('PENDING');
  // The orders the modify did not touch read back as before.
  const want = await expected('S1');
  for (const id of ['O_FILLED', 'O_CANCEL', 'O_REJECTED'])
    expect(await third.getOrder(id)).toEqual(await want.getOrder(id));
  await third.close();
}

describe('a SQLite ledger file of schema version 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eh-migrate-'));
  let n = 0;
  /** A copy of the committed fixture: the fixture itself is never opened for writing. */
  const copy = (): string => {
    const path = join(dir, `v1-${++n}.db`);
    copyFileSync(join(FIXTURES, 'ledger.db'), path);
    return path;
  };
  const inspect = (path: string) => {
    const db = new Database(path, { readonly: true });
    try {
      const version = (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string })
        .value;
      const columns = (table: string) =>
        (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
      return { version, orders: columns('orders'), transitions: columns('transitions') };
    } finally {
      db.close();
    }
  };

  it('is of version 1, without the modification columns, before this code opens it', () => {
    const before = inspect(copy());
    expect(before.version).toBe('1');
    for (const c of NEW_COLUMNS.orders) expect(before.orders).not.toContain(c);
    for (const c of NEW_COLUMNS.transitions) expect(before.transitions).not.toContain(c);
  });

  it('opens migrated to version 2 and reads back every order, change, fill and anomaly of each strategy', async () => {
    const path = copy();
    const s1 = openSqliteLedger(path, { strategyId: 'S1' });
    const s2 = openSqliteLedger(path, { strategyId: 'S2' });
    await expectFixtureReadBack(s1, 'S1');
    await expectFixtureReadBack(s2, 'S2');
    expect(s1.integrityCheck()).toBe('ok');
    await s1.close();
    await s2.close();
    const after = inspect(path);
    expect(after.version).toBe('2');
    expect(after.orders).toEqual(expect.arrayContaining(NEW_COLUMNS.orders));
    expect(after.transitions).toEqual(expect.arrayContaining(NEW_COLUMNS.transitions));
  });

  it('keeps a modification written after the upgrade across reopening, with new orders and anomalies', async () => {
    const path = copy();
    await expectModifyAcrossReopen(async () => openSqliteLedger(path, { strategyId: 'S1' }));
    expect(inspect(path).version).toBe('2');
  });

  it('refuses a file of a version newer than it knows, and leaves it as it was', () => {
    const path = copy();
    const db = new Database(path);
    db.prepare("UPDATE meta SET value = '3' WHERE key = 'schema_version'").run();
    db.close();
    expect(() => openSqliteLedger(path)).toThrow(/newer/);
    expect(inspect(path)).toMatchObject({ version: '3' });
    expect(inspect(path).orders).not.toContain('modifications');
  });
});

describe('a PostgreSQL ledger schema of schema version 1', () => {
  const url = inject('postgresUrl');
  const sql = readFileSync(join(FIXTURES, 'postgres.sql'), 'utf8');
  const admin = new pg.Client({ connectionString: url });
  let n = 0;
  beforeAll(() => admin.connect());
  afterAll(() => admin.end());

  /** A fresh schema made by the fixture: the old release's DDL, then the rows it wrote. */
  const oldSchema = async (): Promise<string> => {
    const schema = `eh_v1_${process.pid}_${++n}`;
    await admin.query(sql.replaceAll('{{schema}}', schema));
    return schema;
  };
  const inspect = async (schema: string) => {
    const version = await admin.query<{ value: string }>(
      `SELECT value FROM ${schema}.meta WHERE key = 'schema_version'`,
    );
    const columns = async (table: string) =>
      (
        await admin.query<{ column_name: string }>(
          'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
          [schema, table],
        )
      ).rows.map((r) => r.column_name);
    return {
      version: version.rows[0]?.value,
      orders: await columns('orders'),
      transitions: await columns('transitions'),
    };
  };

  it('is of version 1, without the modification columns, before this code connects', async () => {
    const before = await inspect(await oldSchema());
    expect(before.version).toBe('1');
    for (const c of NEW_COLUMNS.orders) expect(before.orders).not.toContain(c);
    for (const c of NEW_COLUMNS.transitions) expect(before.transitions).not.toContain(c);
  });

  it('connects migrated to version 2 and reads back every order, change, fill and anomaly of each strategy', async () => {
    const schema = await oldSchema();
    const s1 = await connectPostgresLedger(url, { strategyId: 'S1', schema });
    const s2 = await connectPostgresLedger(url, { strategyId: 'S2', schema, readOnly: true });
    expect(s1.fencingToken).toBe(2); // the old release's lease, handed back at its close, is taken over
    await expectFixtureReadBack(s1, 'S1');
    await expectFixtureReadBack(s2, 'S2');
    await Promise.all([s1.close(), s2.close()]);
    const after = await inspect(schema);
    expect(after.version).toBe('2');
    expect(after.orders).toEqual(expect.arrayContaining(NEW_COLUMNS.orders));
    expect(after.transitions).toEqual(expect.arrayContaining(NEW_COLUMNS.transitions));
  });

  it('keeps a modification written after the upgrade across reconnecting, and a reader hears of it once', async () => {
    const schema = await oldSchema();
    const reader = await connectPostgresLedger(url, { strategyId: 'S1', schema, readOnly: true });
    const heard: LedgerUpdatedEvent[] = [];
    reader.subscribe((e) => heard.push(e));
    await expectModifyAcrossReopen(() => connectPostgresLedger(url, { strategyId: 'S1', schema }));
    const end = performance.now() + 5_000;
    while (heard.length < 4 && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200)); // nothing more, nothing twice, nothing of before the upgrade
    expect(heard.map((e) => [e.eventType, e.orderId, e.seq])).toEqual([
      ['ORDER_MODIFY_REQUESTED', 'O_OPEN', 2],
      ['ORDER_MODIFIED', 'O_OPEN', 3],
      ['ORDER_PLACED', 'O_NEW', undefined],
      ['ORDER_ANOMALY', undefined, undefined],
    ]);
    await reader.close();
    expect((await inspect(schema)).version).toBe('2');
  });
});
