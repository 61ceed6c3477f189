/**
 * A reference model of one order, independent of the XState machine: the contract's rules for
 * classifying news (exact repeats, known fills, known venue ids, LATE_REPLY) written here, and the
 * status decided by the event-level rows of `src/sim/contract-rows.ts`. The model-based command
 * runs and the path coverage judge the real handler by it; nothing here reads `machines/` or the
 * handler's internals.
 */
import {
  type ContractEvent,
  type ContractStep,
  contractStep,
  initialFacts,
  type OrderFacts,
} from '../../src/sim/contract-rows.js';
import type { AnomalyKind, OrderStatus, ReplyOutcome } from '../../src/types.js';

/**
 * Where the handler is known to break the contract today. The reference follows the handler there
 * (so the other checks keep judging everything else), and `test/model/path-coverage.test.ts` has a
 * test that fails once the handler keeps the contract, saying to set the flag to false.
 */
export const KNOWN_DEVIATIONS = {
  /**
   * Contract section 4 rules: "A final status the venue itself reported ... is never reopened that
   * way: a late ACCEPTED for that venue order changes nothing, and no cancel is sent for an order
   * the venue said has ended." The handler reopens an order it gave up on (TIMED_OUT) and the
   * venue then reported CANCELLED: a late ACCEPTED, or a fill that does not complete it, makes it
   * CANCEL_PENDING and sends a cancel.
   */
  reopensVenueCancelledAfterGivingUp: false,
  /**
   * Contract section 4 rules: a `null` answer is stale, and ignored, when "an ACCEPTED or FILL
   * naming the order arrived after that query was sent". The handler counts that news in memory
   * only: once the order was released (final, or TIMED_OUT with its cancel settled) and reloaded,
   * the count starts again, and a `null` asked before a late fill can be applied (CANCEL_PENDING →
   * CANCELLED). The model-based runs do not answer "not known" in that situation while this holds.
   */
  appliesStaleNotKnownAfterReload: false,
};

/** Quantities in the model are integers in thousandths ("1" is 1000). */
export const toMilli = (quantity: string): number => Math.round(Number(quantity) * 1000);
/** A decimal string from thousandths, as the handler prints it. */
export const fromMilli = (milli: number): string => (milli / 1000).toString();

/** One order of the reference model. */
export interface RefOrder {
  facts: OrderFacts;
  /** Thousandths. */
  quantity: number;
  filled: number;
  venueOrderId: string | undefined;
  /** venueFillId → quantity (thousandths) and price. */
  fills: Map<string, { quantity: number; price: string }>;
  /** Replies handled, by content: an exact repeat is a no-op. */
  keys: Set<string>;
  /** ACCEPTED and FILL replies that named the order (a `null` answer asked before the latest is stale). */
  news: number;
  /**
   * Whether the cancel of a TIMED_OUT order is still outstanding is not known: a `null` answer
   * settles it only if no cancel was sent after that query (ADR 0001.4), and when the handler sends
   * cancels again is its protocol, not the contract's table.
   */
  cancelUnsure: boolean;
  placedAt: number;
  /** When the order last became PENDING (its ack query cycle starts no earlier). */
  pendingSince: number;
}

/** What the reference expects of one piece of news. */
export interface RefOutcome {
  /** The reply's outcome: one, or any of several where the contract leaves it open. */
  outcome: ReplyOutcome['outcome'] | readonly ReplyOutcome['outcome'][];
  anomaly?: AnomalyKind;
  /** The contract step taken (row undefined: no row took the news, nothing changed). */
  step?: ContractStep;
}

/** A new order, recorded and sent at `placedAt`. */
export function newRefOrder(quantity: number, placedAt: number): RefOrder {
  return {
    facts: initialFacts(),
    quantity,
    filled: 0,
    venueOrderId: undefined,
    fills: new Map(),
    keys: new Set(),
    news: 0,
    cancelUnsure: false,
    placedAt,
    pendingSince: placedAt,
  };
}

/** A deep copy (for traversals that branch). */
export function cloneRefOrder(o: RefOrder): RefOrder {
  return { ...o, facts: { ...o.facts }, fills: new Map(o.fills), keys: new Set(o.keys) };
}

