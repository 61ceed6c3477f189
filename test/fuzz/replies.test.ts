/**
 * Fuzzing the reply path: 10,000 malformed or hostile replies per run (arbitrary JSON and values,
 * wrong types, NaN and infinities, negative, huge and exponent quantities, unknown ids and types,
 * prototype-polluting keys, huge strings, getters that throw), fed to a handler with live orders.
 * No exception may escape, every input must end up recorded as exactly one anomaly with its reason
 * and its raw content (JSON-safe, truncated; the input itself when it is short plain JSON), and no
 * order may change. The seed is printed; FUZZ_SEED replays one.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnomalyRecord } from '../../src/ledger/types.js';
import { TIMING, harness } from '../support/harness.js';
import { regressions } from '../support/regressions.js';

const ids = fc.oneof(
  fc.string(),
  fc.constantFrom('', 'ORD_20260102_030405_00000000', 'x'.repeat(300)),
  fc.integer(),
  fc.constant(null),
);
const quantities = fc.oneof(
  fc.constantFrom(
    '-1',
    '0',
    'NaN',
    'Infinity',
    '1e400',
    '1e-7',
    '0x10',
    ' 1',
    '1.',
    '.5',
    '1,5',
    '99999999999999999999999999999999999',
  ),
  fc.double(),
  fc.string(),
  fc.bigInt().map((b) => b.toString()),
);
const types = fc.oneof(
  fc.constantFrom('ACCEPTED', 'FILL', 'REJECTED', 'CANCELLED', 'CANCEL_REJECTED', 'EXPIRED', 'PARTIAL', 'fill', ''),
  fc.string(),
);
const shaped = fc.record(
  {
    type: types,
    clientOrderId: ids,
    venueOrderId: ids,
    venueFillId: ids,
    quantity: quantities,
    price: quantities,
    reason: fc.oneof(fc.string(), fc.integer()),
    at: fc.oneof(fc.double(), fc.integer(), fc.string()),
  },
  { requiredKeys: [] },
);
const polluting = fc
  .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.jsonValue())
  .map(
    ([key, value]) =>
      JSON.parse(`{"type":"FILL","${key}":${JSON.stringify(value) ?? 'null'},"quantity":"1"}`) as unknown,
  );
const throwing = fc.string().map((msg) =>
  Object.defineProperty({ type: 'FILL' }, 'quantity', {
    enumerable: true,
    get() {
      throw new Error(msg);
    },
  }),
);
const hostile = fc.oneof(
  {
    arbitrary: fc.anything({
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withNullPrototype: true,
    }),
    weight: 3,
  },
  { arbitrary: fc.jsonValue(), weight: 2 },
  { arbitrary: shaped, weight: 5 },
  { arbitrary: polluting, weight: 1 },
  { arbitrary: throwing, weight: 1 },
  {
    arbitrary: fc
      .string({ minLength: 10_000, maxLength: 20_000 })
      .map((s) => ({ type: 'REJECTED', reason: s, clientOrderId: s, at: 1 })),
    weight: 1,
  },
);

/** The input as plain JSON when it is exactly that (no NaN, -0, getters, prototypes…), else undefined. */
function plainJson(input: unknown): unknown {
  try {
    const json = JSON.stringify(input);
    if (json === undefined) return undefined;
    const copy: unknown = JSON.parse(json);
    return isDeepStrictEqual(copy, input) ? copy : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The anomaly `a` recorded for `input` keeps its raw content: present (unless the input was
 * undefined), JSON-safe, short, and, when the input is plain JSON short enough to keep whole, the
 * input itself (MALFORMED_REPLY) or the input's known fields (any other anomaly).
 */
function expectRawRecorded(a: AnomalyRecord, input: unknown): void {
  if (input === undefined) return;
  expect(a.reply, 'Invariant: a malformed reply is recorded with its raw content').toBeDefined();
  const json = JSON.stringify(a.reply);
  expect(JSON.parse(json), 'Invariant: the recorded raw reply is JSON-safe').toEqual(a.reply);
  expect(json.length, 'Invariant: the recorded raw reply is truncated').toBeLessThan(2_500);
  const plain = plainJson(input);
  if (plain === undefined || JSON.stringify(plain).length > 1_000) return;
  // A malformed reply is kept as it came; a well-formed one (an unknown order's) as parsed, its
  // unknown keys dropped: then every recorded field is the input's.
  if (a.kind === 'MALFORMED_REPLY') expect(a.reply).toEqual(plain);
  else expect(plain).toMatchObject(a.reply as object);
}

async function fuzz(seed: number, numRuns: number): Promise<void> {
  const h = await harness();
  h.venue.defaultQuery = 'hang';
  const open = await h.place();
  await h.reply({ type: 'ACCEPTED', clientOrderId: open, venueOrderId: 'VENUE-REAL-1', at: 1 });
  const partial = await h.place();
  await h.reply({
    type: 'FILL',
    clientOrderId: partial,
    venueOrderId: 'VENUE-REAL-2',
    venueFillId: 'F-REAL',
    quantity: '0.5',
    price: '1',
    at: 1,
  });
  const pending = await h.place();
  const views = [open, partial, pending].map((id) => JSON.stringify(h.handler.order(id)));
  const anomaliesBefore = (await h.ledger.getAnomalies()).length;
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(hostile, async (input) => {
      sent++;
      const out = await h.handler.onExchangeReply(input);
      expect(['anomaly', 'held']).toContain(out.outcome);
      if (out.outcome === 'anomaly') expectRawRecorded((await h.ledger.getAnomalies()).at(-1)!, input);
    }),
    { seed, numRuns },
  );
  // Replies held for an unknown venue id become UNKNOWN_ORDER once the ack timeout passes.
  await h.advance(TIMING.ackTimeoutMs + 1);
  const anomalies = (await h.ledger.getAnomalies()).slice(anomaliesBefore);
  expect(anomalies.length).toBe(sent);
  for (const a of anomalies) {
    expect(['MALFORMED_REPLY', 'UNKNOWN_ORDER']).toContain(a.kind);
    expect(a.reason.length).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(a)), 'Invariant: an anomaly record is JSON-safe').toEqual(a);
    expect(JSON.stringify(a).length, 'Invariant: raw replies are kept truncated').toBeLessThan(5_000);
  }
  expect([open, partial, pending].map((id) => JSON.stringify(h.handler.order(id)))).toEqual(views);
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  await h.handler.stop();
}

describe('fuzzing replies', () => {
  it.each(regressions('fuzz').map((r) => [r.seed] as const))('regression seed %i', async (seed) => {
    await fuzz(seed, 2_000);
  });

  it('10,000 hostile replies: never an exception, always one anomaly each with its reason and its raw content (JSON-safe, truncated), no order changed', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    console.log(`fuzzing replies: seed ${seed} (replay with FUZZ_SEED=${seed})`);
    await fuzz(seed, Number(process.env.FUZZ_RUNS ?? 10_000));
  }, 600_000);
});
