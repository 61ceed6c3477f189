/**
 * Binance spot's symbol filters as `exchangeInfo` publishes them (ccxt keeps each symbol's raw
 * entry in `market.info`), checked the way Binance checks a new order: an order that does not fit
 * is refused with the filter, the value and the step or bound it broke. Never rounded: rounding
 * would make the venue work an order the ledger did not record (a BUY limit moved up a tick pays
 * above the trader's limit).
 */
import BigFactory from 'big.js';
import type { OrderRequest } from '../types.js';

/** One entry of a symbol's `filters` in `exchangeInfo`. */
export type BinanceFilter = { filterType: string } & Record<string, unknown>;

/** The values of an order (a placement, or a cancel-replace's new order) that the filters judge. */
export type FilteredOrder = Pick<OrderRequest, 'side' | 'type' | 'quantity' | 'price' | 'stopPrice'>;

// A private constructor: our settings never leak into a user's big.js (as in src/decimal.ts).
const Dec = BigFactory();
const norm = (v: unknown): string => new Dec(String(v)).toFixed();
const isZero = (v: unknown): boolean => v === undefined || new Dec(String(v)).eq(0);

/** A symbol's filters, from ccxt's market (`market.info.filters`); empty when it has none. */
export function binanceFiltersOf(market: { info?: unknown }): BinanceFilter[] {
  const filters = (market.info as { filters?: unknown } | undefined)?.filters;
  return Array.isArray(filters) ? (filters as BinanceFilter[]) : [];
}

/**
 * Does judging this order need the symbol's average price (`GET /api/v3/avgPrice`)? A limit
 * order's price band (PERCENT_PRICE_BY_SIDE) and a market order's notional are measured against
 * it, as Binance measures them.
 */
export function needsAveragePrice(filters: readonly BinanceFilter[], order: FilteredOrder): boolean {
  return filters.some((f) =>
    order.type === 'MARKET'
      ? (f.filterType === 'NOTIONAL' && (f.applyMinToMarket === true || f.applyMaxToMarket === true)) ||
        (f.filterType === 'MIN_NOTIONAL' && f.applyToMarket === true)
      : order.type === 'LIMIT' && (f.filterType === 'PERCENT_PRICE_BY_SIDE' || f.filterType === 'PERCENT_PRICE'),
  );
}

/** `value` against a min/max/step rule (0 disables a part, as Binance documents). */
function range(
  filter: string,
  name: string,
  value: string,
  min: unknown,
  max: unknown,
  step: unknown,
  stepName: string,
): string | undefined {
  const fail = (why: string) => `Filter failure: ${filter} (${name} ${value} ${why})`;
  const v = new Dec(value);
  if (!isZero(min) && v.lt(String(min)))
    return fail(`is below ${filter === 'PRICE_FILTER' ? 'minPrice' : 'minQty'} ${norm(min)}`);
  if (!isZero(max) && v.gt(String(max)))
    return fail(`is above ${filter === 'PRICE_FILTER' ? 'maxPrice' : 'maxQty'} ${norm(max)}`);
  // Binance's rule: (value - min) % step == 0.
  if (
    !isZero(step) &&
    !v
      .minus(isZero(min) ? '0' : String(min))
      .mod(String(step))
      .eq(0)
  )
    return fail(`is not a multiple of ${stepName} ${norm(step)}`);
  return undefined;
}

/** The notional (quantity x price, or the average price for a market order) against its bounds. */
function notional(f: BinanceFilter, order: FilteredOrder, averagePrice: string | undefined): string | undefined {
  const market = order.type === 'MARKET';
  const applyMin =
    f.filterType === 'MIN_NOTIONAL' ? !market || f.applyToMarket === true : !market || f.applyMinToMarket === true;
  const applyMax = f.filterType === 'NOTIONAL' && (!market || f.applyMaxToMarket === true);
  const price = market ? averagePrice : order.price;
  if (price === undefined || (!applyMin && !applyMax)) return undefined;
  const value = new Dec(order.quantity).times(price).toFixed();
  const shown = `notional ${value} = ${order.quantity} x ${market ? `average price ${price}` : price}`;
  if (applyMin && !isZero(f.minNotional) && new Dec(value).lt(String(f.minNotional)))
    return `Filter failure: ${f.filterType} (${shown} is below minNotional ${norm(f.minNotional)})`;
  if (applyMax && !isZero(f.maxNotional) && new Dec(value).gt(String(f.maxNotional)))
    return `Filter failure: ${f.filterType} (${shown} is above maxNotional ${norm(f.maxNotional)})`;
  return undefined;
}

/** A limit price against the band around the average price (BUY: bid multipliers, SELL: ask). */
function band(f: BinanceFilter, order: FilteredOrder, averagePrice: string | undefined): string | undefined {
  if (order.type !== 'LIMIT' || order.price === undefined || averagePrice === undefined) return undefined;
  const bySide = f.filterType === 'PERCENT_PRICE_BY_SIDE';
  const up = String((bySide ? (order.side === 'BUY' ? f.bidMultiplierUp : f.askMultiplierUp) : f.multiplierUp) ?? '0');
  const down = String(
    (bySide ? (order.side === 'BUY' ? f.bidMultiplierDown : f.askMultiplierDown) : f.multiplierDown) ?? '0',
  );
  const p = new Dec(order.price);
  const fail = (why: string) => `Filter failure: ${f.filterType} (${order.side} price ${order.price} ${why})`;
  const high = new Dec(averagePrice).times(up);
  if (!isZero(up) && p.gt(high))
    return fail(`is above ${norm(up)} x average price ${averagePrice} = ${high.toFixed()}`);
  const low = new Dec(averagePrice).times(down);
  if (!isZero(down) && p.lt(low))
    return fail(`is below ${norm(down)} x average price ${averagePrice} = ${low.toFixed()}`);
  return undefined;
}

/**
 * Why Binance would refuse this order by the symbol's filters, in the order they are published;
 * undefined when it fits. `averagePrice` is the symbol's average price when `needsAveragePrice`
 * (without it those rules are left to the venue). Filters this check does not know (iceberg
 * parts, order counts, trailing delta) are left to the venue, whose refusal is definitive too.
 */
export function binanceFilterRefusal(
  filters: readonly BinanceFilter[],
  order: FilteredOrder,
  averagePrice?: string,
): string | undefined {
  for (const f of filters) {
    let why: string | undefined;
    switch (f.filterType) {
      case 'PRICE_FILTER':
        for (const [name, value] of [
          ['price', order.type === 'MARKET' ? undefined : order.price],
          ['stopPrice', order.stopPrice],
        ] as const) {
          why ??=
            value === undefined
              ? undefined
              : range(f.filterType, name, value, f.minPrice, f.maxPrice, f.tickSize, 'tickSize');
        }
        break;
      case 'LOT_SIZE':
        why = range(f.filterType, 'quantity', order.quantity, f.minQty, f.maxQty, f.stepSize, 'stepSize');
        break;
      case 'MARKET_LOT_SIZE':
        if (order.type === 'MARKET')
          why = range(f.filterType, 'quantity', order.quantity, f.minQty, f.maxQty, f.stepSize, 'stepSize');
        break;
      case 'MIN_NOTIONAL':
      case 'NOTIONAL':
        why = notional(f, order, averagePrice);
        break;
      case 'PERCENT_PRICE':
      case 'PERCENT_PRICE_BY_SIDE':
        why = band(f, order, averagePrice);
        break;
    }
    if (why) return why;
  }
  return undefined;
}
