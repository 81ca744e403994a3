import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

type Data = Float32Array | Int32Array | Uint8Array;
type Shape = readonly number[];

/** The addon's functions (native/kindling_torch.cc); each writes its result into `out`. */
export interface TorchAddon {
  conv2d(
    x: Data, xShape: Shape, filter: Data, filterShape: Shape, out: Data, outShape: Shape, conv: Shape,
    bias: Data | null, biasShape: Shape, activation: number, alpha: number, prelu: Data | null, preluShape: Shape,
  ): void;
  conv2dBackpropInput(dy: Data, dyShape: Shape, filter: Data, filterShape: Shape, out: Data, dxShape: Shape, conv: Shape): void;
  conv2dBackpropFilter(x: Data, xShape: Shape, dy: Data, dyShape: Shape, out: Data, filterShape: Shape, conv: Shape): void;
  matmul(
    a: Data, aShape: Shape, b: Data, bShape: Shape, transposeA: boolean, transposeB: boolean, out: Data, outShape: Shape,
    bias: Data | null, biasShape: Shape, activation: number, alpha: number, prelu: Data | null, preluShape: Shape,
  ): void;
  binary(op: number, a: Data, aShape: Shape, b: Data, bShape: Shape, out: Data, outShape: Shape): void;
  unary(op: number, x: Data, out: Data, alpha: number, beta: number): void;
  reduce(op: number, x: Data, xShape: Shape, axes: Shape, out: Data): void;
  softmax(x: Data, shape: Shape, out: Data): void;
  transpose(x: Data, shape: Shape, perm: Shape, out: Data): void;
  maxPool(x: Data, xShape: Shape, pool: Shape, out: Data, outShape: Shape): void;
  maxPoolGrad(dy: Data, dyShape: Shape, x: Data, xShape: Shape, pool: Shape, out: Data): void;
  avgPool(x: Data, xShape: Shape, pool: Shape, out: Data, outShape: Shape): void;
  avgPoolGrad(dy: Data, dyShape: Shape, xShape: Shape, pool: Shape, out: Data): void;
  batchNorm(
    x: Data, xShape: Shape, mean: Data, meanShape: Shape, variance: Data, varianceShape: Shape,
    offset: Data | null, offsetShape: Shape, scale: Data | null, scaleShape: Shape, epsilon: number, out: Data,
  ): void;
  batchNormTraining(x: Data, xShape: Shape, scale: Data, offset: Data, epsilon: number, y: Data, mean: Data, variance: Data): void;
  batchNormTrainingGrad(dy: Data, x: Data, xShape: Shape, scale: Data, mean: Data, variance: Data, epsilon: number, which: number, out: Data): void;
  pad(x: Data, shape: Shape, pads: Shape, value: number, out: Data, outShape: Shape): void;
  compare(op: number, a: Data, aShape: Shape, b: Data, bShape: Shape, out: Data, outShape: Shape): void;
  reverse(x: Data, shape: Shape, axes: Shape, out: Data): void;
  slice(x: Data, shape: Shape, begin: Shape, size: Shape, out: Data): void;
  cast(x: Data, out: Data): void;
  mirrorPad(x: Data, shape: Shape, pads: Shape, offset: number, out: Data, outShape: Shape): void;
  transform(
    image: Data, shape: Shape, transforms: Data, count: number, bilinear: number, fillMode: number, fillValue: number, out: Data, outShape: Shape,
  ): void;
  concat(parts: Data[], shapes: Shape[], axis: number, out: Data, outShape: Shape): void;
  gather(x: Data, xShape: Shape, indices: Data, count: number, axis: number, out: Data, outShape: Shape): void;
  segmentSum(x: Data, xShape: Shape, ids: Data, segments: number, out: Data): void;
  addN(parts: Data[], size: number, out: Data): void;
  tile(x: Data, shape: Shape, reps: Shape, out: Data, outShape: Shape): void;
  split(x: Data, shape: Shape, axis: number, sizes: Shape, outs: Data[], outShapes: Shape[]): void;
  setThreads(threads: number): number;
  setDevice(device: string): string;
  info(): { version: string; threads: number; device: string; mkldnn: boolean; cuda: boolean; openBlasOneThread: boolean };
  /** Whether PyTorch's distributed engine (gloo) was compiled in: gloo's headers were there at build. */
  distributed: boolean;
  /** Joins a process group (native/process_group.cc); only when `distributed`. */
  joinGroup?(settings: NativeJoinSettings): Promise<NativeProcessGroup>;
}

/** A group's collectives, as the addon gives them (native/process_group.cc). */
export interface NativeProcessGroup {
  readonly rank: number;
  readonly size: number;
  allReduce(values: Float32Array | Float64Array, op: string): Promise<void>;
  broadcast(values: Float32Array | Uint8Array, root: number): Promise<void>;
  barrier(): Promise<void>;
  leave(): void;
}

/** What the addon's `joinGroup` takes. */
export interface NativeJoinSettings {
  rank: number;
  size: number;
  host: string;
  port: number;
  server: boolean;
  prefix: string;
  rendezvousMs: number;
  operationsMs: number;
  interface?: string;
}


/** Thrown when the addon cannot load; the message says why and what to do, in one line. */
export class TorchUnavailableError extends Error {
  override name = 'TorchUnavailableError';
}

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const addonPath = `${packageRoot}build/Release/kindling_torch.node`;

let loaded: TorchAddon | undefined;

/** The addon, loaded once; throws {@link TorchUnavailableError} naming why it is not there. */
export function loadTorchAddon(): TorchAddon {
  if (loaded !== undefined) return loaded;
  if (!existsSync(addonPath)) {
    const skipped = `${packageRoot}build/skipped.txt`;
    const why = existsSync(skipped) ? readFileSync(skipped, 'utf8').trim() : 'it was never built';
    throw new TorchUnavailableError(
      `the libtorch addon is not built (${why}); install libtorch (\`apt install libtorch-dev\` or set LIBTORCH) and run \`npm rebuild @kindling/backend-torch\``,
    );
  }
  // libgomp (libtorch's OpenMP) reads its wait policy once, as the addon loads: see `withWaitPolicy`
  try {
    loaded = withWaitPolicy(() => createRequire(import.meta.url)(addonPath) as TorchAddon);
  } catch (error) {
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    throw new TorchUnavailableError(`the libtorch addon does not load: ${message}`);
  }
  return loaded;
}

/**
 * Runs `load` with `OMP_WAIT_POLICY=PASSIVE` in the environment unless the user chose a policy (`OMP_WAIT_POLICY`
 * or `GOMP_SPINCOUNT`), then gives the environment back as it was, so child processes inherit nothing. By default
 * libgomp's idle threads spin for a while at every barrier before they sleep; on a machine where another process
 * holds a core, a spinning thread takes time from the very thread it waits for, and a reference-CNN epoch kept 36%
 * of its speed beside one busy process (PASSIVE: about 60%; `pnpm bench contention` measures both with PyTorch).
 */
function withWaitPolicy<T>(load: () => T): T {
  const chosen = process.env.OMP_WAIT_POLICY !== undefined || process.env.GOMP_SPINCOUNT !== undefined;
  if (chosen) return load();
  process.env.OMP_WAIT_POLICY = 'PASSIVE';
  try {
    return load();
  } finally {
    delete process.env.OMP_WAIT_POLICY;
  }
}
