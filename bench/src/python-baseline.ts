import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Debian's python3 (where `python3-torch` / `python3-sklearn` install); baselines run with it. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Whether a Python module can be imported by the system python. */
export function hasPythonModule(module: string): boolean {
  if (!existsSync(SYSTEM_PYTHON)) return false;
  return spawnSync(SYSTEM_PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

/** Runs a baseline script beside this file and parses the JSON line it prints last. */
export function runPythonBaseline<T>(script: string, args: string[] = []): T {
  const path = fileURLToPath(new URL(`../${script}`, import.meta.url));
  const result = spawnSync(SYSTEM_PYTHON, [path, ...args], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '2' } });
  if (result.status !== 0) throw new Error(`${script} failed: ${result.stderr.trim().split('\n').at(-1)}`);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines.at(-1)!) as T;
}
