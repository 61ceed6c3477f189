/**
 * Model-based command sequences (fast-check `fc.commands`): executes, acks, partial and full fills,
 * duplicate and late fills, rejections, venue cancels, engine cancels, cancel rejections, expiries,
 * modifies (raises, cuts, price changes, invalid quantities) with the venue's MODIFIED (by the
 * order's or the modification's id, sometimes a cancel-replace with a new venue id, or values the
 * venue chose itself) and MODIFY_REJECTED, time passing (the ack, cancel and modify deadlines and
 * their query cycles), the venue answering the handler's status queries (not known, working,
 * filled, ended, failed; showing the values in force or the requested ones), exact repeats and
 * malformed replies, run against the real handler and against the reference model of
 * test/support/reference-model.ts (the contract's rules, sections 4 and 4b, independent of the
 * XState machine). Every reply outcome, cancel() and modify() result, status, filled quantity,
 * quantity in force, leaves and modification sent must agree at every step, and every ledger change
 * must be a legal edge of the contract. The seed is printed (`FC_SEED` replays one), with the
 * commands run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLegalChange } from '../../src/sim/contract-table.js';
import type { OrderStatus } from '../../src/types.js';
import { createManualClock } from '../../src/clock.js';
import { createExecutionHandler } from '../../src/handler/create.js';
import { createMemoryLedger } from '../../src/ledger/memory.js';
import { seededRandom } from '../../src/random.js';
import { type DeferredQuery, type Harness, ScriptedVenue, T0, TIMING, directive, limit } from '../support/harness.js';
import {
  KNOWN_DEVIATIONS,
  type RefOrder,
  type RefVenueState,
  allowedOutcomes,
  fromMilli,
  newRefOrder,
  refAnswer,
  refCancel,
  refModify,
  refModifyNotApplied,
  refReply,
  refStatus,
  refTimePasses,
  refViewShowsModifyPending,
} from '../support/reference-model.js';
import { regressions } from '../support/regressions.js';

/** Quantities in thousandths: the order is 1000 (= "1"). */
const QTY = 1000;
const MAX_ORDERS = 4;

/** A status query the handler sent, with the model's news count for its order at that moment. */
interface Asked {
  order: number;
  news: number;
  /** Of those, repeats (KNOWN_DEVIATIONS.repeatNewsUncountedWithoutQueryInFlight). */
  repeatNews: number;
  answered: boolean;
  /** The order was final or TIMED_OUT after the query was sent (the handler may have released it). */
  endedSince: boolean;
}

interface Model {
  orders: RefOrder[];
  /** Every reply sent to each order, for exact repeats. */
  sent: Record<string, unknown>[][];
  now: number;
  /** The handler's queries, in the order the venue received them. */
  asked: Asked[];
}

interface Real {
  h: Harness;
  ids: string[];
}

/** What one property run did, and what all of them did together. */
interface Tally {
  run: number;
  answers: { notKnown: number; stale: number; state: number; failed: number };
  /** Section 4b: modify() answers, the venue's replies to it, and query answers that resolved one. */
  modify: {
    sent: number;
    refused: number;
    invalid: number;
    modified: number;
    rejected: number;
    answerModified: number;
    answerRejected: number;
    answerUndecided: number;
  };
}
const tally = (): Tally => ({
  run: 0,
  answers: { notKnown: 0, stale: 0, state: 0, failed: 0 },
  modify: {
    sent: 0,
    refused: 0,
    invalid: 0,
    modified: 0,
    rejected: 0,
    answerModified: 0,
    answerRejected: 0,
    answerUndecided: 0,
  },
});
let current = tally();

const ENDED: readonly OrderStatus[] = ['FILLED', 'REJECTED', 'CANCELLED', 'EXPIRED', 'TIMED_OUT'];

