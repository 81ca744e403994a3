// The API reference in docs/api is generated from the TSDoc by typedoc (`pnpm docs`). This check (in `pnpm lint`)
// generates it again into a temporary folder, with warnings as errors (a public signature naming a type that is
// not exported, a broken link), and fails when docs/api differs: run `pnpm docs` and commit the result.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'kindling-api-docs-'));
const files = (folder) =>
  readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
try {
  const typedoc = spawnSync(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out, '--treatWarningsAsErrors', '--logLevel', 'Warn'], { cwd: root, encoding: 'utf8' });
  if (typedoc.status !== 0) {
    console.error(`typedoc failed:\n${typedoc.stdout}${typedoc.stderr}`);
    process.exit(1);
  }
  const committed = join(root, 'docs', 'api');
  const fresh = new Map(files(out).map((path) => [relative(out, path), readFileSync(path, 'utf8')]));
  let present = [];
  try {
    present = files(committed).map((path) => relative(committed, path));
  } catch {
    // no docs/api yet
  }
  const stale = [...fresh.keys()].filter((path) => !present.includes(path) || readFileSync(join(committed, path), 'utf8') !== fresh.get(path));
  const extra = present.filter((path) => !fresh.has(path));
  if (stale.length > 0 || extra.length > 0) {
    console.error(`docs/api is out of date (${[...stale, ...extra].slice(0, 5).join(', ')}${stale.length + extra.length > 5 ? ', …' : ''}): run \`pnpm docs\` and commit it`);
    process.exit(1);
  }
  console.log(`API reference: docs/api is current (${fresh.size} pages)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
