/** Runs the built `kindling` CLI as a user would: a child process, its exit code and its output. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const CLI = fileURLToPath(new URL('../../../apps/trainer/dist/cli.js', import.meta.url));

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `kindling …args` in `cwd`; resolves when it exits (killed after `timeout` ms). */
export function kindling(args: string[], options: { cwd?: string; timeout?: number; env?: Record<string, string> } = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The error lines a run printed on stderr (the CLI's own `kindling: …`; progress and warnings are left out). */
export function errorLines(outcome: Outcome): string[] {
  return outcome.stderr.split('\n').filter((line) => line.startsWith('kindling: '));
}

/** `kindling serve …args` started; resolves with the child and its URL once it listens. */
export async function startServer(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const found = /at (http:\/\/\S+)/.exec(output);
      if (found) resolve(found[1]!);
    });
    child.on('exit', (code) => reject(new Error(`kindling serve exited (${code}): ${output}`)));
  });
  return { child, url, output: () => output };
}

/** Peak and current resident memory of a process, in MiB (Linux). */
export async function memoryOf(pid: number): Promise<{ peak: number; now: number }> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const read = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]) / 1024;
  return { peak: read('VmHWM'), now: read('VmRSS') };
}

/**
 * Checks that the load (`loaded`) added under 100 ms to `/health`'s p99 over the same server idle a moment before
 * (`idle`, pinged the same way): the event loop was not held. On a quiet machine the idle p99 is a few ms, so this is
 * the 100 ms bound itself; on a busy one (CI runs other suites beside this one) the machine's own delay is not
 * counted against the server.
 */
export function expectResponsive(loaded: { p99: number }, idle: { p99: number }, what: string): void {
  expect(loaded.p99 - idle.p99, `/health p99 ${loaded.p99.toFixed(0)} ms ${what} (idle ${idle.p99.toFixed(0)} ms)`).toBeLessThan(100);
}

/**
 * Pings `url`/health every 20 ms for `milliseconds` from a Node process of its own (so the test's own sending does
 * not delay the pings), and gives how many it sent and the 99th percentile of their latency.
 */
export function pingHealth(url: string, milliseconds: number): Promise<{ count: number; p99: number }> {
  const source = `const lat = []; const end = Date.now() + ${milliseconds};
    while (Date.now() < end) { const s = performance.now(); await fetch(${JSON.stringify(`${url}/health`)}); lat.push(performance.now() - s); await new Promise((r) => setTimeout(r, 20)); }
    lat.sort((a, b) => a - b); console.log(JSON.stringify({ count: lat.length, p99: lat[Math.floor(lat.length * 0.99)] }));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', () => resolve(JSON.parse(output) as { count: number; p99: number }));
  });
}
