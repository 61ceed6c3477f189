/**
 * The trading rules of the local Binance venue's symbols: published in `exchangeInfo` as Binance
 * publishes them (its filters, values as 8-decimal strings) and enforced on every new order as
 * Binance enforces them, with its own answer (-1013 "Filter failure: NAME"). Written from
 * Binance's documentation apart from the connector's check (`binance-filters.ts`), so a misreading
 * in one is caught by the other.
 */
import BigFactory from 'big.js';

/** One symbol's rules, as decimal strings; "0" disables a bound or a step, as on Binance. */
export interface LocalMarketRules {
  /** PRICE_FILTER, for `price` and `stopPrice`. */
  tickSize: string;
  minPrice: string;
  maxPrice: string;
  /** LOT_SIZE, for every order. */
  stepSize: string;
  minQty: string;
  maxQty: string;
  /** MARKET_LOT_SIZE, for market orders as well. */
  marketMaxQty: string;
  /** NOTIONAL: price x quantity (a market order's at the average price). */
  minNotional: string;
  maxNotional: string;
  /** PERCENT_PRICE_BY_SIDE: a limit price within [down, up] x the average price, both sides alike. */
  multiplierUp: string;
  multiplierDown: string;
}

const COMMON = { minPrice: '0.01', maxPrice: '1000000', minNotional: '5', maxNotional: '9000000' } as const;
const BAND = { multiplierUp: '5', multiplierDown: '0.2' } as const;

/** Binance spot's rules for these symbols (late 2025), by base asset; others get BTC's steps. */
export const BINANCE_RULES: Record<string, LocalMarketRules> = {
  BTC: {
    ...COMMON,
    ...BAND,
    tickSize: '0.01',
    stepSize: '0.00001',
    minQty: '0.00001',
    maxQty: '9000',
    marketMaxQty: '100',
  },
  ETH: {
    ...COMMON,
    ...BAND,
    tickSize: '0.01',
    stepSize: '0.0001',
    minQty: '0.0001',
    maxQty: '9000',
    marketMaxQty: '1000',
  },
  SOL: {
    ...COMMON,
    ...BAND,
    tickSize: '0.01',
    stepSize: '0.001',
    minQty: '0.001',
    maxQty: '9000000',
    marketMaxQty: '20000',
  },
  XRP: {
    ...COMMON,
    ...BAND,
    minPrice: '0.0001',
    tickSize: '0.0001',
    stepSize: '0.1',
    minQty: '0.1',
    maxQty: '9222449',
    marketMaxQty: '1000000',
  },
};

const Dec = BigFactory();
const eight = (v: string): string => new Dec(v).toFixed(8);

/** The symbol's `filters` in `exchangeInfo`, as Binance lists them. */
function exchangeInfoFilters(r: LocalMarketRules): Record<string, unknown>[] {
  return [
    {
      filterType: 'PRICE_FILTER',
      minPrice: eight(r.minPrice),
      maxPrice: eight(r.maxPrice),
      tickSize: eight(r.tickSize),
    },
    { filterType: 'LOT_SIZE', minQty: eight(r.minQty), maxQty: eight(r.maxQty), stepSize: eight(r.stepSize) },
    { filterType: 'ICEBERG_PARTS', limit: 10 },
    { filterType: 'MARKET_LOT_SIZE', minQty: eight('0'), maxQty: eight(r.marketMaxQty), stepSize: eight('0') },
    {
      filterType: 'TRAILING_DELTA',
      minTrailingAboveDelta: 10,
      maxTrailingAboveDelta: 2000,
      minTrailingBelowDelta: 10,
      maxTrailingBelowDelta: 2000,
    },
    {
      filterType: 'PERCENT_PRICE_BY_SIDE',
      bidMultiplierUp: r.multiplierUp,
      bidMultiplierDown: r.multiplierDown,
      askMultiplierUp: r.multiplierUp,
      askMultiplierDown: r.multiplierDown,
      avgPriceMins: 5,
    },
    {
      filterType: 'NOTIONAL',
      minNotional: eight(r.minNotional),
      applyMinToMarket: true,
      maxNotional: eight(r.maxNotional),
      applyMaxToMarket: false,
      avgPriceMins: 5,
    },
    { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
    { filterType: 'MAX_NUM_ALGO_ORDERS', maxNumAlgoOrders: 5 },
  ];
}

/** A symbol's entry in `exchangeInfo`, as Binance spot lists one, with its filters. */
export function exchangeInfoSymbol(
  symbol: string,
  base: string,
  quote: string,
  rules: LocalMarketRules,
): Record<string, unknown> {
  return {
    symbol,
    status: 'TRADING',
    baseAsset: base,
    baseAssetPrecision: 8,
    quoteAsset: quote,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    baseCommissionPrecision: 8,
    quoteCommissionPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
    icebergAllowed: true,
    ocoAllowed: true,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: true,
    cancelReplaceAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: exchangeInfoFilters(rules),
    permissions: [],
    permissionSets: [['SPOT']],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
  };
}

/** A new order as the venue reads its parameters. */
export interface LocalOrderParams {
  type: string;
  quantity: string;
  price?: string | undefined;
  stopPrice?: string | undefined;
}

/** `value` within [min, max] (0: no bound) and on the step counted from min (0: no step). */
function fits(value: string, min: string, max: string, step: string): boolean {
  const v = new Dec(value);
  if (!new Dec(min).eq(0) && v.lt(min)) return false;
  if (!new Dec(max).eq(0) && v.gt(max)) return false;
  return new Dec(step).eq(0) || v.minus(min).mod(step).eq(0);
}

/**
 * The first filter the order breaks, in the order they are listed (Binance's answer names it:
 * "Filter failure: LOT_SIZE"); undefined when it passes them all.
 */
export function brokenFilter(r: LocalMarketRules, o: LocalOrderParams, averagePrice: string): string | undefined {
  const market = o.type === 'MARKET';
  for (const p of [market ? undefined : o.price, o.stopPrice]) {
    if (p !== undefined && !fits(p, r.minPrice, r.maxPrice, r.tickSize)) return 'PRICE_FILTER';
  }
  if (!fits(o.quantity, r.minQty, r.maxQty, r.stepSize)) return 'LOT_SIZE';
  if (market && !fits(o.quantity, '0', r.marketMaxQty, '0')) return 'MARKET_LOT_SIZE';
  if (o.type === 'LIMIT' && o.price !== undefined) {
    const avg = new Dec(averagePrice);
    if (new Dec(o.price).gt(avg.times(r.multiplierUp)) || new Dec(o.price).lt(avg.times(r.multiplierDown)))
      return 'PERCENT_PRICE_BY_SIDE';
  }
  const notional = new Dec(o.quantity).times(market ? averagePrice : (o.price ?? averagePrice));
  if (notional.lt(r.minNotional) || (!market && notional.gt(r.maxNotional))) return 'NOTIONAL';
  return undefined;
}
