/**
 * Model-based command sequences (fast-check `fc.commands`): executes, acks, partial and full fills,
 * duplicate and late fills, rejections, venue cancels, engine cancels, cancel rejections, expiries,
 * clock jumps past the ack deadline, exact repeats and malformed replies, run against the real
 * handler and against a small reference model of the contract's table written here, independently
 * of the XState machine. Every outcome, status and filled quantity must agree, at every step.
 * 1,000 runs; the seed is printed and `FC_SEED` replays one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OrderStatus, ReplyOutcome } from '../../src/types.js';
import { type Harness, TIMING, harness } from '../support/harness.js';
import { regressions } from '../support/regressions.js';

/** Quantities in thousandths: the order is 1000 (= "1"). */
const QTY = 1000;
const dec = (milli: number): string => (milli / 1000).toString();

interface ModelOrder {
  status: OrderStatus;
  filled: number;
  acknowledged: boolean;
  venueOrderId?: string;
  gaveUp: boolean;
  cancelOutstanding: boolean;
  fills: Map<string, number>;
  keys: Set<string>;
  sent: Record<string, unknown>[];
}

interface Model {
  orders: ModelOrder[];
}

interface Real {
  h: Harness;
  ids: string[];
}

type Expect = { outcome: ReplyOutcome['outcome']; anomaly?: string };
const FINAL: OrderStatus[] = ['FILLED', 'REJECTED', 'CANCELLED', 'EXPIRED'];
const WORKING: OrderStatus[] = ['PENDING', 'OPEN', 'PARTIALLY_FILLED'];

const newOrder = (): ModelOrder => ({
  status: 'PENDING',
  filled: 0,
  acknowledged: false,
  gaveUp: false,
  cancelOutstanding: false,
  fills: new Map(),
  keys: new Set(),
  sent: [],
});

const requestCancel = (o: ModelOrder): void => {
  o.cancelOutstanding = true;
};

/** The contract's rules for one reply, on the reference model. */
function modelReply(o: ModelOrder, r: Record<string, unknown>): Expect {
  const key = JSON.stringify(r);
  if (o.keys.has(key)) return { outcome: 'duplicate' };
  o.keys.add(key);
  const late: Expect = { outcome: 'anomaly', anomaly: 'LATE_REPLY' };
  switch (r.type) {
    case 'ACCEPTED': {
      const vid = r.venueOrderId as string;
      if (o.venueOrderId !== undefined && o.venueOrderId !== vid) return late;
      if (o.acknowledged && o.venueOrderId === vid) return { outcome: 'duplicate' };
      o.venueOrderId = vid;
      if (o.status === 'PENDING') {
        o.acknowledged = true;
        o.status = 'OPEN';
        return { outcome: 'applied' };
      }
      if (o.status === 'CANCEL_PENDING') {
        o.acknowledged = true;
        return { outcome: 'applied' };
      }
      if (o.status === 'TIMED_OUT' || (o.status === 'CANCELLED' && o.gaveUp)) {
        o.acknowledged = true;
        o.status = 'CANCEL_PENDING';
        requestCancel(o);
        return { outcome: 'applied' };
      }
      if (o.status === 'REJECTED') return late;
      o.acknowledged = true;
      return { outcome: 'duplicate' }; // PARTIALLY_FILLED, FILLED, CANCELLED, EXPIRED: id learnt
    }
    case 'FILL': {
      const q = Math.round(Number(r.quantity) * 1000);
      const known = o.fills.get(r.venueFillId as string);
      if (known !== undefined)
        return known === q ? { outcome: 'duplicate' } : { outcome: 'anomaly', anomaly: 'CONFLICTING_FILL' };
      o.fills.set(r.venueFillId as string, q);
      o.filled += q;
      const complete = o.filled >= QTY;
      const s = o.status;
      if (complete && s !== 'REJECTED') {
        o.status = 'FILLED';
        o.cancelOutstanding = false;
      } else if (s === 'PENDING' || s === 'OPEN') o.status = 'PARTIALLY_FILLED';
      else if (s === 'TIMED_OUT' || (s === 'CANCELLED' && o.gaveUp)) {
        o.status = 'CANCEL_PENDING';
        requestCancel(o);
      }
      return { outcome: 'applied' };
    }
    case 'REJECTED': {
      const s = o.status;
      if (s === 'PENDING' || s === 'OPEN' || s === 'TIMED_OUT' || (s === 'CANCEL_PENDING' && o.filled === 0)) {
        o.status = 'REJECTED';
        o.cancelOutstanding = false;
        o.gaveUp = false; // the venue reported the end: never reopened (contract section 4)
        return { outcome: 'applied' };
      }
      return late;
    }
    case 'CANCELLED':
    case 'EXPIRED': {
      if (FINAL.includes(o.status)) return late;
      o.status = r.type;
      o.cancelOutstanding = false;
      o.gaveUp = false; // the venue reported the end: never reopened (contract section 4)
      return { outcome: 'applied' };
    }
    case 'CANCEL_REJECTED': {
      if (!o.cancelOutstanding) return { outcome: 'duplicate' };
      if (o.status === 'TIMED_OUT') o.cancelOutstanding = false;
      else if (o.gaveUp) requestCancel(o);
      else {
        o.cancelOutstanding = false;
        o.status = o.filled > 0 ? 'PARTIALLY_FILLED' : o.acknowledged ? 'OPEN' : 'PENDING';
      }
      return { outcome: 'applied' };
    }
  }
  throw new Error(`unknown reply ${String(r.type)}`);
}