/** Checks every order in both worlds, and learns the queries the handler sent meanwhile. */
async function check(m: Model, real: Real): Promise<void> {
  for (const [i, o] of m.orders.entries()) {
    const id = real.ids[i]!;
    const view = real.h.handler.order(id) ?? (await real.h.ledger.getOrder(id));
    expect(view?.status, `order ${i}`).toBe(refStatus(o));
    expect(view?.filledQuantity, `order ${i} filled`).toBe(fromMilli(o.filled));
    expect(view?.orderDetails.quantity, `order ${i} quantity in force`).toBe(fromMilli(o.quantity));
    expect(Number(view?.orderDetails.price), `order ${i} price in force`).toBe(Number(o.price));
    const working = !['FILLED', 'CANCELLED', 'EXPIRED', 'REJECTED'].includes(refStatus(o));
    const leaves = working ? Math.max(0, o.quantity - o.filled) : 0;
    expect(view?.leavesQuantity, `order ${i} leaves: quantity - filled, never the venue's`).toBe(fromMilli(leaves));
    // The modifications asked (`${orderId}.${n}`, n >= 1); one the venue made on its own is listed as `.0`.
    const asked = (view?.modifications ?? []).filter((x) => !x.modificationId.endsWith('.0'));
    expect(asked.length, `order ${i} modifications sent`).toBe(o.modifies);
    expect(asked.at(-1)?.status === 'PENDING', `order ${i} a modify outstanding`).toBe(refViewShowsModifyPending(o));
    const changes = await real.h.ledger.getTransitions(id);
    expect(changes.map((x) => x.seq)).toEqual(changes.map((_, k) => k + 1));
    let status: OrderStatus = 'PENDING';
    for (const c of changes) {
      expect(c.from, `order ${i}: each change starts where the previous ended`).toBe(status);
      expect(isLegalChange(c.from, c.to), `Invariant: ${c.from} → ${c.to} is a row of the contract`).toBe(true);
      status = c.to;
    }
  }
  const deferred = real.h.venue.deferred;
  for (let k = m.asked.length; k < deferred.length; k++) {
    const order = real.ids.indexOf(deferred[k]!.ref.clientOrderId);
    expect(order, 'the handler asks only about orders it placed').toBeGreaterThanOrEqual(0);
    const o = m.orders[order]!;
    m.asked.push({ order, news: o.news, repeatNews: o.repeatNews, answered: false, endedSince: false });
  }
  for (const a of m.asked) if (ENDED.includes(refStatus(m.orders[a.order]!))) a.endedSince = true;
}

/** A command that counts itself when it runs (fast-check skips those whose `check` fails). */
abstract class Command implements fc.AsyncCommand<Model, Real> {
  abstract check: (m: Readonly<Model>) => boolean;
  protected abstract act(m: Model, real: Real): Promise<void>;
  async run(m: Model, real: Real): Promise<void> {
    current.run++;
    await this.act(m, real);
    await check(m, real);
  }
}

const target = (m: Readonly<Model>, i: number) => i % m.orders.length;

class Execute extends Command {
  override check = (m: Readonly<Model>) => m.orders.length < MAX_ORDERS;
  protected async act(m: Model, real: Real) {
    real.ids.push(await real.h.place());
    m.orders.push(newRefOrder(QTY, m.now));
    m.sent.push([]);
  }
  override toString = () => 'execute';
}

let seq = 0;

/**
 * A reply from the venue's stream to order `i`; `make` builds it from the model's order and its
 * OrderID (naming the order by it unless `make` names it otherwise, e.g. by a modification id).
 */
class Reply extends Command {
  constructor(
    readonly i: number,
    readonly make: (o: RefOrder, orderId: string) => Record<string, unknown>,
    readonly name: string,
  ) {
    super();
  }
  override check = (m: Readonly<Model>) => m.orders.length > 0;
  protected async act(m: Model, real: Real) {
    const i = target(m, this.i);
    const o = m.orders[i]!;
    const r: Record<string, unknown> = { clientOrderId: real.ids[i]!, ...this.make(o, real.ids[i]!) };
    if (r.type === 'MODIFIED') current.modify.modified++;
    if (r.type === 'MODIFY_REJECTED') current.modify.rejected++;
    m.sent[i]!.push(r);
    const status = refStatus(o);
    const expected = refReply(o, r, m.now);
    const got = await real.h.reply(r);
    expect(
      allowedOutcomes(expected),
      `${JSON.stringify(r)} on ${status}: the contract allows (left) the handler's answer`,
    ).toContain(got.outcome);
    if (expected.anomaly) expect(got).toMatchObject({ anomaly: expected.anomaly });
  }
  override toString = () => `${this.name}(${this.i})`;
}

