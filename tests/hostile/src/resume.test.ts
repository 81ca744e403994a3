import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, errorLines, kindling } from './run';

const settings = ['--epochs', '4', '--layers', '200,100', '--refit', 'no', '--batch-size', '64', '--backend', 'cpu', '--seed', '7'];
const weightsOf = (out: string) => JSON.parse(readFileSync(join(out, 'kindling.json'), 'utf8')).files['weights.bin'].sha256 as string;

describe('kindling train --checkpoint / --resume', () => {
  it('a run killed with SIGKILL after a checkpoint resumes to the same weights as an uninterrupted run, and checks its plan', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-hostile-resume-'));
    const whole = await kindling(['train', 'tabular', ...settings, '--out', 'whole'], { cwd: root });
    expect(whole.code, whole.stderr).toBe(0);

    const checkpoint = join(root, 'run.ckpt');
    const child = spawn(process.execPath, [CLI, 'train', 'tabular', ...settings, '--out', 'killed', '--checkpoint', checkpoint], { cwd: root, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    while (!existsSync(checkpoint)) await new Promise((resolve) => setTimeout(resolve, 10));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(existsSync(join(root, 'killed', 'kindling.json'))).toBe(false);

    // the plan is checked: other settings are refused by name
    const changed = await kindling(['train', 'tabular', ...settings.map((value) => (value === '4' ? '5' : value)), '--out', 'killed', '--checkpoint', checkpoint, '--resume'], { cwd: root });
    expect(changed.code).toBe(1);
    expect(errorLines(changed)).toEqual([expect.stringMatching(/--resume: the run in .* was started with other settings \(epochs: 4 then, 5 now\)/)]);

    const resumed = await kindling(['train', 'tabular', ...settings, '--out', 'killed', '--checkpoint', checkpoint, '--resume'], { cwd: root });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(weightsOf(join(root, 'killed'))).toBe(weightsOf(join(root, 'whole')));
    // no temporary files are left beside the checkpoint
    expect(readdirSync(root).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const missing = await kindling(['train', 'tabular', ...settings, '--checkpoint', join(root, 'none.ckpt'), '--resume'], { cwd: root });
    expect(errorLines(missing)).toEqual([expect.stringMatching(/--resume: cannot read .*none\.ckpt\.plan\.json/)]);
    // five runs of the CLI on the pure-JavaScript backend: about 2 minutes alone, over 5 beside the rest of the suite
  }, 600_000);

  it('--resume after the data file was rewritten is refused, naming what changed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-hostile-resume-data-'));
    const rows = Array.from({ length: 200 }, (_, index) => `${20 + (index % 40)},${index % 3 ? 'north' : 'south'},${index % 2 ? 'yes' : 'no'}`);
    writeFileSync(join(root, 'table.csv'), `age,region,label\n${rows.join('\n')}\n`);
    const args = ['train', 'tabular', 'table.csv', '--target', 'label', '--epochs', '2', '--refit', 'no', '--checkpoint', 'run.ckpt'];
    const first = await kindling(args, { cwd: root });
    expect([0, 3], first.stderr).toContain(first.code);
    // the same path, other rows
    writeFileSync(join(root, 'table.csv'), `age,region,label\n${rows.slice(0, 150).join('\n')}\n`);
    const resumed = await kindling([...args, '--resume'], { cwd: root });
    expect(resumed.code).toBe(1);
    expect(errorLines(resumed)).toEqual([expect.stringMatching(/--resume: the run in run\.ckpt was started with other settings \(dataFiles: "1 file, [\d,]+ bytes, last changed [^"]+" then, "1 file, [\d,]+ bytes, last changed [^"]+" now\)/)]);
  });
});
