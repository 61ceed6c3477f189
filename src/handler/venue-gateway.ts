/**
 * The venue gateway: performs what the order machine decided (place, cancel, query) through the
 * connector, after the change that decided it is durable, and turns each outcome back into an
 * event of the order: a venue id as ACCEPTED, a definitive refusal as REJECTED, an unknown
 * outcome as PLACE_FAILED, a query's answer as the replies it stands for, NOT_FOUND, or
 * QUERY_FAILED. It keeps no state of its own.
 */
import { hasVenueId } from '../../machines/order-modify.js';
import type { QueryToken } from '../../machines/order.js';
import type { ExchangeConnector, OrderRef, VenueOrderState } from '../connector/types.js';
import { PlacementRejectedError } from '../errors.js';
import type { Background } from './background.js';
import { type LiveOrder, contextOf } from './live-order.js';
import type { ResolvedOptions } from './options.js';
import type { OrderRuntime } from './order-runtime.js';
import type { ReplyRouter } from './reply-router.js';
import { repliesOfVenueState } from './venue-answer.js';

/** What a venue's answer came to, for reconcile's tally. */
export interface AnswerTally {
  fillsLearnt: number;
  anomalies: number;
  ordersResolved: number;
  ordersPlacedAgain: number;
}

/** The connector calls of the order machine's effects. */
export class VenueGateway {
  constructor(
    private readonly opts: ResolvedOptions,
    private readonly connector: ExchangeConnector,
    private readonly runtime: OrderRuntime,
    private readonly router: ReplyRouter,
    private readonly work: Background,
  ) {}

  /** Sends the order to the venue; the outcome comes back through the order's queue. */
  place(order: LiveOrder): void {
    const { orderId } = order;
    const request = { ...order.request, clientOrderId: orderId };
    this.work.spawn(async () => {
      let result: { venueOrderId?: string };
      try {
        result = await this.connector.placeOrder(request);
      } catch (err) {
        const at = this.opts.clock.now();
        if (isRejection(err)) {
          const reason = String((err as PlacementRejectedError).reason ?? (err as Error).message);
          const rejected = { type: 'REJECTED', clientOrderId: orderId, reason, at };
          this.work.persist(
            () => this.runtime.onOrder(orderId, (o) => this.router.applyRaw(o, rejected, 'place')),
            orderId,
          );
        } else {
          this.runtime.signal(orderId, (t) => ({ type: 'PLACE_FAILED', at: t }), 'place: outcome unknown');
        }
        return;
      }
      if (result?.venueOrderId) {
        const accepted = {
          type: 'ACCEPTED',
          clientOrderId: orderId,
          venueOrderId: result.venueOrderId,
          at: this.opts.clock.now(),
        };
        this.work.persist(
          () => this.runtime.onOrder(orderId, (o) => this.router.applyRaw(o, accepted, 'place')),
          orderId,
        );
      }
    });
  }

  /**
   * Sends the outstanding modify (once). `modified: true` is a MODIFIED with the requested values;
   * a definitive refusal a MODIFY_REJECTED; any other failure leaves it to the modify deadline.
   */
  modify(order: LiveOrder): void {
    const ctx = contextOf(order);
    const pending = ctx.modify;
    if (!pending || !this.connector.modifyOrder) return;
    const { orderId } = order;
    const ref = { ...refOf(order), modificationId: pending.modificationId };
    const requested = pending.requested;
    this.work.spawn(async () => {
      let reply: Record<string, unknown> | undefined;
      try {
        const result = await this.connector.modifyOrder!(ref, requested);
        if (result?.modified) {
          reply = {
            type: 'MODIFIED',
            clientOrderId: orderId,
            quantity: requested.quantity ?? ctx.quantity,
            ...(requested.price === undefined ? {} : { price: requested.price }),
            ...(requested.stopPrice === undefined ? {} : { stopPrice: requested.stopPrice }),
            ...(result.venueOrderId && result.venueOrderId !== ctx.venueOrderId
              ? { newVenueOrderId: result.venueOrderId }
              : {}),
            at: this.opts.clock.now(),
          };
        }
      } catch (err) {
        if (!isRejection(err)) return; // outcome unknown: the modify deadline's queries decide
        const reason = String((err as PlacementRejectedError).reason ?? (err as Error).message);
        reply = { type: 'MODIFY_REJECTED', clientOrderId: orderId, reason, at: this.opts.clock.now() };
      }
      if (!reply) return;
      const raw = reply;
      this.work.persist(() => this.runtime.onOrder(orderId, (o) => this.router.applyRaw(o, raw, 'modify')), orderId);
    });
  }

  /** Asks the venue about an order (reconcile's own queries, outside any query cycle). */
  ask(ref: OrderRef): Promise<VenueOrderState | null> {
    return this.connector.queryOrder(ref);
  }