class Cancel extends Command {
  constructor(readonly i: number) {
    super();
  }
  override check = (m: Readonly<Model>) => m.orders.length > 0;
  protected async act(m: Model, real: Real) {
    const i = target(m, this.i);
    const { returns } = refCancel(m.orders[i]!, m.now);
    expect(await real.h.handler.cancel(real.ids[i]!)).toBe(returns);
    await real.h.advance(0);
  }
  override toString = () => `cancel(${this.i})`;
}

/**
 * `modify()` with a new total quantity (thousandths) and/or price: true when a modify is now
 * outstanding, false in any other status, ValidationError for a quantity not above the filled one.
 */
class Modify extends Command {
  constructor(
    readonly i: number,
    readonly quantity: number | undefined,
    readonly price: string | undefined,
  ) {
    super();
  }
  override check = (m: Readonly<Model>) => m.orders.length > 0;
  protected async act(m: Model, real: Real) {
    const i = target(m, this.i);
    const o = m.orders[i]!;
    const { returns } = refModify(
      o,
      {
        ...(this.quantity === undefined ? {} : { quantity: this.quantity }),
        ...(this.price === undefined ? {} : { price: this.price }),
      },
      m.now,
    );
    const changes = {
      ...(this.quantity === undefined ? {} : { quantity: fromMilli(this.quantity) }),
      ...(this.price === undefined ? {} : { price: this.price }),
    };
    const got = await real.h.handler
      .modify(real.ids[i]!, changes)
      .catch((e: unknown) => ((e as Error).name === 'ValidationError' ? 'invalid' : Promise.reject(e)));
    expect(got, `modify(${JSON.stringify(changes)}) on ${refStatus(o)} filled ${fromMilli(o.filled)}`).toBe(returns);
    current.modify[returns === 'invalid' ? 'invalid' : returns ? 'sent' : 'refused']++;
    await real.h.advance(0);
  }
  override toString = () => `modify(${this.i}, ${this.quantity}, ${this.price})`;
}

/** An exact repeat of a reply already sent: a no-op. */
class Repeat extends Command {
  constructor(readonly i: number) {
    super();
  }
  override check = (m: Readonly<Model>) => m.sent.some((s) => s.length > 0);
  protected async act(m: Model, real: Real) {
    const candidates = m.sent.flatMap((s, k) => (s.length ? [k] : []));
    const sent = m.sent[candidates[this.i % candidates.length]!]!;
    expect((await real.h.reply(sent[this.i % sent.length]!)).outcome).toBe('duplicate');
  }
  override toString = () => `repeat(${this.i})`;
}

class Malformed extends Command {
  constructor(readonly junk: unknown) {
    super();
  }
  override check = () => true;
  protected async act(_m: Model, real: Real) {
    expect(await real.h.reply(this.junk as Record<string, unknown>)).toMatchObject({
      outcome: 'anomaly',
      anomaly: 'MALFORMED_REPLY',
    });
  }
  override toString = () => `malformed(${JSON.stringify(this.junk)})`;
}

/** Time passes with the venue silent: ack deadlines pass, queries go out, unanswered ones time orders out. */
class Wait extends Command {
  constructor(readonly ms: number) {
    super();
  }
  override check = (m: Readonly<Model>) => m.orders.length > 0;
  protected async act(m: Model, real: Real) {
    m.now += this.ms;
    for (const o of m.orders) refTimePasses(o, m.now, TIMING);
    await real.h.advance(this.ms);
  }
  override toString = () => `wait(${this.ms})`;
}

type AnswerKind = 'notKnown' | 'working' | 'workingNewFill' | 'filled' | 'CANCELLED' | 'EXPIRED' | 'REJECTED' | 'fail';

/**
 * What the venue says of an order: its fills so far (and maybe one more), a status, and the values
 * in force there: the requested ones when `applied` and a modify is outstanding (the venue applied
 * it), else the order's. A venue whose fills reach its quantity says FILLED.
 */
