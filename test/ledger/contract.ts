/**
 * The ledger contract of section 7 as a reusable suite, run unchanged against every StrategyLedger
 * adapter (memory, SQLite, PostgreSQL), including atomicity proven by failing a mixed batch at
 * every record position and comparing the whole stored state with before, and modifications
 * (section 4b) read back from the change records and from the order's view through every read.
 */
import { describe, expect, it } from 'vitest';
import { recordOrder, updateOrderFill, updateOrderRejection } from '../../src/ledger/helpers.js';
import type {
  ChangeInput,
  LedgerOrder,
  LedgerUpdatedEvent,
  LedgerWrite,
  OrderRecordInput,
  StrategyLedger,
} from '../../src/ledger/types.js';
import { chain, limit } from '../support/harness.js';

const order = (orderId: string, extra: Partial<OrderRecordInput> = {}): OrderRecordInput => ({
  orderId,
  directiveId: 'DIR_1',
  strategyId: 'S1',
  orderDetails: limit('1', '100'),
  causality: chain({ orderIds: [orderId] }),
  at: 1_000,
  ...extra,
});

const change = (orderId: string, from: string, to: string, eventType: string, at = 2_000): LedgerWrite =>
  ({ kind: 'change', orderId, from, to, eventType, at, cause: 'test' }) as LedgerWrite;

/** A modify event of an order; statuses as strings, so MODIFY_PENDING needs no type of its own. */
const modify = (
  orderId: string,
  from: string,
  to: string,
  eventType: 'ORDER_MODIFY_REQUESTED' | 'ORDER_MODIFIED' | 'ORDER_MODIFY_REJECTED',
  modification: NonNullable<ChangeInput['modification']>,
  at = 2_000,
): LedgerWrite => ({ ...(change(orderId, from, to, eventType, at) as object), modification }) as LedgerWrite;

const fill = (
  orderId: string,
  venueFillId: string,
  quantity: string,
  price = '100',
  commission?: string,
): LedgerWrite => ({
  kind: 'fill',
  orderId,
  fill: {
    fillId: `FIL_${venueFillId}`,
    venueFillId,
    quantity,
    price,
    at: 3_000,
    ...(commission ? { commission } : {}),
  },
});

/**
 * The state an atomicity test starts from: O1 accepted with one fill, O2 born, one anomaly.
 * Every record of `ATOMIC_BATCH` is valid on it.
 */
const ATOMIC_BEFORE: LedgerWrite[][] = [
  [
    { kind: 'order', order: order('O1') },
    { kind: 'order', order: order('O2') },
  ],
  [change('O1', 'PENDING', 'OPEN', 'ORDER_ACCEPTED'), fill('O1', 'F1', '0.25')],
  [{ kind: 'anomaly', anomaly: { kind: 'UNKNOWN_ORDER', reason: 'who', strategyId: 'S1', at: 1_500 } }],
];

/** A batch of every kind of record, new orders with changes and fills of their own among them. */
const ATOMIC_BATCH: LedgerWrite[] = [
  { kind: 'order', order: order('O3', { at: 4_000 }) },
  change('O1', 'OPEN', 'PARTIALLY_FILLED', 'ORDER_PARTIALLY_FILLED', 4_000),
  fill('O1', 'F2', '0.25'),
  {
    kind: 'anomaly',
    anomaly: { kind: 'MALFORMED_REPLY', reason: 'bad', strategyId: 'S1', at: 4_000, reply: { raw: 'x' } },
  },
  {
    ...(change('O3', 'PENDING', 'OPEN', 'ORDER_ACCEPTED', 4_001) as object),
    venueOrderId: 'V3',
    snapshot: { value: 'OPEN' },
  } as LedgerWrite,
  fill('O3', 'F1', '0.5'),
  { kind: 'order', order: order('O4', { directiveId: 'DIR_2', at: 4_002 }) },
  { kind: 'anomaly', anomaly: { kind: 'OVERFILL', reason: 'over', orderId: 'O2', strategyId: 'S1', at: 4_003 } },
  change('O2', 'PENDING', 'CANCEL_PENDING', 'ORDER_CANCEL_REQUESTED', 4_003),
  modify('O3', 'OPEN', 'MODIFY_PENDING', 'ORDER_MODIFY_REQUESTED', { modificationId: 'O3.1', price: '99' }, 4_004),
  modify(
    'O3',
    'MODIFY_PENDING',
    'OPEN',
    'ORDER_MODIFIED',
    { modificationId: 'O3.1', quantity: '1', price: '99' },
    4_005,
  ),
];

