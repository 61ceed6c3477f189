/**
 * A reference model of one order, independent of the XState machine: the contract's rules for
 * classifying news (exact repeats, known fills, known venue ids, LATE_REPLY) and for modifying an
 * order (validation, the values in force, the modification ids sent, which query answer counts as
 * MODIFIED or MODIFY_REJECTED) written here, and the status decided by the event-level rows of
 * `src/sim/contract-rows.ts` (sections 4 and 4b). The model-based command runs and the path
 * coverage judge the real handler by it; nothing here reads `machines/` or the handler's internals.
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
  /**
   * Contract section 4 rules (and ADR 0007: "a known fill or acknowledgement with another `at` is"
   * news): a `null` answer is stale when an ACCEPTED or FILL naming the order arrived after that
   * query was sent. The handler counts such a repeated FILL or ACCEPTED only while a query is in
   * flight: once the newer query failed (or was abandoned), a repeat arriving before an older,
   * abandoned query answers `null` is not counted, and that stale answer is applied (CANCEL_PENDING
   * or MODIFY_PENDING → CANCELLED, VENUE_LOST_ORDER, though the venue just named the order). The
   * model-based runs do not answer "not known" in that situation while this holds.
   */
  repeatNewsUncountedWithoutQueryInFlight: false,
  /**
   * Contract section 4b: "A MODIFIED that answers no outstanding modify still applies the venue's
   * values (the venue did it) and records LATE_REPLY." The handler answers `duplicate` and records
   * nothing when the MODIFIED's values are those already in force (as for a second ACCEPTED).
   * Kept on purpose (ADR 0007): venues confirm a modify twice (the call's response and the
   * stream's report), and a LATE_REPLY for every modify would bury the real ones.
   */
  restatedModifiedIsDuplicate: true,
  /**
   * Section 4b has no row for an ACCEPTED on MODIFY_PENDING (an order modified before its ACCEPTED
   * arrived: a fill made it PARTIALLY_FILLED). contract-rows-4b.ts reads it as OPEN and
   * PARTIALLY_FILLED take it (venue id learnt, outcome `duplicate`, ADR 0001.3); the handler
   * learns the venue id and answers `applied`.
   */
  acceptedOnModifyPendingIsApplied: false,
  /**
   * Section 4b keeps a modify outstanding (asked about until resolved) on an order that ended
   * FILLED, CANCELLED or EXPIRED, and has rows answering it only there. The handler keeps it on a
   * REJECTED order too: a MODIFY_REJECTED or MODIFIED then answers it (`applied`, no LATE_REPLY),
   * where the table has no row (and the rows read REJECTED as resolving it). Kept on purpose
   * (ADR 0007): the venue may have applied the modify before it rejected the order, and its
   * answer, asked as for FILLED, CANCELLED and EXPIRED, says which.
   */
  rejectedKeepsModify: true,
  /**
   * A CANCEL_PENDING order with a modify outstanding that the venue, asked, does not know becomes
   * CANCELLED (VENUE_LOST_ORDER) with the modify still outstanding. A `null` answer for a final order
   * changes nothing (ADR 0001.7), so the handler asks the venue about that modify forever (one query
   * per slow-pace interval; the actor is never released), against promise 7 (convergence) and the
   * bounded-memory rule. From MODIFY_PENDING the same answer resolves the modify.
   */
  lostOrderKeepsModify: false,
  /**
   * From MODIFY_PENDING, the venue not knowing the order resolves the modify (a later MODIFY_REJECTED
   * answers `duplicate`), but the order's view (`OrderView.modifications`, section 5) still shows that
   * modification `PENDING`: nothing records it resolved (until a MODIFIED of the venue's own arrives).
   */
  lostModifyStaysPendingInView: false,
  /**
   * Section 4b: "CANCEL_PENDING | MODIFY_REJECTED answering the outstanding modify | FILLED if filled
   * >= the quantity in force", and an answer showing the order ended there counts as MODIFY_REJECTED.
   * A CANCEL_PENDING order whose raise is outstanding and whose fills reach the quantity in force
   * (a fill completed it while MODIFY_PENDING, then cancel()): a query answer showing it FILLED with
   * the old values refuses the modify (NOT_APPLIED_AT_VENUE) but leaves the order CANCEL_PENDING, and
   * the handler then sends a cancel for that filled order every slow-pace interval, for good
   * (CANCEL_UNCONFIRMED). A MODIFY_REJECTED reply in the same case does make it FILLED.
   */
  answerRefusingModifyKeepsFilledCancelPending: false,
  /**
   * Section 4b: an answer showing every requested value "counts as MODIFIED". A MODIFIED reply puts
   * max(new, filled) in force; an answer counted as MODIFIED puts the venue's quantity in force as
   * shown, so on an overfilled order (filled above the quantity the venue shows) the two disagree.
   */
  modifiedByAnswerTakesShownQuantity: false,
  /**
   * Section 4b: "only ids actually sent name the order (any other is a client order id this handler
   * never sent: UNKNOWN_ORDER)". The handler reads the part after the last dot with `Number()`, so
   * client order ids it never sent such as `${orderId}.01`, `.1e0`, `.+1`, `.0x1`, `. 1` or `.1 `
   * name modification 1 and reach the order (a MODIFY_REJECTED so named resolves its modify).
   */
  routesUnsentModificationIdSpellings: false,
};

