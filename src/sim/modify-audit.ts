/**
 * The modify protocol's promises (contract section 4b) checked for a whole simulated session from
 * the venue's own record of every `modifyOrder` call (when it was sent, what the venue did with it)
 * and the ledger (change records and their `modification`, anomalies), never from the handler's
 * memory:
 * 1. write-ahead: every modify the venue heard of was recorded ORDER_MODIFY_REQUESTED, under that
 *    modification id, before it was sent;
 * 2. never re-sent: the venue is asked each modification id once;
 * 3. one at a time: an order's next modify is sent only once the ledger resolved the one before;
 * 4. never assumed: every ORDER_MODIFIED puts in force the values the venue held then (those of
 *    the last modify it applied by then, else the order as placed): a modify the venue never
 *    applied is in force only when the venue, asked, showed every requested value (a requested
 *    quantity at or below the filled one is in force as the filled one); and a modify the venue
 *    applied is never recorded rejected;
 * 5. MODIFY_UNCONFIRMED is recorded only while a modify is outstanding, and at most once for it;
 * 6. `modify()` while one is pending answers false (FIX's D21), and a `modify()` answered true is
 *    recorded ORDER_MODIFY_REQUESTED from OPEN or PARTIALLY_FILLED.
 * Each problem states the rule that broke; the tally says how much each check looked at.
 */
import type { VenueModifyRecord } from '../connector/simulated.js';
import type { LedgerOrder, StrategyLedger, TransitionRecord } from '../ledger/types.js';
import type { EngineLog } from './engine-log.js';
import { type FindingCounts, KNOWN_FINDINGS, countFinding, sameValues } from './known-findings.js';

/** What the audit needs of a venue: its record of every modify asked of it, and of every order. */
export interface VenueModifyTruth {
  modifyRecords(): VenueModifyRecord[];
  venueOrders(): { clientOrderId: string; request: { quantity: string; price?: string; stopPrice?: string } }[];
}

/** How much each check looked at, added to by every call it is passed to. */
export interface ModifyTally {
  /** 6: the engine's `modify()` calls, those answered true, its second calls while one was pending, and its cancels then. */
  modifyCalls: number;
  modifiesOutstanding: number;
  secondWhilePending: number;
  cancelsWhilePending: number;
  /** 1, 2: modifies the venue was asked; of those, the ones it applied and refused. */
  modifiesSent: number;
  venueApplied: number;
  venueRefused: number;
  /** 3: pairs of one order's successive modifies judged. */
  modifySequencesChecked: number;
  /** 4: ORDER_MODIFIED and ORDER_MODIFY_REJECTED records judged against the venue. */
  modifiedRecords: number;
  modifyRejectedRecords: number;
  /** 5: outstanding-modify periods, and those with a MODIFY_UNCONFIRMED. */
  modifyPeriods: number;
  modifyUnconfirmed: number;
}

/** A tally with nothing counted yet. */
export function emptyModifyTally(): ModifyTally {
  return {
    modifyCalls: 0,
    modifiesOutstanding: 0,
    secondWhilePending: 0,
    cancelsWhilePending: 0,
    modifiesSent: 0,
    venueApplied: 0,
    venueRefused: 0,
    modifySequencesChecked: 0,
    modifiedRecords: 0,
    modifyRejectedRecords: 0,
    modifyPeriods: 0,
    modifyUnconfirmed: 0,
  };
}

/** What a session left to audit. */
export interface ModifyAuditInput {
  ledger: StrategyLedger;
  venue: VenueModifyTruth;
  engine: EngineLog;
  tally: ModifyTally;
  /** Records excused as a known finding of the handler, counted per finding. */
  findings?: FindingCounts;
}

/** The records that resolve a modify (section 7's event types). */
const RESOLVES: ReadonlySet<string> = new Set(['ORDER_MODIFIED', 'ORDER_MODIFY_REJECTED']);

/** Everything the checks read, loaded once. */
interface Loaded {
  orders: Map<string, LedgerOrder>;
  changes: Map<string, TransitionRecord[]>;
  /** The venue's modify records per order, in call order. */
  sent: Map<string, VenueModifyRecord[]>;
  unconfirmed: Map<string, number[]>;
  /** Times of the LATE_REPLY of a MODIFIED that answered no outstanding modify, per order. */
  unasked: Map<string, Set<number>>;
  request: Map<string, { quantity: string; price?: string; stopPrice?: string }>;
}

