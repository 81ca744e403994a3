// Builds the libtorch addon with node-gyp, or says in one line why it did not and exits 0: installing Kindling
// on a machine without libtorch or a compiler must still work (wasm runs there). Run by `install` and `build`;
// a build that is up to date is kept. KINDLING_TORCH=required makes a skipped build fail (CI sets it);
// KINDLING_TORCH=skip skips it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'Release', 'kindling_torch.node');
const stamp = join(root, 'build', 'kindling-build.json');
const skippedNote = join(root, 'build', 'skipped.txt');
const mode = process.env.KINDLING_TORCH ?? 'auto';

function skip(reason) {
  mkdirSync(dirname(skippedNote), { recursive: true });
  writeFileSync(skippedNote, `${reason}\n`);
  const line = `@kindling/backend-torch: the libtorch addon was not built (${reason}); Kindling runs on wasm instead`;
  if (mode === 'required') {
    console.error(`${line}, but KINDLING_TORCH=required`);
    process.exit(1);
  }
  console.warn(line);
  process.exit(0);
}

if (mode === 'skip') skip('KINDLING_TORCH=skip');

const { findLibtorch } = require('./libtorch.cjs');
const libtorch = findLibtorch();
if ('missing' in libtorch) skip(libtorch.missing);

const sources = ['native/kindling_torch.cc', 'native/process_group.cc', 'binding.gyp', 'scripts/libtorch.cjs', 'scripts/build-addon.mjs'].map((file) => join(root, file));
const wanted = { libtorch: libtorch.source, node: process.versions.modules, sources: Math.max(...sources.map((file) => statSync(file).mtimeMs)) };
if (existsSync(addon) && existsSync(stamp)) {
  try {
    const built = JSON.parse(readFileSync(stamp, 'utf8'));
    if (built.libtorch === wanted.libtorch && built.node === wanted.node && built.sources >= wanted.sources) process.exit(0);
  } catch {
    // an unreadable stamp: build again
  }
}

let nodeGyp;
try {
  nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  skip('node-gyp is not installed');
}

// Node's own headers when they are installed beside it (Debian's nodejs, official tarballs): no download
const prefix = join(dirname(process.execPath), '..');
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
console.log(`@kindling/backend-torch: building the libtorch addon against ${libtorch.source} (a minute or two)`);
const started = Date.now();
const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--release', '-j', 'max', ...nodedir], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, npm_config_loglevel: 'error' },
});
if (result.status !== 0 || !existsSync(addon)) {
  const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  const firstError = output.split('\n').find((line) => /error|not found|No such file/i.test(line))?.trim();
  if (process.env.KINDLING_TORCH_VERBOSE === '1' || mode === 'required') console.error(output);
  skip(`node-gyp failed${firstError === undefined ? '' : `: ${firstError.slice(0, 200)}`}`);
}
rmSync(skippedNote, { force: true });
const temporary = `${stamp}.${process.pid}.tmp`;
writeFileSync(temporary, `${JSON.stringify(wanted)}\n`);
renameSync(temporary, stamp);
console.log(`@kindling/backend-torch: built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
