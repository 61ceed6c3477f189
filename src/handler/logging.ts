/**
 * Structured logs: the handler's telemetry told to a pino-compatible logger (anything with
 * `child`, `debug`, `info`, `warn`, `error` taking a fields object then a message). Each entry
 * carries `orderId` and `directiveId` where known and the cause, so an operator can rebuild an
 * incident from the log alone; the child logger carries `strategyId`.
 */
import type { ChangeInput } from '../ledger/types.js';
import type { AnomalyKind, RecoveryReport } from '../types.js';
import { type Telemetry, type VenueCall, type VenueCallOutcome, isFenced } from './telemetry.js';

/** One level of a pino-compatible logger: a fields object, then a message. */
export type LogFn = (fields: Record<string, unknown>, message: string) => void;

/** A pino-compatible logger: `pino()` is one. */
export interface HandlerLogger {
  child(bindings: Record<string, unknown>): HandlerLogger;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/** Changes logged at info: how a cancel or a modify ended (every change is logged at debug). */
const OUTCOMES = new Set(['ORDER_CANCELLED', 'ORDER_CANCEL_REJECTED', 'ORDER_MODIFIED', 'ORDER_MODIFY_REJECTED']);

/** The telemetry that logs; `directiveOf` finds an order's directive (from the cache). */
export function loggingTelemetry(
  logger: HandlerLogger,
  strategyId: string,
  directiveOf: (orderId: string) => string | undefined,
): Telemetry {
  const log = logger.child({ strategyId });
  const ids = (orderId: string | undefined): Record<string, unknown> => {
    if (orderId === undefined) return {};
    const directiveId = directiveOf(orderId);
    return directiveId === undefined ? { orderId } : { orderId, directiveId };
  };
  return {
    orderRecorded(orderId, directiveId) {
      log.debug({ orderId, directiveId, to: 'PENDING', eventType: 'ORDER_PLACED' }, 'order recorded');
    },
    changed(c: ChangeInput) {
      const fields = { ...ids(c.orderId), from: c.from, to: c.to, eventType: c.eventType, cause: c.cause };
      log.debug(fields, 'transition');
      if (c.to === 'TIMED_OUT' && c.from !== 'TIMED_OUT') log.warn(fields, 'order timed out');
      else if (OUTCOMES.has(c.eventType)) {
        const reason = c.modification?.reason ?? c.rejectReason;
        log.info(reason === undefined ? fields : { ...fields, reason }, outcomeMessage(c.eventType));
      }
    },
    anomaly(kind: AnomalyKind, reason: string, orderId: string | undefined) {
      log.warn({ ...ids(orderId), anomaly: kind, cause: reason }, `anomaly ${kind}`);
    },
    committed() {},
    commitFailed(orderIds, error) {
      const fields = { orderIds, cause: String(error) };
      if (isFenced(error)) log.error(fields, 'ledger fenced: another process owns this strategy');
      else log.error(fields, 'ledger write failed');
    },
    venueCall(call: VenueCall, orderId: string, seconds: number, outcome: VenueCallOutcome, error?: unknown) {
      if (outcome !== 'failed') return;
      const fields = { ...ids(orderId), call, seconds, cause: String(error) };
      if (call === 'place')
        log.warn(fields, 'placement failed, outcome unknown: retried with the same client order id');
      else if (call === 'query') log.warn(fields, 'query failed: asked again');
      else log.warn(fields, `${call} failed to send: its deadline's queries follow it`);
    },
    replyHandled() {},
    reconnected() {
      log.info({}, 'connector reconnected: reconciling');
    },
    reconciled(kind: 'recover' | 'reconcile', report: RecoveryReport) {
      log.info({ ...report }, kind === 'recover' ? 'recovered' : 'reconciled');
    },
    dropped(orderId, error) {
      log.error(
        { ...ids(orderId), cause: String(error) },
        'background work dropped beyond its bound: the next reconcile asks the venue',
      );
    },
  };
}

function outcomeMessage(eventType: string): string {
  if (eventType === 'ORDER_CANCELLED') return 'order cancelled';
  if (eventType === 'ORDER_CANCEL_REJECTED') return 'cancel rejected';
  if (eventType === 'ORDER_MODIFIED') return 'order modified';
  return 'modify rejected';
}
