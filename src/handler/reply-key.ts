/**
 * Identity of a reply: two replies are the same reply when every field, `at` included, is equal.
 * The key is a 53-bit hash (cyrb53) of the parsed reply's JSON, whose key order the schema fixes;
 * it is short enough to keep per order and to write into the ledger's `cause`, so exact repeats
 * are recognised even after an order was reloaded from the ledger.
 */
import { hash53 } from '../hash.js';
import type { ExchangeReply } from '../types.js';

/** The key of a parsed reply. */
export function replyKey(reply: ExchangeReply): string {
  return hash53(JSON.stringify(reply));
}

/** The reply key a ledger `cause` carries (`reply FILL #0123456789abcd`), if any. */
export function replyKeyOfCause(cause: string): string | undefined {
  const m = /#([0-9a-f]{14})$/.exec(cause);
  return m?.[1];
}
