/**
 * What the benchmarks drive: a venue that answers at once and never speaks by itself, one that
 * answers cancels and modifies on its reply stream, directives of one order, and the replies of a
 * full lifecycle (ack, two partial fills).
 */
import type { Clock } from '../src/clock.js';
import type { ExchangeConnector } from '../src/connector/types.js';
import type { ExchangeReply, ExecutionDirective } from '../src/types.js';

/** A venue with zero latency: every call resolves at once; replies are fed by the benchmark. */
export const instantVenue: ExchangeConnector = {
  placeOrder: async () => ({}),
  cancelOrder: async () => undefined,
  queryOrder: async () => null,
};

/**
 * A venue with zero latency whose only work is to answer: a cancel with CANCELLED and a modify
 * (amended in place) with MODIFIED, each on its reply stream a microtask after the call, as a
 * real venue answers both. The two round trips take the same path through the handler (call,
 * then a stream reply), so the difference between them is the handler's own work.
 */
export function answeringVenue(clock: Clock): ExchangeConnector {
  const listeners = new Set<(reply: ExchangeReply) => void>();
  /** The quantity of each order, which MODIFIED states as in force. */
  const quantities = new Map<string, string>();
  const say = (reply: ExchangeReply): void =>
    queueMicrotask(() => {
      for (const l of listeners) l(reply);
    });
  return {
    placeOrder: async (order) => {
      quantities.set(order.clientOrderId, order.quantity);
      return {};
    },
    cancelOrder: async (ref) => say({ type: 'CANCELLED', ...ref, at: clock.now() }),
    modifyOrder: async ({ modificationId: _m, ...ref }, changes) => {
      const quantity = changes.quantity ?? quantities.get(ref.clientOrderId) ?? '1';
      say({ type: 'MODIFIED', ...ref, ...changes, quantity, at: clock.now() });
      return {};
    },
    queryOrder: async () => null,
    onReply: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

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
