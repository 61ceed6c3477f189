/**
 * The reply router: parses every reply, routes it to its order by client order id or venue order
 * id (holding it while the venue id is not known yet), and classifies it against the order
 * (contract section 4, the rules): exact repeats, known fills and repeated acknowledgements are
 * duplicates, conflicting fills and replies for another venue order are anomalies, and what is
 * new becomes an event of the order machine.
 */
import { hasVenueId } from '../../machines/order-modify.js';
import type { OrderEvent } from '../../machines/order.js';
import { decAdd, decCmp, decEq } from '../decimal.js';
import type { IdMinter } from '../ids.js';
import type { StrategyLedger } from '../ledger/types.js';
import { withCommission } from '../order-view.js';
import type { AnomalyKind, ExchangeReply, Fill, OrderStatus, ReplyOutcome } from '../types.js';
import { parseReply } from '../validation.js';
import type { Background } from './background.js';
import { HeldReplies } from './held-replies.js';
import { type LiveOrder, contextOf, statusOfOrder } from './live-order.js';
import type { ResolvedOptions } from './options.js';
import type { OrderRuntime } from './order-runtime.js';
import { replyKey } from './reply-key.js';

/** Where a reply came from: the venue's stream, a placement result, or a query answer. */
export type ReplySource = 'reply' | 'place' | 'query' | 'modify';

/** `ORD_….n`: the OrderID and modification number a modification id names (section 4b). */
function modificationIdParts(clientOrderId: string): { orderId: string; n: number } | undefined {
  const dot = clientOrderId.lastIndexOf('.');
  if (dot <= 0) return undefined;
  // Only the spelling this handler sends (`${orderId}.${n}`, n from 1): `.01`, `.1e0` or `. 1` name no
  // modification, so they are ids it never sent (UNKNOWN_ORDER), not modification 1.
  const digits = clientOrderId.slice(dot + 1);
  return /^[1-9][0-9]*$/.test(digits) ? { orderId: clientOrderId.slice(0, dot), n: Number(digits) } : undefined;
}

type FillReply = Extract<ExchangeReply, { type: 'FILL' }>;

