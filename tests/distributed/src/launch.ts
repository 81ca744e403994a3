/** Starts workers as users do: PyTorch's torchrun, on loopback, each worker a `node` process. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { generateTable } from '@kindling/tabular';

export const CLI = fileURLToPath(new URL('../../../apps/trainer/dist/cli.js', import.meta.url));

/** Why the suites cannot run here (no torchrun, no addon with gloo), or undefined. CI installs both, and there a reason fails the suite instead. */
export function skipReason(): string | undefined {
  const found = spawnSync('torchrun', ['--help'], { encoding: 'utf8' });
  let reason: string | undefined;
  if (found.error !== undefined || found.status !== 0) reason = 'torchrun is not installed (Debian: apt install python3-torch)';
  else if (!existsSync(fileURLToPath(new URL('../../../packages/backend-torch/build/Release/kindling_torch.node', import.meta.url)))) reason = 'the libtorch addon is not built';
  if (reason === undefined) return undefined;
  if (process.env.KINDLING_TORCH === 'required') throw new Error(`the distributed tests need torchrun and the torch addon: ${reason}`);
  console.warn(`distributed tests skipped: ${reason}`);
  return reason;
}

/** A port nobody listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (killed after `timeout` ms) and gives its status and output. */
function run(command: string, args: string[], options: { cwd?: string; env?: Record<string, string>; timeout?: number; started?: (child: ChildProcess) => void }): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    options.started?.(child);
  });
}

/**
 * `torchrun --no_python --nproc_per_node <workers> [extra…] <command…>` on a free port of loopback, each worker on one
 * thread (torchrun's own default when it starts several). Debian's torchrun 1.13 on Python 3.11 needs `--redirects 1
 * --tee 1` to start at all (its default stream settings fail); with them each worker's standard output comes back
 * prefixed `[default<rank>]:`.
 */
export async function torchrun(workers: number, command: string[], options: { cwd?: string; env?: Record<string, string>; extra?: string[]; timeout?: number; started?: (child: ChildProcess) => void } = {}): Promise<Outcome> {
  const port = await freePort();
  const args = ['--no_python', '--nproc_per_node', String(workers), '--master_addr', '127.0.0.1', '--master_port', String(port), '--redirects', '1', '--tee', '1', '--monitor_interval', '1', ...(options.extra ?? []), ...command];
  return run('torchrun', args, { ...options, env: { OMP_NUM_THREADS: '1', ...options.env } });
}

/** `node …args` with extra environment; resolves when it exits. */
export function node(args: string[], options: { cwd?: string; env?: Record<string, string>; timeout?: number } = {}): Promise<Outcome> {
  return run(process.execPath, args, options);
}

/** The worker processes a torchrun has started (its children's children are not counted), by rank. */
export function workersOf(launcher: number): Map<number, number> {
  const found = new Map<number, number>();
  const children = spawnSync('pgrep', ['-P', String(launcher)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  for (const pid of children) {
    try {
      const environment = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const rank = environment.find((entry) => entry.startsWith('RANK='));
      if (rank !== undefined) found.set(Number(rank.slice(5)), pid);
    } catch {
      // it ended meanwhile
    }
  }
  return found;
}

/** What each worker printed on standard output (torchrun prefixes its lines with `[default<rank>]:`). */
export const linesOf = (outcome: Outcome, rank: number) => outcome.stdout.split('\n').filter((line) => line.startsWith(`[default${rank}]:`));

/** The number `pattern`'s first group finds in `output` (NaN when it finds none). */
export const accuracyIn = (output: string, pattern: RegExp) => Number(pattern.exec(output)?.[1]);

/** A generated income table as a CSV file (the shape of Adult: categories, numbers, a date, missing values). */
export function writeTable(file: string, rows: number, seed: number): void {
  const table = generateTable({ rows, seed });
  const columns = Object.keys(table.rows[0]!);
  writeFileSync(file, `${[columns.join(','), ...table.rows.map((row) => columns.map((column) => row[column]).join(','))].join('\n')}\n`);
}
