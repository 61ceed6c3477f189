/**
 * The order's protocol as pure machine steps (XState's `transition()`: no actor, no clock, no
 * runtime): scripted timelines check the contract's section 4 rules on deadlines, the query cycle,
 * cancel pacing, placement retries, the stale-answer rule and CANCEL_UNCONFIRMED, a sweep takes
 * every protocol row of the machine, and random event sequences (seed printed) check the rules
 * that must hold on every path: a cancel is never sent sooner than queryIntervalMs after the
 * previous one, CANCEL_UNCONFIRMED at most once per outstanding cancel, a wake-up always moves the
 * next one, and a snapshot round-tripped through JSON decides exactly as the original.
 */
import fc from 'fast-check';
import { type SnapshotFrom, getInitialSnapshot, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { type OrderEffect, type OrderEvent, orderMachine } from '../../machines/order.js';
import { transitionTable } from '../../machines/transition-table.js';

type Snap = SnapshotFrom<typeof orderMachine>;
const TIMING = {
  ackTimeoutMs: 1_000,
  cancelTimeoutMs: 1_000,
  queryIntervalMs: 100,
  queryRetries: 2,
  placeRetries: 2,
  modifyTimeoutMs: 1_000,
};
const start = (): Snap =>
  getInitialSnapshot(orderMachine, { orderId: 'O1', quantity: '1', placedAt: 0, timing: TIMING });

/** The rows taken by every step of this file, for the coverage check at the end. */
const taken = new Set<string>();
const rowKey = (from: string, event: string, to: string, guard: string | undefined, actions: readonly string[]) =>
  `${from} --${event}--> ${to} [${guard ?? ''}] ${actions.join(',')}`;

interface TransitionData {
  source: { key: string };
  target?: readonly { key: string }[];
  guard?: { type?: string } | string;
  actions: readonly unknown[];
}

/** One pure step: the next snapshot and the effects it emitted. */
function step(s: Snap, event: OrderEvent): { next: Snap; effects: OrderEffect[] } {
  const chosen = (
    orderMachine as unknown as { getTransitionData(s: Snap, e: OrderEvent): TransitionData[] }
  ).getTransitionData(s, event)[0];
  if (chosen) {
    const guard = typeof chosen.guard === 'string' ? chosen.guard : chosen.guard?.type;
    const actions = chosen.actions.map((a) => (typeof a === 'string' ? a : String((a as { type?: unknown }).type)));
    const to = chosen.target?.[0]?.key ?? String(s.value);
    taken.add(rowKey(String(s.value), event.type, to, guard, actions));
  }
  const [next, actions] = transition(orderMachine, s, event);
  const effects = (actions as readonly { type: string; params?: unknown }[])
    .filter((a) => a.type === 'xstate.emit')
    .map((a) => (a.params as { event: OrderEffect }).event);
  return { next, effects };
}

/** Runs events in order; returns the last snapshot and every effect, each with the time of its event. */
function run(s: Snap, events: readonly OrderEvent[]): { s: Snap; effects: (OrderEffect & { at: number })[] } {
  const effects: (OrderEffect & { at: number })[] = [];
  for (const e of events) {
    const r = step(s, e);
    s = r.next;
    effects.push(...r.effects.map((x) => ({ ...x, at: e.at })));
  }
  return { s, effects };
}

const of = (effects: readonly { type: string }[], type: string) => effects.filter((e) => e.type === type).length;
const wake = (at: number): OrderEvent => ({ type: 'WAKE', at });

describe('the order protocol, step by step', () => {
  it('ack deadline: asked at once, a hanging query is not repeated, TIMED_OUT after 1 + queryRetries slots, cancel sent', () => {
    const s0 = start();
    expect(s0.context.wakeAt).toBe(1_000);
    const { s, effects } = run(s0, [wake(1_000), wake(1_100), wake(1_200), wake(1_300)]);
    expect(of(effects, 'query')).toBe(1); // the first query hangs: its slot passes, no second one
    expect(s.value).toBe('TIMED_OUT');
    expect(effects.filter((e) => e.type !== 'query').map((e) => e.type)).toEqual(['cancel', 'ended']);
    expect(s.context.wakeAt).toBe(1_300 + TIMING.cancelTimeoutMs); // the timeout's cancel is asked about
  });

  it('ack deadline: a failed query frees its slot, so the next slot asks again', () => {
    let s = start();
    let queries = 0;
    for (const at of [1_000, 1_100, 1_200]) {
      const r = run(s, [wake(at)]);
      s = r.s;
      for (const q of r.effects.filter((e) => e.type === 'query')) {
        queries++;
        s = step(s, { type: 'QUERY_FAILED', queryId: (q as { queryId: number }).queryId, at: at + 10 }).next;
      }
    }
    expect(queries).toBe(1 + TIMING.queryRetries);
    expect(run(s, [wake(1_300)]).s.value).toBe('TIMED_OUT');
  });

  it('a stale "not known" (news arrived after the query was sent) changes nothing; a fresh one decides', () => {
    let s = run(start(), [{ type: 'ACCEPTED', venueOrderId: 'V1', at: 10 }]).s;
    const asked = { newsAtSend: s.context.news, cancelsAtSend: s.context.cancelsSent };
    s = run(s, [{ type: 'FILL', quantity: '0.5', at: 20 }]).s;
    expect(run(s, [{ type: 'NOT_FOUND', ...asked, at: 30 }]).s.value).toBe('PARTIALLY_FILLED');
    const fresh = { newsAtSend: s.context.news, cancelsAtSend: s.context.cancelsSent };
    const lost = run(s, [{ type: 'NOT_FOUND', ...fresh, at: 30 }]);
    expect(lost.s.value).toBe('CANCELLED');
    expect(lost.effects.map((e) => e.type)).toContain('anomaly'); // VENUE_LOST_ORDER
  });

  it('cancel pacing: a cancel due sooner than queryIntervalMs after the previous one goes out when it has passed', () => {
    let r = run(start(), [
      { type: 'ACCEPTED', venueOrderId: 'V1', at: 10 },
      { type: 'CANCEL', at: 2_000 },
      { type: 'CANCEL_REJECTED', reason: 'busy', at: 2_010 },
      { type: 'CANCEL', at: 2_050 },
    ]);
    expect(r.effects.filter((e) => e.type === 'cancel').map((e) => e.at)).toEqual([2_000]);
    expect(r.s.context.wakeAt).toBe(2_100);
    r = run(r.s, [wake(2_100)]);
    expect(r.effects.map((e) => e.type)).toEqual(['cancel']);
  });

  it('an unconfirmed cancel: CANCEL_UNCONFIRMED once, then the slow pace, the cancel sent again with its queries', () => {
    let r = run(start(), [
      { type: 'ACCEPTED', venueOrderId: 'V1', at: 10 },
      { type: 'CANCEL', at: 2_000 },
    ]);
    const effects: { type: string; at: number }[] = [...r.effects];
    let s = r.s;
    for (let i = 0; i < 40 && s.context.wakeAt !== null; i++) {
      r = run(s, [wake(s.context.wakeAt)]);
      s = r.s;
      effects.push(...r.effects);
      // A JSON round trip (a reload or a restart) in the middle loses nothing.
      if (i === 5) s = orderMachine.resolveState(JSON.parse(JSON.stringify(s)));
    }
    expect(effects.filter((e) => e.type === 'anomaly')).toHaveLength(1);
    const slow = effects.filter((e) => e.type === 'cancel' && e.at > 3_200).map((e) => e.at);
    expect(slow.length).toBeGreaterThan(3);
    for (let i = 1; i < slow.length; i++) expect(slow[i]! - slow[i - 1]!).toBe(10 * TIMING.queryIntervalMs);
    expect(s.value).toBe('CANCEL_PENDING'); // never assumed
  });

  it('placement retries: backing off, only before the ack deadline, at most placeRetries more', () => {
    let r = run(start(), [{ type: 'PLACE_FAILED', at: 10 }]);
    expect(r.s.context.wakeAt).toBe(260);
    r = run(r.s, [wake(260), { type: 'PLACE_FAILED', at: 270 }]);
    expect(r.effects.map((e) => e.type)).toEqual(['place']);
    expect(r.s.context.wakeAt).toBe(770);
    r = run(r.s, [wake(770), { type: 'PLACE_FAILED', at: 780 }]);
    expect(r.effects.map((e) => e.type)).toEqual(['place']);
    expect(r.s.context.placeRetryAt).toBeNull(); // 1 + placeRetries sent: the ack timeout decides
  });

  it('recovery: a PENDING order the venue does not know is placed again before its deadline', () => {
    const asked = { newsAtSend: 0, cancelsAtSend: 0 };
    const r = run(start(), [{ type: 'NOT_FOUND', ...asked, recovering: true, at: 500 }]);
    expect(r.s.value).toBe('PENDING');
    expect(r.effects.map((e) => e.type)).toEqual(['place']);
    expect(run(start(), [{ type: 'NOT_FOUND', ...asked, at: 500 }]).effects).toEqual([]);
  });

  it('a venue-reported end is never reopened; an end the handler concluded is', () => {
    const timedOut = run(start(), [wake(1_000), wake(1_100), wake(1_200), wake(1_300)]).s;
    const venueCancelled = run(timedOut, [{ type: 'CANCELLED', at: 1_400 }]).s;
    expect(run(venueCancelled, [{ type: 'ACCEPTED', venueOrderId: 'V1', at: 1_500 }]).s.value).toBe('CANCELLED');
    const late = run(timedOut, [{ type: 'ACCEPTED', venueOrderId: 'V1', at: 1_500 }]);
    expect(late.s.value).toBe('CANCEL_PENDING');
  });

  it('modify: MODIFY_PENDING with the requested values recorded, MODIFIED puts the venue values in force, one at a time', () => {
    const open = run(start(), [{ type: 'ACCEPTED', venueOrderId: 'V1', at: 10 }]).s;
    const asked = run(open, [{ type: 'MODIFY', changes: { price: '101' }, at: 20 }]);
    expect(asked.s.value).toBe('MODIFY_PENDING');
    expect(asked.effects.map((e) => e.type)).toEqual(['modify']);
    expect(asked.s.context.modify?.modificationId).toBe('O1.1');
    expect(asked.s.can({ type: 'MODIFY', changes: { price: '102' }, at: 30 })).toBe(false); // one at a time
    const done = run(asked.s, [{ type: 'MODIFIED', quantity: '1', price: '101', newVenueOrderId: 'V2', at: 40 }]).s;
    expect(done.value).toBe('OPEN');
    expect(done.context).toMatchObject({ price: '101', venueOrderId: 'V2', formerVenueOrderIds: ['V1'], modify: null });
  });

  it('modify: a quantity at or below the filled one ends FILLED; a fill completing the old quantity waits while the modify raises it', () => {
    const pf = run(start(), [{ type: 'FILL', quantity: '0.6', at: 10 }]).s;
    const cut = run(pf, [{ type: 'MODIFY', changes: { quantity: '0.7' }, at: 20 }]).s;
    expect(run(cut, [{ type: 'MODIFIED', quantity: '0.5', at: 30 }]).s.value).toBe('FILLED');
    const raise = run(pf, [{ type: 'MODIFY', changes: { quantity: '2' }, at: 20 }]).s;
    const crossing = run(raise, [{ type: 'FILL', quantity: '0.4', at: 30 }]).s;
    expect(crossing.value).toBe('MODIFY_PENDING');
    expect(run(crossing, [{ type: 'MODIFY_REJECTED', reason: 'no', at: 40 }]).s.value).toBe('FILLED');
  });

  it('modify: unanswered, the venue is asked; other values once the queries are spent refuse it, never re-sent; MODIFY_UNCONFIRMED once', () => {
    const open = run(start(), [{ type: 'ACCEPTED', venueOrderId: 'V1', at: 10 }]).s;
    let r = run(open, [{ type: 'MODIFY', changes: { price: '101' }, at: 1_000 }]);
    let s = r.s;
    const effects = [...r.effects];
    for (let i = 0; i < 40 && s.context.wakeAt !== null; i++) {
      r = run(s, [wake(s.context.wakeAt)]);
      s = r.s;
      effects.push(...r.effects);
    }
    expect(of(effects, 'modify')).toBe(1); // never re-sent
    expect(effects.filter((e) => e.type === 'anomaly' && e.kind === 'MODIFY_UNCONFIRMED')).toHaveLength(1);
    expect(s.value).toBe('MODIFY_PENDING'); // never assumed
    const shows = (values: { price: string }) => ({
      type: 'QUERY_ANSWERED' as const,
      working: true,
      values,
      at: 90_000,
    });
    expect(run(s, [shows({ price: '101' })]).s).toMatchObject({ value: 'OPEN', context: { price: '101' } });
    const refused = run(s, [shows({ price: '100' })]).s;
    expect(refused).toMatchObject({ value: 'OPEN', context: { price: null, lastModify: { outcome: 'REJECTED' } } });
  });

  it('modify: cancel() while MODIFY_PENDING, then the modify answer still updates the values; CANCEL_REJECTED resumes MODIFY_PENDING', () => {
    const open = run(start(), [{ type: 'ACCEPTED', venueOrderId: 'V1', at: 10 }]).s;
    const both = run(open, [
      { type: 'MODIFY', changes: { price: '99' }, at: 20 },
      { type: 'CANCEL', at: 30 },
    ]).s;
    expect(both.value).toBe('CANCEL_PENDING');
    expect(run(both, [{ type: 'CANCEL_REJECTED', reason: 'no', at: 40 }]).s.value).toBe('MODIFY_PENDING');
    const modified = run(both, [{ type: 'MODIFIED', quantity: '1', price: '99', at: 40 }]).s;
    expect(modified).toMatchObject({ value: 'CANCEL_PENDING', context: { price: '99', modify: null } });
    const cancelled = run(both, [{ type: 'CANCELLED', at: 40 }]).s;
    expect(cancelled.context.modify).not.toBeNull(); // still asked about until resolved
    expect(run(cancelled, [{ type: 'MODIFY_REJECTED', reason: 'order gone', at: 50 }]).s.context.modify).toBeNull();
  });

  it('every protocol row of the machine is taken by a step (a sweep of each status with each protocol event)', () => {
    // Reach every status, then try each protocol event there, with a query in flight and a cancel outstanding where possible.
    const modifying: OrderEvent[] = [
      { type: 'ACCEPTED', venueOrderId: 'V1', at: 10 },
      { type: 'MODIFY', changes: { price: '101' }, at: 20 },
    ];
    const reach: OrderEvent[][] = [
      [],
      modifying,
      [...modifying, { type: 'FILL', quantity: '0.5', at: 30 }],
      [...modifying, { type: 'CANCEL', at: 30 }],
      [...modifying, { type: 'FILL', quantity: '1', at: 30 }],
      [...modifying, { type: 'CANCELLED', at: 30 }],
      [...modifying, { type: 'EXPIRED', at: 30 }],
      [...modifying, { type: 'REJECTED', reason: 'no', at: 30 }],
      // Answers that resolve a modify with the fills reaching the quantity (cut, or a raise refused).
      [
        { type: 'ACCEPTED', venueOrderId: 'V1', at: 10 },
        { type: 'FILL', quantity: '0.5', at: 15 },
        { type: 'MODIFY', changes: { quantity: '0.6' }, at: 20 },
        { type: 'FILL', quantity: '0.1', at: 25 },
      ],
      [
        { type: 'ACCEPTED', venueOrderId: 'V1', at: 10 },
        { type: 'FILL', quantity: '0.5', at: 15 },
        { type: 'MODIFY', changes: { quantity: '2' }, at: 20 },
        { type: 'FILL', quantity: '0.5', at: 25 },
      ],
      [
        { type: 'ACCEPTED', venueOrderId: 'V1', at: 10 },
        { type: 'FILL', quantity: '0.5', at: 15 },
        { type: 'MODIFY', changes: { quantity: '0.6' }, at: 20 },
        { type: 'CANCEL', at: 22 },
        { type: 'FILL', quantity: '0.1', at: 25 },
      ],
      // A raise outstanding, filled at the old quantity, then cancelled: a refusal leaves it FILLED.
      [
        { type: 'ACCEPTED', venueOrderId: 'V1', at: 10 },
        { type: 'FILL', quantity: '0.5', at: 15 },
        { type: 'MODIFY', changes: { quantity: '2' }, at: 20 },
        { type: 'FILL', quantity: '0.5', at: 25 },
        { type: 'CANCEL', at: 30 },
      ],
      [{ type: 'ACCEPTED', venueOrderId: 'V1', at: 10 }],
      [{ type: 'FILL', quantity: '0.5', at: 10 }],
      [{ type: 'CANCEL', at: 10 }],
      [{ type: 'FILL', quantity: '1', at: 10 }],
      [{ type: 'CANCELLED', at: 10 }],
      [{ type: 'REJECTED', reason: 'no', at: 10 }],
      [{ type: 'EXPIRED', at: 10 }],
      [wake(1_000), wake(1_100), wake(1_200), wake(1_300)],
    ];
    for (const path of reach) {
      const s = run(start(), path).s;
      const c = s.context;
      const token = { newsAtSend: c.news, cancelsAtSend: c.cancelsSent };
      const withQuery = run(s, [wake(Math.max(c.wakeAt ?? 5_000, 5_000))]).s;
      const events: OrderEvent[] = [
        wake(Math.max(c.wakeAt ?? 0, 9_000)),
        { type: 'QUERY_ANSWERED', queryId: 1, working: true, at: 9_000 },
        { type: 'QUERY_ANSWERED', working: true, values: c.modify?.requested ?? {}, at: 9_000 },
        { type: 'QUERY_ANSWERED', working: false, ended: true, values: {}, at: 9_000 },
        { type: 'MODIFIED', quantity: c.quantity, price: '105', at: 9_000 },
        { type: 'MODIFY_REJECTED', reason: 'no', at: 9_000 },
        { type: 'QUERY_FAILED', queryId: 1, at: 9_000 },
        { type: 'RESTORED', at: 9_000 },
        { type: 'PLACE_FAILED', at: 20 },
        { type: 'NOT_FOUND', newsAtSend: -1, cancelsAtSend: token.cancelsAtSend, at: 9_000 },
        { type: 'NOT_FOUND', ...token, at: 20 },
        { type: 'NOT_FOUND', ...token, recovering: true, at: 20 },
        { type: 'NOT_FOUND', ...token, cancelsAtSend: token.cancelsAtSend - 1, at: 9_000 },
        { type: 'NOT_FOUND', ...token, at: 9_000 },
      ];
      for (const e of events) step(s, e);
      step(withQuery, { type: 'NEWS', at: 9_000 });
      step(s, { type: 'NEWS', at: 9_000 });
    }
    // News while a query is in flight, in every status: a cancel's query is sent, then the status moves.
    const asking: OrderEvent[] = [
      { type: 'ACCEPTED', venueOrderId: 'V1', at: 10 },
      { type: 'CANCEL', at: 20 },
      wake(1_020),
    ];
    const moves: OrderEvent[][] = [
      [],
      [{ type: 'CANCEL_REJECTED', reason: 'no', at: 1_030 }],
      [
        { type: 'FILL', quantity: '0.5', at: 1_030 },
        { type: 'CANCEL_REJECTED', reason: 'no', at: 1_040 },
      ],
      [{ type: 'FILL', quantity: '1', at: 1_030 }],
      [{ type: 'CANCELLED', at: 1_030 }],
      [{ type: 'REJECTED', reason: 'no', at: 1_030 }],
      [{ type: 'EXPIRED', at: 1_030 }],
    ];
    for (const move of moves) {
      const s = run(start(), [...asking, ...move]).s;
      expect(s.context.query).not.toBeNull();
      step(s, { type: 'NEWS', at: 1_050 });
    }
    const protocol = new Set([
      'WAKE',
      'QUERY_ANSWERED',
      'QUERY_FAILED',
      'PLACE_FAILED',
      'NEWS',
      'RESTORED',
      'NOT_FOUND',
    ]);
    const rows = transitionTable()
      .filter((r) => protocol.has(r.event))
      .map((r) => rowKey(r.from, r.event, r.to, r.guard, r.actions));
    const missing = rows.filter((r) => !taken.has(r));
    expect(missing).toEqual([]);
    console.log(`order protocol: ${rows.length} protocol rows of the machine taken by pure steps`);
  });
});

/** A random event for a random-walk over the machine, at a time not before `now`. */
const eventArb = fc.oneof(
  fc.constant({ kind: 'wake' as const }),
  fc.constant({ kind: 'cancel' as const }),
  fc.constant({ kind: 'accepted' as const }),
  fc.constant({ kind: 'cancelRejected' as const }),
  fc.constant({ kind: 'fill' as const }),
  fc.constant({ kind: 'queryFailed' as const }),
  fc.constant({ kind: 'placeFailed' as const }),
  fc.constant({ kind: 'notFound' as const }),
  fc.constant({ kind: 'roundTrip' as const }),
);

describe('the order protocol on random paths', () => {
  it('never sends a cancel sooner than queryIntervalMs after the previous one, records CANCEL_UNCONFIRMED at most once per outstanding cancel, and every wake-up moves the next one', () => {
    const seed = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`order protocol random paths: seed ${seed} (replay with FC_SEED=${seed})`);
    let steps = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(eventArb, fc.integer({ min: 0, max: 400 })), { maxLength: 80 }), (script) => {
        let s = start();
        let now = 0;
        let lastCancelAt: number | null = null;
        let unconfirmed = 0;
        for (const [e, dt] of script) {
          now += dt;
          steps++;
          const c = s.context;
          let event: OrderEvent | undefined;
          if (e.kind === 'wake') {
            if (c.wakeAt === null) continue;
            now = Math.max(now, c.wakeAt);
            event = wake(now);
          } else if (e.kind === 'cancel') event = { type: 'CANCEL', at: now };
          else if (e.kind === 'accepted') event = { type: 'ACCEPTED', venueOrderId: 'V1', at: now };
          else if (e.kind === 'cancelRejected') event = { type: 'CANCEL_REJECTED', reason: 'no', at: now };
          else if (e.kind === 'fill') event = { type: 'FILL', quantity: '0.1', at: now };
          else if (e.kind === 'queryFailed') event = { type: 'QUERY_FAILED', queryId: c.queriesSent, at: now };
          else if (e.kind === 'placeFailed') event = { type: 'PLACE_FAILED', at: now };
          else if (e.kind === 'notFound')
            event = { type: 'NOT_FOUND', newsAtSend: c.news, cancelsAtSend: c.cancelsSent, at: now };
          else {
            s = orderMachine.resolveState(JSON.parse(JSON.stringify(s)));
            continue;
          }
          if (!s.can(event)) continue;
          const wasOutstanding = s.context.cancelOutstanding;
          const { next, effects } = step(s, event);
          for (const x of effects) {
            if (x.type === 'cancel') {
              if (lastCancelAt !== null) expect(now - lastCancelAt).toBeGreaterThanOrEqual(TIMING.queryIntervalMs);
              lastCancelAt = now;
            }
            if (x.type === 'anomaly' && x.kind === 'CANCEL_UNCONFIRMED') unconfirmed++;
          }
          if (!next.context.cancelOutstanding || !wasOutstanding)
            unconfirmed = next.context.cancelOutstanding ? unconfirmed : 0;
          expect(unconfirmed).toBeLessThanOrEqual(1);
          if (event.type === 'WAKE' && next.context.wakeAt !== null) expect(next.context.wakeAt).toBeGreaterThan(now);
          s = next;
        }
      }),
      { seed, numRuns: 500 },
    );
    console.log(`order protocol random paths: ${steps} steps over 500 paths`);
  });
});
