// `pnpm test`: every package's tests through turbo (`turbo run test --continue`), its output passed through as it
// comes, then the ten slowest tests of the run (from vitest's own timings of its slow tests), so the suite's cost
// stays in sight. Exits non-zero when any suite failed.
//
// How it is scheduled, on a machine of few cores: the packages are built first (instant after `pnpm build`: turbo's
// cache); then the two longest suites — hostile and distributed, whole CLI runs — start at once, one after the
// other, beside the rest at (cores) packages at a time. Each suite trains with every core it finds (libtorch's and
// wasm's thread pools), so turbo's default of ten at once only makes them wait for each other, and the longest
// suites, started last, would end the run alone. Arguments (`pnpm test --filter=@kindling/data`) go to one plain
// `turbo run test` instead.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const given = process.argv.slice(2);
const LONGEST = ['@kindling/hostile-tests', '@kindling/distributed-tests'];
const timings = [];
// eslint-disable-next-line no-control-regex -- the escape that starts a terminal colour
const ANSI = /\u001b\[[0-9;]*m/g;

function read(line) {
  // `@kindling/learner:test:      ✓ fits the reference CNN … 41253ms` (a test; a file's line says `(N tests)`)
  const match = /^(@?[\w/.-]+):test:\s+[✓×]\s+(.*?)\s+(\d+)ms$/.exec(line.replace(ANSI, '').trimEnd());
  if (match !== null && !/\(\d+ tests?(?: \|[^)]*)?\)$/.test(match[2])) timings.push({ where: match[1], name: match[2], ms: Number(match[3]) });
}

/** Runs turbo with `args`, its lines passed through (and read for timings); resolves to its exit status. */
function turbo(args) {
  return new Promise((resolve) => {
    const child = spawn('turbo', args, { stdio: ['inherit', 'pipe', 'inherit'], shell: process.platform === 'win32' });
    let pending = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(read);
    });
    child.on('close', (code, signal) => {
      read(pending);
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
}

let statuses;
if (given.length > 0) {
  statuses = [await turbo(['run', 'test', '--continue', ...given])];
} else {
  const built = await turbo(['run', 'build', '--output-logs=errors-only']);
  if (built !== 0) process.exit(built);
  statuses = await Promise.all([
    turbo(['run', 'test', '--only', '--continue', '--concurrency=1', ...LONGEST.map((name) => `--filter=${name}`)]),
    turbo(['run', 'test', '--only', '--continue', `--concurrency=${Math.max(1, availableParallelism())}`, ...LONGEST.map((name) => `--filter=!${name}`)]),
  ]);
}

if (timings.length > 0) {
  timings.sort((a, b) => b.ms - a.ms);
  console.log('\nThe ten slowest tests of this run:');
  for (const { where, name, ms } of timings.slice(0, 10)) console.log(`${(ms / 1000).toFixed(1).padStart(7)} s  ${where}  ${name.length > 110 ? `${name.slice(0, 109)}…` : name}`);
}
process.exit(statuses.find((status) => status !== 0) ?? 0);
