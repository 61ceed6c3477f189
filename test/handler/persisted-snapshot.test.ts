/**
 * The snapshot a change persists restores the context it was taken from: orders driven through the
 * machine's protocol (ack cycle, cancels, unconfirmed cancels, modifies, fills) are persisted with
 * `persistedSnapshotOf`, sent through JSON and restored with `createOrderActor`, and their context
 * must come back equal, with the timing options in force; a snapshot in the full form of earlier
 * releases restores the same way, and an OPEN order's snapshot stays small enough for its SQLite
 * row to fit in a page.
 */
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { type OrderEvent, type OrderMachineInput, orderMachine } from '../../machines/order.js';
import { createOrderActor, persistedSnapshotOf } from '../../src/handler/live-order.js';

const timing = {
  ackTimeoutMs: 10_000,
  cancelTimeoutMs: 5_000,
  queryIntervalMs: 1_000,
  queryRetries: 2,
  placeRetries: 2,
  modifyTimeoutMs: 5_000,
};
const input: OrderMachineInput = { orderId: 'ORD_1', quantity: '2', placedAt: 1_000, timing, price: '100' };

/** Event sequences that leave protocol fields away from rest: cycles, queries, counters, a modify. */
const PATHS: Record<string, OrderEvent[]> = {
  'fresh PENDING': [],
  OPEN: [{ type: 'ACCEPTED', venueOrderId: 'V1', at: 2_000 }],
  'PENDING in its ack cycle, a query in flight': [{ type: 'WAKE', at: 11_000 }],
  'PENDING after a failed placement': [{ type: 'PLACE_FAILED', at: 1_500 }],
  'CANCEL_PENDING with fills': [
    { type: 'ACCEPTED', venueOrderId: 'V1', at: 2_000 },
    { type: 'FILL', quantity: '0.5', at: 2_500 },
    { type: 'CANCEL', at: 3_000 },
  ],
  'CANCEL_PENDING, cancel unconfirmed at the slow pace': [
    { type: 'ACCEPTED', venueOrderId: 'V1', at: 2_000 },
    { type: 'CANCEL', at: 3_000 },
    ...Array.from({ length: 8 }, (_, k): OrderEvent => ({ type: 'WAKE', at: 8_000 + 1_000 * k })),
  ],
  MODIFY_PENDING: [
    { type: 'ACCEPTED', venueOrderId: 'V1', at: 2_000 },
    { type: 'MODIFY', changes: { quantity: '3', price: '101' }, at: 3_000 },
  ],
  'OPEN after a modify under a new venue id': [
    { type: 'ACCEPTED', venueOrderId: 'V1', at: 2_000 },
    { type: 'MODIFY', changes: { price: '99' }, at: 3_000 },
    { type: 'MODIFIED', quantity: '2', price: '99', newVenueOrderId: 'V2', at: 3_500 },
  ],
  'TIMED_OUT with its cancel outstanding': [
    ...Array.from({ length: 6 }, (_, k): OrderEvent => ({ type: 'WAKE', at: 11_000 + 1_000 * k })),
  ],
};

function driven(events: OrderEvent[]) {
  const actor = createActor(orderMachine, { input }).start();
  for (const e of events) if (actor.getSnapshot().can(e)) actor.send(e);
  return actor;
}

describe('persisted snapshots', () => {
  for (const [name, events] of Object.entries(PATHS)) {
    it(`restore the context they were taken from: ${name}`, () => {
      const actor = driven(events);
      const stored = JSON.parse(JSON.stringify(persistedSnapshotOf(actor)));
      expect(stored.context).not.toHaveProperty('timing');
      const restored = createOrderActor(input, stored, undefined);
      expect(restored.getSnapshot().value).toBe(actor.getSnapshot().value);
      expect(restored.getSnapshot().context).toEqual(actor.getSnapshot().context);
    });
  }

  it('take the timing options in force, not those of the process that wrote them', () => {
    const stored = JSON.parse(JSON.stringify(persistedSnapshotOf(driven(PATHS.OPEN!))));
    const now = { ...timing, queryIntervalMs: 3_000 };
    expect(createOrderActor({ ...input, timing: now }, stored, undefined).getSnapshot().context.timing).toEqual(now);
  });

  it('in the full form earlier releases wrote restore the same context', () => {
    for (const events of Object.values(PATHS)) {
      const actor = driven(events);
      const full = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
      expect(createOrderActor(input, full, undefined).getSnapshot().context).toEqual(actor.getSnapshot().context);
    }
  });

  it('of an OPEN order stay small: a SQLite row over about 1 KB spills onto an overflow page of its own', () => {
    const actor = driven(PATHS.OPEN!);
    expect(JSON.stringify(persistedSnapshotOf(actor)).length).toBeLessThan(450);
  });
});
