import { configDefaults, defineConfig } from 'vitest/config';

/** The heaviest file (each test trains twice, under torchrun and in one process): `pnpm test` runs it after the other suites, with the other heavy files (`test:heavy`); `vitest run` here runs all. */
const HEAVY = ['src/one-process-parity.test.ts'];
const part = process.env.npm_lifecycle_event;

export default defineConfig({
  test: {
    pool: 'forks',
    // beside every other suite on two cores (pnpm test), a 20-epoch run under torchrun takes minutes
    testTimeout: 300_000,
    hookTimeout: 300_000,
    include: part === 'test:heavy' ? HEAVY : ['src/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(part === 'test' ? HEAVY : [])],
  },
});