async function load(input: ModifyAuditInput): Promise<Loaded> {
  const orders = new Map((await input.ledger.getOrdersChangedSince(0)).map((o) => [o.orderId, o]));
  const changes = new Map<string, TransitionRecord[]>();
  for (const id of orders.keys()) changes.set(id, await input.ledger.getTransitions(id));
  const sent = new Map<string, VenueModifyRecord[]>();
  for (const m of input.venue.modifyRecords()) sent.set(m.clientOrderId, [...(sent.get(m.clientOrderId) ?? []), m]);
  const unconfirmed = new Map<string, number[]>();
  const unasked = new Map<string, Set<number>>();
  for (const a of await input.ledger.getAnomalies()) {
    if (a.orderId === undefined) continue;
    if (a.kind === 'MODIFY_UNCONFIRMED') unconfirmed.set(a.orderId, [...(unconfirmed.get(a.orderId) ?? []), a.at]);
    if (a.kind === 'LATE_REPLY' && a.reason.startsWith('MODIFIED answers no outstanding modify'))
      unasked.set(a.orderId, (unasked.get(a.orderId) ?? new Set()).add(a.at));
  }
  const request = new Map(input.venue.venueOrders().map((v) => [v.clientOrderId, v.request]));
  return { orders, changes, sent, unconfirmed, unasked, request };
}

/** Checks the six promises for a finished session; returns the problems found. */
export async function auditModifies(input: ModifyAuditInput): Promise<string[]> {
  const data = await load(input);
  return [
    ...checkCalls(data, input),
    ...[...data.sent].flatMap(([id, sent]) => checkSent(id, sent, data, input.tally)),
    ...[...data.orders.keys()].flatMap((id) => checkRecords(id, data, input)),
    ...[...data.orders.keys()].flatMap((id) => checkUnconfirmed(id, data, input.tally)),
  ];
}

/** The change record that requested `modificationId`, and the one that resolved it. */
function lifeOf(changes: readonly TransitionRecord[], modificationId: string) {
  const named = changes.filter((t) => t.modification?.modificationId === modificationId);
  return {
    requested: named.find((t) => t.eventType === 'ORDER_MODIFY_REQUESTED'),
    resolved: named.find((t) => RESOLVES.has(t.eventType)),
  };
}

/** 6. "false when ... already MODIFY_PENDING"; true: "a modify is now outstanding". */
function checkCalls(data: Loaded, input: ModifyAuditInput): string[] {
  const problems: string[] = [];
  const { tally, engine } = input;
  for (const call of engine.modifies) {
    tally.modifyCalls++;
    if (call.ledgerStatus === 'MODIFY_PENDING') {
      tally.secondWhilePending++;
      if (call.answered === true)
        problems.push(`One modify at a time: modify(${call.orderId}) at ${call.at} answered true while MODIFY_PENDING`);
    }
    if (call.answered !== true) continue;
    tally.modifiesOutstanding++;
    const requested = (data.changes.get(call.orderId) ?? []).find(
      (t) => t.eventType === 'ORDER_MODIFY_REQUESTED' && t.at === call.at,
    );
    if (!requested || (requested.from !== 'OPEN' && requested.from !== 'PARTIALLY_FILLED'))
      problems.push(
        `modify() true: ${call.orderId} at ${call.at} has no ORDER_MODIFY_REQUESTED from OPEN or PARTIALLY_FILLED then`,
      );
  }
  tally.cancelsWhilePending += engine.cancelsWhileModifying.length;
  return problems;
}

/** 1-3 for one order's modifies as the venue recorded them. */
function checkSent(id: string, sent: readonly VenueModifyRecord[], data: Loaded, tally: ModifyTally): string[] {
  const problems: string[] = [];
  const changes = data.changes.get(id) ?? [];
  const seen = new Set<string>();
  sent.forEach((m, i) => {
    tally.modifiesSent++;
    if (m.outcome === 'applied') tally.venueApplied++;
    if (m.outcome === 'refused') tally.venueRefused++;
    if (seen.has(m.modificationId))
      problems.push(`A modify is never re-sent: ${id} sent ${m.modificationId} again at ${m.sentAt}`);
    seen.add(m.modificationId);
    const { requested } = lifeOf(changes, m.modificationId);
    if (!requested || requested.at > m.sentAt)
      problems.push(
        `Write-ahead: ${m.modificationId} was sent at ${m.sentAt}, its ORDER_MODIFY_REQUESTED ${requested ? `is of ${requested.at}` : 'is missing'}`,
      );
    const previous = sent[i - 1];
    if (!previous || previous.modificationId === m.modificationId) return;
    tally.modifySequencesChecked++;
    const before = lifeOf(changes, previous.modificationId).resolved;
    if (!before || before.at > m.sentAt)
      problems.push(
        `One modify outstanding per order: ${m.modificationId} was sent at ${m.sentAt} while ${previous.modificationId} was unresolved`,
      );
  });
  return problems;
}

