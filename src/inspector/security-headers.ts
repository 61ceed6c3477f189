/**
 * The headers every inspector response carries, whatever its status: the page may load and talk to
 * its own origin only, no other site may frame it, and nothing it is sent may be sniffed into a
 * script or leak its address (which may hold the token) through a Referer.
 */

/** A `Host` header worth repeating in the policy: a name or [v6] address and a port, nothing else. */
const PLAIN_HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The Content-Security-Policy for a request addressed to `hostHeader`. Scripts and styles come
 * only from the inspector's own files (`/app.js`, `/app.css`): no inline script or style, no eval.
 * `connect-src 'self'` covers the page's fetches and, in CSP 3 browsers, its WebSocket; the
 * `ws:`/`wss:` origin of the same host is named too, for browsers that read `'self'` narrowly.
 */
export function contentSecurityPolicy(hostHeader: string | undefined): string {
  const sockets = hostHeader && PLAIN_HOST.test(hostHeader) ? ` ws://${hostHeader} wss://${hostHeader}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self'${sockets}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The security headers of a response to a request addressed to `hostHeader`. */
export function securityHeaders(hostHeader: string | undefined): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(hostHeader),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-store',
  };
}
