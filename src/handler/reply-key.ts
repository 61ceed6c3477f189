/**
 * Identity of a reply: two replies are the same reply when every field, `at` included, is equal.
 * The key is a 53-bit hash (cyrb53) of the parsed reply's JSON, whose key order the schema fixes;
 * it is short enough to keep per order and to write into the ledger's `cause`, so exact repeats
 * are recognised even after an order was reloaded from the ledger.
 */
import type { ExchangeReply } from '../types.js';

function cyrb53(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

/** The key of a parsed reply. */
export function replyKey(reply: ExchangeReply): string {
  return cyrb53(JSON.stringify(reply));
}

/** The reply key a ledger `cause` carries (`reply FILL #0123456789abcd`), if any. */
export function replyKeyOfCause(cause: string): string | undefined {
  const m = /#([0-9a-f]{14})$/.exec(cause);
  return m?.[1];
}
