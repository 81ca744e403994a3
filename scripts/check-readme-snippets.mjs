// Every ```ts block of every package README (the libraries and the CLI) compiles as a module of its own, strict, against the built
// packages (as a downstream project sees them); the consumer test runs them (see readme-snippets.mjs). Each block is written to `packages/<name>/.snippets/` (ignored
// by git) and type-checked with the repository's compiler options and top-level await. Run by `pnpm lint`
// after the build; prints each failing block's README line and the compiler's message.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeSnippets } from './readme-snippets.mjs';

const root = join(import.meta.dirname, '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let blocks = 0;
let failures = 0;
const byFolder = new Map();
for (const snippet of readmeSnippets(root)) byFolder.set(snippet.folder, [...(byFolder.get(snippet.folder) ?? []), snippet]);
for (const [folder, snippets] of byFolder) {
  const directory = join(root, folder);
  const out = join(directory, '.snippets');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  const files = snippets.map((snippet, index) => {
    const file = `readme-line-${snippet.line}.ts`;
    // `export {}` makes each block a module (top-level await, no clashes between blocks)
    writeFileSync(join(out, file), `${snippet.code}\nexport {};\n`);
    return { ...snippet, file, index };
  });
  writeFileSync(
    join(out, 'tsconfig.json'),
    JSON.stringify({ extends: '../../../tsconfig.base.json', compilerOptions: { noEmit: true, module: 'ESNext', target: 'ES2022', noUnusedLocals: false }, include: ['*.ts'] }, null, 2),
  );
  blocks += files.length;
  const result = spawnSync(process.execPath, [tsc, '-p', join(out, 'tsconfig.json'), '--pretty', 'false'], { encoding: 'utf8', cwd: out });
  if (result.status !== 0) {
    for (const line of result.stdout.split('\n').filter((text) => /error TS/.test(text))) {
      const match = /^readme-line-(\d+)\.ts\((\d+),\d+\): (.*)$/.exec(line.trim());
      failures++;
      // a continued block's lines count from the first block it continues: name the block
      console.error(match ? `${folder}/README.md (block at line ${match[1]}), line ${match[2]} of it: ${match[3]}` : `${folder}: ${line.trim()}`);
    }
  }
}
if (failures > 0) {
  console.error(`${failures} compile error(s) in README snippets`);
  process.exit(1);
}
console.log(`README snippets: all ${blocks} compile`);