function venueState(o: RefOrder, i: number, kind: AnswerKind, applied: boolean): RefVenueState {
  const fills = [...o.fills].map(([venueFillId, f]) => ({
    venueFillId,
    quantity: fromMilli(f.quantity),
    price: f.price,
    at: T0,
  }));
  const requested = applied ? o.requested : undefined;
  const asked = requested?.quantity ?? o.quantity;
  let filled = o.filled;
  const more = (quantity: number) => {
    filled += quantity;
    fills.push({ venueFillId: `F${++seq}`, quantity: fromMilli(quantity), price: '10', at: T0 });
  };
  if (kind === 'workingNewFill' && asked - o.filled > 1) more(Math.min(300, asked - o.filled - 1));
  if (kind === 'filled') more(Math.max(1, asked - o.filled));
  const quantity = requested?.quantity === undefined ? o.quantity : Math.max(asked, filled);
  const status: RefVenueState['status'] =
    kind === 'REJECTED'
      ? 'REJECTED'
      : kind === 'filled' || filled >= quantity
        ? 'FILLED'
        : kind === 'working' || kind === 'workingNewFill'
          ? fills.length > 0
            ? 'PARTIALLY_FILLED'
            : 'OPEN'
          : (kind as 'CANCELLED' | 'EXPIRED');
  const price = requested?.price ?? o.price;
  return { venueOrderId: o.venueOrderId ?? `V${i}`, status, quantity: fromMilli(quantity), price, fills };
}

/**
 * The venue answers one of the handler's status queries still waiting; `applied`: it shows the
 * outstanding modify's values (it applied the modify) rather than those in force.
 */
class Answer extends Command {
  constructor(
    readonly k: number,
    readonly kind: AnswerKind,
    readonly applied: boolean,
  ) {
    super();
  }
  override check = (m: Readonly<Model>) => {
    const k = this.pick(m);
    if (k === undefined) return false;
    // KNOWN_DEVIATIONS.appliesStaleNotKnownAfterReload: the handler may apply this stale "not known".
    const a = m.asked[k]!;
    const o = m.orders[a.order]!;
    const stale = o.news > a.news;
    if (this.kind === 'notKnown' && KNOWN_DEVIATIONS.appliesStaleNotKnownAfterReload && a.endedSince && stale)
      return false;
    // KNOWN_DEVIATIONS.repeatNewsUncountedWithoutQueryInFlight: stale only by repeats, the handler may apply it.
    const onlyRepeats = o.repeatNews - a.repeatNews > 0;
    return !(
      this.kind === 'notKnown' &&
      KNOWN_DEVIATIONS.repeatNewsUncountedWithoutQueryInFlight &&
      stale &&
      onlyRepeats
    );
  };
  private pick(m: Readonly<Model>): number | undefined {
    const waiting = m.asked.flatMap((a, k) => (a.answered ? [] : [k]));
    return waiting[this.k % waiting.length];
  }
  protected async act(m: Model, real: Real) {
    const k = this.pick(m)!;
    const asked = m.asked[k]!;
    asked.answered = true;
    const query: DeferredQuery = real.h.venue.deferred[k]!;
    const o = m.orders[asked.order]!;
    if (this.kind === 'fail') {
      current.answers.failed++;
      query.fail();
    } else {
      const state = this.kind === 'notKnown' ? null : venueState(o, asked.order, this.kind, this.applied);
      // When the handler sends cancels again is its protocol: a "not known" may or may not settle one.
      const { stale, modify } = refAnswer(
        o,
        query.ref.clientOrderId,
        state,
        { news: asked.news, cancelSentSince: 'unknown' },
        m.now,
      );
      if (state === null) current.answers[stale ? 'stale' : 'notKnown']++;
      else current.answers.state++;
      if (modify === 'MODIFIED') current.modify.answerModified++;
      if (modify === 'MODIFY_REJECTED') current.modify.answerRejected++;
      query.answer(state === null ? null : structuredClone(state));
      await real.h.advance(0);
      if (modify === 'undecided') await this.followHandler(o, real.ids[asked.order]!, real, m.now);
    }
    await real.h.advance(0);
  }
  /**
   * Other values on an order the venue still works refuse the modify only once its queries are
   * spent (section 4b), which the model does not time: the handler's view says which it did, and
   * the model follows (MODIFY_REJECTED NOT_APPLIED_AT_VENUE, or still outstanding).
   */
  private async followHandler(o: RefOrder, id: string, real: Real, now: number) {
    const view = real.h.handler.order(id) ?? (await real.h.ledger.getOrder(id));
    const last = view?.modifications?.filter((x) => !x.modificationId.endsWith('.0')).at(-1);
    current.modify.answerUndecided++;
    if (last?.status !== 'PENDING') {
      expect(last?.reason, 'a modify refused by a query answer').toBe('NOT_APPLIED_AT_VENUE');
      refModifyNotApplied(o, now);
    }
  }
  override toString = () => `answer(${this.k}, ${this.kind}${this.applied ? ', applied' : ''})`;
}

