/**
 * Deterministic simulation, seeds 1-500: each seed draws a whole run (orders, fault rates, cancels,
 * crash-restarts) and the promises are checked along the way and after convergence.
 */
import { describe, it } from 'vitest';
import { runSeedRange } from '../support/sim-seeds.js';

describe('deterministic simulation', () => {
  it('seeds 1-500 keep every promise', () => runSeedRange(1, 500), 600_000);
});
