/**
 * Schemas of everything that enters the handler from outside: directives (a bad one throws
 * `ValidationError` naming the field before anything is recorded) and exchange replies (a bad
 * one is a value, `{ ok: false, reason }`, recorded as MALFORMED_REPLY; parsing never throws).
 */
import { z } from 'zod';
import { decCmp } from './decimal.js';
import { ValidationError } from './errors.js';
import type { ExchangeReply, ExecutionDirective, ModifyChanges, OrderRequest } from './types.js';

/** Plain decimal notation, no sign, no exponent: at most 30 integer and 18 fractional digits. */
const DECIMAL = /^(0|[1-9]\d{0,29})(\.\d{1,18})?$/;
const SIGNED_DECIMAL = /^-?(0|[1-9]\d{0,29})(\.\d{1,18})?$/;

const id = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const text = z.string().max(2000, 'must be at most 2000 characters');
const positiveDecimal = z
  .string()
  .regex(DECIMAL, 'must be a decimal string such as "0.25"')
  // Only a well-formed decimal is compared (its format error is already reported).
  .refine((s) => !DECIMAL.test(s) || decCmp(s, '0') > 0, 'must be greater than 0');
const signedDecimal = z.string().regex(SIGNED_DECIMAL, 'must be a decimal string such as "-0.01"');
const time = z.number().finite('must be a finite number').nonnegative('must not be negative');

const orderRequest = z
  .object({
    symbol: id,
    side: z.enum(['BUY', 'SELL']),
    type: z.enum(['MARKET', 'LIMIT', 'STOP_LIMIT']),
    quantity: positiveDecimal,
    price: positiveDecimal.optional(),
    stopPrice: positiveDecimal.optional(),
    timeInForce: z.enum(['GTC', 'IOC', 'FOK', 'DAY']).optional(),
  })
  .superRefine((o, ctx) => {
    if (o.type !== 'MARKET' && o.price === undefined) {
      ctx.addIssue({ code: 'custom', path: ['price'], message: `is required for a ${o.type} order` });
    }
    if (o.type === 'STOP_LIMIT' && o.stopPrice === undefined) {
      ctx.addIssue({ code: 'custom', path: ['stopPrice'], message: 'is required for a STOP_LIMIT order' });
    }
    if (o.type !== 'STOP_LIMIT' && o.stopPrice !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['stopPrice'], message: `is only allowed on a STOP_LIMIT order` });
    }
  });

const causality = z.object({
  origin: z.object({ id, type: z.enum(['TICK', 'NEWS', 'SCHEDULE']) }),
  signalIds: z.array(id),
  riskIds: z.array(id),
  strategyDirectiveId: id.optional(),
  entryPlanId: id.optional(),
  sizePlanId: id.optional(),
  exitPlanId: id.optional(),
  executionPlanId: id.optional(),
  executionCommandId: id.optional(),
  orderIds: z.array(id),
  fillIds: z.array(id),
});

const directive = z.object({
  directiveId: id,
  causality,
  orders: z.array(orderRequest).min(1, 'must hold at least one order').max(1000, 'must hold at most 1000 orders'),
  mode: z.enum(['INDEPENDENT', 'COORDINATED', 'SEQUENTIAL']).optional(),
});

const ref = { clientOrderId: id.optional(), venueOrderId: id.optional() };
const reply = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('ACCEPTED'), clientOrderId: id.optional(), venueOrderId: id, at: time }),
    z.object({
      type: z.literal('FILL'),
      ...ref,
      venueFillId: id,
      quantity: positiveDecimal,
      price: positiveDecimal,
      commission: signedDecimal.optional(),
      commissionAsset: id.optional(),
      at: time,
    }),
    z.object({ type: z.literal('REJECTED'), ...ref, reason: text, at: time }),
    z.object({ type: z.literal('CANCELLED'), ...ref, reason: text.optional(), at: time }),
    z.object({ type: z.literal('CANCEL_REJECTED'), ...ref, reason: text, at: time }),
    z.object({ type: z.literal('EXPIRED'), ...ref, at: time }),
    z.object({
      type: z.literal('MODIFIED'),
      ...ref,
      newVenueOrderId: id.optional(),
      quantity: positiveDecimal,
      price: positiveDecimal.optional(),
      stopPrice: positiveDecimal.optional(),
      at: time,
    }),
    z.object({ type: z.literal('MODIFY_REJECTED'), ...ref, reason: text, at: time }),
  ])
  .refine((r) => r.clientOrderId !== undefined || r.venueOrderId !== undefined, {
    message: 'must name the order by clientOrderId or venueOrderId',
    path: ['clientOrderId'],
  });

