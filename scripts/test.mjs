// `pnpm test`: every package's tests through turbo (as `turbo run test --continue`), its output passed through as
// it comes, then the ten slowest tests of the run (from vitest's own timings of its slow tests), so the suite's
// cost stays in sight. Exits with turbo's status.
import { spawn } from 'node:child_process';

const turbo = spawn('turbo', ['run', 'test', '--continue', ...process.argv.slice(2)], { stdio: ['inherit', 'pipe', 'inherit'], shell: process.platform === 'win32' });
const timings = [];
let pending = '';
// eslint-disable-next-line no-control-regex -- the escape that starts a terminal colour
const ANSI = /\u001b\[[0-9;]*m/g;

function read(line) {
  // `@kindling/learner:test:      ✓ fits the reference CNN … 41253ms` (a test; a file's line says `(N tests)`)
  const match = /^(@?[\w/.-]+):test:\s+[✓×]\s+(.*?)\s+(\d+)ms$/.exec(line.replace(ANSI, '').trimEnd());
  if (match !== null && !/\(\d+ tests?(?: \|[^)]*)?\)$/.test(match[2])) timings.push({ where: match[1], name: match[2], ms: Number(match[3]) });
}

turbo.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const lines = (pending + chunk.toString()).split('\n');
  pending = lines.pop() ?? '';
  lines.forEach(read);
});

turbo.on('close', (code, signal) => {
  read(pending);
  if (timings.length > 0) {
    timings.sort((a, b) => b.ms - a.ms);
    console.log('\nThe ten slowest tests of this run:');
    for (const { where, name, ms } of timings.slice(0, 10)) console.log(`${(ms / 1000).toFixed(1).padStart(7)} s  ${where}  ${name.length > 110 ? `${name.slice(0, 109)}…` : name}`);
  }
  process.exit(code ?? (signal === null ? 1 : 128));
});
