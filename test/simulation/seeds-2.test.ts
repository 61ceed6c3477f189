/**
 * Deterministic simulation, seeds 501-1000: each seed draws a whole run (orders, fault rates, cancels,
 * crash-restarts) and the promises are checked along the way and after convergence.
 */
import { describe, it } from 'vitest';
import { runSeedRange } from '../support/sim-seeds.js';

describe('deterministic simulation', () => {
  it('seeds 501-1000 keep every promise', () => runSeedRange(501, 1000), 600_000);
});