/** Records the adapter itself must refuse, one per way a record can be bad. */
const REFUSED: [string, LedgerWrite][] = [
  ['an order already recorded', { kind: 'order', order: order('O1') }],
  ['a change of an unknown order', change('NOPE', 'PENDING', 'OPEN', 'ORDER_ACCEPTED')],
  ['a fill of an unknown order', fill('NOPE', 'F9', '0.1')],
  ['a fill conflicting with a recorded one', fill('O1', 'F1', '0.3')],
  [
    'an anomaly of another strategy',
    { kind: 'anomaly', anomaly: { kind: 'UNKNOWN_ORDER', reason: 'x', strategyId: 'S2', at: 4_000 } },
  ],
];

/** Everything a ledger holds, read through its public API: orders with fills, changes, anomalies. */
async function wholeState(l: StrategyLedger): Promise<unknown> {
  const ids = ['O1', 'O2', 'O3', 'O4', 'NOPE'];
  const ordered = (os: { orderId: string }[]) => os.map((o) => o.orderId).sort();
  return {
    orders: await Promise.all(ids.map((id) => l.getOrder(id))),
    transitions: await Promise.all(ids.map((id) => l.getTransitions(id))),
    taken: l.isOrderIdTaken ? await Promise.all(ids.map((id) => l.isOrderIdTaken!(id))) : [],
    anomalies: await l.getAnomalies(),
    open: ordered(await l.getOpenOrders()),
    changedSince: ordered(await l.getOrdersChangedSince(0)),
    directives: [ordered(await l.getOrdersByDirective('DIR_1')), ordered(await l.getOrdersByDirective('DIR_2'))],
  };
}

