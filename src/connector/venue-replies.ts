/**
 * The replies a venue's own record of an order stands for, emitted by a connector when it learns
 * of the order by asking rather than from the stream: a placement retry that found the order at
 * the venue (so it was not sent again), and the commissions of fills a query found.
 */
import type { ExchangeReply } from '../types.js';
import type { VenueOrderState } from './types.js';

/** A fill as the venue reports it, with its commission when the venue tells it. */
export type VenueFill = VenueOrderState['fills'][number] & { commission?: string; commissionAsset?: string };

/** A FILL reply of the order named by `clientOrderId` (and the venue order that traded). */
function fillReply(clientOrderId: string, venueOrderId: string, f: VenueFill): ExchangeReply {
  return {
    type: 'FILL',
    clientOrderId,
    venueOrderId,
    venueFillId: f.venueFillId,
    quantity: f.quantity,
    price: f.price,
    ...(f.commission === undefined ? {} : { commission: f.commission }),
    ...(f.commission === undefined || f.commissionAsset === undefined ? {} : { commissionAsset: f.commissionAsset }),
    at: f.at,
  };
}

/**
 * What the stream would have told of an order the venue holds: its ACCEPTED (unless the venue
 * rejected it), each fill with its commission, then its final status. The handler deduplicates
 * them against anything it already heard.
 */
export function repliesOfVenueOrder(clientOrderId: string, state: VenueOrderState, at: number): ExchangeReply[] {
  const ref = { clientOrderId, venueOrderId: state.venueOrderId };
  const replies: ExchangeReply[] = [];
  if (state.status !== 'REJECTED') replies.push({ type: 'ACCEPTED', ...ref, at });
  for (const f of state.fills as VenueFill[]) replies.push(fillReply(clientOrderId, state.venueOrderId, f));
  if (state.status === 'CANCELLED') replies.push({ type: 'CANCELLED', ...ref, at });
  if (state.status === 'EXPIRED') replies.push({ type: 'EXPIRED', ...ref, at });
  if (state.status === 'REJECTED') replies.push({ type: 'REJECTED', ...ref, reason: 'venue status REJECTED', at });
  return replies;
}

/**
 * The FILL replies, commissions included, of a query's fills that carry one. A query answer
 * (`VenueOrderState`) has no place for a commission, so the handler would record those fills
 * without it; the same fill again with its commission fills it in (contract section 4), in
 * whichever order the two arrive.
 */
export function commissionReplies(clientOrderId: string, state: VenueOrderState): ExchangeReply[] {
  return (state.fills as VenueFill[])
    .filter((f) => f.commission !== undefined)
    .map((f) => fillReply(clientOrderId, state.venueOrderId, f));
}
