/**
 * `execution-handler history <file> [orderId]`: what a ledger file holds, readable. Without an
 * OrderID, every order with its status and quantities; with one, its transitions (a modify's with
 * the values asked, those put in force or why refused), its values as placed next to those in
 * force, fills, causality chain and anomalies.
 */
import { existsSync } from 'node:fs';
import Table from 'cli-table3';
import { openSqliteLedger } from '../ledger/sqlite.js';
import type { LedgerOrder, TransitionRecord } from '../ledger/types.js';
import type { OrderRequest } from '../types.js';
import { PLAIN } from './demo.js';

const iso = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** Prints the history; resolves with the exit code (1 when the file or order is unknown). */
export async function printHistory(
  path: string,
  orderId: string | undefined,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  if (!existsSync(path)) {
    err.write(`no ledger file at ${path}\n`);
    return 1;
  }
  const ledger = openSqliteLedger(path);
  try {
    if (orderId === undefined) {
      const orders = await ledger.getOrdersChangedSince(0);
      out.write(`${orders.length} orders in ${path}\n${ordersTable(orders)}\n`);
      return 0;
    }
    const order = await ledger.getOrder(orderId);
    if (!order) {
      err.write(`no order ${orderId} in ${path} (run without an OrderID to list them)\n`);
      return 1;
    }
    out.write(await orderReport(order, ledger));
    return 0;
  } finally {
    await ledger.close();
  }
}

function ordersTable(orders: LedgerOrder[]): string {
  const t = new Table({
    head: ['OrderID', 'strategy', 'directive', 'order', 'status', 'filled', 'avg price'],
    style: PLAIN,
  });
  for (const o of orders) {
    const d = o.orderDetails;
    const what = `${d.side} ${d.quantity} ${d.symbol} ${d.type}${d.price ? ` @ ${d.price}` : ''}`;
    t.push([
      o.orderId,
      o.strategyId,
      o.directiveId,
      what,
      o.status,
      `${o.filledQuantity} / ${d.quantity}`,
      o.averagePrice ?? '',
    ]);
  }
  return t.toString();
}

async function orderReport(order: LedgerOrder, ledger: ReturnType<typeof openSqliteLedger>): Promise<string> {
  const d = order.orderDetails;
  const head = [
    `${order.orderId}  (strategy ${order.strategyId}, directive ${order.directiveId}${order.batch ? `, ${order.batch.mode} ${order.batch.index + 1} of ${order.batch.size}` : ''})`,
    `${d.side} ${d.quantity} ${d.symbol} ${d.type}${d.price ? ` @ ${d.price}` : ''}${d.stopPrice ? ` stop ${d.stopPrice}` : ''} ${d.timeInForce ?? 'GTC'}`,
    `status ${order.status}; filled ${order.filledQuantity}, leaves ${order.leavesQuantity}${order.averagePrice ? `, average price ${order.averagePrice}` : ''}${order.venueOrderId ? `; venue order ${order.venueOrderId}` : ''}${order.rejectReason ? `; reject reason: ${order.rejectReason}` : ''}`,
    `placed ${iso(order.placedAt)}`,
  ].join('\n');
  const records = await ledger.getTransitions(order.orderId);
  // The modification column only for an order that was ever modified: other reports stay as they were.
  const modified = records.some((t) => t.modification !== undefined);
  const transitions = new Table({
    head: ['seq', 'at', 'event', 'from', 'to', 'cause', ...(modified ? ['modification'] : [])],
    style: PLAIN,
  });
  for (const t of records) {
    const row = [String(t.seq), iso(t.at), t.eventType, t.from, t.to, t.cause];
    transitions.push(modified ? [...row, modificationText(t, order.orderId)] : row);
  }
  const fills = new Table({ head: ['FillID', 'venue fill', 'quantity', 'price', 'commission', 'at'], style: PLAIN });
  for (const f of order.fills) {
    fills.push([
      f.fillId,
      f.venueFillId,
      f.quantity,
      f.price,
      f.commission ? `${f.commission} ${f.commissionAsset ?? ''}` : '',
      iso(f.at),
    ]);
  }
  const c = order.causality;
  const causality = new Table({ style: PLAIN });
  causality.push(
    { origin: `${c.origin.type} ${c.origin.id}` },
    { signals: c.signalIds.join(', ') || '-' },
    { risks: c.riskIds.join(', ') || '-' },
    ...(
      [
        'strategyDirectiveId',
        'entryPlanId',
        'sizePlanId',
        'exitPlanId',
        'executionPlanId',
        'executionCommandId',
      ] as const
    )
      .filter((k) => c[k] !== undefined)
      .map((k) => ({ [k]: String(c[k]) })),
    { orders: c.orderIds.join(', ') },
    { fills: c.fillIds.join(', ') || '-' },
  );
  const anomalies = (await ledger.getAnomalies()).filter((a) => a.orderId === order.orderId);
  const parts = [
    head,
    'transitions',
    transitions.toString(),
    ...(order.modifications?.length ? ['values (original, in force)', valuesTable(order)] : []),
    'fills',
    order.fills.length ? fills.toString() : '(none)',
    'causality',
    causality.toString(),
  ];
  if (anomalies.length) parts.push('anomalies', anomalies.map((a) => `${iso(a.at)} ${a.kind}: ${a.reason}`).join('\n'));
  return `${parts.join('\n')}\n`;
}

const VALUE_KEYS = ['quantity', 'price', 'stopPrice'] as const;

/** A modify's values as one line: `quantity 2, price 101`. */
function valuesText(v: Partial<Pick<OrderRequest, (typeof VALUE_KEYS)[number]>>): string {
  return VALUE_KEYS.filter((k) => v[k] !== undefined)
    .map((k) => `${k} ${v[k]}`)
    .join(', ');
}

/**
 * What a change record says of its modify: the values asked, those now in force, or why refused.
 * The modification id is shown by its number after the OrderID (`.1`), the table being wide.
 */
function modificationText(t: TransitionRecord, orderId: string): string {
  const m = t.modification;
  if (m === undefined) return '';
  const id = m.modificationId.startsWith(`${orderId}.`) ? m.modificationId.slice(orderId.length) : m.modificationId;
  if (t.eventType === 'ORDER_MODIFY_REQUESTED') return `${id} requested ${valuesText(m)}`;
  if (t.eventType === 'ORDER_MODIFY_REJECTED' || m.reason !== undefined) {
    return `${id} rejected: ${m.reason ?? '(no reason given)'}`;
  }
  return `${id} in force ${valuesText(m)}`;
}

/** The order's values as placed next to those in force (the same until a modify is accepted). */
function valuesTable(order: LedgerOrder): string {
  const original = order.originalDetails ?? order.orderDetails;
  const now = order.orderDetails;
  const t = new Table({ head: ['', 'original', 'in force'], style: PLAIN });
  for (const k of VALUE_KEYS) {
    if (original[k] === undefined && now[k] === undefined) continue;
    t.push([k, original[k] ?? '-', `${now[k] ?? '-'}${original[k] === now[k] ? '' : '  (modified)'}`]);
  }
  const outcomes = (order.modifications ?? []).map(
    (m) =>
      `${m.modificationId} ${m.status}${m.reason ? ` (${m.reason})` : ''}: requested ${valuesText(m.requested)} at ${iso(m.at)}`,
  );
  return [t.toString(), ...outcomes].join('\n');
}
