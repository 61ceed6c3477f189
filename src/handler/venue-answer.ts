/**
 * What a venue's answer to `queryOrder` means, as replies: a venue id is an ACCEPTED (unless the
 * venue rejected the order), each fill a FILL, and a final venue status its reply. They then go
 * through the same classification and deduplication as replies from the stream.
 */
import type { VenueOrderState } from '../connector/types.js';

/** The replies an answer stands for, unvalidated (the caller parses them like any reply). */
export function repliesOfVenueState(clientOrderId: string, state: VenueOrderState, at: number): unknown[] {
  const ref = { clientOrderId, venueOrderId: state.venueOrderId };
  const replies: unknown[] = [];
  if (state.status !== 'REJECTED') replies.push({ type: 'ACCEPTED', ...ref, at });
  for (const f of state.fills ?? []) {
    const { venueFillId, quantity, price, at, commission, commissionAsset } = f;
    const fee = commission === undefined ? {} : { commission, ...(commissionAsset ? { commissionAsset } : {}) };
    replies.push({ type: 'FILL', ...ref, venueFillId, quantity, price, ...fee, at });
  }
  if (state.status === 'CANCELLED') replies.push({ type: 'CANCELLED', ...ref, reason: 'venue status CANCELLED', at });
  if (state.status === 'EXPIRED') replies.push({ type: 'EXPIRED', ...ref, at });
  if (state.status === 'REJECTED') replies.push({ type: 'REJECTED', ...ref, reason: 'venue status REJECTED', at });
  return replies;
}