  /** Sends a cancel. One that fails to send is an unanswered cancel: the cancel deadline's queries follow it. */
  cancel(order: LiveOrder): void {
    const ref = refOf(order);
    this.work.spawn(() => this.connector.cancelOrder(ref).catch(() => undefined));
  }

  /** Asks the venue about the order for the machine's query `queryId`; the answer is applied on the order's queue. */
  query(order: LiveOrder, queryId: number): void {
    const ctx = contextOf(order);
    const token: QueryToken = { queryId, newsAtSend: ctx.news, cancelsAtSend: ctx.cancelsSent };
    const { orderId } = order;
    const ref = refOf(order);
    this.work.spawn(async () => {
      let answer: VenueOrderState | null | 'failed';
      try {
        answer = await this.connector.queryOrder(ref);
      } catch {
        answer = 'failed';
      }
      this.work.persist(
        () =>
          this.runtime.onOrder(orderId, async (o) => {
            if (!o) return;
            if (answer === 'failed') {
              await this.runtime.apply(
                o,
                { type: 'QUERY_FAILED', queryId, at: this.opts.clock.now() },
                { cause: 'query failed' },
              );
            } else await this.applyAnswer(o, answer, token, false);
          }),
        orderId,
      );
    });
  }

  /**
   * Applies what the venue said about an order: its replies (an ACCEPTED, the fills, a final
   * status), then QUERY_ANSWERED; or NOT_FOUND, which the machine judges (stale, decisive, or on
   * recovery a placement to send again).
   */
  async applyAnswer(
    order: LiveOrder,
    answer: VenueOrderState | null,
    token: QueryToken,
    recovering: boolean,
    tally?: AnswerTally,
  ): Promise<void> {
    const statusBefore = order.actor.getSnapshot().value;
    const at = this.opts.clock.now();
    const queryId = token.queryId === undefined ? {} : { queryId: token.queryId };
    if (answer !== null) {
      // With a modify outstanding, an answer under a venue id the order never had describes the
      // replacement (a venue that replaces orders): its fills and end are this order's, and the
      // new venue id comes with QUERY_ANSWERED if the answer shows the modify applied.
      const ctx = contextOf(order);
      const replacement = ctx.modify !== null && ctx.venueOrderId !== null && !hasVenueId(ctx, answer.venueOrderId);
      for (const raw of repliesOfVenueState(order.orderId, answer, at)) {
        const type = (raw as { type: string }).type;
        // The venue confirming the final status the order already has is no news.
        if (type === order.actor.getSnapshot().value || (replacement && type === 'ACCEPTED')) continue;
        const outcome = await this.router.applyRaw(order, raw, 'query', replacement);
        if (tally && outcome.outcome === 'anomaly') tally.anomalies++;
        if (tally && outcome.outcome === 'applied' && (raw as { type: string }).type === 'FILL') tally.fillsLearnt++;
      }
      const working = answer.status === 'OPEN' || answer.status === 'PARTIALLY_FILLED';
      const values = {
        ...(answer.quantity === undefined ? {} : { quantity: answer.quantity }),
        ...(answer.price === undefined ? {} : { price: answer.price }),
        ...(answer.stopPrice === undefined ? {} : { stopPrice: answer.stopPrice }),
      };
      const venueOrderId = replacement ? { venueOrderId: answer.venueOrderId } : {};
      const event = {
        type: 'QUERY_ANSWERED' as const,
        ...queryId,
        working,
        ended: !working,
        values,
        ...venueOrderId,
        at,
      };
      await this.runtime.apply(order, event, { cause: 'query answered' });
    } else {
      const placedBefore = contextOf(order).placeAttempts;
      const event = { type: 'NOT_FOUND' as const, ...token, at, ...(recovering ? { recovering } : {}) };
      await this.runtime.apply(order, event, { cause: 'query NOT_FOUND' });
      if (tally && contextOf(order).placeAttempts > placedBefore) tally.ordersPlacedAgain++;
      // OPEN, PARTIALLY_FILLED or CANCEL_PENDING → CANCELLED: VENUE_LOST_ORDER was recorded.
      const lost = ['OPEN', 'PARTIALLY_FILLED', 'CANCEL_PENDING'].includes(String(statusBefore));
      if (tally && lost && order.actor.getSnapshot().value === 'CANCELLED') tally.anomalies++;
    }
    if (tally && order.actor.getSnapshot().value !== statusBefore) tally.ordersResolved++;
  }
}

/** How the venue knows the order. */
export function refOf(order: LiveOrder): OrderRef {
  const venueOrderId = contextOf(order).venueOrderId;
  return venueOrderId === null ? { clientOrderId: order.orderId } : { clientOrderId: order.orderId, venueOrderId };
}

function isRejection(err: unknown): boolean {
  return err instanceof PlacementRejectedError || (err as Error | undefined)?.name === 'PlacementRejectedError';
}
