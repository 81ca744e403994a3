import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The files that time `/health` or a balancer under load. `pnpm test` runs them alone, after every other suite (this
 * package's `test:alone`), and the rest of the package beside the other suites (`test`); `vitest run` here runs all.
 */
const ALONE = ['src/server.test.ts', 'src/replicas.test.ts', 'src/event-loop.test.ts'];
const part = process.env.npm_lifecycle_event;

export default defineConfig({
  test: {
    pool: 'forks',
    // beside every other suite on two cores (pnpm test), a training run of seconds takes minutes
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // beside the other suites, this package's files run at once (the 200 MB table is the run's longest file); alone, one at a time
    maxWorkers: part === 'test' ? 4 : 1,
    include: part === 'test:alone' ? ALONE : ['src/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(part === 'test' ? ALONE : [])],
  },
});
