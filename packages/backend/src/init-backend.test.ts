import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BackendError } from './errors';
import { initBackend, type BackendLoader } from './init-backend';

const missing = (message: string): BackendLoader => async () => {
  throw new Error(message);
};

describe('initBackend', () => {
  it('falls back in order and says in one line why the better backends were skipped', async () => {
    const lines: string[] = [];
    const report = await initBackend({
      loaders: {
        tensorflow: missing('@tensorflow/tfjs-node-gpu not installed, @tensorflow/tfjs-node not installed'),
        torch: missing('libtorch not found: `apt install libtorch-dev` or set LIBTORCH'),
        webgpu: missing('no WebGPU outside a browser'),
      },
      log: (line) => lines.push(line),
    });
    expect(report.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(report.skipped.map((s) => s.name)).toEqual(['tensorflow', 'torch', 'webgpu']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/running on the wasm backend .*skipped tensorflow \(@tensorflow\/tfjs-node-gpu not installed.*torch \(libtorch not found: `apt install libtorch-dev` or set LIBTORCH\), webgpu \(no WebGPU outside a browser\)/);
    expect(lines[0]).not.toContain('\n');
  });

  it('takes the first backend that loads, so an installed tfjs-node would win', async () => {
    const calls: string[] = [];
    const report = await initBackend({
      log: false,
      loaders: {
        tensorflow: async () => {
          calls.push('tensorflow');
          await tf.setBackend('cpu'); // stands in for the tensorflow backend tfjs-node would register
          return '@tensorflow/tfjs-node-gpu';
        },
        webgpu: async () => {
          calls.push('webgpu');
          return 'never reached';
        },
      },
    });
    expect(report.name).toBe('tensorflow');
    expect(report.detail).toBe('@tensorflow/tfjs-node-gpu');
    expect(calls).toEqual(['tensorflow']);
  });

  it('with the real loaders here: tfjs-node is absent, no WebGPU in Node, so wasm runs with the training kernels', async () => {
    const report = await initBackend({ log: false });
    expect(report.name).toBe('wasm');
    expect(report.skipped.find((s) => s.name === 'tensorflow')?.reason).toContain('@tensorflow/tfjs-node');
    expect(report.skipped.find((s) => s.name === 'webgpu')?.reason).toBe('no WebGPU outside a browser');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('refuses an explicit choice it cannot honour instead of falling back', async () => {
    await expect(initBackend({ backend: 'tensorflow', log: false })).rejects.toThrow(BackendError);
    await expect(initBackend({ backend: 'webgpu', log: false })).rejects.toThrow(/'webgpu' backend was asked for but cannot run here: no WebGPU/);
    await expect(initBackend({ backend: 'gpu' as never, log: false })).rejects.toThrow(/unknown backend 'gpu'/);
  });

  it('honours an explicit cpu', async () => {
    const report = await initBackend({ backend: 'cpu', log: false });
    expect(report.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('names every failure when nothing can start', async () => {
    await expect(
      initBackend({ order: ['webgpu'], loaders: { webgpu: missing('no adapter') }, log: false }),
    ).rejects.toThrow('no TF.js backend could start: webgpu (no adapter)');
  });
});
