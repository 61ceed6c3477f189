/**
 * The inspector's access token, as Jupyter does it: one secret for the whole server, handed to the
 * browser once in the address (`?token=…`), then kept in an HttpOnly, SameSite=Strict cookie so
 * the page's own requests and its WebSocket carry it without any script ever seeing it. Scripts
 * and `curl` may send it as `Authorization: Bearer …` instead.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Characters a token may use: safe unescaped in a URL query and in a cookie value. */
const TOKEN_SHAPE = /^[A-Za-z0-9._~-]{16,256}$/;

/** Why a token given by the user cannot be used, or undefined when it can. */
export function tokenProblem(token: string): string | undefined {
  return TOKEN_SHAPE.test(token)
    ? undefined
    : 'an inspector token must be 16 to 256 characters from A-Z a-z 0-9 . _ ~ - (it travels in a URL and a cookie)';
}

/**
 * A new token: 24 random bytes as 48 hex characters. It comes from Node's crypto, not from the
 * `random.ts` seam: this is a secret guarding the ledger, not simulation randomness a seed must
 * reproduce.
 */
export function generateToken(): string {
  return randomBytes(24).toString('hex');
}

/** The cookie holding the token; named per port so two inspectors on one host keep their own. */
export function tokenCookieName(port: number): string {
  return `execution_handler_inspector_${port}`;
}

/** The `Set-Cookie` value that lets the page's later requests and its WebSocket in. */
export function tokenCookie(port: number, token: string): string {
  // No `Secure`: the inspector itself speaks plain HTTP (behind a TLS proxy the proxy may add it).
  return `${tokenCookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict`;
}

/** Where a request may carry its token. */
export type TokenSource = 'query' | 'header' | 'cookie';

/** What a request's token amounts to. */
export type TokenCheck = { ok: true; source: TokenSource } | { ok: false; reason: 'missing token' | 'wrong token' };

/** Checks requests against one token, in constant time. */
export class TokenGate {
  private readonly expected: Buffer;

  constructor(
    token: string,
    private readonly cookieName: string,
  ) {
    this.expected = digest(token);
  }

  /**
   * Whether a request with these headers and query carries the token. Every candidate is compared
   * as a SHA-256 digest with `timingSafeEqual`: equal lengths, so neither the token's length nor
   * how much of it a guess got right shows in the time taken.
   */
  check(headers: IncomingHttpHeaders, query: URLSearchParams): TokenCheck {
    const candidates: [TokenSource, string][] = [
      ...query.getAll('token').map((t): [TokenSource, string] => ['query', t]),
      ...bearerTokens(headers.authorization).map((t): [TokenSource, string] => ['header', t]),
      ...cookieValues(headers.cookie, this.cookieName).map((t): [TokenSource, string] => ['cookie', t]),
    ];
    if (candidates.length === 0) return { ok: false, reason: 'missing token' };
    let found: TokenSource | undefined;
    for (const [source, value] of candidates) {
      // Every candidate is compared, even after a match: the time taken does not depend on which matched.
      if (timingSafeEqual(digest(value), this.expected)) found ??= source;
    }
    return found ? { ok: true, source: found } : { ok: false, reason: 'wrong token' };
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function bearerTokens(authorization: string | undefined): string[] {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return m ? [m[1]!] : [];
}

/** Every value of the cookie `name` in a `Cookie` header (a browser may send more than one). */
function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}
