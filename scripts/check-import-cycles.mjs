// No module of a package needs itself through its own imports: every relative import and re-export of a package's
// source (type-only ones included, tests and fixtures left out) forms a graph without cycles, so a module's exports
// are never read half-initialized and each layer of a package can be read on its own. Run by `pnpm lint`; prints
// each cycle on one line (`deploy/src/bundle.ts → deploy/src/registry.ts → deploy/src/bundle.ts`).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { sourceFiles } from './source-files.mjs';

const root = join(import.meta.dirname, '..');
const folders = [...readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name)), ...readdirSync(join(root, 'apps')).map((name) => join(root, 'apps', name))];

/** The file a relative specifier names (`./bundle`, `./views/index`, `./x.js`), or undefined. */
function resolveRelative(from, specifier) {
  const target = resolve(dirname(from), specifier);
  for (const candidate of [target, `${target}.ts`, `${target}.tsx`, target.replace(/\.js$/, '.ts'), join(target, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

const graph = new Map();
for (const folder of folders) {
  for (const file of sourceFiles(folder, { pattern: /\.(ts|mts|tsx)$/ })) {
    const text = readFileSync(file, 'utf8');
    const targets = [];
    // `import … from './x'`, `import type …`, `export … from './x'`, `import './x'` and `import('./x')`
    for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = resolveRelative(file, match[1]);
      if (target !== undefined) targets.push(target);
    }
    graph.set(file, targets);
  }
}

const cycles = new Set();
const state = new Map(); // 1: on the current path, 2: done
const path = [];
function visit(file) {
  state.set(file, 1);
  path.push(file);
  for (const target of graph.get(file) ?? []) {
    if (state.get(target) === 1) cycles.add([...path.slice(path.indexOf(target)), target].map((entry) => relative(root, entry)).join(' → '));
    else if (state.get(target) === undefined) visit(target);
  }
  path.pop();
  state.set(file, 2);
}
for (const file of graph.keys()) if (state.get(file) === undefined) visit(file);

for (const cycle of cycles) console.error(`import cycle: ${cycle}`);
if (cycles.size > 0) process.exit(1);
console.log(`import cycles: none among ${graph.size} source files`);
