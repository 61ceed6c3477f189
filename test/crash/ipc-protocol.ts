/**
 * The wire between a handler process and the venue host that outlives it (crash tests): the
 * connector calls go up as requests, the venue's replies and reconnects come down as events.
 */
import type { VenueOrderState } from '../../src/connector/types.js';
import type { ExchangeReply } from '../../src/types.js';

export type Request = { kind: 'call'; id: number; op: 'placeOrder' | 'cancelOrder' | 'queryOrder'; arg: unknown };
export type Response =
  | { kind: 'result'; id: number; value: { venueOrderId?: string } | VenueOrderState | null | undefined }
  | { kind: 'error'; id: number; name: string; message: string; reason?: string }
  | { kind: 'reply'; reply: ExchangeReply }
  | { kind: 'reconnect' };
