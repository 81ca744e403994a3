import * as tf from '@tensorflow/tfjs';
import { describeEachBackend, trainingTestBackends } from '@kindling/backend/testing';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkpoint, memoryCheckpointStore } from './callbacks/training-callbacks';
import { Learner } from './learner';
import { crossEntropyLoss } from './losses';
import { decodeCheckpoint, encodeCheckpoint, fileCheckpointStore } from './node';
import { blobLoaders, mlp, weightValues } from './test-fixtures';

describeEachBackend('checkpoint and resume', () => {
  it('a resumed run reaches the same weights as an uninterrupted one', async () => {
    const data = blobLoaders(5);
    const train = async (model: tf.LayersModel, callbacks: Parameters<Learner['addCallbacks']>, resumeFrom?: ReturnType<typeof memoryCheckpointStore>) => {
      const learner = new Learner({ model, data, loss: crossEntropyLoss(), seed: 8, callbacks });
      try {
        await learner.fitOneCycle(5, 1e-2, resumeFrom ? { resumeFrom } : {});
      } finally {
        learner.dispose();
      }
      return learner;
    };
    const uninterrupted = mlp(31);
    await train(uninterrupted, []);

    const store = memoryCheckpointStore();
    const crashing = mlp(31);
    const crash = { beforeEpoch: (l: Learner) => { if (l.epoch === 3) throw new Error('power cut'); } };
    await expect(train(crashing, [checkpoint(store), crash])).rejects.toThrow('power cut');
    expect(store.saves).toBe(3);

    const resumed = mlp(999); // other random weights: everything must come from the checkpoint
    const learner = await train(resumed, [checkpoint(store)], store);
    expect(learner.recorder.epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3, 4]);
    expect(await weightValues(resumed)).toEqual(await weightValues(uninterrupted));
    tf.dispose([uninterrupted, crashing, resumed].flatMap((m) => m.weights.map((w) => w.read())));
    data.dispose();
  });
}, trainingTestBackends()); // the loop's logic: not on SwiftShader (see trainingTestBackends)

describe('checkpoint files', () => {
  it('round-trip through the file format, and a damaged file is refused with its name', async () => {
    const state = {
      format: 'kindling-checkpoint@1' as const,
      epoch: 2,
      epochs: 5,
      trainIteration: 24,
      randomState: 77,
      weights: [{ shape: [2, 2], values: Float32Array.from([1, 2, 3, 4]) }],
      optimizer: { kind: 'adam', hyper: [], slots: [{ step: 3, tensors: [{ shape: [2, 2], values: Float32Array.from([5, 6, 7, 8]) }] }] },
    };
    const decoded = decodeCheckpoint(encodeCheckpoint(state));
    expect(decoded).toEqual(state);
    const directory = mkdtempSync(join(tmpdir(), 'kindling-checkpoint-'));
    const path = join(directory, 'run.ckpt');
    const store = fileCheckpointStore(path);
    expect(await store.load()).toBeUndefined();
    await store.save(state);
    expect(await store.load()).toEqual(state);
    writeFileSync(path, encodeCheckpoint(state).subarray(0, 40));
    await expect(store.load()).rejects.toThrow(`${path} is truncated`);
    writeFileSync(path, 'hello');
    await expect(store.load()).rejects.toThrow(`${path} is not a Kindling checkpoint`);
  });

  it('a run killed with SIGKILL resumes from its last checkpoint to the same weights', async () => {
    const child = fileURLToPath(new URL('./fixtures/resume-child.ts', import.meta.url));
    const directory = mkdtempSync(join(tmpdir(), 'kindling-sigkill-'));
    const run = (mode: string, output: string, onLine?: (line: string, kill: () => void) => void) =>
      new Promise<number | null>((resolve, reject) => {
        const process_ = spawn(process.execPath, ['--import', 'tsx', child, mode, join(directory, 'run.ckpt'), join(directory, output), 'wasm'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let errors = '';
        process_.stderr.on('data', (chunk) => (errors += chunk));
        process_.stdout.on('data', (chunk: Buffer) => onLine?.(chunk.toString(), () => process_.kill('SIGKILL')));
        process_.on('error', reject);
        process_.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(null) : code === 0 ? resolve(code) : reject(new Error(`${mode} exited ${code}: ${errors}`))));
      });
    await run('full', 'full.json');
    expect(await run('crash', 'crash.json', (line, kill) => line.includes('hanging') && kill())).toBeNull();
    const saved = decodeCheckpoint(new Uint8Array(readFileSync(join(directory, 'run.ckpt'))));
    expect(saved.epoch).toBe(1); // epochs 0 and 1 were saved; epoch 2 was lost with the process
    await run('resume', 'resume.json');
    const full = JSON.parse(readFileSync(join(directory, 'full.json'), 'utf8'));
    const resumed = JSON.parse(readFileSync(join(directory, 'resume.json'), 'utf8'));
    expect(resumed.epochs).toBe(5);
    expect(full.weights).toHaveLength(4); // the weights themselves, not an empty object standing for them
    expect(resumed.weights).toEqual(full.weights);
  });
});