type Values = { quantity?: string | undefined; price?: string | undefined; stopPrice?: string | undefined };

/**
 * Section 6: "`modified: true` from `modifyOrder` counts as a MODIFIED reply with the requested
 * values": the venue said it applied `m`, so its requested quantity may stand where the venue capped
 * it at the filled quantity (the venue's own MODIFIED or a query then brings the filled one).
 */
function asRequested(recorded: Values, m: VenueModifyRecord): boolean {
  const quantity = m.changes.quantity ?? m.values!.quantity;
  return sameValues({ ...m.values, quantity }, recorded) || sameValues(m.values!, recorded);
}

/** The values the venue held for the order at `at`: those of the last modify it applied by then, else as placed. */
function venueValuesAt(id: string, at: number, data: Loaded): Values | undefined {
  const applied = (data.sent.get(id) ?? []).filter((m) => m.outcome === 'applied' && (m.decidedAt ?? 0) <= at);
  return applied.at(-1)?.values ?? data.request.get(id);
}

/** 4. "A modify is never re-sent and never assumed": the ledger's answers against the venue's. */
function checkRecords(id: string, data: Loaded, input: ModifyAuditInput): string[] {
  const problems: string[] = [];
  const { tally } = input;
  const byId = new Map((data.sent.get(id) ?? []).map((m) => [m.modificationId, m]));
  for (const t of data.changes.get(id) ?? []) {
    if (!t.modification || !RESOLVES.has(t.eventType)) continue;
    const m = byId.get(t.modification.modificationId);
    if (t.eventType === 'ORDER_MODIFY_REJECTED') {
      tally.modifyRejectedRecords++;
      if (m?.outcome === 'applied')
        problems.push(
          `Never assumed: ${id} recorded ${m.modificationId} rejected, the venue applied it at ${m.decidedAt}`,
        );
      continue;
    }
    tally.modifiedRecords++;
    const held = venueValuesAt(id, t.at, data);
    if (held && sameValues(t.modification, held)) continue;
    if (m?.outcome === 'applied' && t.cause.startsWith('modify ') && asRequested(t.modification, m)) continue;
    if (KNOWN_FINDINGS.staleModifiedRevertsValues && data.unasked.get(id)?.has(t.at)) {
      countFinding(input.findings, 'staleModifiedRevertsValues');
      continue;
    }
    problems.push(
      `Never assumed: ${id} recorded ${t.modification.modificationId} in force as ${JSON.stringify(t.modification)} ` +
        `(${t.cause}); the venue ${m ? m.outcome : 'was never asked'} it and held ${JSON.stringify(held)}`,
    );
  }
  return problems;
}

/** 5. MODIFY_UNCONFIRMED "is recorded once per outstanding request", and only while one is. */
function checkUnconfirmed(id: string, data: Loaded, tally: ModifyTally): string[] {
  const changes = data.changes.get(id) ?? [];
  const periods = changes
    .filter((t) => t.eventType === 'ORDER_MODIFY_REQUESTED' && t.modification)
    .map((t) => ({
      modificationId: t.modification!.modificationId,
      openAt: t.at,
      closeAt: lifeOf(changes, t.modification!.modificationId).resolved?.at,
      recorded: 0,
    }));
  const problems: string[] = [];
  for (const at of data.unconfirmed.get(id) ?? []) {
    const p = periods.findLast((q) => q.openAt <= at);
    if (!p || (p.closeAt !== undefined && at > p.closeAt))
      problems.push(`MODIFY_UNCONFIRMED: ${id} recorded it at ${at} with no modify outstanding`);
    else p.recorded++;
  }
  for (const p of periods) {
    tally.modifyPeriods++;
    if (p.recorded > 0) tally.modifyUnconfirmed++;
    if (p.recorded > 1)
      problems.push(
        `MODIFY_UNCONFIRMED once per outstanding modify: ${id} recorded it ${p.recorded} times for ${p.modificationId}`,
      );
  }
  return problems;
}
