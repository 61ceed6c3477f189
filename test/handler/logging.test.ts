/**
 * The `logger` option: a scripted incident on the manual clock (a placement that fails then
 * succeeds, a fill, a modify, a cancel, a late reply, a query failure, a time-out, a reconnect, a
 * failed and a fenced ledger write, work dropped beyond its bound) leaves, in a capturing
 * pino-compatible logger, one entry of each kind at its level, with strategyId, orderId,
 * directiveId and the cause as fields; pino itself fits the option as it is; without a logger
 * the handler is silent and unwrapped.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LedgerFencedError } from '../../src/errors.js';
import { createMemoryLedger } from '../../src/ledger/memory.js';
import { type LogEntry, capturingLogger } from '../support/capturing-logger.js';
import { harness, limit } from '../support/harness.js';

/** A memory ledger whose commits fail while `mode` says so (the harness makes its commits asynchronous). */
function breakableLedger() {
  const ledger = createMemoryLedger({ strategyId: 'S1' });
  const commit = ledger.commit.bind(ledger);
  const control = { mode: 'ok' as 'ok' | 'fail' | 'fenced' };
  ledger.commit = (writes) => {
    if (control.mode === 'fail') return Promise.reject(new Error('SQLITE_FULL: disk full'));
    if (control.mode === 'fenced') return Promise.reject(new LedgerFencedError('lease lost to another process'));
    return commit(writes);
  };
  return { ledger, control };
}

const find = (entries: LogEntry[], level: LogEntry['level'], message: RegExp): LogEntry | undefined =>
  entries.find((e) => e.level === level && message.test(e.message));

describe('logger: structured entries for what an operator needs', () => {
  it('logs each kind of event with its fields, at its level, through a child bound to strategyId', async () => {
    const log = capturingLogger();
    const { ledger, control } = breakableLedger();
    const h = await harness({ logger: log, ledger, maxRetriesWaiting: 0 });
    h.venue.placeScript = ['fail', { venueOrderId: 'V1' }];
    const id = await h.place(limit('2', '100'));
    await h.advance(500); // the placement's retry, backing off
    expect(h.status(id)).toBe('OPEN');
    const directiveId = h.handler.order(id)!.directiveId;
    await h.reply({ type: 'FILL', clientOrderId: id, venueFillId: 'F1', quantity: '1', price: '100', at: 1 });
    h.venue.modifyScript = [{ modified: true }];
    await h.handler.modify(id, { price: '101' });
    await h.advance(0);
    await h.handler.cancel(id);
    await h.advance(0);
    await h.reply({ type: 'CANCELLED', clientOrderId: id, at: 2 });
    // A fill beyond the quantity after the cancel: OVERFILL.
    await h.reply({ type: 'FILL', clientOrderId: id, venueFillId: 'F9', quantity: '5', price: '100', at: 3 });

    // A second order never acknowledged: one query fails, the next finds nothing, it times out.
    h.venue.placeScript = [{}]; // placed, never acknowledged
    const lost = await h.place();
    h.venue.queryScript.set(lost, ['fail', null, null, null]);
    await h.advance(1_000);
    await h.advance(100);
    await h.advance(100);
    expect(h.status(lost)).toBe('TIMED_OUT');

    h.venue.reconnect();
    await h.advance(0);

    control.mode = 'fail'; // a pushed reply's write fails; no room to wait: dropped
    h.venue.push({ type: 'EXPIRED', clientOrderId: lost, at: 4 } as never);
    await h.advance(0);
    control.mode = 'fenced';
    await expect(h.handler.onExchangeReply({ type: 'EXPIRED', clientOrderId: lost, at: 5 })).rejects.toThrow();
    control.mode = 'ok';
    await h.handler.stop();

    const e = log.entries;
    expect(e.length).toBeGreaterThan(10);
    expect(e.every((x) => x.fields.strategyId === 'S1')).toBe(true);
    const ids = { orderId: id, directiveId };
    expect(find(e, 'debug', /^transition$/)?.fields).toMatchObject({ ...ids, from: 'PENDING', to: 'OPEN' });
    expect(e.find((x) => x.message === 'transition' && x.fields.to === 'PARTIALLY_FILLED')?.fields).toMatchObject({
      eventType: 'ORDER_PARTIALLY_FILLED',
      cause: expect.stringMatching(/FILL/),
    });
    expect(find(e, 'warn', /^placement failed/)?.fields).toMatchObject({
      ...ids,
      call: 'place',
      cause: 'Error: ECONNRESET',
    });
    expect(find(e, 'info', /^order modified$/)?.fields).toMatchObject({ ...ids, eventType: 'ORDER_MODIFIED' });
    expect(find(e, 'info', /^order cancelled$/)?.fields).toMatchObject({ ...ids, to: 'CANCELLED' });
    expect(find(e, 'warn', /^anomaly OVERFILL$/)?.fields).toMatchObject({
      ...ids,
      anomaly: 'OVERFILL',
      cause: expect.stringMatching(/^Invariant: filled <= quantity/),
    });
    expect(find(e, 'warn', /^query failed/)?.fields).toMatchObject({
      orderId: lost,
      call: 'query',
      cause: 'Error: ETIMEDOUT',
    });
    expect(find(e, 'warn', /^order timed out$/)?.fields).toMatchObject({
      orderId: lost,
      directiveId: expect.any(String),
      to: 'TIMED_OUT',
      cause: expect.any(String),
    });
    expect(find(e, 'info', /^connector reconnected/)).toBeDefined();
    expect(find(e, 'info', /^reconciled$/)?.fields).toMatchObject({ ordersQueried: expect.any(Number) });
    expect(find(e, 'error', /^ledger write failed$/)?.fields).toMatchObject({
      orderIds: [lost],
      cause: expect.stringMatching(/disk full/),
    });
    // A pushed reply's work names no order before it is routed: the cause is what there is.
    expect(find(e, 'error', /^background work dropped/)?.fields).toMatchObject({
      cause: expect.stringMatching(/disk full/),
    });
    expect(find(e, 'error', /^ledger fenced/)?.fields).toMatchObject({ orderIds: [lost] });
  }, 10_000);

  it('works as before with neither option: no registry, orders proceed', async () => {
    const h = await harness();
    expect(h.handler.metrics).toBeUndefined();
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    expect(h.status(id)).toBe('OPEN');
  });
});

describe('logger: pino itself', () => {
  it('takes a pino logger as it is: JSON lines with strategyId, orderId, directiveId, level names', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) };
    const logger = pino({ level: 'debug', base: null, timestamp: false }, stream);
    const h = await harness({ logger });
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    await h.handler.cancel(id);
    await h.advance(0);
    await h.reply({ type: 'CANCELLED', clientOrderId: id, at: 2 });
    await h.handler.stop();
    const directiveId = h.handler.order(id)!.directiveId;
    expect(lines).toContainEqual({
      level: 20,
      strategyId: 'S1',
      orderId: id,
      directiveId,
      from: 'PENDING',
      to: 'OPEN',
      eventType: 'ORDER_ACCEPTED',
      cause: expect.stringMatching(/^reply ACCEPTED/),
      msg: 'transition',
    });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 30, orderId: id, directiveId, to: 'CANCELLED', msg: 'order cancelled' }),
    );
  });
});