/** Quantities in the model are integers in thousandths ("1" is 1000). */
export const toMilli = (quantity: string): number => Math.round(Number(quantity) * 1000);
/** A decimal string from thousandths, as the handler prints it. */
export const fromMilli = (milli: number): string => (milli / 1000).toString();

/** One order of the reference model. */
export interface RefOrder {
  facts: OrderFacts;
  /** The quantity in force, in thousandths (a MODIFIED changes it: max(new, filled)). */
  quantity: number;
  filled: number;
  /** The price in force. */
  price: string;
  /** The outstanding modify's requested values (quantity in thousandths), while one is outstanding. */
  requested: RefChanges | undefined;
  /** How many modifies were sent: the modification ids `${orderId}.1` … `${orderId}.${modifies}`. */
  modifies: number;
  /** The last modify was resolved by the venue not knowing the order (KNOWN_DEVIATIONS.lostModifyStaysPendingInView). */
  modifyLost: boolean;
  venueOrderId: string | undefined;
  /** The venue ids the order had before its current one (a cancel-replace gives it a new one). */
  formerVenueOrderIds: string[];
  /** venueFillId → quantity (thousandths) and price. */
  fills: Map<string, { quantity: number; price: string }>;
  /** Replies handled, by content: an exact repeat is a no-op. */
  keys: Set<string>;
  /** ACCEPTED and FILL replies that named the order (a `null` answer asked before the latest is stale). */
  news: number;
  /** Of those, repeats (a known fill or venue id with another `at`): KNOWN_DEVIATIONS.repeatNewsUncountedWithoutQueryInFlight. */
  repeatNews: number;
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

/** The values a modify asks for: the new total quantity in thousandths, the price. */
export interface RefChanges {
  quantity?: number;
  price?: string;
}

/** What the reference expects of one piece of news. */
export interface RefOutcome {
  /** The reply's outcome: one, or any of several where the contract leaves it open. */
  outcome: ReplyOutcome['outcome'] | readonly ReplyOutcome['outcome'][];
  anomaly?: AnomalyKind;
  /** The contract step taken (row undefined: no row took the news, nothing changed). */
  step?: ContractStep;
}

/** A new order (LIMIT, `price`), recorded and sent at `placedAt`. */
export function newRefOrder(quantity: number, placedAt: number, price = '100'): RefOrder {
  return {
    facts: initialFacts(),
    quantity,
    filled: 0,
    price,
    requested: undefined,
    modifies: 0,
    modifyLost: false,
    venueOrderId: undefined,
    formerVenueOrderIds: [],
    fills: new Map(),
    keys: new Set(),
    news: 0,
    repeatNews: 0,
    cancelUnsure: false,
    placedAt,
    pendingSince: placedAt,
  };
}

/** A deep copy (for traversals that branch). */
export function cloneRefOrder(o: RefOrder): RefOrder {
  return {
    ...o,
    facts: { ...o.facts },
    requested: o.requested && { ...o.requested },
    formerVenueOrderIds: [...o.formerVenueOrderIds],
    fills: new Map(o.fills),
    keys: new Set(o.keys),
  };
}

/** The facts the rows see, bent where the handler is known to deviate. */
function factsForRows(o: RefOrder): OrderFacts {
  if (KNOWN_DEVIATIONS.reopensVenueCancelledAfterGivingUp && o.facts.gaveUp)
    return { ...o.facts, venueReportedFinal: false };
  return o.facts;
}

/** The contract's step, bent where the handler is known to deviate (KNOWN_DEVIATIONS). */
function stepFor(o: RefOrder, event: ContractEvent): ContractStep {
  const facts = factsForRows(o);
  const answersModify = event.type === 'MODIFIED' || event.type === 'MODIFY_REJECTED' || event.type === 'NOT_FOUND';
  if (KNOWN_DEVIATIONS.rejectedKeepsModify && facts.status === 'REJECTED' && facts.modifyOutstanding && answersModify) {
    // Answered as on a CANCELLED order (unchanged, the modify resolved), the status kept.
    const step = contractStep({ ...facts, status: 'CANCELLED' }, event);
    return { ...step, from: 'REJECTED', to: 'REJECTED', facts: { ...step.facts, status: 'REJECTED' } };
  }
  const step = contractStep(facts, event);
  const keepsModify =
    (KNOWN_DEVIATIONS.rejectedKeepsModify && step.to === 'REJECTED') ||
    (KNOWN_DEVIATIONS.lostOrderKeepsModify && event.type === 'NOT_FOUND' && step.from === 'CANCEL_PENDING');
  if (step.row && keepsModify && facts.modifyOutstanding)
    return { ...step, facts: { ...step.facts, modifyOutstanding: true, modifyRaises: facts.modifyRaises } };
  return step;
}

/** Applies a contract event to the order (rows decide), keeping the model's own bookkeeping. */
export function refEvent(o: RefOrder, event: ContractEvent, now: number): ContractStep {
  const step = stepFor(o, event);
  if (!step.row) return step;
  // The facts the rows saw may be bent (KNOWN_DEVIATIONS): what the venue reported stays known.
  o.facts = { ...step.facts, venueReportedFinal: o.facts.venueReportedFinal || step.facts.venueReportedFinal };
  if (step.to === 'PENDING' && step.from !== 'PENDING') o.pendingSince = now;
  if (step.row.cancel !== undefined || step.to !== step.from) o.cancelUnsure = false;
  if (!o.facts.modifyOutstanding) o.requested = undefined;
  if (event.type === 'NOT_FOUND' && step.from === 'MODIFY_PENDING') o.modifyLost = true;
  return step;
}

/** What the order's view must show of its last modification: `PENDING` while a modify is outstanding. */
export function refViewShowsModifyPending(o: RefOrder): boolean {
  return o.facts.modifyOutstanding || (KNOWN_DEVIATIONS.lostModifyStaysPendingInView && o.modifyLost);
}

/** The venue's values put in force (section 4b: "quantity is then max(new, filled)"), under a new venue id maybe. */
function putInForce(o: RefOrder, quantity: number, price: string | undefined, newVenueOrderId?: string): void {
  o.quantity = Math.max(quantity, o.filled);
  if (price !== undefined) o.price = price;
  if (newVenueOrderId !== undefined && newVenueOrderId !== o.venueOrderId) {
    if (o.venueOrderId !== undefined) o.formerVenueOrderIds.push(o.venueOrderId);
    o.venueOrderId = newVenueOrderId;
  }
}

/** A MODIFIED (a reply, or an answer counting as one) with the venue's values: the rows decide, the values apply. */
function refModified(o: RefOrder, quantity: number, price: string | undefined, now: number, newVenueOrderId?: string) {
  const step = refEvent(o, { type: 'MODIFIED', completes: o.filled >= quantity }, now);
  if (step.row) putInForce(o, quantity, price, newVenueOrderId);
  if (step.row) o.modifyLost = false;
  return step;
}

/**
 * `modify()`: ValidationError (`invalid`) for a quantity not above the filled quantity at the time of
 * the call, whatever the status; else true when a modify is now outstanding (a new modification id
 * sent), false in any other status or with a modify already outstanding.
 */
export function refModify(
  o: RefOrder,
  changes: RefChanges,
  now: number,
): { returns: boolean | 'invalid'; step?: ContractStep } {
  if (changes.quantity !== undefined && changes.quantity <= o.filled) return { returns: 'invalid' };
  const raises = changes.quantity !== undefined && changes.quantity > o.quantity;
  const step = refEvent(o, { type: 'MODIFY', raises }, now);
  if (!step.row) return { returns: false, step };
  o.modifies++;
  o.modifyLost = false;
  o.requested = { ...changes };
  return { returns: true, step };
}

/**
 * Whether the values a venue shows are every requested one (section 4b: "a requested quantity at or
 * below the filled quantity is in force as the filled quantity"); `venueFilled` is the filled
 * quantity the venue shows.
 */
function showsRequested(
  requested: RefChanges,
  shown: { quantity: number; price: string },
  venueFilled: number,
): boolean {
  const quantity = requested.quantity === undefined || shown.quantity === Math.max(requested.quantity, venueFilled);
  const price = requested.price === undefined || Number(shown.price) === Number(requested.price);
  return quantity && price;
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
  // ADR 0001.3: a reply naming a venue id that contradicts the order's fits no row; section 4b: an
  // order answers to every venue id it has had.
  if (
    venueOrderId !== undefined &&
    o.venueOrderId !== undefined &&
    venueOrderId !== o.venueOrderId &&
    !o.formerVenueOrderIds.includes(venueOrderId)
  )
    return late();
  if (r.type === 'ACCEPTED' || r.type === 'FILL') o.news++;
  let event: ContractEvent;
  switch (r.type) {
    case 'ACCEPTED':
      if (o.facts.acknowledged && o.venueOrderId === venueOrderId) {
        o.repeatNews++;
        return { outcome: 'duplicate' };
      }
      event = { type: 'ACCEPTED' };
      break;
    case 'FILL': {
      const quantity = toMilli(r.quantity as string);
      const known = o.fills.get(r.venueFillId as string);
      if (known) {
        const same = known.quantity === quantity && Number(known.price) === Number(r.price);
        o.repeatNews++;
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
    case 'MODIFY_REJECTED':
      event = { type: r.type };
      break;
    case 'MODIFIED': {
      const restates =
        toMilli(r.quantity as string) === o.quantity && (r.price === undefined || Number(r.price) === Number(o.price));
      if (KNOWN_DEVIATIONS.restatedModifiedIsDuplicate && !o.facts.modifyOutstanding && restates)
        return { outcome: 'duplicate' };
      const step = refModified(
        o,
        toMilli(r.quantity as string),
        r.price as string | undefined,
        now,
        r.newVenueOrderId as string | undefined,
      );
      if (!step.row) return late(step);
      if (venueOrderId !== undefined && !o.formerVenueOrderIds.includes(venueOrderId)) o.venueOrderId ??= venueOrderId;
      // Answering no outstanding modify, it is applied all the same and records LATE_REPLY (ADR 0007).
      return { outcome: 'applied', step };
    }
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
  const acceptedWhileModifying = event.type === 'ACCEPTED' && step.from === 'MODIFY_PENDING';
  if (KNOWN_DEVIATIONS.acceptedOnModifyPendingIsApplied && acceptedWhileModifying) return { outcome: 'applied', step };
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

/** What a venue answers to `queryOrder` (the connector contract's `VenueOrderState`), the values it has in force. */
export interface RefVenueState {
  venueOrderId: string;
  status: 'OPEN' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELLED' | 'REJECTED' | 'EXPIRED';
  quantity?: string;
  price?: string;
  fills: { venueFillId: string; quantity: string; price: string; at: number }[];
}

/**
 * A query answer, applied as the contract says: `null` is decisive unless an ACCEPTED or FILL
 * arrived after the query was sent (then stale, ignored) and changes nothing on a final order
 * (ADR 0001.7); a state counts as an ACCEPTED unless REJECTED, then each fill, then what it says of
 * an outstanding modify (section 4b), then its final status, each classified like a reply (a final
 * status the order already has is no news). Of the modify: values equal to every requested one count
 * as MODIFIED; other values on an order the venue shows ended count as MODIFY_REJECTED; other values
 * on an order it still works count as MODIFY_REJECTED only once the modify's queries are spent, which
 * this model does not time: `modify: 'undecided'` then, and the caller learns which from the handler.
 */
export function refAnswer(
  o: RefOrder,
  clientOrderId: string,
  answer: RefVenueState | null,
  asked: { news: number; cancelSentSince: boolean | 'unknown' },
  now: number,
): { stale: boolean; outcomes: RefOutcome[]; modify?: ModifyByAnswer } {
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
  const final = replies.length > 0 && replies.at(-1)!.type !== 'FILL' && replies.at(-1)!.type !== 'ACCEPTED';
  const ending = final ? replies.pop() : undefined;
  const outcomes: RefOutcome[] = [];
  for (const r of replies) outcomes.push(refReply(o, r, now));
  const modify = answerOnModify(o, answer, outcomes, now);
  if (ending && ending.type !== o.facts.status) outcomes.push(refReply(o, ending, now));
  return { stale: false, outcomes, ...(modify ? { modify } : {}) };
}

/** What a query answer did to the outstanding modify (`undecided`: it depends on whether its queries are spent). */
export type ModifyByAnswer = 'MODIFIED' | 'MODIFY_REJECTED' | 'undecided';

function answerOnModify(
  o: RefOrder,
  answer: RefVenueState,
  outcomes: RefOutcome[],
  now: number,
): ModifyByAnswer | undefined {
  if (!o.facts.modifyOutstanding || o.requested === undefined || answer.quantity === undefined) return undefined;
  const venueFilled = answer.fills.reduce((sum, f) => sum + toMilli(f.quantity), 0);
  const shown = { quantity: toMilli(answer.quantity), price: answer.price ?? o.price };
  if (showsRequested(o.requested, shown, venueFilled)) {
    const step = refModified(o, shown.quantity, answer.price, now);
    if (KNOWN_DEVIATIONS.modifiedByAnswerTakesShownQuantity && step.row) o.quantity = shown.quantity;
    outcomes.push({ outcome: 'applied', step });
    return 'MODIFIED';
  }
  if (answer.status === 'OPEN' || answer.status === 'PARTIALLY_FILLED') return 'undecided';
  const keepsCancelPending =
    KNOWN_DEVIATIONS.answerRefusingModifyKeepsFilledCancelPending &&
    o.facts.status === 'CANCEL_PENDING' &&
    o.facts.fills === 'complete';
  if (keepsCancelPending) {
    // The handler refuses the modify as if the fills did not reach the quantity in force.
    o.facts = { ...contractStep({ ...o.facts, fills: 'some' }, { type: 'MODIFY_REJECTED' }).facts, fills: 'complete' };
    o.requested = undefined;
    return 'MODIFY_REJECTED';
  }
  outcomes.push({ outcome: 'applied', step: refEvent(o, { type: 'MODIFY_REJECTED' }, now) });
  return 'MODIFY_REJECTED';
}

/** The handler resolved an outstanding modify as not applied (MODIFY_REJECTED, NOT_APPLIED_AT_VENUE) where the model allowed it. */
export function refModifyNotApplied(o: RefOrder, now: number): ContractStep {
  return refEvent(o, { type: 'MODIFY_REJECTED' }, now);
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
