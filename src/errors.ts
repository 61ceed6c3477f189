/**
 * Errors the handler throws to its caller. Operating errors of venues and replies are recorded
 * values, not exceptions; these two are the exceptions the contract names.
 */

/** Invalid input, thrown before anything is recorded or placed. `path` names the field. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  /** The offending field, e.g. `orders[1].price`; empty for the whole value. */
  readonly path: string;

  constructor(path: string, message: string) {
    super(path ? `${path}: ${message}` : message);
    this.path = path;
  }
}

/**
 * Thrown by a connector's `placeOrder` when the venue definitively refused the order: the
 * handler marks it REJECTED with `reason` and never retries it.
 */
export class PlacementRejectedError extends Error {
  override readonly name = 'PlacementRejectedError';
  /** The venue's reason, stored as the order's `rejectReason`. */
  readonly reason: string;

  constructor(reason: string) {
    super(`placement rejected: ${reason}`);
    this.reason = reason;
  }
}

/**
 * Thrown by `modify()` when the connector has no `modifyOrder`: the handler never emulates a
 * modify by a cancel and a new order (contract section 4b).
 */
export class ModifyUnsupportedError extends Error {
  override readonly name = 'ModifyUnsupportedError';

  constructor() {
    super('the connector cannot modify orders (no modifyOrder)');
  }
}

/** Thrown by a ledger for a write that would break one of its invariants; nothing is applied. */
export class LedgerIntegrityError extends Error {
  override readonly name = 'LedgerIntegrityError';
}

/**
 * Thrown by a ledger whose strategy another process has taken over (a newer fencing token): the
 * write is refused and so is every later one, so a paused or partitioned old owner cannot write.
 */
export class LedgerFencedError extends Error {
  override readonly name = 'LedgerFencedError';
}
