/**
 * The ExchangeConnector contract (section 6): the only way the handler talks to a venue. The
 * simulated venue and real-venue adapters implement it.
 */
import type { ExchangeReply, OrderRequest } from '../types.js';

/** How the handler names an order to the venue. */
export interface OrderRef {
  clientOrderId: string;
  venueOrderId?: string;
}

/** What the venue knows of an order; `queryOrder` answers null when it knows nothing. */
export interface VenueOrderState {
  venueOrderId: string;
  status: 'OPEN' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELLED' | 'REJECTED' | 'EXPIRED';
  fills: { venueFillId: string; quantity: string; price: string; at: number }[];
}

/** A venue. */
export interface ExchangeConnector {
  /**
   * Sends an order. Resolving means the venue took the request (a `venueOrderId` in the result
   * counts as ACCEPTED); `PlacementRejectedError` is a definitive refusal; any other error leaves
   * the outcome unknown and the handler retries with the same client order id.
   */
  placeOrder(order: OrderRequest & { clientOrderId: string }): Promise<{ venueOrderId?: string }>;
  cancelOrder(ref: OrderRef): Promise<void>;
  queryOrder(ref: OrderRef): Promise<VenueOrderState | null>;
  /** Wired by the handler to `onExchangeReply`. */
  onReply?(listener: (reply: ExchangeReply) => void): () => void;
  /** Wired by the handler to `reconcile()`, so no fill is missed across a disconnect. */
  onReconnect?(listener: () => void): () => void;
}
