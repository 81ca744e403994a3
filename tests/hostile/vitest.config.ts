import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The files that time `/health` or a balancer under load. `pnpm test` runs them alone, after every other suite (this
 * package's `test:alone`); before them, the heaviest files with the other suites' heavy files (`test:heavy`: beside
 * every suite, the 200 MB table ran past ten minutes); the rest of the package beside the other suites (`test`).
 * `vitest run` here runs all.
 */
const ALONE = ['src/server.test.ts', 'src/replicas.test.ts', 'src/event-loop.test.ts'];
const HEAVY = ['src/big-table.test.ts', 'src/resume.test.ts'];
const part = process.env.npm_lifecycle_event;
const files: Record<string, string[]> = { 'test:alone': ALONE, 'test:heavy': HEAVY };

export default defineConfig({
  test: {
    pool: 'forks',
    // beside every other suite on two cores (pnpm test), a training run of seconds takes minutes
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // beside the other suites, this package's files run at once (the 200 MB table is the run's longest file); alone, one at a time
    maxWorkers: part === 'test' ? 4 : part === 'test:heavy' ? 2 : 1,
    include: files[part ?? ''] ?? ['src/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(part === 'test' ? [...ALONE, ...HEAVY] : [])],
  },
});