/** The facts the rows see, bent where the handler is known to deviate. */
function factsForRows(o: RefOrder): OrderFacts {
  if (KNOWN_DEVIATIONS.reopensVenueCancelledAfterGivingUp && o.facts.gaveUp)
    return { ...o.facts, venueReportedFinal: false };
  return o.facts;
}

/** Applies a contract event to the order (rows decide), keeping the model's own bookkeeping. */
export function refEvent(o: RefOrder, event: ContractEvent, now: number): ContractStep {
  const step = contractStep(factsForRows(o), event);
  if (!step.row) return step;
  // The facts the rows saw may be bent (KNOWN_DEVIATIONS): what the venue reported stays known.
  o.facts = { ...step.facts, venueReportedFinal: o.facts.venueReportedFinal || step.facts.venueReportedFinal };
  if (step.to === 'PENDING' && step.from !== 'PENDING') o.pendingSince = now;
  if (step.row.cancel !== undefined || step.to !== step.from) o.cancelUnsure = false;
  return step;
}

/** Contract key of a reply: every field, `at` included, in a fixed order. */
function keyOf(r: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(r)
      .sort()
      .map((k) => [k, r[k]]),
  );
}

const late = (step?: ContractStep): RefOutcome => ({
  outcome: 'anomaly',
  anomaly: 'LATE_REPLY',
  ...(step ? { step } : {}),
});

/** The contract's rules for one reply from the venue (or one a query answer stands for). */
export function refReply(o: RefOrder, r: Record<string, unknown>, now: number): RefOutcome {
  const key = keyOf(r);
  if (o.keys.has(key)) return { outcome: 'duplicate' };
  o.keys.add(key);
  const venueOrderId = r.venueOrderId as string | undefined;
  // ADR 0001.3: a reply naming a venue id that contradicts the order's fits no row.
  if (venueOrderId !== undefined && o.venueOrderId !== undefined && venueOrderId !== o.venueOrderId) return late();
  if (r.type === 'ACCEPTED' || r.type === 'FILL') o.news++;
  let event: ContractEvent;
  switch (r.type) {
    case 'ACCEPTED':
      if (o.facts.acknowledged && o.venueOrderId === venueOrderId) return { outcome: 'duplicate' };
      event = { type: 'ACCEPTED' };
      break;
    case 'FILL': {
      const quantity = toMilli(r.quantity as string);
      const known = o.fills.get(r.venueFillId as string);
      if (known) {
        const same = known.quantity === quantity && Number(known.price) === Number(r.price);
        return same ? { outcome: 'duplicate' } : { outcome: 'anomaly', anomaly: 'CONFLICTING_FILL' };
      }
      event = { type: 'FILL', completes: o.filled + quantity >= o.quantity };
      break;
    }
    case 'CANCEL_REJECTED':
      if (!o.facts.cancelOutstanding) return { outcome: 'duplicate' };
      if (o.cancelUnsure) {
        const step = refEvent(o, { type: 'CANCEL_REJECTED' }, now);
        return { outcome: ['applied', 'duplicate'], step };
      }
      event = { type: 'CANCEL_REJECTED' };
      break;
    case 'REJECTED':
    case 'CANCELLED':
    case 'EXPIRED':
      event = { type: r.type };
      break;
    default:
      throw new Error(`reference model: unknown reply type ${String(r.type)}`);
  }
  const step = refEvent(o, event, now);
  if (!step.row) return late(step);
  if (venueOrderId !== undefined) o.venueOrderId ??= venueOrderId;
  if (event.type === 'FILL') {
    const quantity = toMilli(r.quantity as string);
    o.fills.set(r.venueFillId as string, { quantity, price: String(r.price) });
    o.filled += quantity;
  }
  if (step.row.answers === 'duplicate') return { outcome: 'duplicate', step };
  return { outcome: 'applied', step };
}

/** `cancel()`: true while a cancel is, or is now, outstanding. */
export function refCancel(o: RefOrder, now: number): { returns: boolean; step: ContractStep } {
  const step = refEvent(o, { type: 'CANCEL' }, now);
  return { returns: step.row !== undefined, step };
}

/**
 * The venue, asked, does not know the order: `cancelSentSinceAsked` says whether a cancel left
 * after the query did (`unknown` when the test does not follow the handler's cancel pacing).
 */
