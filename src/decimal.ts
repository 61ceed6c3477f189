/**
 * Exact decimal arithmetic on the decimal strings that cross the API, over big.js, so that fills
 * of 0.1 and 0.2 complete an order of 0.3. A private Big constructor keeps our settings from
 * leaking into a user's own big.js.
 */
import BigFactory from 'big.js';

const Dec = BigFactory();
/** Places kept when a division does not terminate (average prices). */
Dec.DP = 18;
Dec.RM = Dec.roundHalfEven;

/** `a + b` as a plain decimal string. */
export function decAdd(a: string, b: string): string {
  return new Dec(a).plus(b).toFixed();
}

/** `a - b` as a plain decimal string. */
export function decSub(a: string, b: string): string {
  return new Dec(a).minus(b).toFixed();
}

/** `a * b` as a plain decimal string. */
export function decMul(a: string, b: string): string {
  return new Dec(a).times(b).toFixed();
}

/** `a / b` to 18 places, trailing zeros removed. */
export function decDiv(a: string, b: string): string {
  return new Dec(a).div(b).toFixed();
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b`. */
export function decCmp(a: string, b: string): -1 | 0 | 1 {
  return new Dec(a).cmp(b);
}

/** max(0, a - b). */
export function decSubFloor(a: string, b: string): string {
  const d = new Dec(a).minus(b);
  return d.lt(0) ? '0' : d.toFixed();
}

/** The canonical form of a decimal string ("1.50" and "1.5" compare and print alike). */
export function decNorm(a: string): string {
  return new Dec(a).toFixed();
}

/** True when two decimal strings denote the same number. */
export function decEq(a: string, b: string): boolean {
  return new Dec(a).eq(b);
}
