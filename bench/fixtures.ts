/**
 * What the benchmarks drive: a venue that answers at once and never speaks by itself, directives
 * of one order, and the replies of a full lifecycle (ack, two partial fills).
 */
import type { ExchangeConnector } from '../src/connector/types.js';
import type { ExecutionDirective } from '../src/types.js';

/** A venue with zero latency: every call resolves at once; replies are fed by the benchmark. */
export const instantVenue: ExchangeConnector = {
  placeOrder: async () => ({}),
  cancelOrder: async () => undefined,
  queryOrder: async () => null,
};

/** Directive `i`: one LIMIT order of quantity 1. */
export function directiveOf(i: number): ExecutionDirective {
  return {
    directiveId: `D${i}`,
    causality: { origin: { id: `T${i}`, type: 'TICK' }, signalIds: [], riskIds: [], orderIds: [], fillIds: [] },
    orders: [{ symbol: 'BTC_USDT', side: 'BUY', type: 'LIMIT', quantity: '1', price: '100' }],
  };
}

/** The replies that take an order from PENDING to FILLED: ack, then fills of 0.4 and 0.6. */
export function lifecycleReplies(orderId: string, at: number): Record<string, unknown>[] {
  return [
    { type: 'ACCEPTED', clientOrderId: orderId, venueOrderId: `V${orderId}`, at },
    { type: 'FILL', clientOrderId: orderId, venueFillId: `${orderId}-1`, quantity: '0.4', price: '100', at },
    { type: 'FILL', clientOrderId: orderId, venueFillId: `${orderId}-2`, quantity: '0.6', price: '101', at },
  ];
}

/** The same lifecycle as events of the raw machine. */
export const RAW_EVENTS = [
  { type: 'ACCEPTED', venueOrderId: 'V1', at: 1 },
  { type: 'FILL', quantity: '0.4', at: 2 },
  { type: 'FILL', quantity: '0.6', at: 3 },
] as const;
