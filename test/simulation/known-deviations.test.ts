/**
 * Each known deviation of the simulation (`KNOWN_DEVIATIONS` in src/sim/convergence.ts) still
 * happens on the seed that shows it, so its flag is turned off, and the seeds judge it again, as
 * soon as the handler is fixed.
 */
import { describe, expect, it } from 'vitest';
import { KNOWN_DEVIATIONS } from '../../src/sim/convergence.js';
import { runSeed } from '../../src/sim/seeded.js';

describe('KNOWN_DEVIATIONS of the simulation', () => {
  it.each([53, 586])(
    'tell the truth: a TIMED_OUT order whose cancel the venue answers is not asked about (seed %i)',
    async (seed) => {
      // After a venue outage the closing cancelAll() re-sends the cancel of TIMED_OUT orders gone
      // CANCEL_UNCONFIRMED. The venue rejects it, "order is FILLED" with the venue id, and the order
      // stays TIMED_OUT (seeds 53, 586); or it cancels what is left, and a fill lost on the wire is
      // missing (seed 586). Either way the handler asks nothing more: a reconcile retry finds the
      // rest, after promise 7's bound.
      const r = await runSeed(seed);
      expect(r.problems).toEqual([]);
      expect(r.boundExcused > 0, 'disagreements at the bound explained by the deviation').toBe(
        KNOWN_DEVIATIONS.givenUpOrderNotAskedAfterCancelAnswered,
      );
    },
  );
});
