/**
 * Serving past one process: `kindling serve` replicas behind HAProxy (Debian's), readiness from `/health`. A replica
 * killed under load, and a rolling restart, cost the clients nothing: the balancer retries a prediction that failed on
 * its way (predictions change nothing, so a retry is safe) and stops sending to a replica whose `/health` fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, kindling } from './run';

const haproxy = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
const missing = haproxy.error !== undefined || haproxy.status !== 0 ? 'HAProxy is not installed (Debian: apt install haproxy)' : undefined;
if (missing !== undefined) {
  if (process.env.KINDLING_SERVE_HA === 'required') throw new Error(`the replica tests need HAProxy: ${missing}`);
  console.warn(`replica tests skipped: ${missing}`);
}

const root = mkdtempSync(join(tmpdir(), 'kindling-hostile-replicas-'));
const bundle = join(root, 'bundle');
const row = { age: '62', education: 'Doctorate', occupation: 'Sales', hours_per_week: '33', capital_gain: '0', start_date: '2016-02-07', region: 'north' };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits until `url` answers 200 (a process starting, a balancer finding its servers). */
async function ready(url: string, timeout = 60_000): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const status = await fetch(url).then((answer) => answer.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A replica on `port`: `kindling serve` of the bundle, one libtorch thread. */
function replica(port: number): ChildProcess {
  return spawn(process.execPath, [CLI, 'serve', bundle, '--port', String(port), '--threads', '1', '--shutdown-timeout', '5000'], { stdio: 'ignore' });
}

/** Predictions in a loop from `clients` clients until `stop()`: every answer's status (0: no answer at all). */
function load(url: string, clients: number): { stop(): Promise<number[]> } {
  const statuses: number[] = [];
  let running = true;
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      const status = await fetch(`${url}/predict`, { method: 'POST', body: JSON.stringify(row), headers: { 'content-type': 'application/json' } }).then(
        async (answer) => {
          await answer.arrayBuffer();
          return answer.status;
        },
        () => 0,
      );
      statuses.push(status);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return statuses;
    },
  };
}

/** Predictions a replica has answered, from its /metrics. */
async function answered(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/kindling_predictions_total\{task="tabular"\} (\d+)/.exec(text)?.[1] ?? 0);
}

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

describe.skipIf(missing !== undefined)('kindling serve replicas behind HAProxy', () => {
  const ports = { a: 0, b: 0, balancer: 0 };
  const replicas: Record<'a' | 'b', ChildProcess | undefined> = { a: undefined, b: undefined };
  let balancer: ChildProcess | undefined;

  beforeAll(async () => {
    const trained = await kindling(['train', 'tabular', '--epochs', '2', '--threads', '1', '--out', bundle], { cwd: root });
    expect([0, 3], trained.stderr).toContain(trained.code);
    Object.assign(ports, { a: await freePort(), b: await freePort(), balancer: await freePort() });
    replicas.a = replica(ports.a);
    replicas.b = replica(ports.b);
    // retries: a prediction that met a refused connection, a dropped one or a replica shutting down goes to the other
    // one (`redispatch`); health checks every 200 ms take a replica out after two failures and back after two passes
    const config = join(root, 'haproxy.cfg');
    writeFileSync(
      config,
      `global
  maxconn 512
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response response-timeout 503
frontend predictions
  bind 127.0.0.1:${ports.balancer}
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /health
  http-check expect status 200
  default-server inter 200ms fall 2 rise 2
  server a 127.0.0.1:${ports.a} check
  server b 127.0.0.1:${ports.b} check
`,
    );
    await ready(`http://127.0.0.1:${ports.a}/health`);
    await ready(`http://127.0.0.1:${ports.b}/health`);
    balancer = spawn('haproxy', ['-f', config, '-db'], { stdio: 'ignore' });
    await ready(`http://127.0.0.1:${ports.balancer}/health`);
    await pause(1000); // both replicas seen up by the checks
  }, 300_000);

  afterAll(() => {
    balancer?.kill('SIGKILL');
    for (const child of Object.values(replicas)) child?.kill('SIGKILL');
  });

  it('a replica killed (SIGKILL) under load costs the clients no failed request; back again, it takes traffic', async () => {
    const url = `http://127.0.0.1:${ports.balancer}`;
    const traffic = load(url, 8);
    await pause(1500);
    replicas.a!.kill('SIGKILL');
    await pause(2000);
    const outage = await traffic.stop();
    expect(outage.length).toBeGreaterThan(50);
    expect(outage.filter((status) => status !== 200), `${outage.length} requests`).toEqual([]);
    replicas.a = replica(ports.a);
    await ready(`http://127.0.0.1:${ports.a}/health`);
    await pause(1000); // two passed checks
    const back = load(url, 8);
    await pause(2000);
    const after = await back.stop();
    expect(after.filter((status) => status !== 200)).toEqual([]);
    expect(await answered(ports.a), 'the restarted replica answers predictions again').toBeGreaterThan(0);
  });

  it('a rolling restart (SIGTERM one replica, start it again, then the other) loses nothing', async () => {
    const url = `http://127.0.0.1:${ports.balancer}`;
    const traffic = load(url, 8);
    for (const name of ['b', 'a'] as const) {
      await pause(1000);
      const stopping = replicas[name]!;
      const exited = new Promise((resolve) => stopping.on('exit', resolve));
      stopping.kill('SIGTERM'); // finishes what it has in flight, then stops
      await exited;
      replicas[name] = replica(ports[name]);
      await ready(`http://127.0.0.1:${ports[name]}/health`);
      await pause(1000);
    }
    const statuses = await traffic.stop();
    expect(statuses.length).toBeGreaterThan(100);
    expect(statuses.filter((status) => status !== 200), `${statuses.length} requests`).toEqual([]);
    expect(existsSync(bundle)).toBe(true);
  });
});
