/**
 * House rules a type checker cannot see, over every source file of the library (`src/`,
 * `machines/`): time and randomness only through the clock and random seams (`src/clock.ts`,
 * `src/random.ts`), so simulation and tests replay exactly; TSDoc on every export; prom-client
 * loaded only by `import()` when metrics are asked for (a static import would load it with the
 * package root).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const sourcesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourcesUnder(path);
    return path.endsWith('.ts') ? [path] : [];
  });

const SOURCES = [...sourcesUnder('src'), ...sourcesUnder('machines')].sort();
const withoutComments = (file: string): string => readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');

/** Reading the time or drawing randomness without the seams. */
const UNSEAMED =
  /Date\.now|new Date\(\)|Math\.random|performance\.now|globalThis\.setTimeout|\bsetInterval\(|(^|[^.\w])setTimeout\(/m;
/** The seams themselves, and the CLI, which reports a run's wall time to the person who ran it. */
const SEAMS = new Set(['src/clock.ts', 'src/random.ts']);
const WALL_TIME = /performance\.now/g;

describe('source rules', () => {
  it('finds the sources', () => {
    expect(SOURCES.length).toBeGreaterThan(50);
  });

  it.each(SOURCES.filter((f) => !SEAMS.has(f)))('%s takes time and randomness only through the seams', (file) => {
    const code = withoutComments(file);
    expect(file.startsWith('src/cli/') ? code.replace(WALL_TIME, '') : code).not.toMatch(UNSEAMED);
  });

  it.each(SOURCES)('%s documents every export', (file) => {
    const lines = readFileSync(file, 'utf8').split('\n');
    const undocumented = lines.filter(
      (line, i) => /^export (?!type \{|\{|\*)/.test(line) && !(lines[i - 1] ?? '').trim().endsWith('*/'),
    );
    expect(undocumented).toEqual([]);
  });

  it('imports prom-client only as types, or by import() when metrics are asked for', () => {
    for (const file of SOURCES)
      expect(withoutComments(file), file).not.toMatch(/^import (?!type )[^;]*from 'prom-client'/m);
  });
});
