/**
 * Order modification through the real handler (contract section 4b) on the manual clock: the
 * API's answers and errors, write-ahead of every modify (the scripted venue checks the ledger),
 * and the races a venue can throw, named as FIX 4.4 Appendix D names them; each asserts the
 * status, the values in force, the ledger's change records and the view.
 */
import { describe, expect, it } from 'vitest';
import { ModifyUnsupportedError } from '../../src/errors.js';
import { TIMING, harness, limit } from '../support/harness.js';

/** An OPEN order (venue id V1) with `filled` of 1 filled. */
async function working(filled?: string) {
  const h = await harness();
  h.venue.defaultQuery = 'hang';
  const id = await h.place(limit('1', '100'));
  await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
  if (filled)
    await h.reply({ type: 'FILL', clientOrderId: id, venueFillId: 'F0', quantity: filled, price: '100', at: 2 });
  return { h, id };
}

const modified = (id: string, quantity: string, extra: Record<string, unknown> = {}) => ({
  type: 'MODIFIED',
  clientOrderId: id,
  quantity,
  at: 10,
  ...extra,
});

describe('modify(): answers, errors, write-ahead', () => {
  it('records ORDER_MODIFY_REQUESTED (MODIFY_PENDING, the requested values) before the venue hears of it, once', async () => {
    const { h, id } = await working();
    expect(await h.handler.modify(id, { price: '101' })).toBe(true);
    await h.advance(0);
    expect(h.status(id)).toBe('MODIFY_PENDING');
    const last = (await h.ledger.getTransitions(id)).at(-1)!;
    expect(last).toMatchObject({
      eventType: 'ORDER_MODIFY_REQUESTED',
      from: 'OPEN',
      to: 'MODIFY_PENDING',
      modification: { modificationId: `${id}.1`, price: '101' },
    });
    expect(h.venue.modifies).toHaveLength(1);
    expect(h.venue.modifies[0]).toMatchObject({
      ref: { clientOrderId: id, venueOrderId: 'V1', modificationId: `${id}.1` },
    });
    expect(h.venue.callsBeforeRecord).toEqual([]);
    expect(h.handler.order(id)!.modifications).toEqual([
      expect.objectContaining({ modificationId: `${id}.1`, requested: { price: '101' }, status: 'PENDING' }),
    ]);
  });

  it('answers false for an unknown order, a PENDING order, and a second modify while one is pending (D21)', async () => {
    const { h, id } = await working();
    expect(await h.handler.modify('ORD_20260102_030405_ffffffff', { price: '1' })).toBe(false);
    const pending = await h.place();
    expect(await h.handler.modify(pending, { price: '1' })).toBe(false);
    expect(await h.handler.modify(id, { price: '101' })).toBe(true);
    expect(await h.handler.modify(id, { price: '102' })).toBe(false);
    expect(h.venue.modifies).toHaveLength(1);
  });

  it('throws ValidationError naming the field, whatever the status, and ModifyUnsupportedError without modifyOrder', async () => {
    const { h, id } = await working('0.4');
    await expect(h.handler.modify(id, {})).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(h.handler.modify(id, { price: '-1' })).rejects.toMatchObject({
      name: 'ValidationError',
      path: 'price',
    });
    await expect(h.handler.modify(id, { stopPrice: '99' })).rejects.toMatchObject({ path: 'stopPrice' });
    await expect(h.handler.modify(id, { quantity: '0.4' })).rejects.toMatchObject({ path: 'quantity' });
    const market = await h.place({ symbol: 'BTC_USDT', side: 'BUY', type: 'MARKET', quantity: '1' });
    await expect(h.handler.modify(market, { price: '5' })).rejects.toMatchObject({ path: 'price' });
    (h.venue as { modifyOrder?: unknown }).modifyOrder = undefined;
    await expect(h.handler.modify(id, { price: '101' })).rejects.toBeInstanceOf(ModifyUnsupportedError);
    expect(h.status(id)).toBe('PARTIALLY_FILLED');
  });
});

