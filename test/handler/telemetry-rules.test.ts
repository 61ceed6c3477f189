/**
 * The logging and metrics sources keep the house rules a type checker cannot see: time only from
 * the injected clock (no Date.now, Math.random or global timers), TSDoc on every export, and
 * prom-client only loaded by `import()` when metrics are asked for (a static import would load it
 * with the package root).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const files = ['telemetry.ts', 'logging.ts', 'metrics.ts'].map((f) => `src/handler/${f}`);
const withoutComments = (file: string): string => readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');

describe('the telemetry sources', () => {
  it.each(files)('%s takes time only from the injected clock', (file) => {
    expect(withoutComments(file)).not.toMatch(
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

  it('imports prom-client only as types, or by import() when metrics are asked for', () => {
    for (const file of [...files, 'src/handler/create.ts', 'src/handler/options.ts', 'src/inspector/server.ts']) {
      const code = withoutComments(file);
      expect(code, file).not.toMatch(/^import (?!type )[^;]*from 'prom-client'/m);
    }
  });
});
