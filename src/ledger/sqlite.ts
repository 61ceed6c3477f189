/**
 * The embedded default ledger: one SQLite file (better-sqlite3), WAL with `synchronous=FULL`, that
 * several strategies may share, each reading only its own records.
 *
 * Group commit: every `commit()` made before the pending promise callbacks have run out joins one
 * transaction (the flush is queued as a microtask, so replies handled side by side, whose work
 * reaches `commit()` at the same depth, share it), each call inside its own savepoint so one bad
 * batch fails alone; the transaction commits, with its fsync, once for all of them. A call
 * resolves only after that commit is durable, and only then are its events published. Flushing on
 * a microtask rather than the next macrotask keeps a manual clock's single flush sufficient.
 */
import { createRequire as requireFrom } from 'node:module';
import type Database from 'better-sqlite3';
import { decAdd, decEq } from '../decimal.js';
import { LedgerIntegrityError } from '../errors.js';
import { LedgerPublisher, anomalyEvent, changeEvent, placedEvent } from './publisher.js';
import { BROWSE_INDEXES, sqliteBrowser } from './sqlite-browse.js';
import {
  type AnomalyRow,
  type FillRow,
  type OrderRow,
  sqlOpen,
  type TransitionRow,
  anomalyOf,
  fillOf,
  modificationColumns,
  modifiedOrderColumns,
  orderOf,
  transitionOf,
} from './rows.js';
import type { LedgerOrder, LedgerUpdatedEvent, LedgerWrite, StrategyLedger } from './types.js';

/** Options of the SQLite ledger. */
export interface SqliteLedgerOptions {
  /** When set, the ledger accepts and returns only this strategy's records. */
  strategyId?: string;
}

/** The SQLite ledger, with a look at its pragmas for those who must check durability settings. */
export interface SqliteLedger extends StrategyLedger {
  /** The pragmas in force, read back from SQLite. */
  pragmas(): { journalMode: string; synchronous: number };
  /** `PRAGMA integrity_check`: 'ok' when the file is sound. */
  integrityCheck(): string;
  /** Path of the database file. */
  readonly path: string;
  /** Transactions run and `commit()` calls they carried (calls per transaction = group commit gain). */
  groupCommitStats(): { transactions: number; commits: number };
}

/**
 * The schema version this code writes. A file of an older version is migrated when opened (see
 * `MIGRATIONS`); a newer one is refused. 1: the first release; 2: order modification (a change's
 * `modification` in `transitions`, the view's `modifications` and `original_details` in `orders`).
 */
const SCHEMA_VERSION = 2;

