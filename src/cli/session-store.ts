/**
 * The demo's saved session, beside its ledger: an append-only JSON-lines log, so a save costs what
 * changed since the previous one, not the whole venue. The first line names the session (seed,
 * planned orders, modify mode); each later line is a checkpoint: the session's counters then and
 * the venue orders placed or changed since the previous checkpoint, each in full. Folding the
 * checkpoints (the last record of each order wins, the counters of the last line) gives exactly the
 * venue and progress of the last checkpoint, as the whole-venue file of the earlier release did.
 *
 * A crash can tear the last line only (every write is one append): a last line that does not parse
 * is ignored, which leaves the session at its previous checkpoint, the same as a kill -9 without it.
 * The earlier release's single JSON file (`<ledger>.session.json`, version 1) is still read, so a
 * session interrupted before an upgrade can be finished; resuming it moves it into the log.
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, truncateSync, writeSync } from 'node:fs';
import type { VenueOrder } from '../connector/simulated.js';
import type { SessionState } from '../sim/session.js';

/** The log's first line: what does not change over the session. */
interface SessionHeader {
  kind: 'session';
  version: 2;
  seed: number;
  total: number;
  modifyMode: 'amend' | 'replace';
}

/** A checkpoint line: the counters at the checkpoint and the venue orders changed since the last one. */
interface CheckpointLine {
  kind: 'checkpoint';
  placed: number;
  directives: number;
  now: number;
  done: boolean;
  venue: VenueOrder[];
}

/** The session log beside a ledger file (JSON lines). */
export const sessionLogOf = (ledgerPath: string): string => `${ledgerPath}.session.jsonl`;

/** The whole-venue session file of the earlier release (one JSON document, version 1), read on --resume. */
export const legacySessionFileOf = (ledgerPath: string): string => `${ledgerPath}.session.json`;

/** A session file that cannot be resumed; the message says why in one line. */
export class SessionFileError extends Error {}

/**
 * Reads the saved session of a ledger: the log, else the earlier release's file; undefined when
 * there is neither. Throws `SessionFileError` for a file that is not a session this demo wrote.
 */
export function readSession(ledgerPath: string): SessionState | undefined {
  const log = sessionLogOf(ledgerPath);
  if (existsSync(log)) return foldLog(log);
  const legacy = legacySessionFileOf(ledgerPath);
  if (!existsSync(legacy)) return undefined;
  let state: SessionState;
  try {
    state = JSON.parse(readFileSync(legacy, 'utf8')) as SessionState;
  } catch {
    throw new SessionFileError(`${legacy} is not a saved session (it does not parse as JSON)`);
  }
  if (state?.version !== 1 || !Array.isArray(state.venue)) {
    throw new SessionFileError(`${legacy} was written by another version of the demo`);
  }
  return state;
}

/** Folds the log into the state of its last checkpoint. */
function foldLog(path: string): SessionState {
  const lines = readFileSync(path, 'utf8').split('\n');
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  const parsed: unknown[] = [];
  for (const [i, line] of lines.entries()) {
    try {
      parsed.push(JSON.parse(line));
    } catch {
      // Only the last line can be torn (a crash mid-append); anything else is not our file.
      if (i === lines.length - 1 && i > 0) break;
      throw new SessionFileError(`${path} is not a saved session (line ${i + 1} does not parse)`);
    }
  }
  const header = parsed[0] as SessionHeader | undefined;
  if (header?.kind !== 'session' || header.version !== 2) {
    throw new SessionFileError(`${path} was written by another version of the demo`);
  }
  // A Map keeps each order where it first appeared (placement order), as the venue lists them.
  const venue = new Map<string, VenueOrder>();
  let last: CheckpointLine | undefined;
  for (const line of parsed.slice(1) as CheckpointLine[]) {
    for (const o of line.venue) venue.set(o.clientOrderId, o);
    last = line;
  }
  if (!last) throw new SessionFileError(`${path} holds no checkpoint yet: nothing to resume`);
  return {
    version: 1,
    seed: header.seed,
    total: header.total,
    placed: last.placed,
    directives: last.directives,
    now: last.now,
    done: last.done,
    venue: [...venue.values()],
    modifyMode: header.modifyMode,
  };
}

/** Appends checkpoints to a session log. */
export interface SessionWriter {
  /** Appends the counters of `state` and `venueChanges` (orders changed since the last append) as one line. */
  checkpoint(state: SessionState, venueChanges: readonly VenueOrder[]): void;
  close(): void;
}

/**
 * Opens the session log of a ledger for appending. A new session (`resumed` undefined) starts a
 * new log; a resumed one appends to its log, or, resumed from the earlier release's file, starts a
 * log from that state (one checkpoint holding its whole venue) and removes the old file, so one
 * file holds the session.
 */
export function openSessionWriter(
  ledgerPath: string,
  session: { seed: number; total: number; modifyMode: 'amend' | 'replace' },
  resumed?: SessionState,
): SessionWriter {
  const path = sessionLogOf(ledgerPath);
  const legacy = legacySessionFileOf(ledgerPath);
  const fresh = resumed === undefined || !existsSync(path);
  if (!fresh) {
    // A torn last line (a crash mid-append) is cut off, so the next line starts on a line of its own.
    const text = readFileSync(path);
    truncateSync(path, text.lastIndexOf(0x0a) + 1);
  }
  const fd = openSync(path, fresh ? 'w' : 'a');
  const append = (line: object): void => {
    // One write per line: a crash tears at most the last line, which the reader then ignores.
    writeSync(fd, `${JSON.stringify(line)}\n`);
  };
  const checkpoint = (state: SessionState, venue: readonly VenueOrder[]): void => {
    const line: CheckpointLine = {
      kind: 'checkpoint',
      placed: state.placed,
      directives: state.directives,
      now: state.now,
      done: state.done,
      venue: [...venue],
    };
    append(line);
  };
  if (fresh) {
    const header: SessionHeader = { kind: 'session', version: 2, ...session };
    append(header);
    if (resumed) {
      checkpoint(resumed, resumed.venue);
      rmSync(legacy, { force: true });
    }
  }
  return {
    checkpoint,
    close: () => closeSync(fd),
  };
}
