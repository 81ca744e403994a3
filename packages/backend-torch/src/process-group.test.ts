import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadTorchAddon } from './addon';
import { joinProcessGroup, launchedWorker, ProcessGroupError, type JoinProcessGroupOptions, type TorchProcessGroup } from './process-group';
import { torchSkipReason } from './test-support';

const reason = torchSkipReason('process group tests', 1);
// CI builds the addon with gloo's headers (libgloo-dev): there, a build without them fails this suite
const distributed = reason === undefined && (loadTorchAddon().distributed || process.env.KINDLING_TORCH === 'required');

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `size` workers of one group, joined from this one process (each collective waits on its own libuv thread). */
async function groupOf(size: number, options: Partial<JoinProcessGroupOptions> = {}): Promise<TorchProcessGroup[]> {
  const port = await freePort();
  return Promise.all(Array.from({ length: size }, (_, rank) => joinProcessGroup({ rank, size, host: '127.0.0.1', port, rendezvousTimeout: 20, ...options })));
}

describe.skipIf(!distributed)("PyTorch's gloo process group through the addon", () => {
  it('adds up, takes maxima, broadcasts and waits, in place on typed arrays', async () => {
    const [first, second] = await groupOf(2);
    expect([first!.rank, first!.size, second!.rank, second!.size]).toEqual([0, 2, 1, 2]);
    const a = Float32Array.of(1, 2, 3);
    const b = Float32Array.of(10, 20, 30);
    await Promise.all([first!.allReduce(a), second!.allReduce(b)]);
    expect([Array.from(a), Array.from(b)]).toEqual([
      [11, 22, 33],
      [11, 22, 33],
    ]);
    // doubles, for counts past float32's whole numbers (a segmentation set's pixels)
    const big = [Float64Array.of(2 ** 40 + 1, -5), Float64Array.of(1, 7)];
    await Promise.all([first!.allReduce(big[0]!, 'max'), second!.allReduce(big[1]!, 'max')]);
    expect(Array.from(big[1]!)).toEqual([2 ** 40 + 1, 7]);
    const bytes = [new TextEncoder().encode('rank 0 says'), new Uint8Array(11)];
    await Promise.all([first!.broadcast(bytes[0]!, 0), second!.broadcast(bytes[1]!, 0)]);
    expect(new TextDecoder().decode(bytes[1]!)).toBe('rank 0 says');
    await Promise.all([first!.barrier(), second!.barrier()]);
    await expect(first!.allReduce(Float32Array.of(1), 'mean' as 'sum')).rejects.toThrow("allReduce: the operation is sum, max or min, not 'mean'");
    first!.leave();
    second!.leave();
    await expect(first!.barrier()).rejects.toThrow('worker 0 of 2: the process group was left (leave() was called)');
  });

  it('a worker that never joins is named within the rendezvous timeout, and a store nobody serves too', async () => {
    const started = Date.now();
    const port = await freePort();
    await expect(joinProcessGroup({ rank: 0, size: 3, host: '127.0.0.1', port, rendezvousTimeout: 1.5 })).rejects.toThrow(
      new ProcessGroupError(`worker 0 of 3: the workers of ranks 1, 2 (of 3) did not join the rendezvous at 127.0.0.1:${port} within 1.5 s`),
    );
    await expect(joinProcessGroup({ rank: 1, size: 2, host: '127.0.0.1', port: await freePort(), rendezvousTimeout: 1 })).rejects.toThrow(/^worker 1 of 2: could not reach the rendezvous at 127\.0\.0\.1:\d+ within 1 s \(.*\): is the worker of rank 0 \(or the launcher\) running there\?$/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a worker that leaves mid-run fails the others\' collective with one line, not a hang', async () => {
    const [first, second] = await groupOf(2, { timeout: 20 });
    const pending = first!.allReduce(new Float32Array(1000));
    second!.leave();
    await expect(pending).rejects.toThrow(/^worker 0 of 2: allreduce failed: /);
    first!.leave();
  });
});

describe("the launcher's environment", () => {
  it('reads torchrun\'s contract, is absent outside a launcher, and names what a half-set contract lacks', () => {
    expect(launchedWorker({})).toBeUndefined();
    expect(
      launchedWorker({ WORLD_SIZE: '2', RANK: '1', LOCAL_RANK: '1', MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29500', TORCHELASTIC_USE_AGENT_STORE: 'True', TORCHELASTIC_RESTART_COUNT: '1' }),
    ).toEqual({ rank: 1, size: 2, localRank: 1, host: '127.0.0.1', port: 29500, agentStore: true, attempt: 1 });
    // Kubeflow's PyTorchJob and SLURM scripts: no agent, rank 0 serves the store
    expect(launchedWorker({ WORLD_SIZE: '4', RANK: '0', MASTER_ADDR: 'trainer-master-0', MASTER_PORT: '23456', GLOO_SOCKET_IFNAME: 'eth0' })).toEqual({
      rank: 0,
      size: 4,
      localRank: 0,
      host: 'trainer-master-0',
      port: 23456,
      agentStore: false,
      attempt: 0,
      interface: 'eth0',
    });
    expect(() => launchedWorker({ WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '1' })).toThrow(
      'RANK= is not set, but WORLD_SIZE=2 says a launcher started this worker: start the workers with torchrun, or set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT for each',
    );
    expect(() => launchedWorker({ WORLD_SIZE: '2', RANK: '0', MASTER_PORT: '1' })).toThrow('MASTER_ADDR= is not set');
    expect(() => launchedWorker({ WORLD_SIZE: '2', RANK: '2', MASTER_ADDR: 'h', MASTER_PORT: '1' })).toThrow('RANK=2 is not in a group of WORLD_SIZE=2 (ranks 0 to 1)');
    expect(() => launchedWorker({ WORLD_SIZE: 'two', RANK: '0' })).toThrow('WORLD_SIZE=two is not a whole number of at least 1');
  });
});