/** Version 1 as the first release created it; later versions are reached by `MIGRATIONS`. */
const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS orders (
  order_id        TEXT PRIMARY KEY,
  strategy_id     TEXT NOT NULL,
  directive_id    TEXT NOT NULL,
  status          TEXT NOT NULL,
  order_details   TEXT NOT NULL,
  causality       TEXT NOT NULL,
  venue_order_id  TEXT,
  reject_reason   TEXT,
  filled_quantity TEXT NOT NULL DEFAULT '0',
  placed_at       INTEGER NOT NULL,
  batch           TEXT,
  snapshot        TEXT,
  last_seq        INTEGER NOT NULL DEFAULT 0,
  changed_at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orders_changed ON orders (strategy_id, changed_at);
CREATE INDEX IF NOT EXISTS orders_open ON orders (strategy_id, status);
CREATE INDEX IF NOT EXISTS orders_directive ON orders (strategy_id, directive_id);
CREATE TABLE IF NOT EXISTS transitions (
  order_id        TEXT NOT NULL REFERENCES orders (order_id),
  seq             INTEGER NOT NULL CHECK (seq >= 1),
  event_type      TEXT NOT NULL,
  from_status     TEXT NOT NULL,
  to_status       TEXT NOT NULL,
  at              INTEGER NOT NULL,
  cause           TEXT NOT NULL,
  venue_order_id  TEXT,
  reject_reason   TEXT,
  PRIMARY KEY (order_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fills (
  order_id         TEXT NOT NULL REFERENCES orders (order_id),
  venue_fill_id    TEXT NOT NULL,
  ordinal          INTEGER NOT NULL,
  fill_id          TEXT NOT NULL,
  quantity         TEXT NOT NULL,
  price            TEXT NOT NULL,
  commission       TEXT,
  commission_asset TEXT,
  at               INTEGER NOT NULL,
  PRIMARY KEY (order_id, venue_fill_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS anomalies (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  strategy_id TEXT NOT NULL,
  kind        TEXT NOT NULL,
  reason      TEXT NOT NULL,
  order_id    TEXT,
  at          INTEGER NOT NULL,
  reply       TEXT
);
CREATE INDEX IF NOT EXISTS anomalies_strategy ON anomalies (strategy_id, id);
`;

/**
 * A directive's orders. Named index: with `orders_placed` (the inspector's) the planner prefers
 * walking the strategy's orders by time to skip the sort, which made every `execute()` scan them
 * all (quadratic over a session); a directive has a handful of orders, sorting them is nothing.
 */
export const ORDERS_OF_DIRECTIVE_SQL =
  'SELECT * FROM orders INDEXED BY orders_directive WHERE strategy_id = ? AND directive_id = ? ORDER BY placed_at, order_id';

/** `MIGRATIONS[v]` takes a file from version v to v + 1, inside the opening transaction. */
const MIGRATIONS: Readonly<Record<number, string>> = {
  1: `
ALTER TABLE transitions ADD COLUMN modification_id TEXT;
ALTER TABLE transitions ADD COLUMN modification_quantity TEXT;
ALTER TABLE transitions ADD COLUMN modification_price TEXT;
ALTER TABLE transitions ADD COLUMN modification_stop_price TEXT;
ALTER TABLE transitions ADD COLUMN modification_reason TEXT;
ALTER TABLE orders ADD COLUMN modifications TEXT;
ALTER TABLE orders ADD COLUMN original_details TEXT;
`,
};

interface PendingCommit {
  writes: readonly LedgerWrite[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

// The native driver is loaded by the first open, not when the package is imported: a user of
// another ledger should not pay for it. `require`, not `import()`, keeps `openSqliteLedger`
// synchronous, as the public API has it (better-sqlite3 is CommonJS, so either loads the same module).
// `createRequire` is imported under another name: bundles often open with a banner declaring
// `createRequire` (test/crash/bundle.ts does), and a second declaration would not compile.
const requireAtRuntime = requireFrom(import.meta.url);
const loadDriver = (): typeof Database => requireAtRuntime('better-sqlite3') as typeof Database;

/** Opens (creating if needed) a SQLite ledger file; loads better-sqlite3 on the first call. */
export function openSqliteLedger(path: string, options: SqliteLedgerOptions = {}): SqliteLedger {
  const Driver = loadDriver();
  const db = new Driver(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const synchronous = db.pragma('synchronous', { simple: true }) as number;
  if (synchronous !== 2) {
    db.close();
    throw new Error(`SQLite refused synchronous=FULL (got ${synchronous}): the ledger would not be durable`);
  }
  try {
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }

  const scope = options.strategyId;
  const q = prepare(db);
  const publisher = new LedgerPublisher();
  let pending: PendingCommit[] = [];
  let closed = false;
  const stats = { transactions: 0, commits: 0 };

  const checkScope = (strategyId: string): void => {
    if (scope !== undefined && strategyId !== scope) {
      throw new LedgerIntegrityError(`record of strategy ${strategyId} in a ledger scoped to ${scope}`);
    }
  };

  /** Applies one batch inside the open transaction; returns its events or throws (the caller rolls back). */
  const applyBatch = (writes: readonly LedgerWrite[]): LedgerUpdatedEvent[] => {
    const events: LedgerUpdatedEvent[] = [];
    for (const w of writes) {
      switch (w.kind) {
        case 'order': {
          const o = w.order;
          checkScope(o.strategyId);
          if (q.orderById.get(o.orderId)) throw new LedgerIntegrityError(`order ${o.orderId} is already recorded`);
          q.insertOrder.run({
            order_id: o.orderId,
            strategy_id: o.strategyId,
            directive_id: o.directiveId,
            status: 'PENDING',
            order_details: JSON.stringify(o.orderDetails),
            causality: JSON.stringify(o.causality),
            placed_at: o.at,
            batch: o.batch ? JSON.stringify(o.batch) : null,
          });
          events.push(placedEvent(o));
          break;
        }
        case 'change': {
          const row = ownOrder(w.orderId, 'change');
          const seq = row.last_seq + 1;
          q.insertTransition.run({
            order_id: w.orderId,
            seq,
            event_type: w.eventType,
            from_status: w.from,
            to_status: w.to,
            at: w.at,
            cause: w.cause,
            venue_order_id: w.venueOrderId ?? null,
            reject_reason: w.rejectReason ?? null,
            ...modificationColumns(w.modification),
          });
          const modified = modifiedOrderColumns(row, w);
          q.updateOrderChange.run({
            order_id: w.orderId,
            at: w.at,
            status: w.to,
            last_seq: seq,
            venue_order_id: w.venueOrderId ?? null,
            reject_reason: w.rejectReason ?? null,
            snapshot: w.snapshot === undefined ? null : JSON.stringify(w.snapshot),
            order_details: modified?.order_details ?? null,
            modifications: modified?.modifications ?? null,
            original_details: modified?.original_details ?? null,
          });
          events.push(changeEvent(row.strategy_id, w, seq));
          break;
        }
        case 'fill': {
          const row = ownOrder(w.orderId, 'fill');
          const f = w.fill;
          const known = q.fillById.get(w.orderId, f.venueFillId) as FillRow | undefined;
          if (known) {
            if (!(decEq(known.quantity, f.quantity) && decEq(known.price, f.price))) {
              throw new LedgerIntegrityError(`conflicting fill ${f.venueFillId} for order ${w.orderId}`);
            }
            if (known.commission === null && f.commission !== undefined) {
              q.fillCommission.run(f.commission, f.commissionAsset ?? null, w.orderId, f.venueFillId);
            }
            break;
          }
          const ordinal = (q.fillCount.get(w.orderId) as { n: number }).n + 1;
          q.insertFill.run({
            order_id: w.orderId,
            venue_fill_id: f.venueFillId,
            ordinal,
            fill_id: f.fillId,
            quantity: f.quantity,
            price: f.price,
            commission: f.commission ?? null,
            commission_asset: f.commissionAsset ?? null,
            at: f.at,
          });
          q.updateFilled.run(decAdd(row.filled_quantity, f.quantity), w.orderId);
          break;
        }
        case 'snapshot': {
          ownOrder(w.orderId, 'snapshot');
          q.updateSnapshot.run(JSON.stringify(w.snapshot), w.orderId);
          break;
        }
        case 'anomaly': {
          const a = w.anomaly;
          checkScope(a.strategyId);
          q.insertAnomaly.run({
            strategy_id: a.strategyId,
            kind: a.kind,
            reason: a.reason,
            order_id: a.orderId ?? null,
            at: a.at,
            reply: a.reply === undefined ? null : JSON.stringify(a.reply),
          });
          const status =
            a.orderId === undefined ? undefined : (q.orderById.get(a.orderId) as OrderRow | undefined)?.status;
          events.push(anomalyEvent(a, status));
          break;
        }
      }
    }
    return events;
  };

  const ownOrder = (orderId: string, what: string): OrderRow => {
    const row = q.orderById.get(orderId) as OrderRow | undefined;
    if (!row || (scope !== undefined && row.strategy_id !== scope)) {
      throw new LedgerIntegrityError(`${what} for unknown order ${orderId}`);
    }
    return row;
  };

  /** Commits every batch queued this turn in one transaction, one savepoint each. */
  const flush = (): void => {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    stats.transactions++;
    stats.commits += batch.length;
    const outcomes: { events?: LedgerUpdatedEvent[]; error?: unknown }[] = [];
    try {
      db.exec('BEGIN IMMEDIATE');
      for (const p of batch) {
        db.exec('SAVEPOINT one_commit');
        try {
          outcomes.push({ events: applyBatch(p.writes) });
          db.exec('RELEASE one_commit');
        } catch (error) {
          db.exec('ROLLBACK TO one_commit');
          db.exec('RELEASE one_commit');
          outcomes.push({ error });
        }
      }
      db.exec('COMMIT');
    } catch (error) {
      // The transaction itself failed (disk full, I/O error): nothing of this turn is durable.
      if (db.inTransaction) db.exec('ROLLBACK');
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.error !== undefined) p.reject(o.error);
      else {
        publisher.publish(o.events!);
        p.resolve();
      }
    });
  };

  const toView = (row: OrderRow): LedgerOrder => orderOf(row, (q.fillsOf.all(row.order_id) as FillRow[]).map(fillOf));
  const browser = sqliteBrowser(db, scope, toView);

  const assertOpen = (): void => {
    if (closed) throw new Error('ledger is closed');
  };

  return {
    path,
    commit(writes) {
      assertOpen();
      return new Promise<void>((resolve, reject) => {
        if (pending.length === 0) queueMicrotask(flush);
        pending.push({ writes, resolve, reject });
      });
    },
    async getOrder(orderId) {
      assertOpen();
      const row = q.orderById.get(orderId) as OrderRow | undefined;
      if (!row || (scope !== undefined && row.strategy_id !== scope)) return undefined;
      return toView(row);
    },
    async isOrderIdTaken(orderId) {
      assertOpen();
      return q.orderById.get(orderId) !== undefined; // across every strategy of the file
    },
    async getTransitions(orderId) {
      assertOpen();
      const row = q.orderById.get(orderId) as OrderRow | undefined;
      if (!row || (scope !== undefined && row.strategy_id !== scope)) return [];
      return (q.transitionsOf.all(orderId) as TransitionRow[]).map(transitionOf);
    },
    async getAnomalies() {
      assertOpen();
      const rows = (scope === undefined ? q.anomaliesAll.all() : q.anomaliesOf.all(scope)) as AnomalyRow[];
      return rows.map(anomalyOf);
    },
    async getOpenOrders() {
      assertOpen();
      const rows = (scope === undefined ? q.openAll.all() : q.openOf.all(scope)) as OrderRow[];
      return rows.map(toView);
    },
    async getOrdersChangedSince(at) {
      assertOpen();
      const rows = (scope === undefined ? q.changedAll.all(at) : q.changedOf.all(scope, at)) as OrderRow[];
      return rows.map(toView);
    },
    async getOrdersByDirective(directiveId) {
      assertOpen();
      const rows = (
        scope === undefined ? q.byDirectiveAll.all(directiveId) : q.byDirectiveOf.all(scope, directiveId)
      ) as OrderRow[];
      return rows.map(toView);
    },
    async countOrdersByStatus() {
      assertOpen();
      return browser.countOrdersByStatus();
    },
    async listOrders(query) {
      assertOpen();
      return browser.listOrders(query);
    },
    async countAnomalies() {
      assertOpen();
      return browser.countAnomalies();
    },
    async getOrderAnomalies(orderId) {
      assertOpen();
      return browser.getOrderAnomalies(orderId);
    },
    subscribe: (listener) => publisher.subscribe(listener),
    async close() {
      if (closed) return;
      flush();
      closed = true;
      publisher.clear();
      db.close();
    },
    pragmas: () => ({
      journalMode: String(db.pragma('journal_mode', { simple: true })),
      synchronous: Number(db.pragma('synchronous', { simple: true })),
    }),
    integrityCheck: () => String(db.pragma('integrity_check', { simple: true })),
    groupCommitStats: () => ({ ...stats }),
  };
}

/**
 * Creates version 1 if the file is new, then migrates it to `SCHEMA_VERSION`, in one immediate
 * transaction so processes opening the same file migrate it once, one at a time.
 */
function migrate(db: Database.Database): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(SCHEMA_V1);
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      | { value: string }
      | undefined;
    const found = row === undefined ? 1 : Number(row.value);
    if (!Number.isInteger(found) || found < 1) throw new Error(`ledger schema version ${row?.value} is not a version`);
    if (found > SCHEMA_VERSION) {
      throw new Error(
        `ledger schema version ${found} is newer than this execution-handler understands (${SCHEMA_VERSION})`,
      );
    }
    for (let v = found; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.exec(BROWSE_INDEXES); // indexes only: the file's format, and so its version, stay the same
    if (row?.value !== String(SCHEMA_VERSION)) {
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
    }
    db.exec('COMMIT');
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

function prepare(db: Database.Database) {
  return {
    orderById: db.prepare('SELECT * FROM orders WHERE order_id = ?'),
    insertOrder: db.prepare(
      `INSERT INTO orders (order_id, strategy_id, directive_id, status, order_details, causality, placed_at, batch, changed_at)
       VALUES (@order_id, @strategy_id, @directive_id, @status, @order_details, @causality, @placed_at, @batch, @placed_at)`,
    ),
    updateOrderChange: db.prepare(
      `UPDATE orders SET status = @status, last_seq = @last_seq, changed_at = MAX(changed_at, @at),
         venue_order_id = COALESCE(@venue_order_id, venue_order_id),
         reject_reason = COALESCE(@reject_reason, reject_reason),
         snapshot = COALESCE(@snapshot, snapshot),
         order_details = COALESCE(@order_details, order_details),
         modifications = COALESCE(@modifications, modifications),
         original_details = COALESCE(original_details, @original_details)
       WHERE order_id = @order_id`,
    ),
    updateSnapshot: db.prepare('UPDATE orders SET snapshot = ? WHERE order_id = ?'),
    insertTransition: db.prepare(
      `INSERT INTO transitions (order_id, seq, event_type, from_status, to_status, at, cause, venue_order_id, reject_reason,
         modification_id, modification_quantity, modification_price, modification_stop_price, modification_reason)
       VALUES (@order_id, @seq, @event_type, @from_status, @to_status, @at, @cause, @venue_order_id, @reject_reason,
         @modification_id, @modification_quantity, @modification_price, @modification_stop_price, @modification_reason)`,
    ),
    transitionsOf: db.prepare('SELECT * FROM transitions WHERE order_id = ? ORDER BY seq'),
    fillById: db.prepare('SELECT * FROM fills WHERE order_id = ? AND venue_fill_id = ?'),
    fillCount: db.prepare('SELECT COUNT(*) AS n FROM fills WHERE order_id = ?'),
    fillsOf: db.prepare('SELECT * FROM fills WHERE order_id = ? ORDER BY ordinal'),
    insertFill: db.prepare(
      `INSERT INTO fills (order_id, venue_fill_id, ordinal, fill_id, quantity, price, commission, commission_asset, at)
       VALUES (@order_id, @venue_fill_id, @ordinal, @fill_id, @quantity, @price, @commission, @commission_asset, @at)`,
    ),
    fillCommission: db.prepare(
      'UPDATE fills SET commission = ?, commission_asset = COALESCE(?, commission_asset) WHERE order_id = ? AND venue_fill_id = ? AND commission IS NULL',
    ),
    updateFilled: db.prepare('UPDATE orders SET filled_quantity = ? WHERE order_id = ?'),
    insertAnomaly: db.prepare(
      'INSERT INTO anomalies (strategy_id, kind, reason, order_id, at, reply) VALUES (@strategy_id, @kind, @reason, @order_id, @at, @reply)',
    ),
    anomaliesAll: db.prepare('SELECT * FROM anomalies ORDER BY id'),
    anomaliesOf: db.prepare('SELECT * FROM anomalies WHERE strategy_id = ? ORDER BY id'),
    openAll: db.prepare(`SELECT * FROM orders WHERE ${sqlOpen()} ORDER BY placed_at, order_id`),
    openOf: db.prepare(`SELECT * FROM orders WHERE strategy_id = ? AND ${sqlOpen()} ORDER BY placed_at, order_id`),
    changedAll: db.prepare('SELECT * FROM orders WHERE changed_at >= ? ORDER BY changed_at, order_id'),
    changedOf: db.prepare(
      'SELECT * FROM orders WHERE strategy_id = ? AND changed_at >= ? ORDER BY changed_at, order_id',
    ),
    byDirectiveAll: db.prepare('SELECT * FROM orders WHERE directive_id = ? ORDER BY placed_at, order_id'),
    byDirectiveOf: db.prepare(ORDERS_OF_DIRECTIVE_SQL),
  };
}
