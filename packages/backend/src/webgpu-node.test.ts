import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from './init-backend-node';
import { CHROMIUM_SWIFTSHADER_ICD, swiftShaderAvailability } from './webgpu-node';

const availability = swiftShaderAvailability();
if (!availability.available) console.warn(`kindling: Node WebGPU is not tested here: ${availability.reason}`);

// Only SwiftShader is visible to Vulkan in this process, whatever GPU the machine has: the software rule is tested.
if (availability.available && !process.env.VK_ICD_FILENAMES) process.env.VK_ICD_FILENAMES = CHROMIUM_SWIFTSHADER_ICD;

describe.runIf(availability.available)('WebGPU in Node through Dawn, on SwiftShader', () => {
  it('is passed over in auto because the adapter is software, with how to use it anyway', async () => {
    const report = await initBackend({ order: ['webgpu', 'cpu'], log: false });
    expect(report.name).toBe('cpu');
    expect(report.skipped).toEqual([
      {
        name: 'webgpu',
        reason: "only a software adapter, SwiftShader driver 5.0.0, usually slower than wasm; name it to use it (gpuAdapter 'swiftshader', --gpu-adapter swiftshader)",
      },
    ]);
    await expect(initBackend({ backend: 'webgpu', log: false })).rejects.toThrow(/'webgpu' backend was asked for but cannot run here: only a software adapter/);
  });

  it('names the adapters Dawn found when the one asked for is not among them', async () => {
    await expect(initBackend({ backend: 'webgpu', gpuAdapter: 'no-such-gpu', log: false })).rejects.toThrow(
      "the 'webgpu' backend was asked for but cannot run here: no WebGPU adapter named 'no-such-gpu'; Dawn found 'SwiftShader Device (Subzero)'",
    );
  });

  it('runs on the adapter named in any case, and reports its name, vendor and that it is software', async () => {
    const lines: string[] = [];
    const report = await initBackend({ backend: 'webgpu', gpuAdapter: 'swiftshader', log: (line) => lines.push(line) });
    expect(report.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(report.adapter).toMatchObject({ name: 'SwiftShader driver 5.0.0', vendor: 'google', architecture: 'swiftshader', software: true });
    expect(lines).toEqual(['kindling: running on the webgpu backend (Dawn on SwiftShader driver 5.0.0 (google), a software adapter)']);
    // a second start keeps the running backend and its adapter
    const again = await initBackend({ backend: 'webgpu', gpuAdapter: 'swiftshader', log: false });
    expect(again.adapter).toEqual(report.adapter);
  });

  it('computes, and a synchronous read of a GPU tensor says what to do instead', async () => {
    await initBackend({ backend: 'webgpu', gpuAdapter: 'swiftshader', log: false });
    const before = tf.memory().numTensors;
    const a = tf.tidy(() => tf.range(0, 64 * 64).reshape([64, 64]).div(4096));
    const product = a.matMul(a);
    // row 1 of a times column 2 of a, by hand
    const expected = Array.from({ length: 64 }, (_, k) => ((64 + k) / 4096) * ((k * 64 + 2) / 4096)).reduce((sum, term) => sum + term, 0);
    expect((await product.data())[1 * 64 + 2]).toBeCloseTo(expected, 3);
    const fresh = tf.tidy(() => a.add(1));
    expect(() => fresh.dataSync()).toThrow('a synchronous read (dataSync, arraySync, bufferSync) of a tensor on the GPU cannot run on WebGPU in Node; read it with await data(), array() or buffer()');
    expect((await fresh.data())[0]).toBe(1);
    tf.dispose([a, product, fresh]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