describe('modify(): the venue answers', () => {
  it('MODIFIED puts the venue values in force: view, leaves, change record with the values', async () => {
    const { h, id } = await working('0.4');
    await h.handler.modify(id, { quantity: '2', price: '99' });
    await h.advance(0);
    const out = await h.reply(modified(id, '2', { price: '99', venueOrderId: 'V1' }));
    expect(out).toMatchObject({ outcome: 'applied', status: 'PARTIALLY_FILLED' });
    const view = h.handler.order(id)!;
    expect(view.orderDetails).toMatchObject({ quantity: '2', price: '99' });
    expect(view.leavesQuantity).toBe('1.6'); // D10: a fill, then a modify that raises leaves
    expect(view.modifications?.at(-1)).toMatchObject({ status: 'ACCEPTED' });
    expect((await h.ledger.getTransitions(id)).at(-1)).toMatchObject({
      eventType: 'ORDER_MODIFIED',
      from: 'MODIFY_PENDING',
      to: 'PARTIALLY_FILLED',
      modification: { modificationId: `${id}.1`, quantity: '2', price: '99' },
    });
  });

  it('a definitive refusal from modifyOrder is MODIFY_REJECTED with the reason; values unchanged', async () => {
    const { h, id } = await working();
    h.venue.modifyScript.push('reject');
    await h.handler.modify(id, { price: '150' });
    await h.advance(0);
    await h.handler.settle();
    expect(h.status(id)).toBe('OPEN');
    expect(h.handler.order(id)!.orderDetails.price).toBe('100');
    expect((await h.ledger.getTransitions(id)).at(-1)).toMatchObject({
      eventType: 'ORDER_MODIFY_REJECTED',
      modification: { modificationId: `${id}.1`, reason: 'order would immediately match' },
    });
  });

  it('D9: a fill completes the order while the modify is pending; the MODIFY_REJECTED then is no anomaly', async () => {
    const { h, id } = await working();
    await h.handler.modify(id, { price: '101' });
    await h.reply({ type: 'FILL', clientOrderId: id, venueFillId: 'F1', quantity: '1', price: '100', at: 5 });
    expect(h.status(id)).toBe('FILLED');
    const out = await h.reply({ type: 'MODIFY_REJECTED', clientOrderId: id, reason: 'order filled', at: 6 });
    expect(out).toMatchObject({ outcome: 'applied', status: 'FILLED' });
    expect(await h.ledger.getAnomalies()).toEqual([]);
    expect(h.handler.stats().liveActors).toBe(0); // resolved: no longer asked about
  });

  it('D11/D12: fills crossing a size cut end FILLED with quantity = max(new, filled), leaves recomputed', async () => {
    for (const [crossing, quantity] of [
      ['0.2', '0.6'],
      ['0.3', '0.7'],
    ] as const) {
      const { h, id } = await working('0.4');
      await h.handler.modify(id, { quantity: '0.6' });
      await h.reply({ type: 'FILL', clientOrderId: id, venueFillId: 'F1', quantity: crossing, price: '100', at: 5 });
      expect(h.status(id)).toBe('MODIFY_PENDING'); // not complete at the quantity in force (1)
      // The venue's MODIFIED names the requested quantity; leaves are never taken from it.
      await h.reply(modified(id, '0.6'));
      expect(h.status(id)).toBe('FILLED');
      expect(h.handler.order(id)).toMatchObject({ orderDetails: { quantity }, leavesQuantity: '0' });
    }
  });

  it('cancel-replace: a fill of the replacement arrives before its MODIFIED, then replies by either venue id reach the order', async () => {
    const { h, id } = await working();
    await h.handler.modify(id, { price: '101' });
    const early = await h.reply({
      type: 'FILL',
      clientOrderId: `${id}.1`,
      venueOrderId: 'V2',
      venueFillId: 'F1',
      quantity: '0.2',
      price: '101',
      at: 5,
    });
    expect(early).toMatchObject({ outcome: 'applied', orderId: id });
    await h.reply(modified(`${id}.1`, '1', { price: '101', venueOrderId: 'V1', newVenueOrderId: 'V2' }));
    expect(h.handler.order(id)).toMatchObject({ status: 'PARTIALLY_FILLED', venueOrderId: 'V2' });
    const byNew = await h.reply({
      type: 'FILL',
      venueOrderId: 'V2',
      venueFillId: 'F2',
      quantity: '0.3',
      price: '101',
      at: 7,
    });
    const byOld = await h.reply({
      type: 'FILL',
      venueOrderId: 'V1',
      venueFillId: 'F3',
      quantity: '0.1',
      price: '100',
      at: 8,
    });
    expect([byNew.outcome, byOld.outcome]).toEqual(['applied', 'applied']);
    expect(h.handler.order(id)!.filledQuantity).toBe('0.6');
    // Fills keep their dedupe across every id of the order.
    const again = await h.reply({
      type: 'FILL',
      clientOrderId: id,
      venueFillId: 'F2',
      quantity: '0.3',
      price: '101',
      at: 9,
    });
    expect(again.outcome).toBe('duplicate');
    // A modification id never sent names no order.
    const unsent = await h.reply({ type: 'CANCELLED', clientOrderId: `${id}.7`, at: 10 });
    expect(unsent).toMatchObject({ outcome: 'anomaly', anomaly: 'UNKNOWN_ORDER' });
  });

  it('a lost MODIFIED: the venue is asked after modifyTimeoutMs and its values decide (never assumed)', async () => {
    const { h, id } = await working();
    await h.handler.modify(id, { price: '101' });
    h.venue.defaultQuery = { venueOrderId: 'V1', status: 'OPEN', quantity: '1', price: '101', fills: [] };
    await h.advance(TIMING.modifyTimeoutMs);
    await h.handler.settle();
    expect(h.handler.order(id)).toMatchObject({ status: 'OPEN', orderDetails: { price: '101' } });
    expect((await h.ledger.getTransitions(id)).at(-1)).toMatchObject({ eventType: 'ORDER_MODIFIED', to: 'OPEN' });
    expect(h.venue.modifies).toHaveLength(1);
  });

  it('unanswered and the venue shows the old values: MODIFY_REJECTED NOT_APPLIED_AT_VENUE once the queries are spent', async () => {
    const { h, id } = await working();
    await h.handler.modify(id, { price: '101' });
    h.venue.defaultQuery = { venueOrderId: 'V1', status: 'OPEN', quantity: '1', price: '100', fills: [] };
    await h.advance(TIMING.modifyTimeoutMs);
    expect(h.status(id)).toBe('MODIFY_PENDING'); // the first answer with other values does not decide
    await h.advance((TIMING.queryRetries + 1) * TIMING.queryIntervalMs);
    await h.handler.settle();
    expect(h.status(id)).toBe('OPEN');
    expect((await h.ledger.getTransitions(id)).at(-1)).toMatchObject({
      eventType: 'ORDER_MODIFY_REJECTED',
      modification: { reason: 'NOT_APPLIED_AT_VENUE' },
    });
  });

  it('cancel() while MODIFY_PENDING: CANCEL_PENDING, and the modify answer still updates the values', async () => {
    const { h, id } = await working();
    await h.handler.modify(id, { price: '101' });
    expect(await h.handler.cancel(id)).toBe(true);
    expect(h.status(id)).toBe('CANCEL_PENDING');
    await h.reply(modified(id, '1', { price: '101' }));
    expect(h.handler.order(id)).toMatchObject({ status: 'CANCEL_PENDING', orderDetails: { price: '101' } });
    await h.reply({ type: 'CANCELLED', clientOrderId: id, at: 20 });
    expect(h.status(id)).toBe('CANCELLED');
  });

  it('a restart in MODIFY_PENDING: recover() asks the venue and resolves the modify', async () => {
    const { h, id } = await working();
    await h.handler.modify(id, { quantity: '3' });
    await h.handler.stop(); // the process dies before any answer
    const again = await harness({ ledger: h.ledger });
    again.venue.defaultQuery = { venueOrderId: 'V1', status: 'OPEN', quantity: '3', price: '100', fills: [] };
    const report = await again.handler.recover();
    expect(report.ordersRestored).toBe(1);
    await again.handler.settle();
    expect(again.handler.order(id)).toMatchObject({ status: 'OPEN', orderDetails: { quantity: '3' } });
    expect(again.venue.modifies).toHaveLength(0); // a modify is never re-sent
  });

  it('a cancel made while the modify is asked about gets its own queries and ends CANCEL_UNCONFIRMED (simulation seed 182)', async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    h.venue.defaultQuery = 'fail';
    await h.handler.modify(id, { price: '101' });
    // The modify goes unanswered past its queries: MODIFY_UNCONFIRMED, the slow pace.
    await h.advance(TIMING.modifyTimeoutMs + (TIMING.queryRetries + 2) * TIMING.queryIntervalMs);
    await h.handler.cancel(id);
    await h.advance(TIMING.cancelTimeoutMs + (TIMING.queryRetries + 2) * TIMING.queryIntervalMs);
    const kinds = (await h.ledger.getAnomalies()).map((a) => a.kind);
    expect(kinds).toEqual(['MODIFY_UNCONFIRMED', 'CANCEL_UNCONFIRMED']);
    expect(h.status(id)).toBe('CANCEL_PENDING');
    await h.handler.stop();
  });

  it('a modify learnt from a query answer under the replacement venue id takes that id: its fills and later replies apply (simulation seed 3)', async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    await h.handler.modify(id, { price: '101' });
    // The MODIFIED is lost; asked, the venue shows the replacement V2 with the new price and a fill.
    const fills = [{ venueFillId: 'F1', quantity: '0.3', price: '101', at: 2 }];
    h.venue.defaultQuery = { venueOrderId: 'V2', status: 'PARTIALLY_FILLED', quantity: '1', price: '101', fills };
    await h.advance(TIMING.modifyTimeoutMs);
    await h.handler.settle();
    expect(h.handler.order(id)).toMatchObject({
      status: 'PARTIALLY_FILLED',
      venueOrderId: 'V2',
      filledQuantity: '0.3',
      orderDetails: { price: '101' },
    });
    const out = await h.reply({ type: 'CANCELLED', venueOrderId: 'V2', at: 3 });
    expect(out).toMatchObject({ outcome: 'applied', status: 'CANCELLED' });
    expect((await h.ledger.getAnomalies()).map((a) => a.kind)).toEqual([]);
    await h.handler.stop();
  });

  it("an earlier modify's MODIFIED arriving again while a later modify is outstanding does not answer it (simulation seed 983)", async () => {
    const h = await harness();
    const id = await h.place();
    await h.reply({ type: 'ACCEPTED', clientOrderId: id, venueOrderId: 'V1', at: 1 });
    await h.handler.modify(id, { price: '101' });
    const first = { type: 'MODIFIED', clientOrderId: `${id}.1`, newVenueOrderId: 'V2', quantity: '1', price: '101' };
    await h.reply({ ...first, at: 2 });
    await h.handler.modify(id, { quantity: '0.5' });
    const out = await h.reply({ ...first, at: 3 }); // the wire repeats the first answer
    expect(out.outcome).toBe('anomaly');
    expect(h.status(id)).toBe('MODIFY_PENDING');
    await h.reply({ type: 'MODIFIED', clientOrderId: `${id}.2`, newVenueOrderId: 'V3', quantity: '0.5', at: 4 });
    expect(h.handler.order(id)).toMatchObject({
      status: 'OPEN',
      venueOrderId: 'V3',
      orderDetails: { quantity: '0.5' },
    });
    await h.handler.stop();
  });
});
