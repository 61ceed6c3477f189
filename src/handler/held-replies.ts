/**
 * Replies that name only a venue order id the handler has not learnt yet (they can overtake the
 * ACCEPTED that reveals it). They wait here, bounded, until the pairing is learnt or the ack
 * timeout passes; venue ids whose replies expired are remembered (bounded) so that learning the
 * pairing later can trigger a query for what was missed.
 */
import type { Clock } from '../clock.js';
import type { ExchangeReply } from '../types.js';
import { BoundedSet } from './bounded.js';
import { BOUNDS } from './options.js';

interface Entry {
  replies: ExchangeReply[];
  timer: unknown;
}

/** Why a reply could not be held. */
export type HoldRefusal = 'the hold is full' | 'too many replies wait for this venue id';

/** The hold of replies for unknown venue ids. */
export class HeldReplies {
  private readonly entries = new Map<string, Entry>();
  private readonly expired = new BoundedSet<string>(BOUNDS.expiredVenueIds);

  /** `expire` is called when a venue id's wait is over; it records the replies, then `markExpired`. */
  constructor(
    private readonly clock: Clock,
    private readonly waitMs: number,
    private readonly expire: (venueOrderId: string) => void,
  ) {}

  /** Holds a reply; says why not when a bound is reached (the caller records UNKNOWN_ORDER). */
  hold(venueOrderId: string, reply: ExchangeReply): HoldRefusal | undefined {
    let entry = this.entries.get(venueOrderId);
    if (!entry) {
      if (this.entries.size >= BOUNDS.heldVenueIds) return 'the hold is full';
      entry = { replies: [], timer: this.clock.setTimeout(() => this.expire(venueOrderId), this.waitMs) };
      this.entries.set(venueOrderId, entry);
    }
    if (entry.replies.length >= BOUNDS.heldPerVenueId) return 'too many replies wait for this venue id';
    entry.replies.push(reply);
    return undefined;
  }

  /** Replies held now, over every venue id (scraped by the metrics, so counted only when asked). */
  count(): number {
    let n = 0;
    for (const entry of this.entries.values()) n += entry.replies.length;
    return n;
  }

  /** The replies waiting for a venue id, if any (they stay until `release` or `expired`). */
  waiting(venueOrderId: string): readonly ExchangeReply[] | undefined {
    return this.entries.get(venueOrderId)?.replies;
  }

  /** The pairing was learnt: the waiting replies, now to be applied, leave the hold. */
  release(venueOrderId: string): ExchangeReply[] {
    const entry = this.entries.get(venueOrderId);
    if (!entry) return [];
    this.clock.clearTimeout(entry.timer);
    this.entries.delete(venueOrderId);
    return entry.replies;
  }

  /** The waiting replies were recorded as UNKNOWN_ORDER: forget them, remember the venue id. */
  markExpired(venueOrderId: string, replies: readonly ExchangeReply[]): void {
    if (this.entries.get(venueOrderId)?.replies !== replies) return; // paired meanwhile
    this.entries.delete(venueOrderId);
    this.expired.add(venueOrderId);
  }

  /** True once for a venue id whose replies expired before its pairing was learnt. */
  takeExpired(venueOrderId: string): boolean {
    return this.expired.delete(venueOrderId);
  }

  /** Cancels every wait (the handler stops). */
  clear(): void {
    for (const entry of this.entries.values()) this.clock.clearTimeout(entry.timer);
    this.entries.clear();
  }
}
