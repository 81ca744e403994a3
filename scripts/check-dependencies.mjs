// Every dependency a published package declares is one its source uses, and every package its source imports is
// declared (a dependency, a peer, or one of its own files): no dead weight in a user's install, no import that works
// only because the workspace happens to hoist it. Tests, fixtures and benchmarks are not the package: their imports
// may come from devDependencies. A runtime dependency that no file names (a native addon loaded by another package)
// is listed in `kindling.runtimeDependencies` with the reason. Run by `pnpm lint`; prints each problem on one line.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { sourceFiles } from './source-files.mjs';

const root = join(import.meta.dirname, '..');
const problems = [];
const folders = [...readdirSync(join(root, 'packages')).map((name) => `packages/${name}`), 'apps/trainer'];

/** The source files of a package: its src/ and scripts/ without tests and fixtures. */
const packageSources = (directory) => sourceFiles(directory, { folders: ['src', 'scripts'] });

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
const packageOf = (specifier) => (specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

for (const folder of folders) {
  const directory = join(root, folder);
  if (!existsSync(join(directory, 'package.json'))) continue;
  const pkg = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  // a package whose build bundles its imports (the script-tag build) takes them from its devDependencies
  const bundled = typeof pkg.kindling?.bundled === 'string';
  const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), ...(bundled ? Object.keys(pkg.devDependencies ?? {}) : [])]);
  const runtime = pkg.kindling?.runtimeDependencies ?? {};
  const used = new Map();
  for (const file of packageSources(directory)) {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, ''); // comments name packages too
    for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) {
      const specifier = match[1];
      if (specifier.startsWith('.') || specifier.startsWith('#') || builtins.has(specifier) || builtins.has(packageOf(specifier))) continue;
      const name = packageOf(specifier);
      if (name === pkg.name) continue;
      if (!used.has(name)) used.set(name, relative(root, file));
    }
  }
  for (const [name, file] of used) {
    if (!declared.has(name)) problems.push(`${folder}/package.json: ${file} imports '${name}', which is neither a dependency nor a peer`);
  }
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    if (!used.has(name) && runtime[name] === undefined) problems.push(`${folder}/package.json: depends on '${name}', which no source file imports (remove it, or say why in kindling.runtimeDependencies)`);
  }
}
for (const problem of problems) console.error(problem);
if (problems.length > 0) process.exit(1);
console.log('dependencies: every published package declares what it imports and imports what it declares');
