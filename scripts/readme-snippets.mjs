// The ```ts blocks of the published packages' READMEs (the libraries and the CLI), read the same way by the
// compile check (`scripts/check-readme-snippets.mjs`, `pnpm lint`) and by the consumer test, which runs them.
// A block runs as written unless the line before its fence says otherwise:
//   <!-- snippet: continues <heading> -->  the block goes on from the first block under that `## heading` (one
//                                          module: its names are in scope)
//   <!-- snippet: vitest -->               a test file: run by vitest, not node
//   <!-- snippet: compile only, <why> -->  it needs what a test run cannot have (a GPU, a launcher); it is still compiled
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every block: where it is, its code (with the blocks it continues), and why it is not run, when it is not. */
export function readmeSnippets(root) {
  const snippets = [];
  const folders = [...readdirSync(join(root, 'packages')).map((folder) => join('packages', folder)), join('apps', 'trainer')];
  for (const folder of folders) {
    const readme = join(root, folder, 'README.md');
    if (!existsSync(readme)) continue;
    const manifest = JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8'));
    const lines = readFileSync(readme, 'utf8').split('\n');
    let heading = '';
    const firstUnder = new Map();
    for (let index = 0; index < lines.length; index++) {
      if (/^#{1,6} /.test(lines[index])) heading = lines[index].replace(/^#+ /, '').trim();
      if (lines[index].trim() !== '```ts') continue;
      const note = /^<!-- snippet: (.*) -->$/.exec(lines[index - 1]?.trim() ?? '')?.[1];
      const start = index + 1;
      let end = start;
      while (end < lines.length && lines[end].trim() !== '```') end++;
      let code = lines.slice(start, end).join('\n');
      const continues = note?.startsWith('continues ') ? note.slice('continues '.length).trim() : undefined;
      if (continues !== undefined) {
        const before = firstUnder.get(continues);
        if (before === undefined) throw new Error(`${folder}/README.md:${start - 1}: continues '${continues}', but no block comes under that heading before it`);
        code = `${before.code}\n${code}`;
      }
      const compileOnly = note?.startsWith('compile only') ? note.replace(/^compile only,?\s*/, '') || 'not run' : undefined;
      const vitest = note === 'vitest';
      if (note !== undefined && continues === undefined && compileOnly === undefined && !vitest) throw new Error(`${folder}/README.md:${start - 1}: unknown snippet note '${note}'`);
      const snippet = { folder, package: manifest.name, line: start + 1, code, compileOnly, vitest };
      if (!firstUnder.has(heading)) firstUnder.set(heading, snippet);
      snippets.push(snippet);
      index = end;
    }
  }
  return snippets;
}
