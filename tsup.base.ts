import { defineConfig, type Options } from 'tsup';

/** The build every publishable @kindling package shares: ESM + CJS + .d.ts for each entry point. */
export function libraryConfig(entry: string[], overrides: Options = {}): ReturnType<typeof defineConfig> {
  // `#…` imports stay as they are: the package's own "imports" map picks the Node or browser file where it is used
  const options: Options = { entry, format: ['esm', 'cjs'], dts: true, sourcemap: true, clean: true, target: 'es2022', external: [/^#/], ...overrides };
  return defineConfig(options);
}
