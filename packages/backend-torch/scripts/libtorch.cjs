// Finds libtorch for the addon's build, the way tch-rs does: a folder named by LIBTORCH, else the system's
// (Debian's `libtorch-dev`: headers under /usr/include, libraries in the multiarch folder).
// `node scripts/libtorch.cjs include|libs|rpath` prints what binding.gyp needs; require() gives findLibtorch().
'use strict';
const { existsSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

/** @returns {{ root: string, include: string[], lib: string, source: string } | { missing: string }} */
function findLibtorch(environment = process.env) {
  const named = environment.LIBTORCH;
  if (named !== undefined && named !== '') {
    const header = join(named, 'include', 'ATen', 'ATen.h');
    if (!existsSync(header)) return { missing: `LIBTORCH=${named} has no include/ATen/ATen.h` };
    const lib = join(named, 'lib');
    if (!hasTorchLibrary(lib)) return { missing: `LIBTORCH=${named} has no lib/libtorch_cpu.so` };
    return { root: named, include: [join(named, 'include')], lib, source: `LIBTORCH=${named}` };
  }
  for (const prefix of ['/usr', '/usr/local']) {
    if (!existsSync(join(prefix, 'include', 'ATen', 'ATen.h'))) continue;
    const lib = libraryFolders(prefix).find(hasTorchLibrary);
    if (lib === undefined) continue;
    // /usr/include is searched already; naming it with -I would reorder the system's headers
    const include = prefix === '/usr' ? [] : [join(prefix, 'include')];
    return { root: prefix, include, lib, source: `the system's (${lib})` };
  }
  return { missing: 'libtorch not found: `apt install libtorch-dev` or set LIBTORCH to an unpacked libtorch folder' };
}

function libraryFolders(prefix) {
  const folders = [join(prefix, 'lib'), join(prefix, 'lib64')];
  const lib = join(prefix, 'lib');
  try {
    for (const entry of readdirSync(lib)) if (entry.endsWith('-linux-gnu')) folders.unshift(join(lib, entry));
  } catch {
    // no lib folder
  }
  return folders;
}

function hasTorchLibrary(folder) {
  return ['libtorch_cpu.so', 'libtorch_cpu.dylib'].some((name) => existsSync(join(folder, name)));
}

module.exports = { findLibtorch };

if (require.main === module) {
  const found = findLibtorch();
  if ('missing' in found) {
    process.stderr.write(`${found.missing}\n`);
    process.exit(1);
  }
  const what = process.argv[2];
  if (what === 'include') process.stdout.write(found.include.join(' '));
  else if (what === 'libs') process.stdout.write(`-L${found.lib} -ltorch -ltorch_cpu -lc10`);
  else if (what === 'rpath') process.stdout.write(`-Wl,-rpath,${found.lib}`);
  else process.stdout.write(`${found.source}\n`);
}
