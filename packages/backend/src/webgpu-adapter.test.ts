import { afterEach, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend';
import { adapterMatches, describeAdapter, type AdapterLike, type GpuLike } from './webgpu-adapter';

/** An adapter as a browser gives it; `requestDevice` is never reached when the adapter is passed over. */
function adapter(info: AdapterLike['info']): AdapterLike {
  return {
    info,
    features: new Set<string>(),
    limits: {},
    requestDevice: () => Promise.reject(new Error('no device in this test')),
  };
}

const swiftShader = adapter({ vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true });
const nvidia = adapter({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200' });

describe('WebGPU adapters', () => {
  it('are described by name and vendor, and software ones are known by flag or by name', () => {
    expect(describeAdapter(swiftShader)).toMatchObject({ name: 'SwiftShader driver 5.0.0', vendor: 'google', software: true });
    expect(describeAdapter(nvidia)).toMatchObject({ name: 'NVIDIA H200', architecture: 'hopper', software: false });
    // an older browser without isFallbackAdapter: the rasteriser's name gives it away
    expect(describeAdapter(adapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).software).toBe(true);
    expect(describeAdapter(adapter(undefined)).name).toBe('an unnamed adapter');
    expect(adapterMatches(describeAdapter(swiftShader), 'SWIFTSHADER')).toBe(true);
    expect(adapterMatches(describeAdapter(nvidia), 'nvidia')).toBe(true);
    expect(adapterMatches(describeAdapter(nvidia), 'amd')).toBe(false);
    expect(adapterMatches(describeAdapter(nvidia), '  ')).toBe(false);
  });
});

describe('initBackend in a browser whose only adapter is software', () => {
  const scope = globalThis as { navigator?: unknown; window?: unknown };
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  const offer = (gpu: GpuLike) => Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  afterEach(() => {
    if (saved === undefined) delete scope.navigator;
    else Object.defineProperty(globalThis, 'navigator', saved);
  });

  it('passes the fallback adapter over for wasm, and says why and how to use it anyway', async () => {
    offer({ requestAdapter: async () => swiftShader });
    const report = await initBackend({ order: ['webgpu', 'wasm'], log: false });
    expect(report.name).toBe('wasm');
    const reason = report.skipped.find((entry) => entry.name === 'webgpu')?.reason;
    expect(reason).toBe("only a software adapter, SwiftShader driver 5.0.0, usually slower than wasm; name it to use it (gpuAdapter 'swiftshader', --gpu-adapter swiftshader)");
  });

  it('refuses an adapter other than the one named', async () => {
    offer({ requestAdapter: async () => nvidia });
    await expect(initBackend({ backend: 'webgpu', gpuAdapter: 'radeon', log: false })).rejects.toThrow(
      "the 'webgpu' backend was asked for but cannot run here: the browser's adapter is NVIDIA H200, not 'radeon'",
    );
  });

  it('says so when the browser has navigator.gpu but no adapter', async () => {
    offer({ requestAdapter: async () => null });
    await expect(initBackend({ backend: 'webgpu', log: false })).rejects.toThrow('the browser offers no WebGPU adapter');
  });
});