let seq = 0;

/** Sends a reply to order `i` in both worlds and compares. */
async function send(m: Model, real: Real, i: number, reply: Record<string, unknown>): Promise<void> {
  const o = m.orders[i]!;
  const id = real.ids[i]!;
  const r = { ...reply, clientOrderId: id };
  o.sent.push(r);
  const expected = modelReply(o, r);
  const got = await real.h.reply(r);
  expect(got.outcome, `${JSON.stringify(r)} on ${o.status}`).toBe(expected.outcome);
  if (expected.anomaly) expect(got).toMatchObject({ anomaly: expected.anomaly });
  await check(m, real);
}

async function check(m: Model, real: Real): Promise<void> {
  for (const [i, o] of m.orders.entries()) {
    const view = real.h.handler.order(real.ids[i]!) ?? (await real.h.ledger.getOrder(real.ids[i]!));
    expect(view?.status, `order ${i}`).toBe(o.status);
    expect(view?.filledQuantity, `order ${i} filled`).toBe(dec(o.filled));
    const t = await real.h.ledger.getTransitions(real.ids[i]!);
    expect(t.map((x) => x.seq)).toEqual(t.map((_, k) => k + 1));
  }
}

type Cmd = fc.AsyncCommand<Model, Real>;
const target = (m: Model, i: number) => i % m.orders.length;

class Execute implements Cmd {
  check = (m: Readonly<Model>) => m.orders.length < 3;
  async run(m: Model, real: Real) {
    real.ids.push(await real.h.place());
    m.orders.push(newOrder());
    await check(m, real);
  }
  toString = () => 'execute';
}

class Reply implements Cmd {
  constructor(
    readonly i: number,
    readonly make: (o: ModelOrder) => Record<string, unknown>,
    readonly name: string,
  ) {}
  check = (m: Readonly<Model>) => m.orders.length > 0;
  async run(m: Model, real: Real) {
    const i = target(m, this.i);
    await send(m, real, i, this.make(m.orders[i]!));
  }
  toString = () => `${this.name}(${this.i})`;
}

class Cancel implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.orders.length > 0;
  async run(m: Model, real: Real) {
    const i = target(m, this.i);
    const o = m.orders[i]!;
    const expected = !FINAL.includes(o.status);
    if (WORKING.includes(o.status)) {
      o.status = 'CANCEL_PENDING';
      requestCancel(o);
    } else if (o.status === 'TIMED_OUT') requestCancel(o);
    expect(await real.h.handler.cancel(real.ids[i]!)).toBe(expected);
    await real.h.advance(0);
    await check(m, real);
  }
  toString = () => `cancel(${this.i})`;
}

class Repeat implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.orders.some((o) => o.sent.length > 0);
  async run(m: Model, real: Real) {
    const candidates = m.orders.flatMap((o, k) => (o.sent.length ? [k] : []));
    const i = candidates[this.i % candidates.length]!;
    const o = m.orders[i]!;
    const r = o.sent[this.i % o.sent.length]!;
    expect((await real.h.reply(r)).outcome).toBe('duplicate');
    await check(m, real);
  }
  toString = () => `repeat(${this.i})`;
}

