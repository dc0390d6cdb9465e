import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['src/**/*.test.ts'] },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/**/*.test.ts'],
          // Each file gets its own namespace; two at a time keeps a 2-core node responsive.
          maxWorkers: 2,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        // npm run soak (half an hour; not in CI).
        test: { name: 'soak', include: ['test/soak/**/*.soak.ts'], hookTimeout: 120_000 },
      },
      {
        // npm run bench (kubestep against kubectl; prints a table, writes bench-results.json).
        test: {
          name: 'bench',
          include: ['test/bench/**/*.bench.ts'],
          hookTimeout: 120_000,
          testTimeout: 1_800_000,
        },
      },
    ],
  },
});
