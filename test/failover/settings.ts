/** What the failover test and its owner processes agree on. */
export const STRATEGY = 'FAILOVER';
/** Short, so a killed owner's strategy is taken over within a second. */
export const LEASE_MS = 600;
/** The exit code of an owner process that found itself fenced. */
export const FENCED_EXIT = 3;
