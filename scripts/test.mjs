// `pnpm test`: the build, then every package's tests through turbo (as `turbo run test --continue`), their output
// passed through as it comes; then the heaviest files (`test:heavy`: the 200 MB table, a killed run resumed, Dawn on
// SwiftShader, pictures under torchrun), a few at a time, so that each gets a core instead of a twentieth of one; then
// the suites that time a server under load (`test:alone`: /health latency, replicas behind a balancer), alone, so that
// another suite's load is not counted against them; then the ten slowest tests of all runs (from vitest's own timings
// of its slow tests), so the suite's cost stays in sight. Fails if any run failed.
import { spawn } from 'node:child_process';

const timings = [];
// eslint-disable-next-line no-control-regex -- the escape that starts a terminal colour
const ANSI = /\u001b\[[0-9;]*m/g;

function read(line) {
  // `@kindling/learner:test:      ✓ fits the reference CNN … 41253ms` (a test; a file's line says `(N tests)`)
  const match = /^(@?[\w/.-]+):test(?::alone|:heavy)?:\s+[✓×]\s+(.*?)\s+(\d+)ms$/.exec(line.replace(ANSI, '').trimEnd());
  if (match !== null && !/\(\d+ tests?(?: \|[^)]*)?\)$/.test(match[2])) timings.push({ where: match[1], name: match[2], ms: Number(match[3]) });
}

/** `turbo run <task> --continue …args`, its output passed through and read for timings; resolves with its exit status. */
function turbo(task, flags = [], env = {}) {
  return new Promise((resolve) => {
    const child = spawn('turbo', ['run', task, '--continue', ...flags, ...process.argv.slice(2)], { stdio: ['inherit', 'pipe', 'inherit'], env: { ...process.env, ...env }, shell: process.platform === 'win32' });
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

// The libraries are built (or their builds replayed from turbo's cache) first, so that no suite waits on a build
// while the others load the cores.
const built = await turbo('build', ['--output-logs=errors-only']);
if (built !== 0) process.exit(built);
// Then every package at once (turbo's default is ten tasks at a time): the longest suites start in the first minute
// instead of waiting for a slot, and the cores stay busy to the end. With a dozen suites sharing the cores, libtorch
// gets one thread each (OMP_NUM_THREADS, as torchrun gives its workers; a test that asks for threads still gets
// them): more would only wait for one another.
const together = await turbo('test', ['--only', '--concurrency=64'], { OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1' });
// Beside a dozen suites, a file that trains for a minute alone ran past ten: the heavy files run after them, their
// packages at once (four or five busy threads on two cores), libtorch again on one thread each.
const heavy = await turbo('test:heavy', ['--only'], { OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1' });
const alone = await turbo('test:alone', ['--only']);
if (timings.length > 0) {
  timings.sort((a, b) => b.ms - a.ms);
  console.log('\nThe ten slowest tests of this run:');
  for (const { where, name, ms } of timings.slice(0, 10)) console.log(`${(ms / 1000).toFixed(1).padStart(7)} s  ${where}  ${name.length > 110 ? `${name.slice(0, 109)}…` : name}`);
}
process.exit([together, heavy, alone].find((code) => code !== 0) ?? 0);