/** `['orders', 1, 'price']` → `orders[1].price`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Parses a directive; throws `ValidationError` naming the first bad field. */
export function parseDirective(input: unknown): ExecutionDirective {
  const result = directive.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ValidationError(formatPath(issue.path), issue.message);
  }
  return result.data as ExecutionDirective;
}

const modifyChanges = z
  .object({
    quantity: positiveDecimal.optional(),
    price: positiveDecimal.optional(),
    stopPrice: positiveDecimal.optional(),
  })
  .strict()
  .refine((c) => c.quantity !== undefined || c.price !== undefined || c.stopPrice !== undefined, {
    message: 'must change at least one of quantity, price, stopPrice',
  });

/**
 * Validates `modify()`'s changes against the order (section 4b): at least one value, each a
 * positive decimal, no price on a MARKET order, no stopPrice on a non-STOP_LIMIT order, and a
 * quantity above the filled quantity at the time of the call. Throws `ValidationError` naming
 * the field.
 */
export function parseModifyChanges(input: unknown, order: OrderRequest, filledQuantity: string): ModifyChanges {
  const result = modifyChanges.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ValidationError(formatPath(issue.path), issue.message);
  }
  const c = result.data;
  if (c.price !== undefined && order.type === 'MARKET')
    throw new ValidationError('price', 'a MARKET order has no price');
  if (c.stopPrice !== undefined && order.type !== 'STOP_LIMIT') {
    throw new ValidationError('stopPrice', 'only a STOP_LIMIT order has a stopPrice');
  }
  if (c.quantity !== undefined && decCmp(c.quantity, filledQuantity) <= 0) {
    throw new ValidationError('quantity', `must be above the filled quantity ${filledQuantity}`);
  }
  const out: ModifyChanges = {};
  if (c.quantity !== undefined) out.quantity = c.quantity;
  if (c.price !== undefined) out.price = c.price;
  if (c.stopPrice !== undefined) out.stopPrice = c.stopPrice;
  return out;
}

/** The result of parsing a reply: never an exception. */
export type ParsedReply = { ok: true; reply: ExchangeReply } | { ok: false; reason: string };

/** Parses an exchange reply; a malformed one comes back with the reason. */
export function parseReply(input: unknown): ParsedReply {
  try {
    const result = reply.safeParse(input);
    if (result.success) return { ok: true, reply: result.data as ExchangeReply };
    const issue = result.error.issues[0]!;
    const path = formatPath(issue.path);
    return { ok: false, reason: path ? `${path}: ${issue.message}` : issue.message };
  } catch (err) {
    // A hostile object (a throwing getter, a revoked proxy) is malformed too.
    return { ok: false, reason: `unreadable reply: ${String(err)}` };
  }
}

/** A JSON-safe copy of any value, cut to `maxChars` of JSON, for anomaly records. */
export function jsonSafe(value: unknown, maxChars = 2000): unknown {
  let json: string | undefined;
  try {
    const seen = new WeakSet<object>();
    json = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return `${v}n`;
      if (typeof v === 'function' || typeof v === 'symbol') return String(v);
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      if (v !== null && typeof v === 'object') {
        if (seen.has(v)) return '[circular]';
        seen.add(v);
      }
      return v;
    });
  } catch (err) {
    return { unreadable: String(err) };
  }
  if (json === undefined) return { unserialisable: String(typeof value) };
  if (json.length > maxChars) return { truncated: true, json: json.slice(0, maxChars) };
  return JSON.parse(json) as unknown;
}