class Malformed implements Cmd {
  constructor(readonly junk: unknown) {}
  check = () => true;
  async run(m: Model, real: Real) {
    expect(await real.h.reply(this.junk as Record<string, unknown>)).toMatchObject({
      outcome: 'anomaly',
      anomaly: 'MALFORMED_REPLY',
    });
    await check(m, real);
  }
  toString = () => `malformed(${JSON.stringify(this.junk)})`;
}

/** Past the ack deadline and its queries (the venue never answers them): PENDING orders time out. */
class PastAckDeadline implements Cmd {
  check = (m: Readonly<Model>) => m.orders.length > 0;
  async run(m: Model, real: Real) {
    for (const o of m.orders) {
      if (o.status === 'PENDING') {
        o.status = 'TIMED_OUT';
        o.gaveUp = true;
        requestCancel(o);
      }
    }
    await real.h.advance(TIMING.ackTimeoutMs + (TIMING.queryRetries + 1) * TIMING.queryIntervalMs + 1);
    await check(m, real);
  }
  toString = () => 'pastAckDeadline';
}

const idx = fc.nat({ max: 30 });
const commands = fc.commands(
  [
    fc.constant(new Execute()),
    idx.map(
      (i) => new Reply(i, (o) => ({ type: 'ACCEPTED', venueOrderId: o.venueOrderId ?? `V${i}`, at: ++seq }), 'ack'),
    ),
    fc
      .tuple(idx, fc.integer({ min: 1, max: 600 }))
      .map(
        ([i, q]) =>
          new Reply(
            i,
            () => ({ type: 'FILL', venueFillId: `F${++seq}`, quantity: dec(q), price: '10', at: seq }),
            'partialFill',
          ),
      ),
    idx.map(
      (i) =>
        new Reply(
          i,
          (o) => ({
            type: 'FILL',
            venueFillId: `F${++seq}`,
            quantity: dec(Math.max(1, QTY - o.filled)),
            price: '10',
            at: seq,
          }),
          'fill',
        ),
    ),
    idx.map(
      (i) =>
        new Reply(
          i,
          (o) => {
            const [vf, q] = [...o.fills.entries()][i % Math.max(1, o.fills.size)] ?? ['F0', 1];
            return { type: 'FILL', venueFillId: vf, quantity: dec(q), price: '10', at: ++seq }; // same fill, new `at`
          },
          'duplicateFill',
        ),
    ),
    idx.map((i) => new Reply(i, () => ({ type: 'REJECTED', reason: 'risk', at: ++seq }), 'reject')),
    idx.map((i) => new Reply(i, () => ({ type: 'CANCELLED', at: ++seq }), 'venueCancelled')),
    idx.map((i) => new Reply(i, () => ({ type: 'EXPIRED', at: ++seq }), 'expire')),
    idx.map((i) => new Reply(i, () => ({ type: 'CANCEL_REJECTED', reason: 'too late', at: ++seq }), 'cancelReject')),
    idx.map((i) => new Cancel(i)),
    idx.map((i) => new Repeat(i)),
    fc.constant(new PastAckDeadline()),
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

const property = () =>
  fc.asyncProperty(commands, async (cmds) => {
    const h = await harness();
    h.venue.defaultQuery = 'hang';
    await fc.asyncModelRun(() => ({ model: { orders: [] }, real: { h, ids: [] } }), cmds);
    await h.handler.stop();
  });

describe('model-based command sequences', () => {
  it.each(regressions('commands').map((r) => [r.seed, r] as const))(
    'regression seed %i replays clean',
    async (_seed, r) => {
      await fc.assert(property(), r.path ? { seed: r.seed, path: r.path, numRuns: 1 } : { seed: r.seed, numRuns: 200 });
    },
  );

  it('the handler agrees with the reference model on every step', async () => {
    const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
    const numRuns = Number(process.env.FC_RUNS ?? 1_000);
    console.log(`model-based commands: seed ${seed}, ${numRuns} runs (replay with FC_SEED=${seed})`);
    const reached = new Set<string>();
    let steps = 0;
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        const h = await harness();
        h.venue.defaultQuery = 'hang';
        const model: Model = { orders: [] };
        await fc.asyncModelRun(() => ({ model, real: { h, ids: [] } }), cmds);
        steps += [...cmds].length;
        for (const o of model.orders) reached.add(o.status);
        await h.handler.stop();
      }),
      { seed, numRuns },
    );
    console.log(`model-based commands: ${steps} commands; final statuses seen: ${[...reached].sort().join(', ')}`);
    // The runs must reach every status, or the sequences are too tame to prove anything.
    expect(reached.size).toBe(9);
  }, 600_000);
});
