/**
 * The ExchangeConnector contract (section 6): the only way the handler talks to a venue. The
 * simulated venue and real-venue adapters implement it.
 */
import type { ExchangeReply, ModifyChanges, OrderRequest } from '../types.js';

/** How the handler names an order to the venue. */
export interface OrderRef {
  clientOrderId: string;
  venueOrderId?: string;
}

/** What the venue knows of an order; `queryOrder` answers null when it knows nothing. */
export interface VenueOrderState {
  venueOrderId: string;
  status: 'OPEN' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELLED' | 'REJECTED' | 'EXPIRED';
  /** The values in force at the venue, when known (a modify may have changed them). */
  quantity?: string;
  price?: string;
  stopPrice?: string;
  /** Each fill; a venue that reports the commission gives it too, so fills learnt by query keep it. */
  fills: {
    venueFillId: string;
    quantity: string;
    price: string;
    at: number;
    commission?: string;
    commissionAsset?: string;
  }[];
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
  /**
   * Modifies a working order (section 4b). `modified: true` counts as a MODIFIED reply with the
   * requested values (`venueOrderId`, when given, as the replacement's venue id);
   * `PlacementRejectedError` is a definitive MODIFY_REJECTED; any other error leaves the outcome
   * unknown (the modify deadline's queries decide; a modify is never re-sent). A venue that
   * replaces the order uses `modificationId` as the replacement's client order id.
   */
  modifyOrder?(
    ref: OrderRef & { modificationId: string },
    changes: ModifyChanges,
  ): Promise<{ modified?: boolean; venueOrderId?: string }>;
  queryOrder(ref: OrderRef): Promise<VenueOrderState | null>;
  /** Wired by the handler to `onExchangeReply`. */
  onReply?(listener: (reply: ExchangeReply) => void): () => void;
  /** Wired by the handler to `reconcile()`, so no fill is missed across a disconnect. */
  onReconnect?(listener: () => void): () => void;
}
