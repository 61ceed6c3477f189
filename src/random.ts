/**
 * The randomness seam: ids take their hash from an injected `() => number` in [0, 1); the default
 * is crypto-strong, and `seededRandom` gives the reproducible source simulations and tests use.
 */
import { randomBytes } from 'node:crypto';

/** A source of numbers in [0, 1). */
export type RandomSource = () => number;

/** Crypto-strong default: 32 random bits per call. */
export const cryptoRandom: RandomSource = () => randomBytes(4).readUInt32BE(0) / 0x1_0000_0000;

/** A fast deterministic generator (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}
