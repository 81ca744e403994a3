// The source files of a package, as the lint scripts read them: tests, fixtures and installed packages left out.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The files under `directory`'s `folders` (default `src`) whose names match `pattern`, without tests and fixtures. */
export function sourceFiles(directory, { folders = ['src'], pattern = /\.(ts|mts|cts|js|mjs|cjs)$/ } = {}) {
  const files = [];
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'fixtures' && entry.name !== 'node_modules') walk(path);
      } else if (pattern.test(entry.name) && !/\.test\.[mc]?[jt]sx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(path);
    }
  };
  for (const folder of folders) if (existsSync(join(directory, folder))) walk(join(directory, folder));
  return files;
}