const idx = fc.nat({ max: 30 });
const reply = (name: string, make: (o: RefOrder, i: number) => Record<string, unknown>) =>
  idx.map((i) => new Reply(i, (o) => make(o, i), name));

const wait = fc.constantFrom(100, 300, 1_000, 1_301).map((ms) => new Wait(ms));
const answer = fc
  .tuple(
    idx,
    fc.constantFrom<AnswerKind>(
      'notKnown',
      'notKnown',
      'working',
      'workingNewFill',
      'filled',
      'CANCELLED',
      'EXPIRED',
      'REJECTED',
      'fail',
    ),
    fc.boolean(),
  )
  .map(([k, kind, applied]) => new Answer(k, kind, applied));

/** modify(): a raise, a cut (maybe not above the filled quantity: ValidationError), and/or a new price. */
const modify = fc
  .tuple(
    idx,
    fc.option(fc.constantFrom(200, 500, 800, 1_500, 2_000), { nil: undefined }),
    fc.option(fc.constantFrom('99', '101', '100'), { nil: undefined }),
  )
  .filter(([, quantity, price]) => quantity !== undefined || price !== undefined)
  .map(([i, quantity, price]) => new Modify(i, quantity, price));

/**
 * The venue's MODIFIED: the outstanding modify's values (by the order's id or the modification's,
 * sometimes as a cancel-replace with a new venue id), or, with none outstanding, values the venue
 * chose itself (a cut to 0.7, or the values in force restated).
 */
const modified = fc.tuple(idx, fc.boolean(), fc.boolean(), fc.boolean()).map(
  ([i, byModificationId, replace, restate]) =>
    new Reply(
      i,
      (o, orderId) => {
        const quantity = o.requested?.quantity ?? (restate ? o.quantity : 700);
        const price = o.requested?.price ?? o.price;
        return {
          type: 'MODIFIED',
          ...(byModificationId && o.modifies > 0 ? { clientOrderId: `${orderId}.${o.modifies}` } : {}),
          ...(replace && o.requested ? { newVenueOrderId: `V${i}r${o.modifies}` } : {}),
          quantity: fromMilli(quantity),
          price,
          at: ++seq,
        };
      },
      'modified',
    ),
);

const commands = fc.commands(
  [
    fc.constant(new Execute()),
    fc.constant(new Execute()),
    reply('ack', (o, i) => ({ type: 'ACCEPTED', venueOrderId: o.venueOrderId ?? `V${i}`, at: ++seq })),
    fc
      .tuple(idx, fc.integer({ min: 1, max: 600 }))
      .map(
        ([i, q]) =>
          new Reply(
            i,
            () => ({ type: 'FILL', venueFillId: `F${++seq}`, quantity: fromMilli(q), price: '10', at: seq }),
            'partialFill',
          ),
      ),
    reply('fill', (o) => ({
      type: 'FILL',
      venueFillId: `F${++seq}`,
      quantity: fromMilli(Math.max(1, QTY - o.filled)),
      price: '10',
      at: seq,
    })),
    reply('duplicateFill', (o, i) => {
      const [venueFillId, f] = [...o.fills.entries()][i % Math.max(1, o.fills.size)] ?? ['F0', { quantity: 1 }];
      return { type: 'FILL', venueFillId, quantity: fromMilli(f.quantity), price: '10', at: ++seq }; // same fill, new `at`
    }),
    reply('reject', () => ({ type: 'REJECTED', reason: 'risk', at: ++seq })),
    reply('venueCancelled', () => ({ type: 'CANCELLED', at: ++seq })),
    reply('expire', () => ({ type: 'EXPIRED', at: ++seq })),
    reply('cancelReject', () => ({ type: 'CANCEL_REJECTED', reason: 'too late', at: ++seq })),
    idx.map((i) => new Cancel(i)),
    modify,
    modify,
    modified,
    reply('modifyReject', () => ({ type: 'MODIFY_REJECTED', reason: 'would cross', at: ++seq })),
    idx.map((i) => new Repeat(i)),
    // Time and the venue's answers weigh more: they drive the query cycle.
    wait,
    wait,
    answer,
    answer,
    answer,

    fc
      .oneof(
        fc.anything(),
        fc.record({
          type: fc.constantFrom('FILL', 'ACCEPTED', 'NOPE'),
          quantity: fc.oneof(fc.double(), fc.string()),
          at: fc.oneof(fc.double(), fc.string()),
        }),
      )
      .filter((j) => !(typeof j === 'object' && j !== null && 'clientOrderId' in j))
      .map((j) => new Malformed(j)),
  ],
  { maxCommands: 60, size: 'large' },
);

