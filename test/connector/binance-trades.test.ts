/**
 * Queries see every fill: an order with more fills than one `myTrades` call returns (Binance: 500
 * by default, 1000 at most; the local venue pages the same way) is read page by page with
 * `fromId`, through the real ccxt, and its fills learnt by query keep their commission, both from
 * the connector alone and through the handler after a stream drop (every fill in the ledger once).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decAdd } from '../../src/decimal.js';
import { bareRig, btcLimit, closeRigs, handlerRig, until } from './binance-rig.js';

afterEach(closeRigs);

/** Fills of 0.00001 BTC each: more than two full pages of the connector's 1000. */
const FILLS = 2_345;
const QUANTITY = '0.02345';

describe('an order’s trades, paged until all are read', () => {
  it('the local venue pages myTrades as Binance: 500 by default, at most 1000, the most recent without fromId', async () => {
    const r = await bareRig();
    const id = 'ORD_20260101_000000_00000c01';
    const { venueOrderId } = await r.connector.placeOrder({ ...btcLimit('0.01234', '60000'), clientOrderId: id });
    for (let i = 0; i < 1_234; i++) r.venue.fill(id, '0.00001');
    const trades = (p: Record<string, unknown>) =>
      r.exchange.fetchMyTrades('BTC/USDT', undefined, undefined, { orderId: venueOrderId, ...p });
    const ids = r.at(id)[0]!.trades.map((t) => t.id);
    expect((await trades({})).map((t) => String(t.id))).toEqual(ids.slice(-500));
    expect((await trades({ limit: 1000, fromId: 0 })).map((t) => String(t.id))).toEqual(ids.slice(0, 1000));
    expect((await trades({ limit: 1000, fromId: Number(ids[1000]) })).map((t) => String(t.id))).toEqual(
      ids.slice(1000),
    );
    await expect(trades({ limit: 1001 })).rejects.toThrow(/-1130/);
  });

  it('queryOrder returns every fill of an order with 2,345 of them, each with its commission', async () => {
    const r = await bareRig();
    const id = 'ORD_20260101_000000_00000c02';
    await r.connector.placeOrder({ ...btcLimit(QUANTITY, '60000'), clientOrderId: id });
    for (let i = 0; i < FILLS; i++) r.venue.fill(id, '0.00001', i % 2 ? '60000' : '59999.99');
    const state = await r.connector.queryOrder({ clientOrderId: id });
    const venue = r.at(id)[0]!;
    expect(state!.status).toBe('FILLED');
    expect(state!.fills.map((f) => f.venueFillId)).toEqual(venue.trades.map((t) => t.id));
    expect(state!.fills.reduce((a, f) => decAdd(a, f.quantity), '0')).toBe('0.02345');
    for (const f of state!.fills) expect(f).toMatchObject({ commission: '0.00000001', commissionAsset: 'BTC' });
    // Paged with fromId, 1000 at a time: 3 calls for 2,345 trades.
    expect(r.sent('GET /api/v3/myTrades').map((p) => [p.orderId, p.fromId, p.limit])).toEqual([
      [venue.orderId, '0', '1000'],
      [venue.orderId, venue.trades[1000]!.id, '1000'],
      [venue.orderId, venue.trades[2000]!.id, '1000'],
    ]);
  });

  it('through the handler: fills made while the stream is down are all found on reconnection, once each, with commissions', async () => {
    // 1,234 (two pages): the handler applies fills learnt by one query at about 15 ms each here.
    const r = await handlerRig();
    const id = await r.place(btcLimit('0.01234', '60000'));
    await r.until(id, 'OPEN');
    r.venue.dropStream();
    for (let i = 0; i < 1_234; i++) r.venue.fill(id, '0.00001'); // nobody subscribed: every report is lost
    await r.until(id, 'FILLED', 60_000); // resubscribed, reconciled: learnt by query
    await r.handler.settle();
    await until('every commission', () => r.handler.order(id)!.fills.every((f) => f.commission !== undefined), 30_000);
    await r.handler.settle();
    const view = r.handler.order(id)!;
    const trades = r.venue.orders()[0]!.trades;
    expect(view.fills.map((f) => f.venueFillId)).toEqual(trades.map((t) => t.id));
    expect(view.filledQuantity).toBe('0.01234');
    const stored = (await r.ledger.getOrder(id))!;
    expect(stored.fills).toHaveLength(1_234);
    for (const f of stored.fills) expect(f).toMatchObject({ commission: '0.00000001', commissionAsset: 'BTC' });
    expect(await r.ledger.getAnomalies()).toEqual([]);
  }, 120_000);
});
