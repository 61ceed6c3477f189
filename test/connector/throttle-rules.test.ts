/**
 * The throttle's source keeps the house rules a type checker cannot see: time only through the
 * injected clock (no Date.now, Math.random or global timers), and TSDoc on every export.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const files = ['throttle.ts', 'call-queue.ts', 'rate-budgets.ts', 'retry-after.ts', 'wait-tally.ts'].map(
  (f) => `src/connector/${f}`,
);

describe('the throttle source', () => {
  it.each(files)('%s takes time only from the injected clock', (file) => {
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    expect(code).not.toMatch(
      /Date\.now|new Date\(|Math\.random|performance\.now|globalThis\.setTimeout|\bsetInterval\(|(^|[^.\w])setTimeout\(/m,
    );
  });

  it.each(files)('%s documents every export', (file) => {
    const lines = readFileSync(file, 'utf8').split('\n');
    const undocumented = lines
      .map((line, i) => ({ line, before: lines[i - 1] ?? '' }))
      .filter(({ line, before }) => /^export (?!type \{|\{)/.test(line) && !before.trim().endsWith('*/'))
      .map(({ line }) => line);
    expect(undocumented).toEqual([]);
  });
});
