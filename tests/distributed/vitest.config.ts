import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    // beside every other suite on two cores (pnpm test), a 20-epoch run under torchrun takes minutes
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
