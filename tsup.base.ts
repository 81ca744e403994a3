import { defineConfig, type Options } from 'tsup';

/** The build every publishable @kindling package shares: ESM + CJS + .d.ts for each entry point. */
export function libraryConfig(entry: string[]): ReturnType<typeof defineConfig> {
  const options: Options = { entry, format: ['esm', 'cjs'], dts: true, sourcemap: true, clean: true, target: 'es2022' };
  return defineConfig(options);
}
