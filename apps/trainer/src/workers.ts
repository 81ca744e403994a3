import type * as TorchModule from '@kindling/backend-torch';
import type { LaunchedWorker, TorchProcessGroup } from '@kindling/backend-torch';
import { ConfigError } from '@kindling/data';

/** The environment names a launcher sets (torchrun, Kubeflow's PyTorchJob, SLURM scripts); either means one started this process. */
const LAUNCH_VARIABLES = ['WORLD_SIZE', 'RANK'];

/** `@kindling/backend-torch`, loaded only when a launcher started the process (its package, not yet its addon). */
async function torchDistributed(): Promise<typeof TorchModule> {
  try {
    return await import('@kindling/backend-torch');
  } catch (error) {
    throw new ConfigError(
      `a launcher started this process (WORLD_SIZE=${process.env.WORLD_SIZE ?? ''}, RANK=${process.env.RANK ?? ''}), and data-parallel training runs on PyTorch's distributed engine in @kindling/backend-torch, which does not load (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
    );
  }
}

/**
 * The worker this process is when a launcher started it (PyTorch's `RANK`, `WORLD_SIZE`, `MASTER_ADDR`,
 * `MASTER_PORT`), else undefined; a contract half set is an error naming what is missing.
 */
export async function launch(): Promise<LaunchedWorker | undefined> {
  if (!LAUNCH_VARIABLES.some((name) => (process.env[name] ?? '') !== '')) return undefined;
  if ((process.env.WORLD_SIZE ?? '') === '') throw new ConfigError(`RANK=${process.env.RANK ?? ''} is set but WORLD_SIZE is not: start the workers with torchrun, or set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT for each`);
  return (await torchDistributed()).launchedWorker();
}

/**
 * Joins the other workers when the launcher started several: PyTorch's gloo process group through the torch addon.
 * Without the addon (or without gloo in it) the run stops with one line saying what to install.
 */
export async function joinWorkers(worker: LaunchedWorker, rendezvousTimeout: number | undefined): Promise<TorchProcessGroup | undefined> {
  if (worker.size === 1) return undefined;
  const torch = await torchDistributed();
  try {
    return await torch.joinProcessGroup({ ...worker, ...(rendezvousTimeout === undefined ? {} : { rendezvousTimeout }) });
  } catch (error) {
    if (!(error instanceof torch.TorchUnavailableError)) throw error;
    const gloo = /gloo/.test(error.message) ? '' : " (with gloo's headers at its build: `apt install libgloo-dev` beside libtorch)";
    throw new ConfigError(`worker ${worker.rank} of ${worker.size} (a launcher started ${worker.size} workers): data-parallel training runs on PyTorch's distributed engine${gloo}, but ${error.message}`);
  }
}
