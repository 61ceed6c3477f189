/**
 * A pino-compatible logger that keeps every entry (level, merged fields, message), for tests that
 * assert what the handler logged.
 */
import type { HandlerLogger } from '../../src/handler/logging.js';

/** One logged entry: the child's bindings merged with the entry's fields. */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A logger whose entries (of it and all its children) land in `entries`. */
export function capturingLogger(
  entries: LogEntry[] = [],
  bindings: Record<string, unknown> = {},
): HandlerLogger & { entries: LogEntry[] } {
  const at =
    (level: LogEntry['level']) =>
    (fields: Record<string, unknown>, message: string): void => {
      entries.push({ level, fields: { ...bindings, ...fields }, message });
    };
  return {
    entries,
    child: (more) => capturingLogger(entries, { ...bindings, ...more }),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}
