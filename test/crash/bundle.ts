/** Bundles a child-process entry of the process tests into one file, so each of hundreds of forks starts fast. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

/** Bundles `entry` to `.tmp/{name}.mjs` (native and server drivers left external) and returns its path. */
export async function bundleChild(entry: string, name: string): Promise<string> {
  const outfile = join(process.cwd(), '.tmp', `${name}.mjs`);
  mkdirSync(join(process.cwd(), '.tmp'), { recursive: true });
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    external: ['better-sqlite3', 'pg'],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  return outfile;
}
