/** Smoke: one order from execute to FILLED through replies, checked in cache and ledger. */
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';

describe('smoke', () => {
  it('places, acknowledges and fills an order', async () => {
    const h = await harness();
    const id = await h.place();
    expect(id).toMatch(/^ORD_20260102_030405_[0-9a-f]{8}$/);
    expect(h.venue.placed).toHaveLength(1);
    expect(await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 })).toEqual({
      outcome: 'applied',
      orderId: id,
      status: 'OPEN',
    });
    expect(
      await h.reply({ type: 'FILL', venueOrderId: 'V1', venueFillId: 'F1', quantity: '0.1', price: '100', at: 2 }),
    ).toMatchObject({ outcome: 'applied', status: 'PARTIALLY_FILLED' });
    expect(
      await h.reply({ type: 'FILL', venueOrderId: 'V1', venueFillId: 'F2', quantity: '0.9', price: '101', at: 3 }),
    ).toMatchObject({ outcome: 'applied', status: 'FILLED' });
    const v = h.handler.order(id)!;
    expect(v.filledQuantity).toBe('1');
    expect(v.leavesQuantity).toBe('0');
    expect(v.averagePrice).toBe('100.9');
    expect(v.causality.fillIds).toHaveLength(2);
    const t = await h.ledger.getTransitions(id);
    expect(t.map((x) => `${x.seq}:${x.from}>${x.to}`)).toEqual([
      '1:PENDING>OPEN',
      '2:OPEN>PARTIALLY_FILLED',
      '3:PARTIALLY_FILLED>FILLED',
    ]);
    expect(h.events.map((e) => e.eventType)).toEqual([
      'ORDER_PLACED',
      'ORDER_ACCEPTED',
      'ORDER_PARTIALLY_FILLED',
      'ORDER_FILLED',
    ]);
    expect(h.handler.stats().liveActors).toBe(0);
  });
});
