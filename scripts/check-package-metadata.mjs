// Every published package (the libraries and the CLI) carries what a registry page and a downstream install need: a description, the
// MIT licence (field and LICENSE file, shipped in the tarball), repository with its folder, homepage, bugs,
// keywords, Node engines, `@tensorflow/tfjs` as a peer (libraries never bundle or choose it), and an exports
// map whose every entry lists its types first. Run by `pnpm lint`; prints each problem on one line.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const problems = [];
const folders = [...readdirSync(join(root, 'packages')).map((name) => `packages/${name}`), 'apps/trainer'];
for (const folder of folders) {
  const directory = join(root, folder);
  if (!existsSync(join(directory, 'package.json'))) continue;
  const pkg = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  const say = (problem) => problems.push(`${folder}/package.json: ${problem}`);
  if (typeof pkg.description !== 'string' || pkg.description.length < 20) say('needs a description of what the package does');
  if (pkg.license !== 'MIT') say(`license is ${JSON.stringify(pkg.license)}, not "MIT"`);
  if (!existsSync(join(directory, 'LICENSE'))) say('has no LICENSE file beside it (npm ships it in the tarball)');
  if (!pkg.files?.includes('LICENSE')) say('"files" does not list LICENSE');
  if (pkg.repository?.directory !== folder || !/^git\+https:\/\//.test(pkg.repository?.url ?? '')) say(`repository needs a git+https url and "directory": "${folder}"`);
  if (!pkg.homepage?.startsWith('https://')) say('needs a homepage');
  if (!pkg.bugs?.url?.startsWith('https://')) say('needs bugs.url');
  if (!Array.isArray(pkg.keywords) || pkg.keywords.length < 3) say('needs at least three keywords');
  if (typeof pkg.engines?.node !== 'string') say('needs engines.node');
  // libraries take tfjs as a peer (the application chooses its copy); the CLI is an application
  const library = folder !== 'apps/trainer';
  // a bundle (the script-tag build: `kindling.bundled` says why) carries its own copy of tfjs, for a page with no install
  const bundle = typeof pkg.kindling?.bundled === 'string';
  if (library && !bundle && folder !== 'packages/backend-torch' && !pkg.peerDependencies?.['@tensorflow/tfjs']) say('needs @tensorflow/tfjs as a peer dependency');
  if (library && pkg.dependencies?.['@tensorflow/tfjs']) say('must not depend on @tensorflow/tfjs (a peer: the application chooses its copy)');
  if (!library && typeof pkg.bin?.kindling !== 'string') say('the CLI needs its bin, kindling');
  for (const [entry, conditions] of Object.entries(pkg.exports ?? {})) {
    if (typeof conditions !== 'object') continue;
    for (const [condition, target] of Object.entries(conditions)) {
      if (typeof target === 'object' && Object.keys(target)[0] !== 'types') say(`exports["${entry}"].${condition} must list "types" first`);
    }
  }
}
if (!existsSync(join(root, 'LICENSE'))) problems.push('LICENSE: missing at the root');
for (const problem of problems) console.error(problem);
if (problems.length > 0) process.exit(1);
console.log('package metadata: every published package is complete');
