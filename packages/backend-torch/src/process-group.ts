import { loadTorchAddon, TorchUnavailableError, type NativeProcessGroup } from './addon';

/** Thrown when a group cannot be joined or a collective fails: one line saying which worker, what and why. */
export class ProcessGroupError extends Error {
  override name = 'ProcessGroupError';
}

export interface JoinProcessGroupOptions {
  /** This worker, from 0 to `size - 1`. */
  rank: number;
  /** How many workers train together. */
  size: number;
  /** Where the rendezvous store is served (`MASTER_ADDR`). */
  host: string;
  /** Its port (`MASTER_PORT`). */
  port: number;
  /**
   * Whether a launcher's agent already serves the store there (torchrun: `TORCHELASTIC_USE_AGENT_STORE=True`), so
   * every worker is its client; otherwise the worker of rank 0 serves it. Default false.
   */
  agentStore?: boolean;
  /** The launcher's restart count (`TORCHELASTIC_RESTART_COUNT`): each attempt's keys are kept apart in the store. Default 0. */
  attempt?: number;
  /** Seconds every worker has to join before the others give up, naming who is missing. Default 300. */
  rendezvousTimeout?: number;
  /** Seconds a collective waits for the other workers before it fails. Default 1,800 (PyTorch's). */
  timeout?: number;
  /** The network interface gloo uses (PyTorch's `GLOO_SOCKET_IFNAME`). Default: the address of this machine's host name. */
  interface?: string;
}

/** Seconds a worker waits for the others to join, unless told otherwise. */
export const DEFAULT_RENDEZVOUS_TIMEOUT = 300;
/** Seconds a collective waits for the others: PyTorch's default process-group timeout. */
const DEFAULT_COLLECTIVE_TIMEOUT = 1800;

/**
 * One worker's membership of a group training one model together: PyTorch's `ProcessGroupGloo` over a `TCPStore`
 * rendezvous, in the addon. Its collectives work in place on typed arrays, off the JavaScript thread; it is the
 * `ProcessGroup` that `distributedTrainer` from `@kindling/learner` takes.
 */
export class TorchProcessGroup {
  /** @internal made by joinProcessGroup */
  constructor(private readonly native: NativeProcessGroup) {}

  /** This worker, from 0. */
  get rank(): number {
    return this.native.rank;
  }

  /** How many workers are in the group. */
  get size(): number {
    return this.native.size;
  }

  /** Replaces `values` on every worker with the element-wise sum (or maximum, minimum) over the workers. */
  allReduce(values: Float32Array | Float64Array, op: 'sum' | 'max' | 'min' = 'sum'): Promise<void> {
    return this.named(() => this.native.allReduce(values, op));
  }

  /** Replaces `values` on every worker with those of the worker of rank `root`. */
  broadcast(values: Float32Array | Uint8Array, root: number): Promise<void> {
    return this.named(() => this.native.broadcast(values, root));
  }

  /** Waits until every worker has called it. */
  barrier(): Promise<void> {
    return this.named(() => this.native.barrier());
  }

  /** Leaves the group: gloo's threads and connections end. Collectives after it throw. */
  leave(): void {
    this.native.leave();
  }

