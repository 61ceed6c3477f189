/**
 * How the ccxt connector reads ccxt's errors: a definitive refusal by the exchange, or an outcome
 * left unknown (network, timeout, an unexpected answer).
 */

/**
 * Is `err` a ccxt error of class `name` (or a subclass)? Read from the class chain rather than
 * with `instanceof`, so the connector does not load ccxt (a large library) until an exchange is
 * made, and works with whichever copy of ccxt the exchange instance came from.
 */
export function isCcxt(err: unknown, name: string): boolean {
  for (let c = (err as object | null)?.constructor; c && c !== Error && c !== Object; c = Object.getPrototypeOf(c)) {
    if (c.name === name) return true;
  }
  return false;
}

/** Why an exchange refused an order, as the handler records it. */
export function reasonOf(err: Error): string {
  return err.message.replace(/^\w+ /, ''); // ccxt prefixes the exchange id
}

/**
 * Is this placement error a definitive refusal? A rate limit answered by the exchange refused the
 * request; an exchange error is its verdict on the order; anything else (network, timeout, 5xx,
 * an unexpected answer) leaves the outcome unknown.
 */
export function isDefinitiveRefusal(err: unknown): boolean {
  if (isCcxt(err, 'DDoSProtection')) return true; // includes RateLimitExceeded
  if (isCcxt(err, 'OperationFailed')) return false; // NetworkError, RequestTimeout, ExchangeNotAvailable…
  return isCcxt(err, 'ExchangeError');
}
