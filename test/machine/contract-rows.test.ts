/**
 * The hand-written statements of the contract (src/sim/contract-table.ts, src/sim/contract-rows.ts
 * and its section 4b sibling contract-rows-4b.ts) are independent of the machine and agree with each
 * other: no src/sim/contract-* file imports from machines/ (read from their source text), the
 * event-level rows never overlap and none is dead (every combination of facts and events tried),
 * and the status changes they can make are exactly the edges of sections 4 and 4b.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SECTION_4B_EDGES, SECTION_4_EDGES } from '../../src/sim/contract-table.js';
import { CONTRACT_EVENTS, CONTRACT_ROWS, allFacts, contractStep, rowsFor } from '../../src/sim/contract-rows.js';
import { SECTION_4B_ROWS } from '../../src/sim/contract-rows-4b.js';

const SIM = new URL('../../src/sim/', import.meta.url);

describe('the contract statements', () => {
  it('no src/sim/contract-* file imports from machines/ (nor from the handler)', () => {
    const files = readdirSync(SIM).filter((f) => f.startsWith('contract-'));
    expect(files).toEqual(expect.arrayContaining(['contract-table.ts', 'contract-rows.ts', 'contract-rows-4b.ts']));
    for (const file of files) {
      const source = readFileSync(new URL(file, SIM), 'utf8');
      const imports = [...source.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
      expect(
        imports.filter((path) => /machines|handler/.test(path)),
        `${file} must not read the rules from the code under test`,
      ).toEqual([]);
    }
  });

  it('at most one row takes any event for any order, and every row takes some', () => {
    const used = new Set<string>();
    for (const facts of allFacts()) {
      for (const event of CONTRACT_EVENTS) {
        const rows = rowsFor(facts, event);
        expect(rows.length, `${JSON.stringify(facts)} ${JSON.stringify(event)}`).toBeLessThanOrEqual(1);
        for (const r of rows) used.add(r.says);
      }
    }
    expect(CONTRACT_ROWS.map((r) => r.says).filter((s) => !used.has(s))).toEqual([]);
    expect(new Set(CONTRACT_ROWS.map((r) => r.says)).size, 'every row says something of its own').toBe(
      CONTRACT_ROWS.length,
    );
  });

  it("the rows' status changes are exactly the edges of sections 4 and 4b, and section 4b's rows make each 4b edge", () => {
    const changes = new Set<string>();
    const by4b = new Set<string>();
    for (const facts of allFacts()) {
      for (const event of CONTRACT_EVENTS) {
        const step = contractStep(facts, event);
        if (step.to === step.from) continue;
        changes.add(`${step.from}>${step.to}`);
        if (SECTION_4B_ROWS.includes(step.row!)) by4b.add(`${step.from}>${step.to}`);
      }
    }
    expect([...changes].sort()).toEqual([...new Set([...SECTION_4_EDGES, ...SECTION_4B_EDGES])].sort());
    expect(SECTION_4B_EDGES.filter((e) => !by4b.has(e))).toEqual([]);
  });

  it('a modify is outstanding only after modify(), and only MODIFIED, MODIFY_REJECTED, REJECTED or the venue not knowing the order resolves it', () => {
    for (const facts of allFacts()) {
      for (const event of CONTRACT_EVENTS) {
        const step = contractStep(facts, event);
        if (!facts.modifyOutstanding && step.facts.modifyOutstanding) expect(event.type).toBe('MODIFY');
        if (facts.modifyOutstanding && !step.facts.modifyOutstanding)
          expect(
            ['MODIFIED', 'MODIFY_REJECTED'].includes(event.type) ||
              step.to === 'REJECTED' ||
              event.type === 'NOT_FOUND',
            `${facts.status} --${event.type}--> ${step.to} resolves the modify`,
          ).toBe(true);
      }
    }
  });

  it('a final status changes only by a fill that completes the order, or by late news for an order given up on', () => {
    for (const facts of allFacts().filter((f) => ['FILLED', 'REJECTED', 'CANCELLED', 'EXPIRED'].includes(f.status))) {
      for (const event of CONTRACT_EVENTS) {
        const step = contractStep(facts, event);
        if (step.to === step.from) continue;
        const completingFill = event.type === 'FILL' && event.completes && step.to === 'FILLED';
        const lateNews = facts.status === 'CANCELLED' && facts.gaveUp && !facts.venueReportedFinal;
        expect(completingFill || lateNews, `${facts.status} --${event.type}--> ${step.to}`).toBe(true);
      }
    }
  });
});
