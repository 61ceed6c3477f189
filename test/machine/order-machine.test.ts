/**
 * The machine definition itself: its status changes are exactly the edges of the contract's state
 * table (plus the late-news rule for orders lost before their ack), it uses no XState timers
 * (deadlines live in context), and docs/state-machine.md is what the definition generates.
 */
import { readFileSync } from 'node:fs';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { orderMachine } from '../../machines/order.js';
import { legalEdges, transitionTable } from '../../machines/transition-table.js';
import { renderStateMachineDoc } from '../../src/docs/state-machine-doc.js';

/** Contract section 4, row by row, as from>to pairs (from != to). */
const CONTRACT_EDGES = [
  'PENDING>OPEN',
  'PENDING>PARTIALLY_FILLED',
  'OPEN>PARTIALLY_FILLED',
  'PENDING>FILLED',
  'OPEN>FILLED',
  'PARTIALLY_FILLED>FILLED',
  'CANCEL_PENDING>FILLED',
  'PENDING>REJECTED',
  'OPEN>REJECTED',
  'CANCEL_PENDING>REJECTED',
  'PENDING>CANCELLED',
  'OPEN>CANCELLED',
  'PARTIALLY_FILLED>CANCELLED',
  'CANCEL_PENDING>CANCELLED',
  'PENDING>EXPIRED',
  'OPEN>EXPIRED',
  'PARTIALLY_FILLED>EXPIRED',
  'CANCEL_PENDING>EXPIRED',
  'PENDING>CANCEL_PENDING',
  'OPEN>CANCEL_PENDING',
  'PARTIALLY_FILLED>CANCEL_PENDING',
  'CANCEL_PENDING>PARTIALLY_FILLED',
  'CANCEL_PENDING>OPEN',
  'CANCEL_PENDING>PENDING',
  'PENDING>TIMED_OUT',
  'TIMED_OUT>CANCEL_PENDING',
  'TIMED_OUT>FILLED',
  'TIMED_OUT>REJECTED',
  'TIMED_OUT>CANCELLED',
  'TIMED_OUT>EXPIRED',
  'CANCELLED>FILLED',
  'EXPIRED>FILLED',
  // "An order made CANCELLED as NOT_FOUND_AT_VENUE before any acknowledgement takes late news the
  // same way: an ACCEPTED or FILL moves it to CANCEL_PENDING" (the rules under the table; ADR 0001).
  'CANCELLED>CANCEL_PENDING',
];

describe('order machine definition', () => {
  it('changes status only along the edges of the contract table', () => {
    expect([...legalEdges()].sort()).toEqual([...new Set(CONTRACT_EDGES)].sort());
  });

  it('has no XState delayed transitions: deadlines live in context', () => {
    expect(JSON.stringify(orderMachine.config)).not.toContain('"after"');
    for (const row of transitionTable()) expect(row.event).not.toMatch(/^xstate\.after/);
  });

  it('starts PENDING with the ack deadline in context, and its snapshot round-trips through JSON', () => {
    const timing = {
      ackTimeoutMs: 10_000,
      cancelTimeoutMs: 5_000,
      queryIntervalMs: 1_000,
      queryRetries: 2,
      placeRetries: 2,
    };
    const input = { orderId: 'ORD_1', quantity: '1', placedAt: 1_000, timing };
    const actor = createActor(orderMachine, { input }).start();
    actor.send({ type: 'FILL', quantity: '0.4', at: 2_000 });
    actor.send({ type: 'CANCEL', at: 3_000 });
    const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
    const restored = createActor(orderMachine, { input, snapshot: persisted }).start();
    expect(restored.getSnapshot().value).toBe('CANCEL_PENDING');
    expect(restored.getSnapshot().context).toMatchObject({
      filledQuantity: '0.4',
      ackDeadlineAt: 11_000,
      cancelDeadlineAt: 8_000,
      cancelsSent: 1,
      wakeAt: 8_000,
    });
    restored.send({ type: 'FILL', quantity: '0.6', at: 4_000 });
    expect(restored.getSnapshot().value).toBe('FILLED');
  });

  it('docs/state-machine.md is generated from the definition and up to date (npm run docs:machine)', () => {
    const doc = readFileSync(new URL('../../docs/state-machine.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderStateMachineDoc());
  });
});