/**
 * The handler on a plain manual clock, the memory ledger and the scripted venue (which still checks
 * write-ahead on every placement). Not `harness()`: its draining clock runs a timer set at zero
 * delay before `advance()` only once some later timer falls due, so an order back in PENDING after
 * its ack deadline is never asked about nor timed out there; the time-passing commands need the
 * timers to fire when due. Switch back to `harness()` once its clock does.
 */
async function rig(): Promise<Harness> {
  const clock = createManualClock(T0);
  const ledger = createMemoryLedger({ strategyId: 'S1' });
  const venue = new ScriptedVenue(ledger);
  const errors: unknown[] = [];
  const handler = await createExecutionHandler({
    strategyId: 'S1',
    connector: venue,
    ledger,
    clock,
    random: seededRandom(42),
    onError: (e) => errors.push(e),
    ...TIMING,
  });
  return {
    clock,
    venue,
    ledger,
    handler,
    events: [],
    errors,
    async place(order = limit()) {
      const { orderIds } = await handler.execute(directive([order]));
      await clock.advance(0);
      return orderIds[0]!;
    },
    async reply(r) {
      const out = await handler.onExchangeReply(r);
      await clock.advance(0);
      return out;
    },
    advance: (ms) => clock.advance(ms),
    status: (id) => handler.order(id)?.status,
  };
}

/** One run: a fresh handler whose venue holds every status query for the commands to answer. */
async function runCommands(cmds: Iterable<fc.AsyncCommand<Model, Real>>): Promise<Model> {
  const h = await rig();
  h.venue.defaultQuery = 'defer';
  const model: Model = { orders: [], sent: [], now: T0, asked: [] };
  try {
    // Every run starts with an order, so no command waits idle for the first one.
    await fc.asyncModelRun(() => ({ model, real: { h, ids: [] } }), [new Execute(), ...cmds]);
  } finally {
    await h.handler.stop();
  }
  return model;
}

