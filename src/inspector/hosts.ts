/**
 * Which requests the inspector answers: only those addressed to this machine by a loopback name,
 * so a web page elsewhere cannot reach it through DNS rebinding, plus names the user allows.
 */

/** Loopback addresses the inspector may listen on without being asked to expose itself. */
export function isLoopbackAddress(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The host name of a `Host` header or origin (`name:port`, `[v6]:port`), lower case. */
export function hostNameOf(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/** True when a request with this `Host` header (and `Origin`, if any) may be answered. */
export function isAllowedRequest(
  hostHeader: string | undefined,
  origin: string | undefined,
  allowedHosts: ReadonlySet<string>,
): boolean {
  if (!hostHeader) return false;
  const ok = (name: string): boolean => isLoopbackAddress(name) || allowedHosts.has(name);
  if (!ok(hostNameOf(hostHeader))) return false;
  if (origin === undefined) return true;
  try {
    return ok(new URL(origin).hostname.toLowerCase()); // IPv6 hosts keep their brackets here
  } catch {
    return false;
  }
}
