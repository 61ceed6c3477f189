/**
 * The ledger of engines that run many processes: PostgreSQL (`pg`), one schema shared by every
 * process and strategy, each ledger reading and writing only its own strategy.
 *
 * Ownership: a writable ledger holds its strategy's lease (a row of `owners` with a holder, an
 * expiry in the database's own time and a fencing token raised by every takeover). Every commit's
 * transaction first takes that row `FOR SHARE` and checks the token: a paused or partitioned old
 * owner whose lease another process took over cannot write, and a takeover waits for a commit
 * already under way (its `UPDATE` needs the row). A ledger that finds itself fenced refuses every
 * later write with `LedgerFencedError` and tells its `onFenced` listeners (ADR 0006).
 *
 * Group commit as in the SQLite ledger: the commits of one turn share a transaction, each in its
 * own savepoint; while a transaction is in flight, the next turn's commits wait for the next one.
 *
 * Events reach other processes through an outbox: each transaction appends its events to
 * `ledger_events` and `pg_notify`s its id. A listener fetches the rows after the last one it
 * delivered, so each event is delivered once, in commit order, also across a dropped LISTEN
 * connection (it catches up when it is back).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Client, Pool, PoolClient } from 'pg';
import { type Clock, systemClock } from '../clock.js';
import { decAdd, decEq } from '../decimal.js';
import { LedgerFencedError, LedgerIntegrityError } from '../errors.js';
import { browseIndexesSql, postgresBrowser } from './postgres-browse.js';
import { LedgerPublisher, anomalyEvent, changeEvent, placedEvent } from './publisher.js';
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

/** Options of the PostgreSQL ledger. */
export interface PostgresLedgerOptions {
  /** The strategy this ledger reads and, unless `readOnly`, owns and writes. */
  strategyId: string;
  /** Only read and listen: takes no lease, and `commit` is refused. Default false. */
  readOnly?: boolean;
  /** How long a lease lasts without renewal (renewed every third of it). Default 10,000. */
  leaseMs?: number;
  /**
   * When another live process holds the lease: wait for it (a standby; polled every third of
   * `leaseMs`) instead of failing with `LeaseHeldError`. Default false.
   */
  waitForLease?: boolean;
  /** The schema of the ledger's tables, created and migrated on connect. Default `execution_handler`. */
  schema?: string;
  /** Who holds the lease, as shown in `owners`. Default host, process id and a random suffix. */
  holderId?: string;
  /** Connections in the pool (the LISTEN connection comes on top). Default 4. */
  poolSize?: number;
  /** Drives lease renewal and waiting. Default: the system clock. */
  clock?: Clock;
}

/** The PostgreSQL ledger, with its ownership in view. */
export interface PostgresLedger extends StrategyLedger {
  /** The fencing token of this ledger's lease; undefined when read-only. */
  readonly fencingToken: number | undefined;
  /** The holder id this ledger writes under. */
  readonly holderId: string;
  /** True once another process took the lease over: every commit is refused from then on. */
  isFenced(): boolean;
  /** Called once when the ledger finds itself fenced; returns the unsubscribe function. */
  onFenced(listener: (error: LedgerFencedError) => void): () => void;
}

/** Thrown by `connectPostgresLedger` when another live process holds the strategy's lease. */
export class LeaseHeldError extends Error {
  override readonly name = 'LeaseHeldError';
}

/**
 * The schema version this code writes. An older schema is migrated on connect (see `migrationSql`);
 * a newer one is refused. 1: the first release; 2: order modification (a change's `modification`
 * in `transitions`, the view's `modifications` and `original_details` in `orders`).
 */
const SCHEMA_VERSION = 2;
const CHANNEL = 'execution_handler_ledger';

