/** The saved failing seeds of a random test family (test/regressions/seeds.json). */
import { readFileSync } from 'node:fs';

export interface Regression {
  family: 'commands' | 'simulation' | 'fuzz';
  seed: number;
  path?: string;
  found: string;
  what: string;
}

export function regressions(family: Regression['family']): Regression[] {
  const all = JSON.parse(readFileSync(new URL('../regressions/seeds.json', import.meta.url), 'utf8')) as Regression[];
  return all.filter((r) => r.family === family);
}