/** Routes and classifies replies. */
export class ReplyRouter {
  readonly held: HeldReplies;
  /** Asks the venue about an order whose replies expired unrouted (the gateway's query). */
  askAbout: (order: LiveOrder) => void = () => {};

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly ledger: StrategyLedger,
    private readonly runtime: OrderRuntime,
    private readonly work: Background,
    private readonly ids: IdMinter,
  ) {
    this.held = new HeldReplies(opts.clock, opts.ackTimeoutMs, (venueOrderId) => this.expireHeld(venueOrderId));
  }

  /** Contract section 5: never throws on bad input; rejects only when a ledger write failed. */
  async route(raw: unknown): Promise<ReplyOutcome> {
    const parsed = parseReply(raw);
    if (!parsed.ok) return this.runtime.anomaly('MALFORMED_REPLY', parsed.reason, undefined, raw);
    const reply = parsed.reply;
    if (reply.clientOrderId !== undefined) return this.toOrder(reply.clientOrderId, reply);
    const venueOrderId = reply.venueOrderId!;
    const orderId = this.runtime.liveVenueIds.get(venueOrderId) ?? this.runtime.retiredVenueIds.get(venueOrderId);
    if (orderId !== undefined) return this.toOrder(orderId, reply);
    const refused = this.held.hold(venueOrderId, reply);
    if (refused) {
      const reason = `venue order ${venueOrderId} is unknown and ${refused}`;
      return this.runtime.anomaly('UNKNOWN_ORDER', reason, undefined, reply);
    }
    return { outcome: 'held', venueOrderId };
  }

  private toOrder(clientOrderId: string, reply: ExchangeReply): Promise<ReplyOutcome> {
    // A modification id names its order only once that modify was sent.
    const modification = modificationIdParts(clientOrderId);
    const orderId = modification?.orderId ?? clientOrderId;
    return this.runtime.onOrder(orderId, async (order) => {
      if (!order || (modification && modification.n > contextOf(order).modificationsSent)) {
        const reason = `no order ${clientOrderId} was sent to the venue by this handler`;
        return this.runtime.anomaly('UNKNOWN_ORDER', reason, undefined, reply);
      }
      // The answer to an earlier modify, delayed or repeated, answers none outstanding now, and its
      // values were superseded by a later modify's: applied, they would put old values back.
      const sent = contextOf(order).modificationsSent;
      const answersModify = reply.type === 'MODIFIED' || reply.type === 'MODIFY_REJECTED';
      if (modification && answersModify && modification.n < sent) {
        const key = replyKey(reply);
        if (order.replyKeys.has(key)) return this.runtime.duplicate(order);
        order.replyKeys.add(key);
        const reason = `${reply.type} answers modification ${clientOrderId}, superseded by ${order.orderId}.${sent}`;
        return this.runtime.anomaly('LATE_REPLY', reason, order.orderId, reply);
      }
      return this.classify(order, reply, 'reply', modification !== undefined);
    });
  }

  /**
   * Parses a reply built by the handler itself (placement result, query answer) and applies it;
   * `ofReplacement`: it describes the venue's replacement of the order (another venue id is its own).
   */
  async applyRaw(
    order: LiveOrder | undefined,
    raw: unknown,
    source: ReplySource,
    ofReplacement = false,
  ): Promise<ReplyOutcome> {
    const parsed = parseReply(raw);
    if (!parsed.ok) return this.runtime.anomaly('MALFORMED_REPLY', `${source}: ${parsed.reason}`, order?.orderId, raw);
    if (!order) {
      return this.runtime.anomaly('UNKNOWN_ORDER', `${source} for an order this handler does not know`, undefined, raw);
    }
    return this.classify(order, parsed.reply, source, ofReplacement);
  }

  /** Classifies a reply for its order and applies what is new; counts what the venue's own replies came to. */
  async classify(
    order: LiveOrder,
    reply: ExchangeReply,
    source: ReplySource,
    byModificationId = false,
  ): Promise<ReplyOutcome> {
    const exactRepeat = order.replyKeys.has(replyKey(reply));
    const outcome = await this.classifyReply(order, reply, source, byModificationId);
    // A known fill or acknowledgement sent again is still news of the order (the stale rule): any
    // query sent before it, even one abandoned meanwhile, may answer late. An exact repeat of a
    // reply already handled is nothing at all.
    const news = reply.type === 'ACCEPTED' || reply.type === 'FILL';
    if (outcome.outcome === 'duplicate' && news && !exactRepeat) {
      await this.runtime.apply(order, { type: 'NEWS', at: this.now() }, { cause: 'news' });
    }
    // Query answers restate what is known: not counted.
    if (source === 'reply' && outcome.outcome === 'duplicate') this.runtime.stats.repliesDuplicate++;
    if (source === 'reply' && outcome.outcome === 'applied') this.runtime.stats.repliesApplied++;
    return outcome;
  }

  private async classifyReply(
    order: LiveOrder,
    reply: ExchangeReply,
    source: ReplySource,
    byModificationId: boolean,
  ): Promise<ReplyOutcome> {
    const key = replyKey(reply);
    if (order.replyKeys.has(key)) return this.runtime.duplicate(order);
    const ctx = contextOf(order);
    // An order answers to every venue id it has had; a reply naming a modification id may name the
    // replacement's venue id before its MODIFIED arrives.
    const venueId = reply.venueOrderId;
    if (venueId !== undefined && ctx.venueOrderId !== null && !hasVenueId(ctx, venueId) && !byModificationId) {
      order.replyKeys.add(key);
      const reason = `reply names venue order ${reply.venueOrderId} but order ${order.orderId} is venue order ${ctx.venueOrderId}`;
      return this.runtime.anomaly('LATE_REPLY', reason, order.orderId, reply);
    }
    const at = this.now();
    const meta = { cause: `${source} ${reply.type} #${key}`, key, reply };
    const venueOrderId = reply.venueOrderId === undefined ? {} : { venueOrderId: reply.venueOrderId };
    switch (reply.type) {
      case 'ACCEPTED': {
        if (ctx.acknowledged && ctx.venueOrderId === reply.venueOrderId) return this.runtime.duplicate(order, key);
        const status = statusOfOrder(order);
        // A MODIFY_PENDING order was OPEN or PARTIALLY_FILLED: it learns the venue id the same way.
        const quiet: readonly OrderStatus[] = ['OPEN', 'PARTIALLY_FILLED', 'MODIFY_PENDING', 'FILLED', 'EXPIRED'];
        const asDuplicate = quiet.includes(status) || (status === 'CANCELLED' && !ctx.gaveUp);
        const event: OrderEvent = { type: 'ACCEPTED', venueOrderId: reply.venueOrderId, at };
        return this.runtime.apply(order, event, { ...meta, asDuplicate });
      }
      case 'FILL':
        return this.applyFill(order, reply, meta);
      case 'REJECTED':
        return this.runtime.apply(order, { type: 'REJECTED', reason: reply.reason, ...venueOrderId, at }, meta);
      case 'CANCELLED': {
        const reason = reply.reason === undefined ? {} : { reason: reply.reason };
        return this.runtime.apply(order, { type: 'CANCELLED', ...reason, ...venueOrderId, at }, meta);
      }
      case 'EXPIRED':
        return this.runtime.apply(order, { type: 'EXPIRED', ...venueOrderId, at }, meta);
      case 'CANCEL_REJECTED':
        // A CANCEL_REJECTED when no cancel is outstanding restates what is known.
        if (!ctx.cancelOutstanding) return this.runtime.duplicate(order, key);
        return this.runtime.apply(order, { type: 'CANCEL_REJECTED', reason: reply.reason, ...venueOrderId, at }, meta);
      case 'MODIFY_REJECTED':
        // With no modify outstanding it restates what is known (as a CANCEL_REJECTED does).
        if (ctx.modify === null) return this.runtime.duplicate(order, key);
        return this.runtime.apply(order, { type: 'MODIFY_REJECTED', reason: reply.reason, at }, meta);
      case 'MODIFIED': {
        // Restating the values in force with no modify outstanding, it changes nothing: a duplicate,
        // as a repeated ACCEPTED is. Venues confirm a modify twice (the call's response and the
        // stream's report); recording the second as LATE_REPLY would flag every modify (ADR 0007).
        const inForce =
          decEq(reply.quantity, ctx.quantity) &&
          (reply.price === undefined || (ctx.price !== null && decEq(reply.price, ctx.price))) &&
          (reply.stopPrice === undefined || (ctx.stopPrice !== null && decEq(reply.stopPrice, ctx.stopPrice)));
        const newId = reply.newVenueOrderId === undefined || reply.newVenueOrderId === ctx.venueOrderId;
        if (ctx.modify === null && inForce && newId) return this.runtime.duplicate(order, key);
        const event: OrderEvent = {
          type: 'MODIFIED',
          quantity: reply.quantity,
          ...(reply.price === undefined ? {} : { price: reply.price }),
          ...(reply.stopPrice === undefined ? {} : { stopPrice: reply.stopPrice }),
          ...(reply.newVenueOrderId === undefined ? {} : { newVenueOrderId: reply.newVenueOrderId }),
          at,
        };
        return this.runtime.apply(order, event, meta);
      }
    }
  }

  private async applyFill(
    order: LiveOrder,
    reply: FillReply,
    meta: { cause: string; key: string; reply: ExchangeReply },
  ): Promise<ReplyOutcome> {
    const view = this.runtime.cache.get(order.orderId)!;
    const known = view.fills.find((f) => f.venueFillId === reply.venueFillId);
    if (known) return this.knownFill(order, known, reply, meta.key);
    const fill: Fill = {
      fillId: this.ids.mint('FIL', undefined, `${order.orderId}/${reply.venueFillId}`),
      venueFillId: reply.venueFillId,
      quantity: reply.quantity,
      price: reply.price,
      ...(reply.commission === undefined ? {} : { commission: reply.commission }),
      ...commissionAssetOf(reply),
      at: reply.at,
    };
    const anomalies: { kind: AnomalyKind; reason: string }[] = [];
    const ctx = contextOf(order);
    const filledAfter = decAdd(ctx.filledQuantity, reply.quantity);
    // Judged against the larger of the quantity in force and the one an outstanding modify asks for.
    const asked = ctx.modify?.requested.quantity;
    const quantity = asked !== undefined && decCmp(asked, ctx.quantity) > 0 ? asked : ctx.quantity;
    if (decCmp(filledAfter, quantity) > 0) {
      const reason = `Invariant: filled <= quantity unless OVERFILL: fill ${reply.venueFillId} takes filled to ${filledAfter} of ${quantity}`;
      anomalies.push({ kind: 'OVERFILL', reason });
    }
    if (statusOfOrder(order) === 'REJECTED') {
      const reason = `fill ${reply.venueFillId} for a REJECTED order: a rejected order should not trade`;
      anomalies.push({ kind: 'LATE_REPLY', reason });
    }
    const event: OrderEvent = {
      type: 'FILL',
      quantity: reply.quantity,
      ...(reply.venueOrderId === undefined ? {} : { venueOrderId: reply.venueOrderId }),
      at: this.now(),
    };
    return this.runtime.apply(order, event, { ...meta, fill, anomalies });
  }

  /** A fill with a known venueFillId: a duplicate (which may bring a missing commission) or a conflict. */
  private async knownFill(order: LiveOrder, known: Fill, reply: FillReply, key: string): Promise<ReplyOutcome> {
    if (!(decEq(known.quantity, reply.quantity) && decEq(known.price, reply.price))) {
      order.replyKeys.add(key);
      const reason = `fill ${reply.venueFillId} was ${known.quantity} @ ${known.price}, now ${reply.quantity} @ ${reply.price}`;
      return this.runtime.anomaly('CONFLICTING_FILL', reason, order.orderId, reply);
    }
    if (known.commission === undefined && reply.commission !== undefined) {
      const fill: Fill = { ...known, commission: reply.commission, ...commissionAssetOf(reply) };
      await this.ledger.commit([{ kind: 'fill', orderId: order.orderId, fill }]);
      const view = this.runtime.cache.get(order.orderId)!;
      this.runtime.cache.put(withCommission(view, known.venueFillId, reply.commission, reply.commissionAsset));
    }
    return this.runtime.duplicate(order, key);
  }

  /** No ACCEPTED revealed the venue id in time: what waited for it is recorded as UNKNOWN_ORDER. */
  private expireHeld(venueOrderId: string): void {
    const replies = this.held.waiting(venueOrderId);
    if (!replies) return;
    this.work.persist(async () => {
      if (this.held.waiting(venueOrderId) !== replies) return; // paired meanwhile: nothing expired
      const reason = `no ACCEPTED revealed venue order ${venueOrderId} within ${this.opts.ackTimeoutMs} ms`;
      const writes = replies.map((r) => this.runtime.anomalyWrite('UNKNOWN_ORDER', reason, undefined, r));
      await this.ledger.commit(writes);
      this.runtime.stats.anomalies += writes.length;
      this.held.markExpired(venueOrderId, replies);
    });
  }

  /** A venue id was paired with an order: route what waited for it, ask about what expired. */
  paired(order: LiveOrder, venueOrderId: string): void {
    for (const reply of this.held.release(venueOrderId)) {
      this.work.persist(
        () => this.runtime.onOrder(order.orderId, (o) => this.applyRaw(o, reply, 'reply')),
        order.orderId,
      );
    }
    // Replies for it expired as UNKNOWN_ORDER: ask the venue what we missed.
    if (this.held.takeExpired(venueOrderId)) this.askAbout(order);
  }

  private now(): number {
    return this.opts.clock.now();
  }
}

function commissionAssetOf(reply: { commissionAsset?: string }): { commissionAsset?: string } {
  return reply.commissionAsset === undefined ? {} : { commissionAsset: reply.commissionAsset };
}