// Version 1 as the first release created it: the same tables as the SQLite ledger (so one row
// converter serves both), plus ownership and the event outbox. JSON columns are text so they read
// back exactly as written. Later versions are reached by `migrationSql`.
const schemaV1Sql = (s: string): string => `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.owners (
  strategy_id      TEXT PRIMARY KEY,
  holder_id        TEXT NOT NULL,
  fencing_token    BIGINT NOT NULL,
  lease_expires_at TIMESTAMPTZ NOT NULL,
  acquired_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${s}.orders (
  order_id        TEXT PRIMARY KEY,
  strategy_id     TEXT NOT NULL,
  directive_id    TEXT NOT NULL,
  status          TEXT NOT NULL,
  order_details   TEXT NOT NULL,
  causality       TEXT NOT NULL,
  venue_order_id  TEXT,
  reject_reason   TEXT,
  filled_quantity TEXT NOT NULL DEFAULT '0',
  placed_at       BIGINT NOT NULL,
  batch           TEXT,
  snapshot        TEXT,
  last_seq        INTEGER NOT NULL DEFAULT 0,
  changed_at      BIGINT NOT NULL,
  fencing_token   BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_changed ON ${s}.orders (strategy_id, changed_at);
CREATE INDEX IF NOT EXISTS orders_open ON ${s}.orders (strategy_id, status);
CREATE INDEX IF NOT EXISTS orders_directive ON ${s}.orders (strategy_id, directive_id);
CREATE TABLE IF NOT EXISTS ${s}.transitions (
  order_id        TEXT NOT NULL REFERENCES ${s}.orders (order_id),
  seq             INTEGER NOT NULL CHECK (seq >= 1),
  event_type      TEXT NOT NULL,
  from_status     TEXT NOT NULL,
  to_status       TEXT NOT NULL,
  at              BIGINT NOT NULL,
  cause           TEXT NOT NULL,
  venue_order_id  TEXT,
  reject_reason   TEXT,
  fencing_token   BIGINT NOT NULL,
  PRIMARY KEY (order_id, seq)
);
CREATE TABLE IF NOT EXISTS ${s}.fills (
  order_id         TEXT NOT NULL REFERENCES ${s}.orders (order_id),
  venue_fill_id    TEXT NOT NULL,
  ordinal          INTEGER NOT NULL,
  fill_id          TEXT NOT NULL,
  quantity         TEXT NOT NULL,
  price            TEXT NOT NULL,
  commission       TEXT,
  commission_asset TEXT,
  at               BIGINT NOT NULL,
  PRIMARY KEY (order_id, venue_fill_id)
);
CREATE TABLE IF NOT EXISTS ${s}.anomalies (
  id          BIGSERIAL PRIMARY KEY,
  strategy_id TEXT NOT NULL,
  kind        TEXT NOT NULL,
  reason      TEXT NOT NULL,
  order_id    TEXT,
  at          BIGINT NOT NULL,
  reply       TEXT
);
CREATE INDEX IF NOT EXISTS anomalies_strategy ON ${s}.anomalies (strategy_id, id);
CREATE TABLE IF NOT EXISTS ${s}.ledger_events (
  id          BIGSERIAL PRIMARY KEY,
  strategy_id TEXT NOT NULL,
  holder_id   TEXT NOT NULL,
  fencing_token BIGINT NOT NULL,
  events      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_events_strategy ON ${s}.ledger_events (strategy_id, id);
`;

/** `migrationSql(s)[v]` takes schema `s` from version v to v + 1, inside the connect transaction. */
const migrationSql = (s: string): Readonly<Record<number, string>> => ({
  1: `
ALTER TABLE ${s}.transitions
  ADD COLUMN IF NOT EXISTS modification_id TEXT,
  ADD COLUMN IF NOT EXISTS modification_quantity TEXT,
  ADD COLUMN IF NOT EXISTS modification_price TEXT,
  ADD COLUMN IF NOT EXISTS modification_stop_price TEXT,
  ADD COLUMN IF NOT EXISTS modification_reason TEXT;
ALTER TABLE ${s}.orders
  ADD COLUMN IF NOT EXISTS modifications TEXT,
  ADD COLUMN IF NOT EXISTS original_details TEXT;
`,
});

/** The `pg` module, loaded by the first connect rather than when the package is imported. */
type PgDriver = typeof import('pg').default;

// BIGINT columns hold epoch milliseconds and tokens, well inside Number's exact range.
const typeParsersOf = (pg: PgDriver) => ({
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
});

