import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Files whose threads crowd every other suite (Dawn on SwiftShader): `pnpm test` runs them after the other suites,
 * with the other heavy files (this package's `test:heavy`); `vitest run` here runs all.
 */
const HEAVY = ['src/train-tabular-webgpu.test.ts'];
const part = process.env.npm_lifecycle_event;

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 300_000,
    hookTimeout: 300_000,
    include: part === 'test:heavy' ? HEAVY : ['src/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(part === 'test' ? HEAVY : [])],
  },
});
