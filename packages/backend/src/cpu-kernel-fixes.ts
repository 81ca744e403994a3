import { getKernel, registerKernel, Transform, unregisterKernel, type backend_util, type DataType, type KernelBackend, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';

/** The slice of the cpu backend's class this fix uses (kept out of `@tensorflow/tfjs-backend-cpu`'s internals). */
interface CpuBackendLike extends KernelBackend {
  makeTensorInfo(shape: number[], dtype: DataType, values?: backend_util.BackendValues): TensorInfo;
  data: { get(dataId: object): { values?: backend_util.BackendValues } };
  disposeIntermediateTensorInfo(info: TensorInfo): void;
}

type Values = Float32Array | Int32Array | Uint8Array;

let originalTransform: KernelFunc | undefined;

/**
 * tfjs 4.22's cpu `Transform` (behind `tf.image.transform`) returns from inside its batch loop: only the
 * first picture of a batch is transformed, every other one comes back as the fill value (zeros). This
 * runs the original kernel once per picture, which is what it computes correctly.
 */
const transformConfig: KernelConfig = {
  kernelName: Transform,
  backendName: 'cpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const original = originalTransform!;
    const { image, transforms } = inputs as { image: TensorInfo; transforms: TensorInfo };
    const batch = image.shape[0]!;
    if (batch <= 1) return original({ inputs, backend, attrs });
    const cpu = backend as CpuBackendLike;
    const imageValues = cpu.data.get(image.dataId).values as Values;
    const transformValues = cpu.data.get(transforms.dataId).values as Values;
    const perImage = imageValues.length / batch;
    let output: Values | undefined;
    let shape: number[] = [];
    for (let b = 0; b < batch; b++) {
      const one = cpu.makeTensorInfo([1, ...image.shape.slice(1)], image.dtype, imageValues.subarray(b * perImage, (b + 1) * perImage));
      const own = transforms.shape[0] === 1 ? transforms : cpu.makeTensorInfo([1, 8], transforms.dtype, transformValues.subarray(b * 8, b * 8 + 8));
      const result = original({ inputs: { image: one, transforms: own }, backend, attrs }) as TensorInfo;
      const values = cpu.data.get(result.dataId).values as Values;
      if (output === undefined) {
        output = new (values.constructor as new (length: number) => Values)(values.length * batch);
        shape = [batch, ...result.shape.slice(1)];
      }
      output.set(values, b * values.length);
      cpu.disposeIntermediateTensorInfo(one);
      if (own !== transforms) cpu.disposeIntermediateTensorInfo(own);
      cpu.disposeIntermediateTensorInfo(result);
    }
    return cpu.makeTensorInfo(shape, image.dtype, output);
  },
};

/**
 * Replaces cpu kernels that compute wrong answers (today: `Transform` on batches, which the batch
 * augmentation of `@kindling/image` relies on). Safe to call more than once.
 * @returns the names of the kernels this call replaced.
 */
export function registerCpuKernelFixes(): string[] {
  const existing = getKernel(Transform, 'cpu');
  if (existing === undefined || existing.kernelFunc === transformConfig.kernelFunc) return [];
  originalTransform = existing.kernelFunc;
  unregisterKernel(Transform, 'cpu');
  registerKernel(transformConfig);
  return [Transform];
}