  /** A failed collective as one line naming this worker. */
  private async named(collective: () => Promise<void>): Promise<void> {
    try {
      await collective();
    } catch (error) {
      throw new ProcessGroupError(`worker ${this.rank} of ${this.size}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/**
 * Joins a group of `size` workers: waits (off the JavaScript thread) until all of them have reached the rendezvous
 * at `host:port`, then connects each to each. A worker that does not come within `rendezvousTimeout` is named in
 * the error. Needs the addon built with gloo's headers (Debian: `libgloo-dev`).
 */
export async function joinProcessGroup(options: JoinProcessGroupOptions): Promise<TorchProcessGroup> {
  const { rank, size, host, port, agentStore = false, attempt = 0, rendezvousTimeout = DEFAULT_RENDEZVOUS_TIMEOUT, timeout = DEFAULT_COLLECTIVE_TIMEOUT } = options;
  if (!Number.isInteger(size) || size < 1) throw new ProcessGroupError(`a group has a whole number of workers, at least 1, not ${size}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= size) throw new ProcessGroupError(`rank ${rank} is not in a group of ${size} (ranks 0 to ${size - 1})`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ProcessGroupError(`${port} is not a TCP port`);
  for (const [name, seconds] of [['rendezvousTimeout', rendezvousTimeout], ['timeout', timeout]] as const) {
    if (!(Number.isFinite(seconds) && seconds > 0)) throw new ProcessGroupError(`${name} is a positive number of seconds, not ${seconds}`);
  }
  const addon = loadTorchAddon();
  if (!addon.distributed || addon.joinGroup === undefined) {
    throw new TorchUnavailableError(
      "the libtorch addon was built without PyTorch's distributed engine (gloo's headers were missing): install them (`apt install libgloo-dev`) and run `npm rebuild @kindling/backend-torch`",
    );
  }
  try {
    const native = await addon.joinGroup({
      rank,
      size,
      host,
      port,
      server: !agentStore && rank === 0,
      // torchrun's own prefix for an attempt, so a restarted group never reads its predecessor's keys
      prefix: `/worker/attempt_${attempt}`,
      rendezvousMs: Math.round(rendezvousTimeout * 1000),
      operationsMs: Math.round(timeout * 1000),
      ...(options.interface === undefined ? {} : { interface: options.interface }),
    });
    return new TorchProcessGroup(native);
  } catch (error) {
    throw new ProcessGroupError(`worker ${rank} of ${size}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A worker's place as a launcher describes it in the environment. */
export interface LaunchedWorker {
  rank: number;
  size: number;
  /** The worker's index on its machine (`LOCAL_RANK`). */
  localRank: number;
  host: string;
  port: number;
  agentStore: boolean;
  /** Restarts so far (`TORCHELASTIC_RESTART_COUNT`); 0 outside torchrun. */
  attempt: number;
  interface?: string;
}

/**
 * The worker this process is, read from PyTorch's launch contract — `RANK`, `WORLD_SIZE`, `MASTER_ADDR`,
 * `MASTER_PORT` (and `LOCAL_RANK`, torchrun's `TORCHELASTIC_USE_AGENT_STORE` and `TORCHELASTIC_RESTART_COUNT`,
 * `GLOO_SOCKET_IFNAME`), which torchrun, Kubeflow's PyTorchJob and SLURM scripts set — or undefined when no
 * launcher started it (no `WORLD_SIZE`). A contract half set is an error naming what is missing.
 */
export function launchedWorker(environment: Record<string, string | undefined> = process.env): LaunchedWorker | undefined {
  const { WORLD_SIZE, RANK, MASTER_ADDR, MASTER_PORT, LOCAL_RANK, TORCHELASTIC_USE_AGENT_STORE, TORCHELASTIC_RESTART_COUNT, GLOO_SOCKET_IFNAME } = environment;
  if (WORLD_SIZE === undefined || WORLD_SIZE === '') return undefined;
  const whole = (name: string, value: string | undefined, least: number): number => {
    const parsed = Number(value);
    if (value === undefined || value.trim() === '' || !Number.isInteger(parsed) || parsed < least) {
      throw new ProcessGroupError(
        `${name}=${value ?? ''} ${value === undefined ? 'is not set' : `is not a whole number of at least ${least}`}, but WORLD_SIZE=${WORLD_SIZE} says a launcher started this worker: start the workers with torchrun, or set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT for each`,
      );
    }
    return parsed;
  };
  const size = whole('WORLD_SIZE', WORLD_SIZE, 1);
  const rank = whole('RANK', RANK, 0);
  if (rank >= size) throw new ProcessGroupError(`RANK=${rank} is not in a group of WORLD_SIZE=${size} (ranks 0 to ${size - 1})`);
  if (MASTER_ADDR === undefined || MASTER_ADDR === '') whole('MASTER_ADDR', undefined, 0);
  return {
    rank,
    size,
    localRank: LOCAL_RANK === undefined ? rank : whole('LOCAL_RANK', LOCAL_RANK, 0),
    host: MASTER_ADDR!,
    port: whole('MASTER_PORT', MASTER_PORT, 1),
    agentStore: TORCHELASTIC_USE_AGENT_STORE === 'True',
    attempt: TORCHELASTIC_RESTART_COUNT === undefined ? 0 : whole('TORCHELASTIC_RESTART_COUNT', TORCHELASTIC_RESTART_COUNT, 0),
    ...(GLOO_SOCKET_IFNAME === undefined || GLOO_SOCKET_IFNAME === '' ? {} : { interface: GLOO_SOCKET_IFNAME }),
  };
}