export function refNotFound(o: RefOrder, now: number, cancelSentSinceAsked: boolean | 'unknown'): ContractStep {
  if (o.facts.status === 'TIMED_OUT' && o.facts.cancelOutstanding) {
    if (cancelSentSinceAsked === true) return { row: undefined, from: 'TIMED_OUT', to: 'TIMED_OUT', facts: o.facts };
    if (cancelSentSinceAsked === 'unknown') {
      o.cancelUnsure = true;
      return { row: undefined, from: 'TIMED_OUT', to: 'TIMED_OUT', facts: o.facts };
    }
  }
  return refEvent(o, { type: 'NOT_FOUND' }, now);
}

/** What a venue answers to `queryOrder` (the connector contract's `VenueOrderState`). */
export interface RefVenueState {
  venueOrderId: string;
  status: 'OPEN' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELLED' | 'REJECTED' | 'EXPIRED';
  fills: { venueFillId: string; quantity: string; price: string; at: number }[];
}

/**
 * A query answer, applied as the contract says: `null` is decisive unless an ACCEPTED or FILL
 * arrived after the query was sent (then stale, ignored) and changes nothing on a final order
 * (ADR 0001.7); a state counts as an ACCEPTED unless REJECTED, then each fill, then its final
 * status, each classified like a reply (a final status the order already has is no news).
 */
export function refAnswer(
  o: RefOrder,
  clientOrderId: string,
  answer: RefVenueState | null,
  asked: { news: number; cancelSentSince: boolean | 'unknown' },
  now: number,
): { stale: boolean; outcomes: RefOutcome[] } {
  if (answer === null) {
    if (o.news > asked.news) return { stale: true, outcomes: [] };
    return { stale: false, outcomes: [{ outcome: 'applied', step: refNotFound(o, now, asked.cancelSentSince) }] };
  }
  const ref = { clientOrderId, venueOrderId: answer.venueOrderId };
  const replies: Record<string, unknown>[] = [];
  if (answer.status !== 'REJECTED') replies.push({ type: 'ACCEPTED', ...ref, at: now });
  for (const f of answer.fills) replies.push({ type: 'FILL', ...ref, ...f });
  if (answer.status === 'CANCELLED')
    replies.push({ type: 'CANCELLED', ...ref, reason: 'venue status CANCELLED', at: now });
  if (answer.status === 'EXPIRED') replies.push({ type: 'EXPIRED', ...ref, at: now });
  if (answer.status === 'REJECTED')
    replies.push({ type: 'REJECTED', ...ref, reason: 'venue status REJECTED', at: now });
  const outcomes: RefOutcome[] = [];
  for (const r of replies) {
    if (r.type === o.facts.status) continue;
    outcomes.push(refReply(o, r, now));
  }
  return { stale: false, outcomes };
}

/** The contract's ack timing (section 4 rules, promise 7's bound). */
export interface RefTiming {
  ackTimeoutMs: number;
  queryIntervalMs: number;
  queryRetries: number;
}

/**
 * Time moves to `now` with every query unanswered: the ack deadline passes, and an order still
 * PENDING (no answer came) is TIMED_OUT once `1 + queryRetries` queries, one per
 * `queryIntervalMs`, went unanswered from the later of its ack deadline and the moment it became
 * PENDING again.
 */
export function refTimePasses(o: RefOrder, now: number, timing: RefTiming): ContractStep | undefined {
  const deadline = o.placedAt + timing.ackTimeoutMs;
  if (now >= deadline) o.facts = { ...o.facts, pastAckDeadline: true };
  if (o.facts.status !== 'PENDING') return undefined;
  const cycleStart = Math.max(deadline, o.pendingSince);
  if (now < cycleStart + (timing.queryRetries + 1) * timing.queryIntervalMs) return undefined;
  return refEvent(o, { type: 'ACK_TIMEOUT' }, now);
}

/** The order's status in the model. */
export const refStatus = (o: RefOrder): OrderStatus => o.facts.status;

/** The outcomes `expected` allows. */
export function allowedOutcomes(expected: RefOutcome): readonly ReplyOutcome['outcome'][] {
  return typeof expected.outcome === 'string' ? [expected.outcome] : expected.outcome;
}
