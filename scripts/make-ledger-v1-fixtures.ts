/**
 * Makes the schema-version-1 ledger fixtures from test/fixtures/ledger-v1/records.ts, with the
 * ledger code of the commit it runs at. It was run once at commit 29fe8b7 (the last release before
 * order modification) and its output committed; running it later would write a newer schema, so
 * it refuses to unless `--force`.
 *
 * - `ledger.db`: a SQLite ledger file written by `openSqliteLedger`.
 * - `postgres.sql`: the DDL `connectPostgresLedger` executes (captured from the driver as it runs,
 *   schema name replaced by `{{schema}}`), then the rows the ledger wrote, dumped as JSON and
 *   reloaded with `json_populate_recordset`, and the serial sequences set past them.
 *
 * Usage: npx tsx scripts/make-ledger-v1-fixtures.ts [--force]
 */
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { connectPostgresLedger } from '../src/ledger/postgres.js';
import { openSqliteLedger } from '../src/ledger/sqlite.js';
import type { LedgerWrite, StrategyLedger } from '../src/ledger/types.js';
import { startPostgres } from '../test/support/embedded-postgres.js';
import { S1_BATCHES, S2_BATCHES } from '../test/fixtures/ledger-v1/records.js';

const DIR = join(import.meta.dirname, '..', 'test', 'fixtures', 'ledger-v1');
const DB_PATH = join(DIR, 'ledger.db');
const SQL_PATH = join(DIR, 'postgres.sql');
const SCHEMA = 'eh_fixture_v1';
/** Tables in an order their foreign keys accept. */
const TABLES = ['meta', 'owners', 'orders', 'transitions', 'fills', 'anomalies', 'ledger_events'];
const SERIALS = [
  ['anomalies', 'id'],
  ['ledger_events', 'id'],
];

async function writeAll(ledger: StrategyLedger, batches: readonly (readonly LedgerWrite[])[]): Promise<void> {
  for (const batch of batches) await ledger.commit(batch);
}

async function makeSqlite(): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) rmSync(DB_PATH + suffix, { force: true });
  const s1 = openSqliteLedger(DB_PATH, { strategyId: 'S1' });
  const s2 = openSqliteLedger(DB_PATH, { strategyId: 'S2' });
  await writeAll(s1, S1_BATCHES);
  await writeAll(s2, S2_BATCHES);
  await s2.close();
  await s1.close(); // the last connection checkpoints the WAL into the file and removes it
  console.log(`wrote ${DB_PATH} (${statSync(DB_PATH).size} bytes)`);
}

async function makePostgres(): Promise<void> {
  const server = await startPostgres();
  const ddl: string[] = [];
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function capture(this: pg.Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : undefined;
    if (text?.includes('CREATE SCHEMA IF NOT EXISTS')) ddl.push(text);
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query;
  try {
    const s1 = await connectPostgresLedger(server.url, { strategyId: 'S1', schema: SCHEMA });
    const s2 = await connectPostgresLedger(server.url, { strategyId: 'S2', schema: SCHEMA });
    await writeAll(s1, S1_BATCHES);
    await writeAll(s2, S2_BATCHES);
    await s2.close();
    await s1.close();
    pg.Client.prototype.query = query as typeof pg.Client.prototype.query;
    if (ddl.length === 0) throw new Error('no DDL captured');

    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    const version = await admin.query(`SELECT value FROM ${SCHEMA}.meta WHERE key = 'schema_version'`);
    const out: string[] = [
      `-- A PostgreSQL ledger schema written by execution-handler at schema version ${version.rows[0].value}`,
      '-- (commit 29fe8b7), made by scripts/make-ledger-v1-fixtures.ts from test/fixtures/ledger-v1/records.ts.',
      '-- Replace {{schema}} with the schema name before running it. Do not edit.',
      '',
      '-- The DDL connectPostgresLedger executed, as captured from the driver.',
      ddl[0]!.replaceAll(SCHEMA, '{{schema}}').trim(),
      '',
      '-- The rows the ledger wrote (owners with the lease a clean close handed back).',
    ];
    for (const table of TABLES) {
      const rows = await admin.query<{ row: string }>(
        `SELECT row_to_json(t)::text AS row FROM ${SCHEMA}.${table} t ORDER BY 1`,
      );
      if (rows.rows.length === 0) continue;
      const json = `[\n${rows.rows.map((r) => r.row).join(',\n')}\n]`;
      out.push(
        `INSERT INTO {{schema}}.${table} SELECT * FROM json_populate_recordset(NULL::{{schema}}.${table}, ${admin.escapeLiteral(json)});`,
      );
    }
    for (const [table, column] of SERIALS) {
      out.push(
        `SELECT setval(pg_get_serial_sequence('{{schema}}.${table}', '${column}'), (SELECT max(${column}) FROM {{schema}}.${table}));`,
      );
    }
    await admin.end();
    writeFileSync(SQL_PATH, `${out.join('\n')}\n`);
    console.log(`wrote ${SQL_PATH}`);
  } finally {
    pg.Client.prototype.query = query as typeof pg.Client.prototype.query;
    await server.stop();
  }
}

if (existsSync(DB_PATH) && !process.argv.includes('--force')) {
  console.error(`${DB_PATH} exists: the fixtures are of schema version 1; pass --force to overwrite them`);
  process.exit(1);
}
await makeSqlite();
await makePostgres();