interface PendingCommit {
  writes: readonly LedgerWrite[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Connects to PostgreSQL, creates or migrates the schema and, unless read-only, takes the lease.
 * Loads `pg` on the first call.
 */
export async function connectPostgresLedger(
  connectionString: string,
  options: PostgresLedgerOptions,
): Promise<PostgresLedger> {
  const strategyId = options?.strategyId;
  if (typeof strategyId !== 'string' || strategyId.length === 0)
    throw new Error('connectPostgresLedger: strategyId is required');
  const schema = options.schema ?? 'execution_handler';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new Error(`connectPostgresLedger: schema must be a lower-case SQL identifier, got ${schema}`);
  const readOnly = options.readOnly ?? false;
  const leaseMs = options.leaseMs ?? 10_000;
  if (!Number.isInteger(leaseMs) || leaseMs < 100)
    throw new Error(`connectPostgresLedger: leaseMs must be an integer >= 100, got ${leaseMs}`);
  const clock = options.clock ?? systemClock;
  const holderId = options.holderId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const t = (table: string): string => `${schema}.${table}`;

  // A paused owner caught inside a transaction holds the lease row FOR SHARE, which would block a
  // takeover for as long as the pause: the server ends such a session after one lease.
  const sessionOptions = `-c idle_in_transaction_session_timeout=${leaseMs}`;
  // Imported here, not at the top: a user of another ledger should not pay for the driver.
  const { default: pg } = await import('pg');
  const types = typeParsersOf(pg);
  const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 4, types, options: sessionOptions });
  // A client that loses its session (idle or checked out) must not crash the process: the query
  // under way, or the next one, fails instead, and that error is handled where it is awaited.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    await migrate(pool, schema);
  } catch (err) {
    await pool.end();
    throw err;
  }

  const publisher = new LedgerPublisher();
  const fencedListeners = new Set<(e: LedgerFencedError) => void>();
  let fencingToken: number | undefined;
  let fenced: LedgerFencedError | undefined;
  let closed = false;
  let renewTimer: unknown;

  const fence = (reason: string): LedgerFencedError => {
    if (!fenced) {
      fenced = new LedgerFencedError(
        `strategy ${strategyId}: ${reason}; this ledger (holder ${holderId}, token ${fencingToken}) may no longer write`,
      );
      clock.clearTimeout(renewTimer);
      for (const l of fencedListeners) l(fenced);
    }
    return fenced;
  };

  // ─── The lease ──────────────────────────────────────────────────────────────────────────

  const tryAcquire = async (): Promise<number | undefined> => {
    const r = await pool.query<{ fencing_token: number }>(
      `INSERT INTO ${t('owners')} (strategy_id, holder_id, fencing_token, lease_expires_at)
       VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
       ON CONFLICT (strategy_id) DO UPDATE
         SET holder_id = EXCLUDED.holder_id, fencing_token = ${t('owners')}.fencing_token + 1,
             lease_expires_at = EXCLUDED.lease_expires_at, acquired_at = now()
         WHERE ${t('owners')}.lease_expires_at < now()
       RETURNING fencing_token`,
      [strategyId, holderId, leaseMs],
    );
    return r.rows[0]?.fencing_token;
  };

  const renew = async (): Promise<void> => {
    if (closed || fenced) return;
    try {
      const r = await pool.query(
        `UPDATE ${t('owners')} SET lease_expires_at = now() + $3 * interval '1 millisecond'
         WHERE strategy_id = $1 AND fencing_token = $2 RETURNING 1`,
        [strategyId, fencingToken, leaseMs],
      );
      if (r.rowCount === 0) {
        fence('the lease was taken over');
        return;
      }
    } catch {
      // The database is out of reach: keep trying; commits check the token themselves.
    }
    if (!closed && !fenced) renewTimer = clock.setTimeout(() => void renew(), Math.floor(leaseMs / 3));
  };

  if (!readOnly) {
    fencingToken = await tryAcquire();
    while (fencingToken === undefined) {
      if (!options.waitForLease) {
        const holder = await pool.query<{ holder_id: string }>(
          `SELECT holder_id FROM ${t('owners')} WHERE strategy_id = $1`,
          [strategyId],
        );
        await pool.end();
        throw new LeaseHeldError(
          `strategy ${strategyId} is owned by ${holder.rows[0]?.holder_id ?? 'another process'} whose lease is live`,
        );
      }
      await new Promise<void>((r) => clock.setTimeout(r, Math.floor(leaseMs / 3)));
      fencingToken = await tryAcquire();
    }
    renewTimer = clock.setTimeout(() => void renew(), Math.floor(leaseMs / 3));
  }

  // ─── Writes ─────────────────────────────────────────────────────────────────────────────

  let pending: PendingCommit[] = [];
  let flushing: Promise<void> | undefined;

  const applyBatch = async (c: PoolClient, writes: readonly LedgerWrite[]): Promise<LedgerUpdatedEvent[]> => {
    const events: LedgerUpdatedEvent[] = [];
    const ownOrder = async (orderId: string, what: string): Promise<OrderRow> => {
      const r = await c.query<OrderRow>(`SELECT * FROM ${t('orders')} WHERE order_id = $1 AND strategy_id = $2`, [
        orderId,
        strategyId,
      ]);
      if (!r.rows[0]) throw new LedgerIntegrityError(`${what} for unknown order ${orderId}`);
      return r.rows[0];
    };
    const checkScope = (s: string): void => {
      if (s !== strategyId)
        throw new LedgerIntegrityError(`record of strategy ${s} in a ledger scoped to ${strategyId}`);
    };
    for (const w of writes) {
      switch (w.kind) {
        case 'order': {
          const o = w.order;
          checkScope(o.strategyId);
          const r = await c.query(
            `INSERT INTO ${t('orders')} (order_id, strategy_id, directive_id, status, order_details, causality, placed_at, batch, changed_at, fencing_token)
             VALUES ($1, $2, $3, 'PENDING', $4, $5, $6, $7, $6, $8) ON CONFLICT (order_id) DO NOTHING`,
            [
              o.orderId,
              o.strategyId,
              o.directiveId,
              JSON.stringify(o.orderDetails),
              JSON.stringify(o.causality),
              o.at,
              o.batch ? JSON.stringify(o.batch) : null,
              fencingToken,
            ],
          );
          if (r.rowCount === 0) throw new LedgerIntegrityError(`order ${o.orderId} is already recorded`);
          events.push(placedEvent(o));
          break;
        }
        case 'change': {
          const row = await ownOrder(w.orderId, 'change');
          const seq = row.last_seq + 1;
          const m = modificationColumns(w.modification);
          await c.query(
            `INSERT INTO ${t('transitions')} (order_id, seq, event_type, from_status, to_status, at, cause, venue_order_id, reject_reason, fencing_token,
               modification_id, modification_quantity, modification_price, modification_stop_price, modification_reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
            [
              w.orderId,
              seq,
              w.eventType,
              w.from,
              w.to,
              w.at,
              w.cause,
              w.venueOrderId ?? null,
              w.rejectReason ?? null,
              fencingToken,
              m.modification_id,
              m.modification_quantity,
              m.modification_price,
              m.modification_stop_price,
              m.modification_reason,
            ],
          );
          const modified = modifiedOrderColumns(row, w);
          await c.query(
            `UPDATE ${t('orders')} SET status = $2, last_seq = $3, changed_at = GREATEST(changed_at, $4),
               venue_order_id = COALESCE($5, venue_order_id), reject_reason = COALESCE($6, reject_reason),
               snapshot = COALESCE($7, snapshot), fencing_token = $8,
               order_details = COALESCE($9, order_details), modifications = COALESCE($10, modifications),
               original_details = COALESCE(original_details, $11)
             WHERE order_id = $1`,
            [
              w.orderId,
              w.to,
              seq,
              w.at,
              w.venueOrderId ?? null,
              w.rejectReason ?? null,
              w.snapshot === undefined ? null : JSON.stringify(w.snapshot),
              fencingToken,
              modified?.order_details ?? null,
              modified?.modifications ?? null,
              modified?.original_details ?? null,
            ],
          );
          events.push(changeEvent(strategyId, w, seq));
          break;
        }
        case 'snapshot': {
          await ownOrder(w.orderId, 'snapshot');
          await c.query(`UPDATE ${t('orders')} SET snapshot = $2, fencing_token = $3 WHERE order_id = $1`, [
            w.orderId,
            JSON.stringify(w.snapshot),
            fencingToken,
          ]);
          break;
        }
        case 'fill': {
          const row = await ownOrder(w.orderId, 'fill');
          const f = w.fill;
          const known = (
            await c.query<FillRow>(`SELECT * FROM ${t('fills')} WHERE order_id = $1 AND venue_fill_id = $2`, [
              w.orderId,
              f.venueFillId,
            ])
          ).rows[0];
          if (known) {
            if (!(decEq(known.quantity, f.quantity) && decEq(known.price, f.price))) {
              throw new LedgerIntegrityError(`conflicting fill ${f.venueFillId} for order ${w.orderId}`);
            }
            if (known.commission === null && f.commission !== undefined) {
              await c.query(
                `UPDATE ${t('fills')} SET commission = $1, commission_asset = COALESCE($2, commission_asset) WHERE order_id = $3 AND venue_fill_id = $4 AND commission IS NULL`,
                [f.commission, f.commissionAsset ?? null, w.orderId, f.venueFillId],
              );
            }
            break;
          }
          await c.query(
            `INSERT INTO ${t('fills')} (order_id, venue_fill_id, ordinal, fill_id, quantity, price, commission, commission_asset, at)
             VALUES ($1, $2, (SELECT COUNT(*) + 1 FROM ${t('fills')} WHERE order_id = $1), $3, $4, $5, $6, $7, $8)`,
            [
              w.orderId,
              f.venueFillId,
              f.fillId,
              f.quantity,
              f.price,
              f.commission ?? null,
              f.commissionAsset ?? null,
              f.at,
            ],
          );
          await c.query(`UPDATE ${t('orders')} SET filled_quantity = $1 WHERE order_id = $2`, [
            decAdd(row.filled_quantity, f.quantity),
            w.orderId,
          ]);
          break;
        }
        case 'anomaly': {
          const a = w.anomaly;
          checkScope(a.strategyId);
          await c.query(
            `INSERT INTO ${t('anomalies')} (strategy_id, kind, reason, order_id, at, reply) VALUES ($1, $2, $3, $4, $5, $6)`,
            [
              a.strategyId,
              a.kind,
              a.reason,
              a.orderId ?? null,
              a.at,
              a.reply === undefined ? null : JSON.stringify(a.reply),
            ],
          );
          const status =
            a.orderId === undefined
              ? undefined
              : (
                  await c.query<{ status: OrderRow['status'] }>(
                    `SELECT status FROM ${t('orders')} WHERE order_id = $1 AND strategy_id = $2`,
                    [a.orderId, strategyId],
                  )
                ).rows[0]?.status;
          events.push(anomalyEvent(a, status));
          break;
        }
      }
    }
    return events;
  };

  /** One transaction for every commit queued so far: fencing check, a savepoint each, the outbox. */
  const runTransaction = async (batch: PendingCommit[]): Promise<void> => {
    const outcomes: { events?: LedgerUpdatedEvent[]; error?: unknown }[] = [];
    let c: PoolClient | undefined;
    try {
      c = await pool.connect();
      await c.query('BEGIN');
      const owner = await c.query<{ fencing_token: number }>(
        `SELECT fencing_token FROM ${t('owners')} WHERE strategy_id = $1 FOR SHARE`,
        [strategyId],
      );
      if (owner.rows[0]?.fencing_token !== fencingToken)
        throw fence(`the lease is now held with token ${owner.rows[0]?.fencing_token ?? 'none'}`);
      for (const p of batch) {
        await c.query('SAVEPOINT one_commit');
        try {
          outcomes.push({ events: await applyBatch(c, p.writes) });
          await c.query('RELEASE SAVEPOINT one_commit');
        } catch (error) {
          await c.query('ROLLBACK TO SAVEPOINT one_commit');
          outcomes.push({ error });
        }
      }
      const events = outcomes.flatMap((o) => o.events ?? []);
      if (events.length > 0) {
        const r = await c.query<{ id: number }>(
          `INSERT INTO ${t('ledger_events')} (strategy_id, holder_id, fencing_token, events) VALUES ($1, $2, $3, $4) RETURNING id`,
          [strategyId, holderId, fencingToken, JSON.stringify(events)],
        );
        await c.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ schema, strategyId, id: r.rows[0]!.id })]);
      }
      await c.query('COMMIT');
    } catch (error) {
      // Nothing of this transaction is durable: every commit in it fails, and the client, which may
      // have lost its session, is discarded rather than handed out again.
      if (c) await c.query('ROLLBACK').catch(() => undefined);
      c?.release(true);
      for (const p of batch) p.reject(error);
      return;
    }
    c.release();
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.error !== undefined) p.reject(o.error);
      else {
        publisher.publish(o.events!);
        p.resolve();
      }
    });
  };

  const flush = (): void => {
    if (flushing || pending.length === 0) return;
    const batch = pending;
    pending = [];
    flushing = runTransaction(batch).finally(() => {
      flushing = undefined;
      flush(); // the commits that arrived meanwhile
    });
  };

  // ─── Events of other processes ──────────────────────────────────────────────────────────

  const lastEvent = await pool.query<{ id: number | null }>(
    `SELECT max(id) AS id FROM ${t('ledger_events')} WHERE strategy_id = $1`,
    [strategyId],
  );
  let deliveredId = lastEvent.rows[0]?.id ?? 0;
  let catchingUp: Promise<void> | undefined;
  let again = false;

  const catchUp = (): void => {
    if (catchingUp) {
      again = true;
      return;
    }
    catchingUp = (async () => {
      do {
        again = false;
        const rows = await pool.query<{ id: number; holder_id: string; events: string }>(
          `SELECT id, holder_id, events FROM ${t('ledger_events')} WHERE strategy_id = $1 AND id > $2 ORDER BY id`,
          [strategyId, deliveredId],
        );
        for (const r of rows.rows) {
          deliveredId = r.id;
          // This ledger's own events were published when its commit resolved.
          if (r.holder_id !== holderId) publisher.publish(JSON.parse(r.events) as LedgerUpdatedEvent[]);
        }
      } while (again && !closed);
    })()
      .catch(() => undefined) // the next notification or reconnection catches up
      .finally(() => {
        catchingUp = undefined;
      });
  };

  let listener: Client | undefined;
  let listenRetry: unknown;
  const listen = async (): Promise<void> => {
    const client = new pg.Client({ connectionString, types });
    const retry = (): void => {
      client.removeAllListeners();
      client.end().catch(() => undefined);
      if (listener === client) listener = undefined;
      if (!closed) listenRetry = clock.setTimeout(() => void listen(), 500);
    };
    client.on('error', retry);
    client.on('notification', (n) => {
      if (n.channel !== CHANNEL || !n.payload) return;
      const p = JSON.parse(n.payload) as { schema: string; strategyId: string };
      if (p.schema === schema && p.strategyId === strategyId) catchUp();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      listener = client;
      catchUp(); // whatever was committed while no connection listened
    } catch {
      retry();
    }
  };
  await listen();

  // ─── Reads ──────────────────────────────────────────────────────────────────────────────

  const ORDER_WITH_FILLS = `SELECT o.*, COALESCE((SELECT json_agg(json_build_object(
      'venue_fill_id', f.venue_fill_id, 'fill_id', f.fill_id, 'quantity', f.quantity, 'price', f.price,
      'commission', f.commission, 'commission_asset', f.commission_asset, 'at', f.at) ORDER BY f.ordinal)
    FROM ${t('fills')} f WHERE f.order_id = o.order_id), '[]') AS fills FROM ${t('orders')} o`;
  const ordersWhere = async (where: string, params: unknown[], orderBy: string): Promise<LedgerOrder[]> => {
    assertOpen();
    const r = await pool.query<OrderRow & { fills: FillRow[] }>(
      `${ORDER_WITH_FILLS} WHERE o.strategy_id = $1 AND ${where} ORDER BY ${orderBy}`,
      [strategyId, ...params],
    );
    return r.rows.map((row) =>
      orderOf(
        row,
        row.fills.map((f) => fillOf({ ...f, at: Number(f.at) })),
      ),
    );
  };
  const assertOpen = (): void => {
    if (closed) throw new Error('ledger is closed');
  };
  const browser = postgresBrowser(pool, schema, strategyId, (ids) =>
    ids.length === 0 ? Promise.resolve([]) : ordersWhere('o.order_id = ANY($2)', [ids], 'o.order_id'),
  );

  return {
    holderId,
    get fencingToken() {
      return fencingToken;
    },
    isFenced: () => fenced !== undefined,
    onFenced(l) {
      fencedListeners.add(l);
      return () => {
        fencedListeners.delete(l);
      };
    },
    commit(writes) {
      assertOpen();
      if (readOnly) return Promise.reject(new Error(`ledger of strategy ${strategyId} is read-only`));
      if (fenced) return Promise.reject(fenced);
      return new Promise<void>((resolve, reject) => {
        if (pending.length === 0) queueMicrotask(flush);
        pending.push({ writes, resolve, reject });
      });
    },
    async getOrder(orderId) {
      return (await ordersWhere('o.order_id = $2', [orderId], 'o.order_id'))[0];
    },
    async isOrderIdTaken(orderId) {
      assertOpen();
      const r = await pool.query(`SELECT 1 FROM ${t('orders')} WHERE order_id = $1`, [orderId]); // every strategy
      return r.rowCount !== 0;
    },
    async getTransitions(orderId) {
      assertOpen();
      const r = await pool.query<TransitionRow>(
        `SELECT tr.* FROM ${t('transitions')} tr JOIN ${t('orders')} o USING (order_id) WHERE o.strategy_id = $1 AND tr.order_id = $2 ORDER BY tr.seq`,
        [strategyId, orderId],
      );
      return r.rows.map(transitionOf);
    },
    async getAnomalies() {
      assertOpen();
      const r = await pool.query<AnomalyRow>(`SELECT * FROM ${t('anomalies')} WHERE strategy_id = $1 ORDER BY id`, [
        strategyId,
      ]);
      return r.rows.map(anomalyOf);
    },
    getOpenOrders: () => ordersWhere(sqlOpen('o.status'), [], 'o.placed_at, o.order_id'),
    getOrdersChangedSince: (at) => ordersWhere('o.changed_at >= $2', [at], 'o.changed_at, o.order_id'),
    getOrdersByDirective: (directiveId) => ordersWhere('o.directive_id = $2', [directiveId], 'o.placed_at, o.order_id'),
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
    subscribe: (l) => publisher.subscribe(l),
    async close() {
      if (closed) return;
      while (flushing || pending.length > 0) {
        flush();
        await flushing;
      }
      closed = true;
      clock.clearTimeout(renewTimer);
      clock.clearTimeout(listenRetry);
      publisher.clear();
      // A clean stop hands the strategy over at once instead of after the lease runs out.
      if (fencingToken !== undefined && !fenced) {
        await pool
          .query(
            `UPDATE ${t('owners')} SET lease_expires_at = now() - interval '1 millisecond' WHERE strategy_id = $1 AND fencing_token = $2`,
            [strategyId, fencingToken],
          )
          .catch(() => undefined);
      }
      await catchingUp;
      await listener?.end().catch(() => undefined);
      await pool.end();
    },
  };
}

/**
 * Creates version 1 if the schema is new, then migrates it to `SCHEMA_VERSION`, one process at a
 * time (an advisory lock) and in one transaction.
 */
async function migrate(pool: Pool, schema: string): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`execution-handler:${schema}`]);
    await c.query(schemaV1Sql(schema));
    const row = (await c.query<{ value: string }>(`SELECT value FROM ${schema}.meta WHERE key = 'schema_version'`))
      .rows[0];
    const found = row === undefined ? 1 : Number(row.value);
    if (!Number.isInteger(found) || found < 1) throw new Error(`ledger schema version ${row?.value} is not a version`);
    if (found > SCHEMA_VERSION) {
      throw new Error(
        `ledger schema version ${found} is newer than this execution-handler understands (${SCHEMA_VERSION})`,
      );
    }
    const migrations = migrationSql(schema);
    for (let v = found; v < SCHEMA_VERSION; v++) await c.query(migrations[v]!);
    await c.query(browseIndexesSql(schema)); // indexes only: the schema's version stays the same
    if (row?.value !== String(SCHEMA_VERSION)) {
      await c.query(
        `INSERT INTO ${schema}.meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
        [String(SCHEMA_VERSION)],
      );
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
