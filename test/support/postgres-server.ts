/**
 * Vitest global setup: one real PostgreSQL server for the whole run (see embedded-postgres.ts),
 * its connection string provided to the tests as `postgresUrl`.
 */
import type { TestProject } from 'vitest/node';
import { startPostgres } from './embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres();
  project.provide('postgresUrl', server.url);
  return server.stop;
}
