/**
 * The order machine's transitions read back from its definition: the single source from which
 * the docs' table and diagram are generated and against which every recorded change is checked
 * (promise 4: legal edges only).
 */
import type { OrderStatus } from '../src/types.js';
import { orderMachine } from './order.js';

/** One transition of the machine: `to` equals `from` for a transition that keeps the state. */
export interface TransitionRow {
  from: OrderStatus;
  event: string;
  to: OrderStatus;
  guard?: string;
  actions: string[];
}

interface NodeLike {
  key: string;
  transitions: Map<string, { target?: readonly { key: string }[]; guard?: unknown; actions: readonly unknown[] }[]>;
}

const nameOf = (x: unknown): string =>
  typeof x === 'string'
    ? x
    : typeof x === 'object' && x !== null && 'type' in x
      ? String((x as { type: unknown }).type)
      : 'inline';

/** Every transition of the order machine, state by state, in definition order. */
export function transitionTable(): TransitionRow[] {
  const rows: TransitionRow[] = [];
  const states = orderMachine.root.states as unknown as Record<string, NodeLike>;
  const shared = (orderMachine.root as unknown as NodeLike).transitions;
  for (const node of Object.values(states)) {
    // Protocol events every status answers the same way (the machine's root `on`), unless the
    // state has rows of its own for the event.
    const own = [...node.transitions].filter(([event]) => !event.startsWith('xstate.'));
    const inherited = [...shared].filter(([event]) => !node.transitions.has(event));
    for (const [event, defs] of [...own, ...inherited]) {
      for (const def of defs) {
        const to = (def.target?.[0]?.key ?? node.key) as OrderStatus;
        rows.push({
          from: node.key as OrderStatus,
          event,
          to,
          ...(def.guard === undefined ? {} : { guard: nameOf(def.guard) }),
          actions: def.actions.map(nameOf),
        });
      }
    }
  }
  return rows;
}

/** The set of `from>to` status changes the machine can make (from != to). */
export function legalEdges(): Set<string> {
  return new Set(
    transitionTable()
      .filter((r) => r.from !== r.to)
      .map((r) => `${r.from}>${r.to}`),
  );
}
