/**
 * The venue works exactly what was recorded: through the real ccxt against the local Binance venue,
 * every placement and every cancel-replace is checked against the filters the venue publishes in
 * exchangeInfo and refused (PlacementRejectedError naming the filter, the value and the step or
 * bound) before anything is sent, never rounded; DAY, which Binance spot lacks, is refused, never
 * sent as GTC; and what is sent is the recorded strings character for character, as the venue
 * received them in the request ccxt signed, where ccxt's own createOrder would have reformatted
 * them. The venue itself refuses what Binance refuses, with Binance's codes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PlacementRejectedError } from '../../src/errors.js';
import type { OrderRequest } from '../../src/types.js';
import { bareRig, btcLimit, closeRigs, handlerRig, until } from './binance-rig.js';

afterEach(closeRigs);

const refusal = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'placed',
    (e: unknown) => (e instanceof PlacementRejectedError ? e.reason : `not a refusal: ${String(e)}`),
  );

describe('Binance filters, checked before sending', () => {
  it('an order that does not fit is refused naming the filter, the value and the step or bound; nothing is sent', async () => {
    const r = await bareRig();
    const cases: [OrderRequest, string][] = [
      [
        btcLimit('0.10000001', '60000'),
        'Filter failure: LOT_SIZE (quantity 0.10000001 is not a multiple of stepSize 0.00001)',
      ],
      [
        btcLimit('0.1', '60000.015'),
        'Filter failure: PRICE_FILTER (price 60000.015 is not a multiple of tickSize 0.01)',
      ],
      [
        { ...btcLimit('0.1', '59000', 'SELL'), type: 'STOP_LIMIT', stopPrice: '59100.005' },
        'Filter failure: PRICE_FILTER (stopPrice 59100.005 is not a multiple of tickSize 0.01)',
      ],
      [btcLimit('0.000009', '60000'), 'Filter failure: LOT_SIZE (quantity 0.000009 is below minQty 0.00001)'],
      [btcLimit('9000.1', '60000'), 'Filter failure: LOT_SIZE (quantity 9000.1 is above maxQty 9000)'],
      [btcLimit('0.1', '1000000.01'), 'Filter failure: PRICE_FILTER (price 1000000.01 is above maxPrice 1000000)'],
      [
        { symbol: 'BTC_USDT', side: 'SELL', type: 'MARKET', quantity: '150' },
        'Filter failure: MARKET_LOT_SIZE (quantity 150 is above maxQty 100)',
      ],
      [
        btcLimit('0.001', '300000.01'),
        'Filter failure: PERCENT_PRICE_BY_SIDE (BUY price 300000.01 is above 5 x average price 60000 = 300000)',
      ],
      [
        btcLimit('0.001', '11999.99', 'SELL'),
        'Filter failure: PERCENT_PRICE_BY_SIDE (SELL price 11999.99 is below 0.2 x average price 60000 = 12000)',
      ],
      [
        btcLimit('0.00008', '60000'),
        'Filter failure: NOTIONAL (notional 4.8 = 0.00008 x 60000 is below minNotional 5)',
      ],
      [
        { symbol: 'BTC_USDT', side: 'BUY', type: 'MARKET', quantity: '0.00008' },
        'Filter failure: NOTIONAL (notional 4.8 = 0.00008 x average price 60000 is below minNotional 5)',
      ],
      [
        { symbol: 'XRP_USDT', side: 'BUY', type: 'LIMIT', quantity: '100.05', price: '0.6' },
        'Filter failure: LOT_SIZE (quantity 100.05 is not a multiple of stepSize 0.1)',
      ],
      [
        { ...btcLimit('0.1', '60000'), timeInForce: 'DAY' },
        'timeInForce DAY: Binance spot has none (GTC, IOC, FOK only); not sent as another',
      ],
    ];
    let n = 0;
    for (const [order, reason] of cases) {
      expect(
        await refusal(r.connector.placeOrder({ ...order, clientOrderId: `ORD_20260101_000000_0000f${++n}00` })),
      ).toBe(reason);
    }
    expect(r.sent('POST /api/v3/order')).toEqual([]);
    expect(r.venue.orders()).toEqual([]);
  });

  it('sends the recorded strings as they are: the request the venue received, where ccxt’s own formatting would change them', async () => {
    const r = await bareRig();
    // What ccxt's createOrder would send for these (its amountToPrecision / priceToPrecision):
    expect(r.exchange.amountToPrecision('BTC/USDT', '0.10000001')).toBe('0.1');
    expect(r.exchange.priceToPrecision('BTC/USDT', '60000.015')).toBe('60000.02');
    expect(r.exchange.amountToPrecision('BTC/USDT', '0.10000')).toBe('0.1');
    const orders: (OrderRequest & { clientOrderId: string })[] = [
      { ...btcLimit('0.10000', '60000.50'), clientOrderId: 'ORD_20260101_000000_00000a01' },
      {
        symbol: 'BTC_USDT',
        side: 'SELL',
        type: 'STOP_LIMIT',
        quantity: '0.02000',
        price: '59000.10',
        stopPrice: '59100.00',
        timeInForce: 'IOC',
        clientOrderId: 'ORD_20260101_000000_00000a02',
      },
      {
        symbol: 'ETH_USDT',
        side: 'SELL',
        type: 'MARKET',
        quantity: '1.2500',
        clientOrderId: 'ORD_20260101_000000_00000a03',
      },
    ];
    for (const o of orders) await r.connector.placeOrder(o);
    const sent = r.sent('POST /api/v3/order');
    expect(sent.map((p) => [p.newClientOrderId, p.type, p.quantity, p.price, p.stopPrice, p.timeInForce])).toEqual([
      ['ORD_20260101_000000_00000a01', 'LIMIT', '0.10000', '60000.50', undefined, 'GTC'],
      ['ORD_20260101_000000_00000a02', 'STOP_LOSS_LIMIT', '0.02000', '59000.10', '59100.00', 'IOC'],
      ['ORD_20260101_000000_00000a03', 'MARKET', '1.2500', undefined, undefined, undefined],
    ]);
    for (const p of sent) expect(p.signature).toMatch(/^[0-9a-f]{64}$/); // signed by ccxt, as sent
    expect(r.venue.orders().map((o) => [o.origQty, o.price, o.stopPrice])).toEqual([
      ['0.10000', '60000.50', '0.00000000'],
      ['0.02000', '59000.10', '59100.00'],
      ['1.2500', '0.00000000', '0.00000000'],
    ]);
  });

  it('a modify is checked the same way: a replacement off the tick is refused unsent; one that fits goes out as recorded', async () => {
    const r = await bareRig();
    const id = 'ORD_20260101_000000_00000b01';
    const { venueOrderId } = await r.connector.placeOrder({ ...btcLimit('0.3', '60000'), clientOrderId: id });
    const ref = { clientOrderId: id, venueOrderId: venueOrderId!, modificationId: `${id}.1` };
    expect(await refusal(r.connector.modifyOrder!(ref, { price: '60000.015' }))).toBe(
      'Filter failure: PRICE_FILTER (price 60000.015 is not a multiple of tickSize 0.01)',
    );
    expect(
      await refusal(r.connector.modifyOrder!({ ...ref, modificationId: `${id}.2` }, { quantity: '0.300001' })),
    ).toBe('Filter failure: LOT_SIZE (quantity 0.300001 is not a multiple of stepSize 0.00001)');
    expect(r.sent('POST /api/v3/order/cancelReplace')).toEqual([]);
    expect(r.venue.orders().map((o) => o.status)).toEqual(['NEW']);
    // The venue worked 0.1 of it: the replacement's own quantity (0.25 - 0.1) is checked and sent.
    r.venue.fill(id, '0.1');
    await until('the fill', () => r.replies.some((x) => x.type === 'FILL'));
    const result = await r.connector.modifyOrder!(
      { ...ref, modificationId: `${id}.3` },
      { quantity: '0.25', price: '60100.750' },
    );
    expect(result.modified).toBe(true);
    const [sent] = r.sent('POST /api/v3/order/cancelReplace');
    expect([sent!.quantity, sent!.price, sent!.timeInForce]).toEqual(['0.15', '60100.750', 'GTC']);
    expect(r.at(`${id}.3`)[0]).toMatchObject({ origQty: '0.15', price: '60100.750', status: 'NEW' });
  });

  it('through the handler: REJECTED with the reason, and a refused modify is a MODIFY_REJECTED; the venue never hears of either', async () => {
    const r = await handlerRig();
    const off = await r.place(btcLimit('0.10000001', '60000'));
    await r.until(off, 'REJECTED');
    expect(r.handler.order(off)!.rejectReason).toBe(
      'Filter failure: LOT_SIZE (quantity 0.10000001 is not a multiple of stepSize 0.00001)',
    );
    const day = await r.place({ ...btcLimit('0.1', '60000'), timeInForce: 'DAY' });
    await r.until(day, 'REJECTED');
    expect(r.handler.order(day)!.rejectReason).toContain('timeInForce DAY');
    const ok = await r.place(btcLimit('0.1', '60000'));
    await r.until(ok, 'OPEN');
    expect(await r.handler.modify(ok, { price: '59999.999' })).toBe(true);
    await until('MODIFY_REJECTED', () => r.handler.order(ok)?.modifications?.[0]?.status === 'REJECTED');
    expect(r.handler.order(ok)!.modifications![0]!.reason).toBe(
      'Filter failure: PRICE_FILTER (price 59999.999 is not a multiple of tickSize 0.01)',
    );
    expect(r.handler.order(ok)!.status).toBe('OPEN');
    expect(r.venue.orders().map((o) => [o.clientOrderId, o.price, o.status])).toEqual([[ok, '60000', 'NEW']]);
    expect(r.venue.received().filter((q) => q.route === 'POST /api/v3/order/cancelReplace')).toEqual([]);
  });
});

describe('the local venue refuses what Binance refuses', () => {
  it('publishes Binance’s filters and answers an order that breaks one with -1013 "Filter failure: NAME" (ccxt’s signed endpoint, no connector check)', async () => {
    const r = await bareRig();
    const filters = (r.exchange.market('BTC/USDT').info as { filters: { filterType: string }[] }).filters;
    expect(filters.find((f) => f.filterType === 'LOT_SIZE')).toEqual({
      filterType: 'LOT_SIZE',
      minQty: '0.00001000',
      maxQty: '9000.00000000',
      stepSize: '0.00001000',
    });
    expect(filters.find((f) => f.filterType === 'PRICE_FILTER')).toMatchObject({ tickSize: '0.01000000' });
    const raw = (params: Record<string, string>) =>
      (r.exchange as unknown as { privatePostOrder(p: object): Promise<unknown> })
        .privatePostOrder({ symbol: 'BTCUSDT', side: 'BUY', ...params })
        .then(
          () => 'accepted',
          (e: Error) => e.message,
        );
    const limit = { type: 'LIMIT', timeInForce: 'GTC' };
    const cases: [Record<string, string>, string][] = [
      [{ ...limit, quantity: '0.10000001', price: '60000' }, '{"code":-1013,"msg":"Filter failure: LOT_SIZE"}'],
      [{ ...limit, quantity: '0.1', price: '60000.015' }, '{"code":-1013,"msg":"Filter failure: PRICE_FILTER"}'],
      [{ ...limit, quantity: '0.00008', price: '60000' }, '{"code":-1013,"msg":"Filter failure: NOTIONAL"}'],
      // ccxt maps this message to its own error and drops the body (so it does with Binance's).
      [{ ...limit, quantity: '0.001', price: '300000.01' }, 'Filter failure: PERCENT_PRICE_BY_SIDE'],
      [{ type: 'MARKET', quantity: '150' }, '{"code":-1013,"msg":"Filter failure: MARKET_LOT_SIZE"}'],
      [
        { ...limit, quantity: '0.1', price: '60000', timeInForce: 'DAY' },
        '{"code":-1115,"msg":"Invalid timeInForce."}',
      ],
      [
        { ...limit, quantity: '0.100000001', price: '60000' },
        '{"code":-1111,"msg":"Precision is over the maximum defined for this asset."}',
      ],
    ];
    for (const [params, answer] of cases) expect(await raw(params)).toContain(answer);
    expect(r.venue.orders()).toEqual([]);
  });
});