describe('model-based command sequences', () => {
  it.each(regressions('commands').map((r) => [r.seed, r] as const))(
    'regression seed %i replays clean',
    async (_seed, r) => {
      const property = fc.asyncProperty(commands, async (cmds) => {
        await runCommands(cmds);
      });
      await fc.assert(property, r.path ? { seed: r.seed, path: r.path, numRuns: 1 } : { seed: r.seed, numRuns: 100 });
    },
  );

  it('the handler agrees with the reference model on every step', async () => {
    const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
    const numRuns = Number(process.env.FC_RUNS ?? 2_000);
    console.log(`model-based commands: seed ${seed}, ${numRuns} runs (replay with FC_SEED=${seed})`);
    const reached = new Set<string>();
    const perRun: number[] = [];
    const total = tally();
    let generated = 0;
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        current = tally();
        const model = await runCommands(cmds);
        generated += [...cmds].length;
        perRun.push(current.run);
        total.run += current.run;
        for (const key of Object.keys(total.answers) as (keyof Tally['answers'])[])
          total.answers[key] += current.answers[key];
        for (const key of Object.keys(total.modify) as (keyof Tally['modify'])[])
          total.modify[key] += current.modify[key];
        for (const o of model.orders) reached.add(refStatus(o));
      }),
      { seed, numRuns },
    );
    const sorted = [...perRun].sort((a, b) => a - b);
    const a = total.answers;
    const md = total.modify;
    console.log(
      `model-based commands: seed ${seed}: ${total.run} commands run of ${generated} generated, over ${perRun.length} runs ` +
        `(per run: min ${sorted[0]}, median ${sorted[sorted.length >> 1]}, max ${sorted.at(-1)}); ` +
        `query answers: ${a.notKnown} "not known" applied, ${a.stale} stale, ${a.state} with the order's state, ${a.failed} failed; ` +
        `modify(): ${md.sent} sent, ${md.refused} false, ${md.invalid} ValidationError; ` +
        `${md.modified} MODIFIED and ${md.rejected} MODIFY_REJECTED replies; ` +
        `answers with a modify outstanding: ${md.answerModified} counted as MODIFIED, ${md.answerRejected} as MODIFY_REJECTED (ended there), ${md.answerUndecided} with other values on a working order; ` +
        `statuses seen at the end: ${[...reached].sort().join(', ')}`,
    );
    // The runs must reach every status and take every kind of answer, or they are too tame to prove anything.
    expect(reached.size).toBe(10);
    expect(
      Math.min(a.notKnown, a.stale, a.state, a.failed),
      'every kind of query answer was exercised',
    ).toBeGreaterThan(0);
    expect(
      Math.min(md.sent, md.refused, md.invalid, md.modified, md.rejected, md.answerModified, md.answerRejected),
      'every kind of modify, reply and answer was exercised',
    ).toBeGreaterThan(0);
  }, 600_000);

  it('KNOWN_DEVIATIONS tells the truth: a stale "not known" is applied to an order reloaded after a late fill', async () => {
    const h = await rig();
    h.venue.defaultQuery = 'defer';
    const id = await h.place();
    await h.reply({ type: 'FILL', clientOrderId: id, venueFillId: 'F1', quantity: '0.3', price: '10', at: 1 });
    await h.handler.cancel(id);
    // The cancel goes unanswered: query A at the cancel deadline, abandoned at the slow pace, then query B.
    const { cancelTimeoutMs, queryRetries, queryIntervalMs } = TIMING;
    await h.advance(cancelTimeoutMs + (queryRetries + 1) * queryIntervalMs + 10 * queryIntervalMs);
    const [queryA, queryB] = h.venue.deferred;
    queryB!.answer(null); // decisive: CANCELLED as NOT_FOUND_AT_VENUE before any ack, so given up on
    await h.advance(0);
    await h.reply({ type: 'FILL', clientOrderId: id, venueFillId: 'F2', quantity: '0.3', price: '10', at: 2 });
    expect(h.status(id), 'late news reopens an order given up on').toBe('CANCEL_PENDING');
    queryA!.answer(null); // asked before the late fill: stale by the contract, to be ignored
    await h.advance(0);
    // When the handler keeps the contract here, set the flag to false: the runs then answer such queries too.
    expect(h.status(id)).toBe(KNOWN_DEVIATIONS.appliesStaleNotKnownAfterReload ? 'CANCELLED' : 'CANCEL_PENDING');
    await h.handler.stop();
  });

  it('KNOWN_DEVIATIONS tells the truth: a stale "not known" is applied when the news since it is a repeated fill that arrived with no query in flight', async () => {
    const h = await rig();
    h.venue.defaultQuery = 'defer';
    const id = await h.place();
    await h.reply({ type: 'FILL', clientOrderId: id, venueFillId: 'F1', quantity: '0.3', price: '10', at: 1 });
    await h.handler.cancel(id);
    // The cancel goes unanswered: query A at the cancel deadline, abandoned, then query B at the slow pace, which fails.
    const { cancelTimeoutMs, queryRetries, queryIntervalMs } = TIMING;
    await h.advance(cancelTimeoutMs + (queryRetries + 1) * queryIntervalMs + 10 * queryIntervalMs);
    const [queryA, queryB] = h.venue.deferred;
    queryB!.fail();
    await h.advance(0);
    // The venue names the order again (a repeated fill with another `at`: news, ADR 0007) ...
    expect(
      (await h.reply({ type: 'FILL', clientOrderId: id, venueFillId: 'F1', quantity: '0.3', price: '10', at: 2 }))
        .outcome,
    ).toBe('duplicate');
    queryA!.answer(null); // ... so this answer, asked before it, is stale by the contract
    await h.advance(0);
    // When the handler keeps the contract here, set the flag to false: the runs then answer such queries too.
    expect(h.status(id) ?? (await h.ledger.getOrder(id))?.status).toBe(
      KNOWN_DEVIATIONS.repeatNewsUncountedWithoutQueryInFlight ? 'CANCELLED' : 'CANCEL_PENDING',
    );
    await h.handler.stop();
  });
});
