/**
 * OrderID and FillID minting: `{PREFIX}_{YYYYMMDD}_{HHMMSS}_{hash}` from the injected clock (UTC,
 * second resolution) and random source (8 lowercase hex; FillIDs hash their order and venue fill id
 * instead, see `mint`). Ids are unique within the handler's
 * ledger even when thousands are minted in one second or the random source repeats itself.
 */
import type { Clock } from './clock.js';
import { hash53 } from './hash.js';
import type { RandomSource } from './random.js';

/** Id prefixes in use. */
export type IdPrefix = 'ORD' | 'FIL';

/** Draws tried from the random source before probing sequentially from the last one. */
const RANDOM_DRAWS = 16;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `YYYYMMDD_HHMMSS` of an epoch-millisecond time, in UTC. */
export function stampOf(ms: number): string {
  const d = new Date(ms);
  return (
    `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}_` +
    `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`
  );
}

/** The shape of every minted id. */
export const ID_PATTERN = /^(ORD|FIL)_\d{8}_\d{6}_[0-9a-f]{8}$/;

/** Mints ids; remembers only the ids of the current second (a stated bound on its memory). */
export class IdMinter {
  private stamp = '';
  private readonly minted = new Set<string>();

  constructor(
    private readonly clock: Clock,
    private readonly random: RandomSource,
  ) {}

  /**
   * A new id. `taken` tells of ids minted before this process (the ledger's); an id it reports
   * taken, or one minted already this second, is never returned. With `basis`, the hash comes
   * from it instead of the random source: the same basis in the same second gives the same
   * first candidate (FillIDs use the order and venue fill id, so a fill applied again after a
   * failed write, or by another process, gets the same FillID and draws nothing).
   */
  mint(prefix: IdPrefix, taken: (id: string) => boolean = () => false, basis?: string): string {
    const stamp = stampOf(this.clock.now());
    if (stamp !== this.stamp) {
      this.stamp = stamp;
      this.minted.clear();
    }
    const free = (candidate: string): boolean => !this.minted.has(candidate) && !taken(candidate);
    let hash = 0;
    if (basis !== undefined) {
      hash = Number.parseInt(hash53(basis).slice(-8), 16);
      const candidate = `${prefix}_${stamp}_${hash.toString(16).padStart(8, '0')}`;
      if (free(candidate)) return this.keep(candidate);
    }
    for (let i = 0; basis === undefined && i < RANDOM_DRAWS; i++) {
      hash = Math.floor(this.random() * 0x1_0000_0000) >>> 0;
      const candidate = `${prefix}_${stamp}_${hash.toString(16).padStart(8, '0')}`;
      if (free(candidate)) return this.keep(candidate);
    }
    // The random source keeps repeating itself (a constant stub, say): probe onwards from it.
    for (let i = 1; i <= 0x1_0000_0000; i++) {
      const candidate = `${prefix}_${stamp}_${((hash + i) >>> 0).toString(16).padStart(8, '0')}`;
      if (free(candidate)) return this.keep(candidate);
    }
    throw new Error(`no free ${prefix} id left in second ${stamp}`);
  }

  private keep(id: string): string {
    this.minted.add(id);
    return id;
  }
}