/** Runs the contract suite against ledgers made by `make` (each test gets a fresh one, scoped to S1). */
export function describeLedgerContract(name: string, make: () => Promise<StrategyLedger>): void {
  describe(`ledger contract: ${name}`, () => {
    const withLedger = (fn: (l: StrategyLedger, events: LedgerUpdatedEvent[]) => Promise<void>) => async () => {
      const l = await make();
      const events: LedgerUpdatedEvent[] = [];
      l.subscribe((e) => events.push(e));
      try {
        await fn(l, events);
      } finally {
        await l.close();
      }
    };

    it(
      'records an order born PENDING and publishes ORDER_PLACED once it is durable',
      withLedger(async (l, events) => {
        const seenInside: Promise<unknown>[] = [];
        l.subscribe(() => seenInside.push(l.getOrder('O1').then((o) => o?.status)));
        await recordOrder(l, order('O1'));
        const o = await l.getOrder('O1');
        expect(o).toMatchObject({
          orderId: 'O1',
          status: 'PENDING',
          filledQuantity: '0',
          leavesQuantity: '1',
          fills: [],
          placedAt: 1_000,
          strategyId: 'S1',
        });
        expect(o!.causality).toEqual(chain({ orderIds: ['O1'] }));
        expect(events).toEqual([
          {
            type: 'STRATEGY_LEDGER_UPDATED',
            eventType: 'ORDER_PLACED',
            strategyId: 'S1',
            orderId: 'O1',
            status: 'PENDING',
            at: 1_000,
          },
        ]);
        expect(await Promise.all(seenInside)).toEqual(['PENDING']); // a listener reads what it was told of
        expect(await l.getOrder('nope')).toBeUndefined();
      }),
    );

    it(
      'assigns seq from 1, contiguous per order, and returns changes in seq order',
      withLedger(async (l, events) => {
        await l.commit([
          { kind: 'order', order: order('O1') },
          { kind: 'order', order: order('O2') },
        ]);
        await l.commit([
          change('O1', 'PENDING', 'OPEN', 'ORDER_ACCEPTED'),
          change('O2', 'PENDING', 'CANCEL_PENDING', 'ORDER_CANCEL_REQUESTED'),
        ]);
        await l.commit([change('O1', 'OPEN', 'CANCEL_PENDING', 'ORDER_CANCEL_REQUESTED', 2_500)]);
        expect((await l.getTransitions('O1')).map((t) => [t.seq, t.from, t.to])).toEqual([
          [1, 'PENDING', 'OPEN'],
          [2, 'OPEN', 'CANCEL_PENDING'],
        ]);
        expect((await l.getTransitions('O2')).map((t) => t.seq)).toEqual([1]);
        expect(events.slice(2).map((e) => [e.eventType, e.orderId, e.status, e.seq])).toEqual([
          ['ORDER_ACCEPTED', 'O1', 'OPEN', 1],
          ['ORDER_CANCEL_REQUESTED', 'O2', 'CANCEL_PENDING', 1],
          ['ORDER_CANCEL_REQUESTED', 'O1', 'CANCEL_PENDING', 2],
        ]);
        expect((await l.getOrder('O1'))!.status).toBe('CANCEL_PENDING');
      }),
    );

    it(
      'keeps the last snapshot and the learnt venue id and reject reason',
      withLedger(async (l) => {
        await recordOrder(l, order('O1'));
        await l.commit([
          {
            ...(change('O1', 'PENDING', 'OPEN', 'ORDER_ACCEPTED') as object),
            venueOrderId: 'V1',
            snapshot: { value: 'OPEN', n: 1 },
          } as LedgerWrite,
        ]);
        expect(await l.getOrder('O1')).toMatchObject({ venueOrderId: 'V1', snapshot: { value: 'OPEN', n: 1 } });
        await updateOrderRejection(l, { orderId: 'O1', from: 'OPEN', reason: 'risk', at: 5 });
        expect(await l.getOrder('O1')).toMatchObject({
          status: 'REJECTED',
          rejectReason: 'risk',
          leavesQuantity: '0',
          venueOrderId: 'V1',
        });
      }),
    );

    it(
      'applies fills exactly: quantities, average price, causality, deduplicated by venueFillId',
      withLedger(async (l) => {
        await recordOrder(l, order('O1', { orderDetails: limit('0.3', '10') }));
        await updateOrderFill(l, {
          orderId: 'O1',
          fill: { fillId: 'FIL_1', venueFillId: 'F1', quantity: '0.1', price: '10', at: 1 },
          from: 'PENDING',
          to: 'PARTIALLY_FILLED',
        });
        await l.commit([fill('O1', 'F1', '0.1', '10')]); // exact repeat: ignored
        await updateOrderFill(l, {
          orderId: 'O1',
          fill: { fillId: 'FIL_2', venueFillId: 'F2', quantity: '0.2', price: '11.5', at: 2 },
          from: 'PARTIALLY_FILLED',
          to: 'FILLED',
        });
        const o = await l.getOrder('O1');
        expect(o).toMatchObject({ status: 'FILLED', filledQuantity: '0.3', leavesQuantity: '0', averagePrice: '11' });
        expect(o!.fills.map((f) => f.venueFillId)).toEqual(['F1', 'F2']);
        expect(o!.causality.fillIds).toEqual(['FIL_1', 'FIL_2']);
        expect((await l.getTransitions('O1')).map((t) => t.eventType)).toEqual([
          'ORDER_PARTIALLY_FILLED',
          'ORDER_FILLED',
        ]);
      }),
    );

    it(
      'fills in a missing commission from a repeated fill',
      withLedger(async (l) => {
        await recordOrder(l, order('O1'));
        await l.commit([fill('O1', 'F1', '0.5')]);
        await l.commit([fill('O1', 'F1', '0.5', '100', '0.05')]);
        expect((await l.getOrder('O1'))!.fills).toEqual([
          expect.objectContaining({ venueFillId: 'F1', commission: '0.05', quantity: '0.5' }),
        ]);
      }),
    );

    it(
      'applies a batch atomically: one bad write and nothing of the batch is applied or published',
      withLedger(async (l, events) => {
        await recordOrder(l, order('O1'));
        await l.commit([fill('O1', 'F1', '0.5')]);
        const n = events.length;
        await expect(
          l.commit([
            change('O1', 'PENDING', 'OPEN', 'ORDER_ACCEPTED'),
            change('NOPE', 'PENDING', 'OPEN', 'ORDER_ACCEPTED'),
          ]),
        ).rejects.toThrow();
        await expect(l.commit([{ kind: 'order', order: order('O2') }, fill('O1', 'F1', '0.6')])).rejects.toThrow(
          /conflicting/,
        );
        await expect(l.commit([{ kind: 'order', order: order('O1') }])).rejects.toThrow(/already/);
        expect(events.length).toBe(n);
        expect(await l.getTransitions('O1')).toEqual([]);
        expect(await l.getOrder('O2')).toBeUndefined();
        expect((await l.getOrder('O1'))!.filledQuantity).toBe('0.5');
      }),
    );

    it.each(Array.from({ length: ATOMIC_BATCH.length + 1 }, (_, k) => k))(
      `a batch of ${ATOMIC_BATCH.length + 1} records refused at record %i, whichever way, changes nothing: orders, changes, fills, anomalies, events`,
      (k) =>
        withLedger(async (l, events) => {
          for (const batch of ATOMIC_BEFORE) await l.commit(batch);
          const before = await wholeState(l);
          const published = [...events];
          for (const [why, bad] of REFUSED) {
            const batch = [...ATOMIC_BATCH.slice(0, k), bad, ...ATOMIC_BATCH.slice(k)];
            await expect(l.commit(batch), `${why} at record ${k}`).rejects.toThrow();
            expect(await wholeState(l), `Invariant: a refused batch changes nothing (${why} at record ${k})`).toEqual(
              before,
            );
            expect(events, `Invariant: a refused batch publishes nothing (${why} at record ${k})`).toEqual(published);
          }
          // The same batch without the bad record is valid, and lands whole with seq still contiguous.
          await l.commit(ATOMIC_BATCH);
          expect(events.slice(published.length).map((e) => [e.eventType, e.orderId, e.seq])).toEqual([
            ['ORDER_PLACED', 'O3', undefined],
            ['ORDER_PARTIALLY_FILLED', 'O1', 2],
            ['ORDER_ANOMALY', undefined, undefined],
            ['ORDER_ACCEPTED', 'O3', 1],
            ['ORDER_PLACED', 'O4', undefined],
            ['ORDER_ANOMALY', 'O2', undefined],
            ['ORDER_CANCEL_REQUESTED', 'O2', 1],
            ['ORDER_MODIFY_REQUESTED', 'O3', 2],
            ['ORDER_MODIFIED', 'O3', 3],
          ]);
          expect(await l.getOrder('O1')).toMatchObject({ status: 'PARTIALLY_FILLED', filledQuantity: '0.5' });
          expect(await l.getOrder('O3')).toMatchObject({
            status: 'OPEN',
            venueOrderId: 'V3',
            filledQuantity: '0.5',
            orderDetails: limit('1', '99'),
            modifications: [{ modificationId: 'O3.1', status: 'ACCEPTED' }],
          });
          expect((await l.getAnomalies()).map((a) => a.kind)).toEqual(['UNKNOWN_ORDER', 'MALFORMED_REPLY', 'OVERFILL']);
        })(),
    );

    it(
      'stores a change’s modification, reads it back in getTransitions and publishes the three modify events',
      withLedger(async (l, events) => {
        await recordOrder(l, order('O1'));
        await l.commit([change('O1', 'PENDING', 'OPEN', 'ORDER_ACCEPTED', 1_500)]);
        const requested = { modificationId: 'O1.1', quantity: '2', price: '101.5' };
        const inForce = { modificationId: 'O1.1', quantity: '2', price: '101.5' };
        const second = { modificationId: 'O1.2', price: '99', stopPrice: '98' };
        const refused = { modificationId: 'O1.2', reason: 'PRICE_OUT_OF_BAND' };
        await l.commit([modify('O1', 'OPEN', 'MODIFY_PENDING', 'ORDER_MODIFY_REQUESTED', requested, 2_000)]);
        await l.commit([modify('O1', 'MODIFY_PENDING', 'OPEN', 'ORDER_MODIFIED', inForce, 2_100)]);
        await l.commit([
          modify('O1', 'OPEN', 'MODIFY_PENDING', 'ORDER_MODIFY_REQUESTED', second, 2_200),
          modify('O1', 'MODIFY_PENDING', 'OPEN', 'ORDER_MODIFY_REJECTED', refused, 2_300),
        ]);
        const transitions = await l.getTransitions('O1');
        expect(transitions.map((t) => [t.seq, t.eventType, t.from, t.to, t.at, t.modification])).toEqual([
          [1, 'ORDER_ACCEPTED', 'PENDING', 'OPEN', 1_500, undefined],
          [2, 'ORDER_MODIFY_REQUESTED', 'OPEN', 'MODIFY_PENDING', 2_000, requested],
          [3, 'ORDER_MODIFIED', 'MODIFY_PENDING', 'OPEN', 2_100, inForce],
          [4, 'ORDER_MODIFY_REQUESTED', 'OPEN', 'MODIFY_PENDING', 2_200, second],
          [5, 'ORDER_MODIFY_REJECTED', 'MODIFY_PENDING', 'OPEN', 2_300, refused],
        ]);
        expect(transitions[0]).not.toHaveProperty('modification'); // a change without one reads back without one
        expect(events.slice(2)).toEqual(
          [
            ['ORDER_MODIFY_REQUESTED', 'MODIFY_PENDING', 2, 2_000],
            ['ORDER_MODIFIED', 'OPEN', 3, 2_100],
            ['ORDER_MODIFY_REQUESTED', 'MODIFY_PENDING', 4, 2_200],
            ['ORDER_MODIFY_REJECTED', 'OPEN', 5, 2_300],
          ].map(([eventType, status, seq, at]) => ({
            type: 'STRATEGY_LEDGER_UPDATED',
            eventType,
            strategyId: 'S1',
            orderId: 'O1',
            status,
            seq,
            at,
          })),
        );
      }),
    );

    it(
      'shows modifications in the order’s view through every read: PENDING, then ACCEPTED with the values in force and leaves from the quantity in force, or REJECTED with why',
      withLedger(async (l) => {
        const stop = {
          symbol: 'ETH_USDT',
          side: 'SELL',
          type: 'STOP_LIMIT',
          quantity: '3',
          price: '10',
          stopPrice: '11',
        };
        await recordOrder(l, order('O1', { orderDetails: stop as OrderRecordInput['orderDetails'] }));
        await l.commit([change('O1', 'PENDING', 'OPEN', 'ORDER_ACCEPTED'), fill('O1', 'F1', '1', '10')]);
        const reads = async (): Promise<(LedgerOrder | undefined)[]> => [
          await l.getOrder('O1'),
          (await l.getOpenOrders()).find((o) => o.orderId === 'O1'),
          (await l.getOrdersChangedSince(0)).find((o) => o.orderId === 'O1'),
          (await l.getOrdersByDirective('DIR_1')).find((o) => o.orderId === 'O1'),
        ];
        /** The view every read gives, checked to be the same from each. */
        const view = async (): Promise<LedgerOrder> => {
          const [one, ...others] = await reads();
          for (const other of others) expect(other, 'Invariant: every read shows the same view').toEqual(one);
          return one!;
        };
        expect(await view()).not.toHaveProperty('modifications');

        await l.commit([
          modify('O1', 'OPEN', 'MODIFY_PENDING', 'ORDER_MODIFY_REQUESTED', {
            modificationId: 'O1.1',
            quantity: '5',
            stopPrice: '12',
          }),
        ]);
        const pending = await view(); // MODIFY_PENDING is still open: getOpenOrders lists it
        expect(pending).toMatchObject({ status: 'MODIFY_PENDING', orderDetails: stop, leavesQuantity: '2' });
        expect(pending.modifications).toEqual([
          { modificationId: 'O1.1', requested: { quantity: '5', stopPrice: '12' }, status: 'PENDING', at: 2_000 },
        ]);
        expect(pending).not.toHaveProperty('originalDetails');

        await l.commit([
          modify(
            'O1',
            'MODIFY_PENDING',
            'PARTIALLY_FILLED',
            'ORDER_MODIFIED',
            { modificationId: 'O1.1', quantity: '5', price: '10', stopPrice: '12' },
            2_500,
          ),
        ]);
        const accepted = await view();
        expect(accepted).toMatchObject({
          status: 'PARTIALLY_FILLED',
          orderDetails: { ...stop, quantity: '5', stopPrice: '12' },
          originalDetails: stop,
          filledQuantity: '1',
          leavesQuantity: '4',
        });
        expect(accepted.modifications).toEqual([
          { modificationId: 'O1.1', requested: { quantity: '5', stopPrice: '12' }, status: 'ACCEPTED', at: 2_000 },
        ]);

        await l.commit([
          modify(
            'O1',
            'PARTIALLY_FILLED',
            'MODIFY_PENDING',
            'ORDER_MODIFY_REQUESTED',
            { modificationId: 'O1.2', price: '9.5' },
            3_000,
          ),
          modify(
            'O1',
            'MODIFY_PENDING',
            'PARTIALLY_FILLED',
            'ORDER_MODIFY_REJECTED',
            { modificationId: 'O1.2', reason: 'NOT_APPLIED_AT_VENUE' },
            3_100,
          ),
        ]);
        const rejected = await view();
        expect(rejected).toMatchObject({
          orderDetails: { ...stop, quantity: '5', stopPrice: '12' },
          originalDetails: stop,
          leavesQuantity: '4',
        });
        expect(rejected.modifications!.map((m) => [m.modificationId, m.status, m.reason, m.requested])).toEqual([
          ['O1.1', 'ACCEPTED', undefined, { quantity: '5', stopPrice: '12' }],
          ['O1.2', 'REJECTED', 'NOT_APPLIED_AT_VENUE', { price: '9.5' }],
        ]);

        // A cut to the filled quantity ends the order FILLED: leaves 0, the quantity in force = filled.
        await l.commit([
          modify('O1', 'PARTIALLY_FILLED', 'MODIFY_PENDING', 'ORDER_MODIFY_REQUESTED', {
            modificationId: 'O1.3',
            quantity: '0.5',
          }),
          modify('O1', 'MODIFY_PENDING', 'FILLED', 'ORDER_MODIFIED', { modificationId: 'O1.3', quantity: '1' }, 3_500),
        ]);
        const [filled] = await reads();
        expect(filled).toMatchObject({
          status: 'FILLED',
          orderDetails: { ...stop, quantity: '1', stopPrice: '12' },
          originalDetails: stop,
          leavesQuantity: '0',
        });
        expect(filled!.modifications!.map((m) => [m.modificationId, m.status, m.requested])).toEqual([
          ['O1.1', 'ACCEPTED', { quantity: '5', stopPrice: '12' }],
          ['O1.2', 'REJECTED', { price: '9.5' }],
          ['O1.3', 'ACCEPTED', { quantity: '0.5' }],
        ]);
        expect((await l.getOpenOrders()).map((o) => o.orderId)).toEqual([]);
      }),
    );

    it(
      'lists a MODIFIED that answers no request (the venue did it) with its values in force',
      withLedger(async (l) => {
        await recordOrder(l, order('O1'));
        await l.commit([
          change('O1', 'PENDING', 'OPEN', 'ORDER_ACCEPTED'),
          modify(
            'O1',
            'OPEN',
            'OPEN',
            'ORDER_MODIFIED',
            { modificationId: 'O1.7', quantity: '0.5', price: '90' },
            2_600,
          ),
        ]);
        expect(await l.getOrder('O1')).toMatchObject({
          orderDetails: limit('0.5', '90'),
          originalDetails: limit('1', '100'),
          leavesQuantity: '0.5',
          modifications: [
            { modificationId: 'O1.7', requested: { quantity: '0.5', price: '90' }, status: 'ACCEPTED', at: 2_600 },
          ],
        });
      }),
    );

    it(
      'records anomalies with and without an order and publishes ORDER_ANOMALY',
      withLedger(async (l, events) => {
        await recordOrder(l, order('O1'));
        await l.commit([
          {
            kind: 'anomaly',
            anomaly: { kind: 'MALFORMED_REPLY', reason: 'bad', strategyId: 'S1', at: 7, reply: { raw: 'x' } },
          },
          { kind: 'anomaly', anomaly: { kind: 'OVERFILL', reason: 'over', orderId: 'O1', strategyId: 'S1', at: 8 } },
        ]);
        expect(await l.getAnomalies()).toEqual([
          { kind: 'MALFORMED_REPLY', reason: 'bad', strategyId: 'S1', at: 7, reply: { raw: 'x' } },
          { kind: 'OVERFILL', reason: 'over', orderId: 'O1', strategyId: 'S1', at: 8 },
        ]);
        expect(events.slice(1)).toEqual([
          { type: 'STRATEGY_LEDGER_UPDATED', eventType: 'ORDER_ANOMALY', strategyId: 'S1', at: 7 },
          {
            type: 'STRATEGY_LEDGER_UPDATED',
            eventType: 'ORDER_ANOMALY',
            strategyId: 'S1',
            orderId: 'O1',
            status: 'PENDING',
            at: 8,
          },
        ]);
      }),
    );

    it(
      'lists open orders (TIMED_OUT included) and the orders of a directive',
      withLedger(async (l) => {
        for (const id of ['A', 'B', 'C', 'D'])
          await recordOrder(
            l,
            order(id, {
              directiveId: id === 'D' ? 'DIR_2' : 'DIR_1',
              batch: { mode: 'INDEPENDENT', index: 0, size: 1 },
            }),
          );
        await l.commit([
          change('A', 'PENDING', 'TIMED_OUT', 'ORDER_TIMED_OUT'),
          change('B', 'PENDING', 'CANCELLED', 'ORDER_CANCELLED'),
          change('C', 'PENDING', 'OPEN', 'ORDER_ACCEPTED'),
        ]);
        expect((await l.getOpenOrders()).map((o) => o.orderId).sort()).toEqual(['A', 'C', 'D']);
        expect((await l.getOrdersByDirective('DIR_1')).map((o) => o.orderId).sort()).toEqual(['A', 'B', 'C']);
        expect((await l.getOrder('D'))!.batch).toEqual({ mode: 'INDEPENDENT', index: 0, size: 1 });
      }),
    );

    it(
      'keeps to its strategy: records of another strategy are refused',
      withLedger(async (l) => {
        await expect(recordOrder(l, order('X', { strategyId: 'S2' }))).rejects.toThrow(/strategy/);
        expect(await l.getOrder('X')).toBeUndefined();
      }),
    );

    it(
      'delivers to every listener even when one throws; unsubscribe stops delivery',
      withLedger(async (l) => {
        const got: string[] = [];
        const warn = process.emitWarning;
        process.emitWarning = () => {};
        try {
          l.subscribe(() => {
            throw new Error('bad listener');
          });
          const off = l.subscribe((e) => got.push(e.orderId ?? ''));
          await recordOrder(l, order('O1'));
          off();
          await recordOrder(l, order('O2'));
        } finally {
          process.emitWarning = warn;
        }
        expect(got).toEqual(['O1']);
      }),
    );
  });
}
